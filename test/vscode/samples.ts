/** Documents with a cursor (║) where the shipped model completes something, built from the sample workspace. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './helpers';

const read = (name: string): string => fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'workspace', name), 'utf8');

/**
 * stats.py with a new function opened before the `__main__` block: a multi-line completion of its body. The default
 * name is one where the shipped model's greedy choice has a clear margin: where two tokens nearly tie, a prompt
 * prefilled in other chunks (background prefill, a reused cache) can pick the other one, so the editor and a fresh
 * CLI run may differ there (`normalize` does with the seventh-run model: three paths, three completions).
 */
export function pythonSample(name = 'median'): string {
  const py = read('stats.py');
  const at = py.indexOf('\n\nif __name__');
  return `${py.slice(0, at)}\n\n\ndef ${name}(values):\n    ║${py.slice(at)}`;
}

/**
 * shapes.ts with a function name typed at the end: the completion of its signature and body. `distance`, because the
 * shipped model's greedy path for it is the same from a fresh prefill and from a reused cache, on 1 and 2 threads;
 * for `area` it sits on a near tie (`a.x - b.x` or `a * b * b`) that the editor's chunked background prefill and the
 * CLI's single prefill resolved differently (2026-12-06).
 */
export function typescriptSample(): string {
  return `${read('shapes.ts')}\nexport function distance║\n`;
}
