/**
 * Golden cases in test/golden/<filter>/<case>.toml, each run through the whole filter chain (pre-cache
 * then post-cache filters, as the pipeline shows a result). The document marks the raw completion with
 * ├...┤ at the cursor; `expected` is `text` (with `text`), `unchanged` or `discard`.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { buildContext } from '../../src/completion/context';
import { POST_CACHE_FILTERS, PRE_CACHE_FILTERS, runFilters } from '../../src/completion/filters';
import type { StopReason } from '../../src/shared/protocol';
import { ROOT } from '../helpers/fixture';
import { parseToml } from '../helpers/toml';

const dir = path.join(ROOT, 'test', 'golden');
const cases = fs
  .readdirSync(dir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => fs.readdirSync(path.join(dir, d.name)).filter((f) => f.endsWith('.toml')).map((f) => path.join(d.name, f)))
  .sort();

test('there are golden cases for every filter', () => {
  const filters = new Set([...PRE_CACHE_FILTERS, ...POST_CACHE_FILTERS].map((f) => f.name));
  const dirs = new Set(cases.map((c) => c.split(path.sep)[0]));
  for (const f of filters) assert.ok(dirs.has(f), `no golden cases for ${f}`);
});

for (const rel of cases) {
  test(`golden ${rel}`, () => {
    const c = parseToml(fs.readFileSync(path.join(dir, rel), 'utf8'));
    const doc = c['document'];
    assert.ok(doc !== undefined, 'document missing');
    const open = doc.indexOf('├');
    const close = doc.indexOf('┤');
    assert.ok(open >= 0 && close > open, 'document needs ├completion┤');
    const completion = doc.slice(open + 1, close);
    const ctx = buildContext(
      {
        prefix: doc.slice(0, open),
        suffix: doc.slice(close + 1),
        languageId: c['language'] ?? 'typescript',
        path: 'golden',
        tabSize: Number(c['tabSize'] ?? 4),
        insertSpaces: c['insertSpaces'] !== 'false',
        trigger: 'automatic',
      },
      { prefixTokens: 2000, suffixTokens: 500 },
    );
    const stop = (c['stopReason'] ?? 'endToken') as StopReason;
    const out = runFilters(POST_CACHE_FILTERS, runFilters(PRE_CACHE_FILTERS, completion, ctx, stop), ctx, stop);
    const expected = c['expected'];
    if (expected === 'unchanged') assert.equal(out, completion);
    else if (expected === 'discard') assert.equal(out, '');
    else if (expected === 'text') assert.equal(out, c['text']);
    else assert.fail(`unknown expected ${expected}`);
  });
}
