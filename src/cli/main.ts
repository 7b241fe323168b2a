/**
 * Command-line completion with the same engine and pipeline as the editor.
 *
 *   ultramem-complete [options] FILE LINE:COLUMN     complete FILE at LINE:COLUMN (1-based); prints the completion
 *   ultramem-complete [options] --jsonl              read JSONL on stdin: {"id"?, "prefix", "suffix", "language"?,
 *                                                    "path"?, "insertSpaces"?}; write exactly one JSON line per
 *                                                    input line (blank ones too), in order:
 *                                                    {"id"?, "completion", "stopReason", "skip", "ms",
 *                                                    "minMargin"} (CompleteTimings.minMargin; null for an answer
 *                                                    the model did not decode now), with
 *                                                    "error": {"code", "message"} for a line that is not a request.
 *                                                    Lines end at LF (a CR before it is dropped; a lone CR is text).
 *   ultramem-complete [options] --generate-ids [--float-graph]
 *                                                    read a JSON array of prompts (arrays of token ids) on stdin;
 *                                                    write a JSON array of their greedy continuations (--max-tokens
 *                                                    ids each): the worker's generateIds, each from an empty cache,
 *                                                    on the quantized graph or with --float-graph the float one. The
 *                                                    parity reference of models/scripts/make_fixture.py.
 * Indentation follows the file, as VS Code's detectIndentation does (tabs or spaces, detectInsertSpaces), unless a
 * JSONL line says "insertSpaces".
 * Options: --model DIR (default: the bundled default model), --threads N, --max-tokens N, --max-lines N,
 *          --max-prompt-tokens N, --tab-size N
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineHost } from '../client/engineHost';
import { defaultModel } from '../client/modelCatalog';
import { WorkerClient } from '../client/workerClient';
import { SHIPPED_DEFAULTS } from '../completion/defaults';
import { CompletionPipeline, type PipelineOptions } from '../completion/pipeline';
import { detectInsertSpaces } from '../shared/text';
import type { CompletionRequest } from '../completion/types';
import { languageOf, numberOption, splitAt } from './files';

export { languageOf, splitAt };

interface Args {
  model?: string;
  threads: number;
  maxTokens: number;
  maxLines: number;
  maxPromptTokens: number;
  tabSize: number;
  jsonl: boolean;
  generateIds: boolean;
  floatGraph: boolean;
  positional: string[];
}

const USAGE = 'usage: ultramem-complete [--model DIR] [--threads N] [--max-tokens N] [--max-lines N] [--max-prompt-tokens N] (FILE LINE:COLUMN | --jsonl | --generate-ids [--float-graph])';

function parseArgs(argv: string[]): Args {
  const { threads, maxTokens, maxLines, maxPromptTokens } = SHIPPED_DEFAULTS;
  const a: Args = { threads, maxTokens, maxLines, maxPromptTokens, tabSize: 4, jsonl: false, generateIds: false, floatGraph: false, positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const num = (): number => numberOption(arg, argv[++i]);
    if (arg === '--model') a.model = argv[++i];
    else if (arg === '--threads') a.threads = num();
    else if (arg === '--max-tokens') a.maxTokens = num();
    else if (arg === '--max-lines') a.maxLines = num();
    else if (arg === '--max-prompt-tokens') a.maxPromptTokens = num();
    else if (arg === '--tab-size') a.tabSize = num();
    else if (arg === '--jsonl') a.jsonl = true;
    else if (arg === '--generate-ids') a.generateIds = true;
    else if (arg === '--float-graph') a.floatGraph = true;
    else if (arg === '-h' || arg === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else a.positional.push(arg);
  }
  return a;
}

/** Lines of a stream split at LF only (readline would also split at a lone CR), without a CR before the LF. */
async function* lfLines(input: NodeJS.ReadableStream): AsyncGenerator<string> {
  const withoutCr = (line: string): string => (line.endsWith('\r') ? line.slice(0, -1) : line);
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of input) {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true });
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      yield withoutCr(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  }
  pending += decoder.decode();
  if (pending.length > 0) yield withoutCr(pending);
}

/** A JSONL line that is not a request; `echo` holds its id when it is a JSON object that has one. */
class BadLine extends Error {
  constructor(
    readonly code: 'NOT_JSON' | 'BAD_REQUEST',
    message: string,
    readonly echo: { id?: unknown } = {},
  ) {
    super(message);
  }
}

interface JsonlRequest {
  /** Echoed in the output line when present. */
  readonly echo: { id?: unknown };
  readonly prefix: string;
  readonly suffix: string;
  readonly language?: unknown;
  readonly path?: unknown;
  readonly insertSpaces?: unknown;
}

function parseLine(line: string): JsonlRequest {
  if (line.trim() === '') throw new BadLine('BAD_REQUEST', 'empty line');
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch (e) {
    throw new BadLine('NOT_JSON', (e as Error).message);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new BadLine('BAD_REQUEST', 'a request is a JSON object');
  const r = o as Record<string, unknown>;
  const echo = 'id' in r ? { id: r['id'] } : {};
  if (typeof r['prefix'] !== 'string' || typeof r['suffix'] !== 'string') throw new BadLine('BAD_REQUEST', 'needs string "prefix" and "suffix"', echo);
  return { ...r, echo, prefix: r['prefix'], suffix: r['suffix'] };
}

async function resolveModel(arg: string | undefined): Promise<string> {
  if (arg) return path.resolve(arg);
  const bundled = path.join(__dirname, '..', 'models');
  const d = await defaultModel(bundled);
  if (!d) throw new Error(`no model: pass --model DIR (no model folder in ${bundled})`);
  return d.dir;
}

/** Reads all of stdin as text. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * --generate-ids: greedy continuations of token-id prompts from the worker's own decoding, so that reference data
 * (models/tiny-fixture/golden.json) comes from the one decoder. A plain worker, not the EngineHost: a parity run
 * wants a failure reported, not a restarted worker. Each prompt starts from an empty cache, because the quantized
 * graph's prefill differs slightly when it reuses a cache (test/worker/worker.test.ts).
 */
async function generateIds(args: Args): Promise<number> {
  const prompts = JSON.parse(await readStdin()) as unknown;
  if (!Array.isArray(prompts) || !prompts.every(Array.isArray)) throw new Error('--generate-ids reads a JSON array of token-id arrays on stdin');
  const worker = new WorkerClient({ onLog: (level, m) => level === 'error' && console.error(m) });
  try {
    await worker.ready;
    await worker.request('load', { modelDir: await resolveModel(args.model), threads: args.threads, useFloatGraph: args.floatGraph });
    const continuations: number[][] = [];
    for (const ids of prompts as number[][]) {
      await worker.request('resetCache', {});
      continuations.push((await worker.request('generateIds', { ids, maxTokens: args.maxTokens })).ids);
    }
    process.stdout.write(`${JSON.stringify(continuations)}\n`);
    return 0;
  } finally {
    await worker.stop();
  }
}

export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.generateIds) return generateIds(args);
  if (args.floatGraph || (!args.jsonl && args.positional.length !== 2)) {
    console.error(USAGE);
    return 2;
  }
  const host = new EngineHost({ threads: () => args.threads, log: (level, m) => level === 'error' && console.error(m) });
  try {
    const info = await host.load(await resolveModel(args.model));
    const options: PipelineOptions = {
      maxPromptTokens: args.maxPromptTokens,
      maxTokens: args.maxTokens,
      maxLines: args.maxLines,
      // The extension's setting; a command line has no other open files to take snippets from, so none are added.
      neighbourSnippets: SHIPPED_DEFAULTS.neighbourSnippets,
      contextLength: info.contextLength,
      fimTemplate: info.fimTemplate,
    };
    const pipeline = new CompletionPipeline(host, () => options);
    type Answer = { completion: string; stopReason: string | null; skip: string | null; ms: number; minMargin: number | null };
    const run = async (req: CompletionRequest): Promise<Answer> => {
      const t0 = Date.now();
      const a = await pipeline.complete(req, { noDebounce: true });
      return { completion: a.result.text, stopReason: a.result.stopReason, skip: a.result.skip, ms: Date.now() - t0, minMargin: a.result.timings?.minMargin ?? null };
    };
    const base = { tabSize: args.tabSize, trigger: 'manual' as const };
    if (args.jsonl) {
      for await (const line of lfLines(process.stdin)) {
        let echo: { id?: unknown } = {};
        let out: object;
        try {
          const o = parseLine(line);
          echo = o.echo;
          const p = typeof o.path === 'string' ? o.path : '';
          const prefix = o.prefix.replace(/\r\n/g, '\n');
          const suffix = o.suffix.replace(/\r\n/g, '\n');
          const insertSpaces = typeof o.insertSpaces === 'boolean' ? o.insertSpaces : detectInsertSpaces(prefix + suffix);
          const languageId = typeof o.language === 'string' ? o.language : p ? languageOf(p) : 'plaintext';
          out = await run({ ...base, prefix, suffix, insertSpaces, languageId, path: p });
        } catch (e) {
          if (e instanceof BadLine) echo = e.echo;
          const error = e instanceof BadLine ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: (e as Error).message };
          out = { completion: '', stopReason: null, skip: null, error, ms: 0, minMargin: null };
        }
        process.stdout.write(`${JSON.stringify({ ...echo, ...out })}\n`);
      }
      return 0;
    }
    const [file, at] = args.positional as [string, string];
    const m = /^(\d+):(\d+)$/.exec(at);
    if (!m) throw new Error(`position must be LINE:COLUMN, got ${at}`);
    const { prefix, suffix } = splitAt(fs.readFileSync(file, 'utf8'), Number(m[1]), Number(m[2]));
    const r = await run({ ...base, prefix, suffix, insertSpaces: detectInsertSpaces(prefix + suffix), languageId: languageOf(file), path: file });
    process.stdout.write(r.completion + (r.completion.endsWith('\n') ? '' : '\n'));
    if (r.skip) console.error(`no completion: ${r.skip}`);
    return 0;
  } finally {
    await host.stop();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`ultramem-complete: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
