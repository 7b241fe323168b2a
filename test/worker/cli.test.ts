/** The CLI drives the same engine: file:line:column mode and JSONL mode agree. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { splitAt } from '../../src/cli/files';
import { FIXTURE_DIR, requireFixture, ROOT } from '../helpers/fixture';

const CLI = path.join(ROOT, 'dist', 'cli.js');

test('splitAt cuts at a 1-based line:column and normalises CRLF', () => {
  assert.deepEqual(splitAt('ab\r\ncd\r\n', 2, 2), { prefix: 'ab\nc', suffix: 'd\n' });
  assert.throws(() => splitAt('ab', 3, 1), /outside/);
});

test('the file mode and the JSONL mode give the same completion', () => {
  requireFixture();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-cli-'));
  try {
    const file = path.join(dir, 'sample.py');
    fs.writeFileSync(file, 'def area(w, h):\n    return \n');
    const common = ['--model', FIXTURE_DIR, '--threads', '1', '--max-tokens', '12'];
    const one = spawnSync(process.execPath, [CLI, ...common, file, '2:12'], { encoding: 'utf8' });
    assert.equal(one.status, 0, one.stderr);
    const input = [JSON.stringify({ prefix: 'def area(w, h):\n    return ', suffix: '\n', language: 'python', path: file }), 'not json', ''].join('\n');
    const many = spawnSync(process.execPath, [CLI, ...common, '--jsonl'], { input, encoding: 'utf8' });
    assert.equal(many.status, 0, many.stderr);
    const lines = many.stdout.trim().split('\n').map((l) => JSON.parse(l) as { completion: string; minMargin: number | null; error?: { code: string } });
    assert.equal(lines.length, 2);
    assert.equal(lines[0]!.completion + '\n', one.stdout.endsWith('\n') ? one.stdout : `${one.stdout}\n`);
    // how close greedy decoding came to another token: a positive logit gap for a decoded answer, null for none
    assert.ok(typeof lines[0]!.minMargin === 'number' && lines[0]!.minMargin > 0, JSON.stringify(lines[0]));
    assert.ok(lines[1]!.error);
    assert.equal(lines[1]!.minMargin, null);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('JSONL: exactly one output line per input line, in order, with the id echoed and an error object for bad lines', () => {
  requireFixture();
  const good = (id: unknown): string => JSON.stringify({ id, prefix: 'def area(w, h):\n    return ', suffix: '\n', language: 'python' });
  const input = [
    good(1),
    '', // blank
    'null',
    '[1, 2]',
    JSON.stringify({ id: 'no-prefix', suffix: '' }),
    'not json\rstill the same line', // a lone CR is not a line end
    good('last'),
  ].join('\r\n');
  const r = spawnSync(process.execPath, [CLI, '--model', FIXTURE_DIR, '--threads', '1', '--max-tokens', '8', '--jsonl'], { input, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { id?: unknown; error?: { code: string; message: string } });
  assert.deepEqual(lines.map((l) => l.id), [1, undefined, undefined, undefined, 'no-prefix', undefined, 'last']);
  assert.deepEqual(lines.map((l) => l.error?.code ?? null), [null, 'BAD_REQUEST', 'BAD_REQUEST', 'BAD_REQUEST', 'BAD_REQUEST', 'NOT_JSON', null]);
});

test('--generate-ids: greedy ids of each prompt as JSON (the golden paths: models/tests/test_make_fixture.py); bad input and a stray --float-graph fail', () => {
  requireFixture();
  const cli = (args: string[], input: string) => spawnSync(process.execPath, [CLI, '--model', FIXTURE_DIR, '--threads', '1', ...args], { input, encoding: 'utf8' });
  const ok = cli(['--generate-ids', '--float-graph', '--max-tokens', '3'], '[[1, 2, 3], [4]]');
  assert.equal(ok.status, 0, ok.stderr);
  const paths = JSON.parse(ok.stdout) as number[][];
  assert.deepEqual(paths.map((p) => p.length), [3, 3]);
  const bad = cli(['--generate-ids'], '{"ids": [1, 2]}');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /JSON array of token-id arrays/);
  assert.equal(cli(['--float-graph', '--jsonl'], '').status, 2);
});
