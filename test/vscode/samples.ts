/** Documents with a cursor (║) where the shipped model completes something, built from the sample workspace. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliAnswers, DEFAULT_MODEL, ROOT } from './helpers';

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

/** Function names for the TypeScript sample (clearTypescriptSample). */
const TYPESCRIPT_NAMES = ['move', 'unit', 'zero', 'print', 'clone', 'length', 'distance'];

/** shapes.ts with a function name typed at the end: the completion of its signature and body. */
export function typescriptSample(name = 'distance'): string {
  return `${read('shapes.ts')}\nexport function ${name}║\n`;
}

/**
 * The TypeScript sample whose completion by the shipped model leads the runner-up token by the most at its closest step
 * (the CLI's minMargin) on the running CPU, for the tests that compare the editor's completion with the CLI's. Where
 * two tokens nearly tie, the editor's path (decoding after a cached prefix) and the CLI's (one prefill) can take
 * different ones: the memory layers' top-m retrieval turns the last bits of difference between their kernels into
 * margin changes of up to 0.44 (models/LOG.md, 2026-12-06, fourth session). Which names sit on near ties depends on
 * the CPU's arithmetic (`distance` leads by 0.09-0.15 on the 2026-12-06 machine, `move` by 0.52), so the choice is
 * made at run time.
 */
export async function clearTypescriptSample(): Promise<string> {
  const samples = TYPESCRIPT_NAMES.map((name) => typescriptSample(name));
  const answers = await cliAnswers(DEFAULT_MODEL, samples.map((s) => {
    const [prefix, suffix] = s.split('║') as [string, string];
    return { prefix, suffix, language: 'typescript' };
  }));
  let best = -1;
  answers.forEach((a, i) => {
    if (a.completion.length > 0 && a.minMargin !== null && (best < 0 || a.minMargin > answers[best]!.minMargin!)) best = i;
  });
  if (best < 0) throw new Error(`no TypeScript sample gets a completion on this CPU: ${JSON.stringify(answers)}`);
  console.log(`    (typescript sample: ${TYPESCRIPT_NAMES[best]}, min margin ${answers[best]!.minMargin!.toFixed(3)})`);
  return samples[best]!;
}
