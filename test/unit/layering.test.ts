/**
 * The layout, checked without eslint (eslint.config.mjs says the same): the pipeline and the worker know nothing of
 * VS Code, only src/extension may import `vscode`; src/worker and src/completion sit side by side on src/shared and
 * never import each other, the client or the adapter; src/shared imports nothing of ours outside itself.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/fixture';

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

test('only src/extension imports vscode', () => {
  const offenders = files(path.join(ROOT, 'src'))
    .filter((f) => !f.includes(`${path.sep}extension${path.sep}`))
    .filter((f) => /from ['"]vscode['"]|require\(['"]vscode['"]\)/.test(fs.readFileSync(f, 'utf8')));
  assert.deepEqual(offenders, []);
});

/** Relative module specifiers of a source file's imports, exports-from, `import()` and `require()`. */
function relativeImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]*)['"]/gm)) found.push(m[1]!);
  return found;
}

/** `file -> target` for each relative import of a file under src/<from>/ whose target `isForbidden` (a path from the root). */
function crossings(from: string, isForbidden: (target: string) => boolean): string[] {
  const dir = path.join(ROOT, 'src', from);
  return files(dir).flatMap((f) =>
    relativeImports(f)
      .map((spec) => path.relative(ROOT, path.resolve(path.dirname(f), spec)).split(path.sep).join('/'))
      .filter(isForbidden)
      .map((target) => `${path.relative(ROOT, f)} -> ${target}`),
  );
}

const under = (...folders: string[]) => (target: string) => folders.some((d) => target === `src/${d}` || target.startsWith(`src/${d}/`));

test('src/worker and src/completion never import each other, the client or the adapter', () => {
  const offenders = [...crossings('worker', under('completion', 'client', 'extension')), ...crossings('completion', under('worker', 'client', 'extension'))];
  assert.deepEqual(offenders, []);
});

test('src/shared imports nothing of ours outside itself', () => {
  assert.deepEqual(crossings('shared', (target) => !(target === 'src/shared' || target.startsWith('src/shared/'))), []);
});
