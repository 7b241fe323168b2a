/** The completion pipeline against the real worker and the fixture model: cache, typed-through, streaming, restarts. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EngineHost, MAX_RESTARTS, type EngineState } from '../../src/client/engineHost';
import { isWorkerRequestError } from '../../src/client/workerClient';
import { CompletionPipeline, type PipelineOptions } from '../../src/completion/pipeline';
import type { CompletionRequest } from '../../src/completion/types';
import { requestAt } from '../helpers/cursor';
import { FIXTURE_DIR, requireFixture, WORKER_PATH } from '../helpers/fixture';

const OPTIONS: PipelineOptions = { maxPromptTokens: 256, maxTokens: 24, maxLines: 4, neighbourSnippets: true, contextLength: 512 };

async function until(cond: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const DOCS = [
  'function add(a, b) {\n  return a + ║\n}\n',
  'const user = { name: "ada", age: 36 };\nconsole.log(user.║\n',
  'import os\n\ndef main():\n    path = os.║\n',
  'for (let i = 0; i < 10; i++) {\n  total += ║\n}\n',
  'let message = "hello";\nlet count = ║\n',
];

describe('pipeline with the real worker', () => {
  let host: EngineHost;
  let pipeline: CompletionPipeline;
  const states: EngineState[] = [];

  before(async () => {
    requireFixture();
    host = new EngineHost({ workerPath: WORKER_PATH, threads: () => 1, onState: (s) => states.push(s), backoffBaseMs: 50 });
    await host.load(FIXTURE_DIR);
    pipeline = new CompletionPipeline(host, () => OPTIONS);
  });
  after(async () => {
    await host.stop();
  });

  /** The first test document whose completion is at least two characters long. */
  async function someCompletion(): Promise<{ req: CompletionRequest; text: string }> {
    for (const doc of DOCS) {
      const req = requestAt(doc, { trigger: 'manual' });
      const a = await pipeline.complete(req);
      if (a.result.text.length >= 2) return { req, text: a.result.text };
    }
    throw new Error('the fixture model gave no completion of 2+ characters for any test document');
  }

  test('no neighbour files: the prompt keeps the room snippets would take, as without the snippet setting', async () => {
    const prompts: unknown[] = [];
    const recording = { complete: (...args: Parameters<EngineHost['complete']>) => (prompts.push(args[0].prompt), host.complete(...args)) };
    const doc = `${'const values = [1, 2, 3];\n'.repeat(60)}function total(xs) {\n  return xs.║\n}\n`;
    for (const neighbours of [undefined, () => []]) {
      await new CompletionPipeline(recording, () => OPTIONS).complete({ ...requestAt(doc, { trigger: 'manual' }), neighbours });
    }
    assert.equal(prompts.length, 2);
    assert.deepEqual(prompts[1], prompts[0]);
  });

  test('a repeated request is answered from the cache without a model request', async () => {
    const { req, text } = await someCompletion();
    const before = pipeline.stats.modelRequests;
    const again = await pipeline.complete(req);
    assert.equal(again.result.source, 'cache');
    assert.equal(again.result.text, text);
    assert.equal(pipeline.stats.modelRequests, before);
  });

  test('typing the start of a suggestion shows its rest with no new request', async () => {
    const { req, text } = await someCompletion();
    const before = pipeline.stats.modelRequests;
    const typed = text.slice(0, 1);
    const next = await pipeline.complete({ ...req, prefix: req.prefix + typed });
    assert.equal(next.result.source, 'typedThrough');
    assert.equal(next.result.text, text.slice(1).trimEnd());
    assert.equal(pipeline.stats.modelRequests, before);
  });

  test('early answers stream: a useful piece first, the whole text later, each extending the last', async () => {
    pipeline.reset();
    const req = requestAt('class Queue {\n  constructor() {\n    this.items = [];\n  }\n\n  ║\n}\n', { trigger: 'manual' });
    let updates = 0;
    const first = await pipeline.complete(req, { early: true, onUpdate: () => updates++ });
    await pipeline.idle();
    const final = await pipeline.complete(req);
    assert.equal(final.streaming, false);
    if (first.streaming) {
      assert.ok(final.result.text.startsWith(first.result.text.trimEnd()), `${JSON.stringify(first.result.text)} then ${JSON.stringify(final.result.text)}`);
    }
    assert.ok(updates >= 0);
  });

  test('a newer request supersedes the running one', async () => {
    pipeline.reset();
    const a = pipeline.complete(requestAt('const alpha = ║;\n', { trigger: 'manual' }));
    const b = pipeline.complete(requestAt('const beta = ║;\n', { trigger: 'manual' }));
    const [ra, rb] = await Promise.all([a, b]);
    assert.equal(ra.result.skip, 'cancelled');
    assert.notEqual(rb.result.skip, 'cancelled');
  });

  test('skipped requests say why', async () => {
    const minified = ('var a=' + 'x,'.repeat(500) + ';\n').repeat(6) + 'var b=║\n';
    assert.equal((await pipeline.complete(requestAt(minified))).result.skip, 'minified');
    assert.equal((await pipeline.complete(requestAt('let a = "\u0000";\nlet b = ║\n'))).result.skip, 'binary');
    assert.equal((await pipeline.complete(requestAt('let value = va║lue;\n'))).result.skip, 'midWord');
    assert.equal((await pipeline.complete(requestAt('x = ║ + compute(a, b)\n'))).result.skip, 'textAfterCursor');
    assert.equal((await pipeline.complete(requestAt(`let s = "${'a'.repeat(3000)}║";\n`))).result.skip, 'hugeLine');
    assert.equal((await pipeline.complete({ ...requestAt('let a = ║\n'), documentLength: 6_000_000 })).result.skip, 'hugeFile');
  });

  test('non-ASCII text and CRLF-normalised input complete without errors', async () => {
    const r = await pipeline.complete(requestAt('// Größe und café ☕\nconst naïve = "日本語";\nconst x = ║\n', { trigger: 'manual' }));
    assert.notEqual(r.result.skip, 'workerError');
  });

  test('switching models swaps the model in the same worker process, and the next completion uses it', async () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-switch-'));
    try {
      fs.cpSync(FIXTURE_DIR, copy, { recursive: true });
      const file = path.join(copy, 'manifest.json');
      const m = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
      m['name'] = 'fixture-copy';
      fs.writeFileSync(file, JSON.stringify(m));
      const pid = host.workerPid;
      const info = await host.load(copy);
      assert.equal(info.name, 'fixture-copy');
      assert.equal(host.workerPid, pid);
      pipeline.reset();
      const r = await pipeline.complete(requestAt(DOCS[1]!, { trigger: 'manual' }));
      assert.notEqual(r.result.skip, 'workerError');
      assert.equal((await host.stats())?.model, 'fixture-copy');
      // Its folder broken since: reloading it fails, the model in memory serves on; switching back works.
      fs.rmSync(path.join(copy, 'tokenizer.json'));
      await assert.rejects(host.load(copy));
      assert.equal(host.state.kind, 'ready');
      await host.load(FIXTURE_DIR);
      assert.equal(host.state.kind, 'ready');
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  // Windows has no SIGSTOP to freeze a process with; the watchdog itself only kills, which works there too
  test('a hung worker (stopped process) is detected, killed and restarted', { skip: process.platform === 'win32' && 'no SIGSTOP on Windows' }, async () => {
    const hung = new EngineHost({ workerPath: WORKER_PATH, threads: () => 1, hangMs: 400, backoffBaseMs: 50 });
    try {
      await hung.load(FIXTURE_DIR);
      const pid = hung.workerPid!;
      const p = new CompletionPipeline(hung, () => OPTIONS);
      process.kill(pid, 'SIGSTOP');
      const t0 = Date.now();
      const r = await p.complete(requestAt(DOCS[0]!, { trigger: 'manual' }));
      assert.equal(r.result.skip, 'workerError');
      assert.ok(Date.now() - t0 < 5000);
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && !(hung.state.kind === 'ready' && hung.workerPid !== pid)) await new Promise((res) => setTimeout(res, 50));
      assert.equal(hung.state.kind, 'ready');
      assert.notEqual(hung.workerPid, pid);
    } finally {
      await hung.stop();
    }
  });

  test('a failed switch leaves the serving model serving, and a later crash is restarted with it', async () => {
    const broken = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-broken-switch-'));
    try {
      await host.load(FIXTURE_DIR);
      fs.cpSync(FIXTURE_DIR, broken, { recursive: true });
      fs.writeFileSync(path.join(broken, 'manifest.json'), '{"format": ');
      await assert.rejects(host.load(broken), (e: unknown) => isWorkerRequestError(e) && e.code === 'MANIFEST_NOT_JSON');
      assert.equal(host.state.kind, 'ready');
      assert.equal(host.modelInfo?.name, 'tiny-fixture');
      pipeline.reset();
      const r = await pipeline.complete(requestAt(DOCS[2]!, { trigger: 'manual' }));
      assert.equal(r.result.skip === 'workerError' || r.result.skip === 'noModel', false, `skip ${r.result.skip}`);
      const pid = host.workerPid;
      host.kill();
      await until(() => host.state.kind === 'ready' && host.workerPid !== pid);
      assert.equal(host.modelInfo?.name, 'tiny-fixture');
    } finally {
      fs.rmSync(broken, { recursive: true, force: true });
    }
  });

  test('a killed worker is restarted at once, however often, and completions resume', async () => {
    const before = states.length;
    for (let kill = 0; kill < 4; kill++) {
      const pid = host.workerPid;
      host.kill();
      await until(() => host.state.kind === 'ready' && host.workerPid !== pid);
    }
    const delays = states.slice(before).filter((s): s is Extract<EngineState, { kind: 'restarting' }> => s.kind === 'restarting').map((s) => s.delayMs);
    assert.deepEqual(delays, [0, 0, 0, 0], 'no backoff after a healthy restart');
    pipeline.reset();
    const r = await pipeline.complete(requestAt(DOCS[0]!, { trigger: 'manual' }));
    assert.notEqual(r.result.skip, 'workerError');
  });
});

describe('loads that never finish', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-slow-load-'));
  /** A fixture copy listing a 4 GB sparse file: reading it takes many seconds, far past the tests' load timeouts. */
  const slow = path.join(root, 'slow');
  before(() => {
    requireFixture();
    fs.cpSync(FIXTURE_DIR, slow, { recursive: true });
    fs.writeFileSync(path.join(slow, 'big.bin'), '');
    fs.truncateSync(path.join(slow, 'big.bin'), 4 * 2 ** 30);
    const m = JSON.parse(fs.readFileSync(path.join(slow, 'manifest.json'), 'utf8')) as { files: Record<string, unknown> };
    m.files['big.bin'] = { bytes: 4 * 2 ** 30, sha256: '0'.repeat(64) };
    fs.writeFileSync(path.join(slow, 'manifest.json'), JSON.stringify(m));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  const timedOut = (e: unknown): boolean => isWorkerRequestError(e) && e.code === 'LOAD_TIMEOUT' && e.message.includes(slow);

  test('a switch to a folder whose load hangs times out, and the old model serves again', async () => {
    // long enough for the fixture to load again on a busy machine
    const h = new EngineHost({ workerPath: WORKER_PATH, threads: () => 1, loadTimeoutMs: 2000 });
    try {
      await h.load(FIXTURE_DIR);
      const pid = h.workerPid;
      await assert.rejects(h.load(slow), timedOut);
      await until(() => h.state.kind === 'ready' && h.workerPid !== pid);
      assert.equal(h.modelInfo?.name, 'tiny-fixture');
      const r = await new CompletionPipeline(h, () => OPTIONS).complete(requestAt(DOCS[0]!, { trigger: 'manual' }));
      assert.notEqual(r.result.skip, 'workerError');
    } finally {
      await h.stop();
    }
  });

  test('a first load that hangs is retried a bounded number of times, then ends in modelError', async () => {
    const seen: EngineState[] = [];
    const h = new EngineHost({ workerPath: WORKER_PATH, threads: () => 1, loadTimeoutMs: 500, backoffBaseMs: 10, onState: (s) => seen.push(s) });
    try {
      await assert.rejects(h.load(slow), timedOut);
      await until(() => h.state.kind === 'modelError', 30_000);
      assert.equal(seen.filter((s) => s.kind === 'restarting').length, MAX_RESTARTS);
    } finally {
      await h.stop();
    }
  });
});