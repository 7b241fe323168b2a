/** test/tapFailures.mjs: npm test's summary names each failed test case with the first lines of its error. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/fixture';

type TapFailures = (tap: string) => { test: string; error: string }[];

test("a TAP report's failed cases and their errors, one-line and multi-line; suites that only failed through them are left out", async () => {
  const { tapFailures } = (await import(path.join(ROOT, 'test', 'tapFailures.mjs'))) as { tapFailures: TapFailures };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-tap-'));
  try {
    const file = path.join(dir, 'cases.test.mjs');
    fs.writeFileSync(
      file,
      [
        "import assert from 'node:assert/strict';",
        "import { describe, test } from 'node:test';",
        "describe('a suite', () => {",
        "  test('passes', () => {});",
        "  test('grows', () => assert.ok(false, 'the ghost text grew while streaming: [\"a\"]'));",
        "  test('equals', () => assert.equal(1, 2));",
        "  test('quotes', () => assert.ok(false, `it's \"quoted\"`));",
        '});',
      ].join('\n'),
    );
    // without the parent runner's NODE_TEST_CONTEXT, which would make the child report to it instead of in TAP
    const env = { ...process.env };
    delete env['NODE_TEST_CONTEXT'];
    const tap = spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], { encoding: 'utf8', env }).stdout;
    assert.deepEqual(tapFailures(tap), [
      { test: 'grows', error: 'the ghost text grew while streaming: ["a"]' },
      { test: 'equals', error: 'Expected values to be strictly equal: 1 !== 2' },
      { test: 'quotes', error: 'it\'s "quoted"' },
    ]);
    assert.deepEqual(tapFailures(tap.replace(/not ok/g, 'ok')), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
