// `npm test`: builds the bundles, type-checks and compiles the TypeScript tests, lints, runs the tests with node's test runner
// (unit, golden, worker and provider tests), then the model tests (models/scripts/test_models.mjs),
// and prints one summary. Exits non-zero if anything failed.
//   --only-ts   skip the model tests
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

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

console.log('\n==================== summary ====================');
for (const r of results) console.log(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name}: ${r.detail} [${r.secs.toFixed(1)} s]`);
const failed = results.filter((r) => !r.ok).length;
console.log(failed === 0 ? 'ALL PASSED' : `${failed} STEP(S) FAILED`);
// a failed step with no failed test case (a build error, a crashed runner) still counts as a failure
console.log(`${totals.passed} passed, ${totals.failed + (failed > 0 && totals.failed === 0 ? 1 : 0)} failed`);
process.exit(failed === 0 ? 0 : 1);
