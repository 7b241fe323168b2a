// `npm test`: builds the bundles, type-checks and compiles the TypeScript tests, lints, runs the tests with node's test runner
// (unit, golden, worker and provider tests), then the model tests (models/tests/run.mjs), then the tests in a
// real VS Code (code-server, installed on first use: scripts/codeServer.mjs): the extension-host suites through
// `vscode-test` (.vscode-test.mjs) and the UI tests (test/e2e/ui.test.mjs, with the packaged VSIX), and checks that
// those left no process, port, temp folder or file under the home folder behind. Prints one summary and ends with
// one line `N passed, N failed`. Exits non-zero if anything failed. Every step's output streams as it runs.
// The Debian packages of the model and VS Code tests are installed first when run as root (a fresh machine, CI);
// otherwise one line names the packages to install and the steps skipped without them.
//   --only-ts   only the TypeScript tests (no model, VS Code or UI tests)
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODE_SERVER_APT, ensureAptPackages, isInstalled as codeServerInstalled, missingAptPackages } from '../scripts/codeServer.mjs';
import { snapshot, leftovers } from './leaks.mjs';
import { tapFailures } from './tapFailures.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const onlyTs = process.argv.includes('--only-ts');
const results = [];
const totals = { passed: 0, failed: 0 }; // test cases over every runner, for the closing line
const skipped = []; // steps not run for want of Debian packages (not root)
const ENV = { ...process.env, ORT_DISABLE_TELEMETRY: '1' };

// Python with torch for the model tests (OpenBLAS makes its matmuls about 20x faster); Debian's chromium for the UI
// tests and, until code-server is installed, the packages its native modules build with.
const MODEL_APT = ['python3-torch', 'python3-onnx', 'python3-numpy', 'python3-pytest', 'python3-regex', 'libopenblas0-pthread'];
const VSCODE_APT = ['chromium', ...(codeServerInstalled() ? [] : CODE_SERVER_APT)];
let runModelTests = !onlyTs;
let runVscodeTests = !onlyTs;
if (!onlyTs) {
  const missing = missingAptPackages([...MODEL_APT, ...VSCODE_APT]);
  if (missing.length > 0 && process.getuid?.() === 0) {
    const t0 = Date.now();
    let ok = true;
    try {
      ensureAptPackages(missing, (m) => console.log(`[npm test] ${m}`));
    } catch (e) {
      console.error(`[npm test] ${e.message}`);
      ok = false;
    }
    results.push({ name: `Debian packages: ${missing.join(' ')}`, ok, detail: ok ? 'installed' : 'apt-get failed', secs: (Date.now() - t0) / 1000 });
  } else if (missing.length > 0) {
    runModelTests = !missing.some((p) => MODEL_APT.includes(p) && p !== 'libopenblas0-pthread'); // OpenBLAS only speeds up
    runVscodeTests = !missing.some((p) => VSCODE_APT.includes(p));
    if (!runModelTests) skipped.push('the model tests');
    if (!runVscodeTests) skipped.push('the VS Code, UI and packaging tests');
    console.log(`[npm test] not root, so nothing is installed: run \`sudo apt-get install -y --no-install-recommends ${missing.join(' ')}\`; skipping ${skipped.length ? skipped.join(' and ') : 'nothing'} until then`);
  }
}

function step(name, cmd, args, opts = {}) {
  const t0 = Date.now();
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: ENV, ...opts });
  const ok = r.status === 0;
  results.push({ name, ok, detail: `exit ${r.status ?? r.signal}`, secs: (Date.now() - t0) / 1000 });
  return ok;
}

/**
 * Runs test files with node's test runner (spec output streamed, TAP to a file for the counts) as one step that
 * adds its test cases to the totals.
 */
function nodeTests(name, files, tapName, env = {}) {
  const tap = path.join(root, 'out', tapName);
  const t0 = Date.now();
  console.log(`\n=== ${name}: node --test ${files.map((f) => path.relative(root, f)).join(' ')}`);
  fs.rmSync(tap, { force: true });
  const r = spawnSync(
    process.execPath,
    ['--test', '--test-concurrency=1', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files],
    { cwd: root, stdio: 'inherit', env: { ...ENV, ...env } },
  );
  const text = fs.existsSync(tap) ? fs.readFileSync(tap, 'utf8') : '';
  const count = (k) => Number(new RegExp(`^# ${k} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  totals.passed += count('pass');
  totals.failed += count('fail') + count('cancelled');
  const detail = `${count('pass')} passed, ${count('fail')} failed, ${count('cancelled')} cancelled, ${count('skipped')} skipped (${files.length} files)`;
  results.push({ name, ok: r.status === 0, detail, secs: (Date.now() - t0) / 1000, failures: tapFailures(text) });
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
  nodeTests('TypeScript tests (unit, golden, worker, provider)', files, 'test-results.tap');
}

// 60 s of typing through the real pipeline and worker while the worker is killed, stopped and switched to broken model
// folders (src/soak/main.ts): fails on a lost, duplicated or out-of-order answer; the recovery p95 is checked loosely
// here (issue 13's target, 2 s, is for a quiet machine; the README records a run).
if (built && !onlyTs) {
  step('soak: 60 s with faults on the test model (npm run soak)', process.execPath, ['dist/soak.js', '--seconds', '60', '--faults', '--model', 'models/tiny-fixture', '--json', 'out/soak.json', '--max-recovery-ms', '4000', '--hang-ms', '3000']);
}

if (runModelTests) {
  const summary = path.join(root, 'out/model-tests.json');
  step('model tests (models/tests/run.mjs)', process.execPath, ['models/tests/run.mjs', '--summary', summary]);
  const models = fs.existsSync(summary) ? JSON.parse(fs.readFileSync(summary, 'utf8')) : { passed: 0, failed: 1 };
  totals.passed += models.passed;
  totals.failed += models.failed;
}

/** Runs a step, showing its output as it comes and returning it too (for runners that report counts only in text). */
async function stepTee(name, cmd, args) {
  const t0 = Date.now();
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: ENV });
  let out = '';
  child.stdout.on('data', (d) => {
    process.stdout.write(d);
    out += d;
  });
  child.stderr.on('data', (d) => {
    process.stderr.write(d);
    out += d;
  });
  const status = await new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));
  return { ok: status === 0, out, status, secs: (Date.now() - t0) / 1000 };
}

if (runVscodeTests && built && compiled) {
  const before = snapshot();
  const tools = step('tools: code-server and chromium (scripts/codeServer.mjs install --chromium)', process.execPath, ['scripts/codeServer.mjs', 'install', '--chromium']);
  // linux-x64 is the VSIX the UI tests install; darwin-x64 adds another binary format and the onnxruntime fetched
  // from npm. `npm run package:all` builds and checks all six.
  const vsixTargets = ['linux-x64', 'darwin-x64'];
  const packaged = step(`package the VSIXs (scripts/package.mjs ${vsixTargets.join(' ')})`, process.execPath, ['scripts/package.mjs', ...vsixTargets]);
  if (packaged) nodeTests('VSIX contents and their native binaries', [path.join(root, 'test/package/vsix.test.mjs')], 'vsix-results.tap', { ULTRAMEM_VSIX_TARGETS: vsixTargets.join(',') });
  if (tools) {
    // the standard entry point: @vscode/test-cli reads .vscode-test.mjs (code-server stands in for VS Code here)
    const r = await stepTee('extension-host tests (vscode-test)', process.execPath, [path.join(root, 'node_modules/@vscode/test-cli/out/bin.mjs')]);
    const n = (k) => Number(new RegExp(`(\\d+) ${k}`).exec(r.out)?.[1] ?? 0);
    totals.passed += n('passing');
    totals.failed += n('failing');
    results.push({ name: 'extension-host tests (code-server)', ok: r.ok, detail: `${n('passing')} passed, ${n('failing')} failed (exit ${r.status})`, secs: r.secs });
  }
  if (tools && packaged) {
    const files = ['test/e2e/ui.test.mjs', 'test/e2e/start.test.mjs'].map((f) => path.join(root, f));
    nodeTests('UI tests and npm start (code-server + Chromium, screenshots in test-results/e2e)', files, 'ui-results.tap');
  }
  const left = await leftovers(before);
  results.push({ name: 'nothing left behind (processes, ports, temp folders, files under ~)', ok: left.length === 0, detail: left.length ? left.join('; ') : 'clean', secs: 0 });
  if (left.length) totals.failed++;
  else totals.passed++;
}

console.log('\n==================== summary ====================');
for (const r of results) {
  console.log(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name}: ${r.detail} [${r.secs.toFixed(1)} s]`);
  for (const f of r.failures ?? []) console.log(`        not ok: ${f.test}\n          ${f.error}`);
}
for (const what of skipped) console.log(`SKIP  ${what}: Debian packages missing (see the '[npm test] not root' line above)`);
const failed = results.filter((r) => !r.ok).length;
console.log(failed > 0 ? `${failed} STEP(S) FAILED` : skipped.length > 0 ? 'PASSED, BUT STEPS WERE SKIPPED' : 'ALL PASSED');
// a failed step with no failed test case (a build error, a crashed runner) still counts as a failure
console.log(`${totals.passed} passed, ${totals.failed + (failed > 0 && totals.failed === 0 ? 1 : 0)} failed`);
process.exit(failed === 0 ? 0 : 1);
