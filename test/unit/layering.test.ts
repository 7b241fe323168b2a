/** The pipeline and the worker know nothing of VS Code: only src/extension may import `vscode`. */
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
