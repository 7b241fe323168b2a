/** Documents with a cursor (║) where the shipped model completes something, built from the sample workspace. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './helpers';

const read = (name: string): string => fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'workspace', name), 'utf8');

/** stats.py with a new function opened before the `__main__` block: a multi-line completion of its body. */
export function pythonSample(name = 'normalize'): string {
  const py = read('stats.py');
  const at = py.indexOf('\n\nif __name__');
  return `${py.slice(0, at)}\n\n\ndef ${name}(values):\n    ║${py.slice(at)}`;
}

/** shapes.ts with a function name typed at the end: a one-line completion of its signature. */
export function typescriptSample(): string {
  return `${read('shapes.ts')}\nexport function area║\n`;
}
