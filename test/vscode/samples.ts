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

/** Function names for the TypeScript sample, in the order they are tried (clearTypescriptSample). */
const TYPESCRIPT_NAMES = ['length', 'clone', 'distance', 'rotate', 'boundingBox'];
/** The least lead of every greedy token over the runner-up (the CLI's minMargin) a compared sample needs. */
export const MIN_MARGIN = 0.25;

/** shapes.ts with a function name typed at the end: the completion of its signature and body. */
export function typescriptSample(name = 'distance'): string {
  return `${read('shapes.ts')}\nexport function ${name}║\n`;
}

/**
 * The first TypeScript sample whose completion by the shipped model leads every runner-up token by MIN_MARGIN on the
 * running CPU, for the tests that compare the editor's completion with the CLI's. Chosen at run time: where two tokens
 * nearly tie, a prompt prefilled in other chunks (the editor's background prefill against the CLI's one prefill)
 * can take the other one, and which names sit on a near tie depends on the CPU's arithmetic (`distance` leads by
 * 0.09-0.15 on the 2026-12-06 machine, `length` by 0.34; `def mode` in the UI test, at 0.053, failed that way).
 */
export async function clearTypescriptSample(): Promise<string> {
  const samples = TYPESCRIPT_NAMES.map((name) => typescriptSample(name));
  const requests = samples.map((s) => {
    const [prefix, suffix] = s.split('║') as [string, string];
    return { prefix, suffix, language: 'typescript' };
  });
  const answers = await cliAnswers(DEFAULT_MODEL, requests);
  const k = answers.findIndex((a) => a.completion.length > 0 && (a.minMargin ?? 0) >= MIN_MARGIN);
  if (k < 0) throw new Error(`no TypeScript sample clear of near ties on this CPU: ${JSON.stringify(answers.map((a, i) => [TYPESCRIPT_NAMES[i], a.minMargin]))}`);
  return samples[k]!;
}
