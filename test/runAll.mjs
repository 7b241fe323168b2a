// `npm test`: builds the bundles, type-checks and compiles the TypeScript tests, lints, runs the tests with node's test runner
// (unit, golden, worker and provider tests), then the model tests (models/scripts/test_models.mjs), then the tests in a
// real VS Code (code-server, installed on first use: scripts/codeServer.mjs): the extension-host suites through
// `vscode-test` (.vscode-test.mjs) and the UI tests (test/e2e/ui.test.mjs, with the packaged VSIX), and checks that
// those left no process, port, temp folder or file under the home folder behind. Prints one summary and ends with
// one line `N passed, N failed`. Exits non-zero if anything failed.
//   --only-ts   only the TypeScript tests (no model, VS Code or UI tests)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { snapshot, leftovers } from './leaks.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const onlyTs = process.argv.includes('--only-ts');
const results = [];
const totals = { passed: 0, failed: 0 }; // test cases over every runner, for the closing line

function step(name, cmd, args, opts = {}) {
  const t0 = Date.now();
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' }, ...opts });
  const ok = r.status === 0;
  results.push({ name, ok, detail: `exit ${r.status ?? r.signal}`, secs: (Date.now() - t0) / 1000 });
  return ok;
}

function findTests(dir, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) findTests(p, out);
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

const built = step('build', process.execPath, ['esbuild.mjs']);
fs.rmSync(path.join(root, 'out'), { recursive: true, force: true });
const compiled = step('typecheck + compile tests', process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
step('lint', process.execPath, [path.join(root, 'node_modules/eslint/bin/eslint.js'), 'src', 'test']);

if (built && compiled) {
  const files = [...findTests(path.join(root, 'out/src')), ...findTests(path.join(root, 'out/test'))];
  const tap = path.join(root, 'out/test-results.tap');
  const t0 = Date.now();
  console.log(`\n=== TypeScript tests: ${files.length} files`);
  const r = spawnSync(
    process.execPath,
    ['--test', '--test-concurrency=1', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files],
    { cwd: root, stdio: 'inherit', env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' } },
  );
  const text = fs.existsSync(tap) ? fs.readFileSync(tap, 'utf8') : '';
  const count = (k) => Number(new RegExp(`^# ${k} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  const detail = `${count('pass')} passed, ${count('fail')} failed, ${count('cancelled')} cancelled, ${count('skipped')} skipped (${files.length} files)`;
  totals.passed += count('pass');
  totals.failed += count('fail') + count('cancelled');
  results.push({ name: 'TypeScript tests (unit, golden, worker, provider)', ok: r.status === 0, detail, secs: (Date.now() - t0) / 1000 });
}

if (!onlyTs) {
  const summary = path.join(root, 'out/model-tests.json');
  step('model tests (models/scripts/test_models.mjs)', process.execPath, ['models/scripts/test_models.mjs', '--summary', summary]);
  const models = fs.existsSync(summary) ? JSON.parse(fs.readFileSync(summary, 'utf8')) : { passed: 0, failed: 1 };
  totals.passed += models.passed;
  totals.failed += models.failed;
}

/** Runs a step and returns its output as well as showing it (for runners that report counts only in text). */
function stepTee(name, cmd, args) {
  const t0 = Date.now();
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' } });
  process.stdout.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, status: r.status ?? r.signal, secs: (Date.now() - t0) / 1000 };
}

if (!onlyTs && built && compiled) {
  const before = snapshot();
  const tools = step('tools: code-server and chromium (scripts/codeServer.mjs install --chromium)', process.execPath, ['scripts/codeServer.mjs', 'install', '--chromium']);
  const packaged = step('package the VSIX (npm run package)', 'npm', ['run', 'package']);
  if (tools) {
    // the standard entry point: @vscode/test-cli reads .vscode-test.mjs (code-server stands in for VS Code here)
    const r = stepTee('extension-host tests (vscode-test)', process.execPath, [path.join(root, 'node_modules/@vscode/test-cli/out/bin.mjs')]);
    const n = (k) => Number(new RegExp(`(\\d+) ${k}`).exec(r.out)?.[1] ?? 0);
    totals.passed += n('passing');
    totals.failed += n('failing');
    results.push({ name: 'extension-host tests (code-server)', ok: r.ok, detail: `${n('passing')} passed, ${n('failing')} failed (exit ${r.status})`, secs: r.secs });
  }
  if (tools && packaged) {
    const tap = path.join(root, 'out/ui-results.tap');
    const t0 = Date.now();
    const files = ['test/e2e/ui.test.mjs', 'test/e2e/start.test.mjs'];
    console.log(`\n=== UI tests: node --test ${files.join(' ')}`);
    const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' },
    });
    const text = fs.existsSync(tap) ? fs.readFileSync(tap, 'utf8') : '';
    const count = (k) => Number(new RegExp(`^# ${k} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    totals.passed += count('pass');
    totals.failed += count('fail') + count('cancelled');
    results.push({ name: 'UI tests and npm start (code-server + Chromium, screenshots in test-results/e2e)', ok: r.status === 0, detail: `${count('pass')} passed, ${count('fail')} failed`, secs: (Date.now() - t0) / 1000 });
  }
  const left = await leftovers(before);
  results.push({ name: 'nothing left behind (processes, ports, temp folders, files under ~)', ok: left.length === 0, detail: left.length ? left.join('; ') : 'clean', secs: 0 });
  if (left.length) totals.failed++;
  else totals.passed++;
}

console.log('\n==================== summary ====================');
for (const r of results) console.log(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name}: ${r.detail} [${r.secs.toFixed(1)} s]`);
const failed = results.filter((r) => !r.ok).length;
console.log(failed === 0 ? 'ALL PASSED' : `${failed} STEP(S) FAILED`);
// a failed step with no failed test case (a build error, a crashed runner) still counts as a failure
console.log(`${totals.passed} passed, ${totals.failed + (failed > 0 && totals.failed === 0 ? 1 : 0)} failed`);
process.exit(failed === 0 ? 0 : 1);
