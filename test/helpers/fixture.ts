/** Paths and a worker factory for tests that run the real worker on the tiny fixture model. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before } from 'node:test';
import { WorkerClient, type WorkerClientOptions } from '../../src/client/workerClient';
import type { PromptPart } from '../../src/shared/protocol';

/** Repository root (tests run from out/test/..., sources live in test/...). */
export const ROOT = path.resolve(__dirname, '..', '..', fs.existsSync(path.resolve(__dirname, '..', '..', 'package.json')) ? '' : '..');
/** ULTRAMEM_FIXTURE_DIR overrides the fixture folder (to test another model folder of the same kind). */
export const FIXTURE_DIR = process.env['ULTRAMEM_FIXTURE_DIR'] ?? path.join(ROOT, 'models', 'tiny-fixture');
export const WORKER_PATH = path.join(ROOT, 'dist', 'worker.js');

export function requireFixture(): void {
  if (!fs.existsSync(path.join(FIXTURE_DIR, 'manifest.json'))) {
    throw new Error(`fixture model missing: ${FIXTURE_DIR} (built by the models/ scripts)`);
  }
  if (!fs.existsSync(WORKER_PATH)) throw new Error(`${WORKER_PATH} missing: run npm run build`);
}

export function startWorker(opts: WorkerClientOptions = {}): WorkerClient {
  requireFixture();
  return new WorkerClient({ workerPath: WORKER_PATH, ...opts });
}

export interface Golden {
  readonly cases: { prompt: string; ids: number[]; continuation: number[]; firstLogits: number[] }[];
}

/** golden.json of the fixture, normalised to {prompt, ids, continuation}; null when the fixture has none. */
export function readGolden(): { raw: unknown; cases: Golden['cases'] } | null {
  const file = path.join(FIXTURE_DIR, 'golden.json');
  if (!fs.existsSync(file)) return null;
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  const list = (Array.isArray(raw) ? raw : (raw['cases'] ?? raw['prompts'] ?? [])) as Record<string, unknown>[];
  const cases = list.map((c) => ({
    prompt: String(c['prompt'] ?? c['text'] ?? ''),
    ids: (c['ids'] ?? c['prompt_ids'] ?? c['input_ids'] ?? []) as number[],
    continuation: (c['continuation'] ?? c['greedy'] ?? c['continuation_ids'] ?? c['greedy_ids'] ?? []) as number[],
    firstLogits: (c['firstLogits'] ?? []) as number[],
  }));
  return { raw, cases };
}

/** A worker with the fixture's float graph loaded before the suite's tests and stopped after them (call inside a describe). */
export function useFixtureWorker(): () => WorkerClient {
  let worker: WorkerClient | undefined;
  before(async () => {
    worker = startWorker();
    await worker.ready;
    await worker.request('load', { modelDir: FIXTURE_DIR, threads: 1, useFloatGraph: true });
  });
  after(async () => {
    await worker?.stop();
  });
  return () => {
    if (!worker) throw new Error('the fixture worker has not started');
    return worker;
  };
}


/** A FIM prompt as the pipeline sends it: the prefix kept by its end (and healed when `heal`), then the suffix. */
export function fimPrompt(prefix: string, suffix: string, heal = false): PromptPart[] {
  return [
    { kind: 'special', token: 'fimPrefix' },
    { kind: 'text', text: prefix, keep: 'end', heal },
    { kind: 'special', token: 'fimSuffix' },
    { kind: 'text', text: suffix },
    { kind: 'special', token: 'fimMiddle' },
  ];
}
