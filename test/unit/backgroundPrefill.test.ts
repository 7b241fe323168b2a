/** The background prefill's triggers, debounce and dedupe (src/client/backgroundPrefill.ts) and the pipeline's prefill hook, without VS Code or a worker. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BackgroundPrefiller, PREFILL_DELAY_MS, type PrefillTarget, type Timers } from '../../src/client/backgroundPrefill';
import { CompletionPipeline, type CompletionBackend, type PipelineOptions, type PrefillAnswer } from '../../src/completion/pipeline';
import type { CompletionRequest } from '../../src/completion/types';
import type { CompleteParams, CompleteResult, PrefillParams, PrefillResult } from '../../src/shared/protocol';
import { requestAt } from '../helpers/cursor';

/** Timers on a clock the test moves. */
class ManualTimers implements Timers {
  now = 0;
  private next = 1;
  private readonly queue = new Map<number, { at: number; fn: () => void }>();
  set(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.queue.set(id, { at: this.now + ms, fn });
    return id;
  }
  clear(handle: unknown): void {
    this.queue.delete(handle as number);
  }
  get size(): number {
    return this.queue.size;
  }
  /** Moves the clock, running the timers that come due in order. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.queue.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.queue.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
      await new Promise((r) => setImmediate(r));
    }
    this.now = end;
    await new Promise((r) => setImmediate(r));
  }
}

const sent = (prefilledTokens: number, cancelled = false): PrefillAnswer => ({
  sent: true,
  result: { promptTokens: 100, reusedTokens: 100 - prefilledTokens, prefilledTokens, chunks: 1, cancelled, ms: 1 },
});

function harness(over: { allowed?: (l: string) => boolean; answer?: () => PrefillAnswer | Promise<PrefillAnswer> } = {}) {
  const timers = new ManualTimers();
  let target: PrefillTarget | null = { document: 'file:///a.ts', version: 1, offset: 10, languageId: 'typescript', request: () => requestAt('let a = ║\n') };
  const calls: { req: CompletionRequest; signal: AbortSignal }[] = [];
  const p = new BackgroundPrefiller({
    target: () => target,
    allowed: over.allowed ?? (() => true),
    prefill: async (req, signal) => {
      calls.push({ req, signal });
      return (over.answer ?? (() => sent(90)))();
    },
    timers,
  });
  return {
    p,
    timers,
    calls,
    setTarget: (t: Partial<PrefillTarget> | null) => {
      target = t === null ? null : { ...(target ?? { document: 'file:///a.ts', version: 1, offset: 10, languageId: 'typescript', request: () => requestAt('let a = ║\n') }), ...t };
    },
  };
}

describe('background prefill triggers', () => {
  test('a burst of triggers sends one prefill, after the last one\'s debounce', async () => {
    const h = harness();
    h.p.trigger('focus');
    await h.timers.advance(100);
    h.p.trigger('open');
    await h.timers.advance(100);
    h.p.trigger('focus');
    await h.timers.advance(PREFILL_DELAY_MS.focus - 1);
    assert.equal(h.calls.length, 0, 'still debouncing');
    await h.timers.advance(1);
    assert.equal(h.calls.length, 1);
    assert.equal(h.p.counts.fired, 1);
  });

  test('typing and cursor moves wait for a pause; each keystroke restarts the wait', async () => {
    const h = harness();
    for (let i = 0; i < 10; i++) {
      h.p.trigger('edit');
      h.p.trigger('cursor');
      await h.timers.advance(PREFILL_DELAY_MS.edit / 2);
    }
    assert.equal(h.calls.length, 0, 'no prefill while typing');
    await h.timers.advance(PREFILL_DELAY_MS.edit);
    assert.equal(h.calls.length, 1);
  });

  test('an idle editor costs nothing: no timer after the prefill and no second prefill of the same target', async () => {
    const h = harness();
    h.p.trigger('focus');
    await h.timers.advance(1000);
    assert.equal(h.calls.length, 1);
    assert.equal(h.timers.size, 0, 'no timer left');
    assert.equal(h.p.pending, false);
    await h.timers.advance(60_000);
    assert.equal(h.calls.length, 1, 'nothing happens while idle');
    // Focus comes back to the same editor, cursor and version: nothing to send again.
    h.p.trigger('focus');
    await h.timers.advance(1000);
    assert.equal(h.calls.length, 1);
    assert.equal(h.p.counts.duplicates, 1);
    assert.equal(h.timers.size, 0);
  });

  test('a new document version, cursor or editor is prefilled again', async () => {
    const h = harness();
    h.p.trigger('focus');
    await h.timers.advance(1000);
    h.setTarget({ version: 2 });
    h.p.trigger('edit');
    await h.timers.advance(1000);
    h.setTarget({ offset: 3 });
    h.p.trigger('cursor');
    await h.timers.advance(1000);
    h.setTarget({ document: 'file:///b.ts' });
    h.p.trigger('focus');
    await h.timers.advance(1000);
    assert.equal(h.calls.length, 4);
  });

  test('languages with completions off and no editor are skipped; the check is made when the debounce ends', async () => {
    let enabled = false;
    const h = harness({ allowed: (l) => enabled && l !== 'markdown' });
    h.p.trigger('focus');
    await h.timers.advance(1000);
    assert.equal(h.calls.length, 0);
    enabled = true;
    h.setTarget({ languageId: 'markdown' });
    h.p.trigger('focus');
    await h.timers.advance(1000);
    assert.equal(h.calls.length, 0);
    assert.equal(h.p.counts.disallowed, 2);
    h.setTarget(null);
    h.p.trigger('focus');
    await h.timers.advance(1000);
    assert.equal(h.calls.length, 0);
    h.setTarget({ languageId: 'typescript' });
    h.p.trigger('focus');
    await h.timers.advance(1000);
    assert.equal(h.calls.length, 1, 'allowed again');
  });

  test('a cancelled or failed prefill may be sent again for the same target; a new model resets the dedupe', async () => {
    let answer: PrefillAnswer = sent(40, true);
    const h = harness({ answer: () => answer });
    h.p.trigger('focus');
    await h.timers.advance(1000);
    h.p.trigger('focus');
    await h.timers.advance(1000);
    assert.equal(h.calls.length, 2, 'the cancelled one is sent again');
    assert.equal(h.p.counts.cancelled, 2);
    answer = { sent: false, skip: 'failed' };
    h.p.trigger('focus');
    await h.timers.advance(1000);
    answer = sent(90);
    h.p.trigger('focus');
    await h.timers.advance(1000);
    assert.equal(h.calls.length, 4, 'the failed one too');
    h.p.trigger('focus');
    await h.timers.advance(1000);
    assert.equal(h.calls.length, 4, 'a finished one is not');
    h.p.trigger('modelReady');
    await h.timers.advance(1000);
    assert.equal(h.calls.length, 5, 'a new model has an empty cache');
  });

  test('a newer target aborts the prefill in flight; dispose aborts it and clears the timer', async () => {
    const releases: (() => void)[] = [];
    const h = harness({ answer: () => new Promise((resolve) => releases.push(() => resolve(sent(90)))) });
    h.p.trigger('focus');
    await h.timers.advance(1000);
    assert.equal(h.calls.length, 1);
    h.setTarget({ document: 'file:///b.ts' });
    h.p.trigger('focus');
    await h.timers.advance(1000);
    assert.equal(h.calls.length, 2);
    assert.equal(h.calls[0]!.signal.aborted, true, 'the first is aborted');
    assert.equal(h.calls[1]!.signal.aborted, false);
    h.p.trigger('edit');
    assert.equal(h.timers.size, 1);
    h.p.dispose();
    assert.equal(h.timers.size, 0);
    assert.equal(h.calls[1]!.signal.aborted, true);
    h.p.trigger('focus');
    assert.equal(h.timers.size, 0, 'no timer after dispose');
    for (const r of releases) r();
  });
});

describe('the pipeline\'s prefill hook', () => {
  const OPTIONS: PipelineOptions = { maxPromptTokens: 256, maxTokens: 24, maxLines: 4, neighbourSnippets: true, contextLength: 512, fimTemplate: 'spm' };

  function backend(): CompletionBackend & { completes: CompleteParams[]; prefills: PrefillParams[]; cacheEpoch: number } {
    const b = {
      completes: [] as CompleteParams[],
      prefills: [] as PrefillParams[],
      cacheEpoch: 1,
      complete: async (params: CompleteParams): Promise<CompleteResult> => {
        b.completes.push(params);
        return { text: 'x', stopReason: 'endToken', healedText: '', timings: { promptTokens: 1, reusedTokens: 0, generatedTokens: 1, tokenizeMs: 0, prefillMs: 0, decodeMs: 0, firstTextMs: 0, totalMs: 0, minMargin: null } };
      },
      prefill: async (params: PrefillParams): Promise<PrefillResult> => {
        b.prefills.push(params);
        return { promptTokens: 10, reusedTokens: 0, prefilledTokens: 10, chunks: 1, cancelled: false, ms: 1 };
      },
    };
    return b;
  }

  const doc = 'import os\n\ndef main():\n    path = os.║\n\nmain()\n';
  const neighbours = () => [{ path: 'util.py', languageId: 'python', text: 'import os\n\ndef helper():\n    return os.path.join("a", "b")\n' }];

  test('prefills exactly the params a completion at the same cursor sends (one prompt builder)', async () => {
    const b = backend();
    const req = requestAt(doc, { languageId: 'python', path: 'main.py', neighbours });
    await new CompletionPipeline(b, () => OPTIONS).prefill(req);
    await new CompletionPipeline(b, () => OPTIONS).complete(req, { noDebounce: true });
    assert.equal(b.prefills.length, 1);
    assert.equal(b.completes.length, 1);
    assert.deepEqual(b.prefills[0], b.completes[0]);
    assert.ok(b.prefills[0]!.prompt.some((p) => p.kind === 'special' && p.token === 'fileSeparator'), 'with the snippets');
  });

  test('skips a prompt the worker holds already: after the same completion, after the same prefill; not after a new model', async () => {
    const b = backend();
    const pipeline = new CompletionPipeline(b, () => OPTIONS);
    const req = requestAt(doc, { languageId: 'python', path: 'main.py' });
    await pipeline.complete(req, { noDebounce: true });
    assert.deepEqual(await pipeline.prefill(req), { sent: false, skip: 'unchanged' });
    const other = requestAt(doc.replace('path', 'name'), { languageId: 'python', path: 'main.py' });
    assert.equal((await pipeline.prefill(other)).sent, true);
    assert.deepEqual(await pipeline.prefill(other), { sent: false, skip: 'unchanged' });
    b.cacheEpoch++;
    assert.equal((await pipeline.prefill(other)).sent, true);
    pipeline.reset();
    assert.equal((await pipeline.prefill(other)).sent, true);
    assert.equal(b.prefills.length, 3);
  });

  test('the file guards apply (binary, huge, minified), not the cursor ones (mid-word, text after the cursor)', async () => {
    const b = backend();
    const pipeline = new CompletionPipeline(b, () => OPTIONS);
    assert.deepEqual(await pipeline.prefill(requestAt('a\u0000b ║\n')), { sent: false, skip: 'binary' });
    assert.deepEqual(await pipeline.prefill({ ...requestAt('let a = ║\n'), documentLength: 6_000_000 }), { sent: false, skip: 'hugeFile' });
    assert.deepEqual(await pipeline.prefill(requestAt(`${'x'.repeat(2500)}║\n`)), { sent: false, skip: 'hugeLine' });
    assert.deepEqual(await pipeline.prefill(requestAt(`${`${'m'.repeat(500)}\n`.repeat(10)}║\n`)), { sent: false, skip: 'minified' });
    assert.equal((await pipeline.prefill(requestAt('let value = va║lue;\n'))).sent, true, 'mid-word');
    assert.equal(b.prefills.length, 1);
  });

  test('a backend without prefill, or one that fails, is reported and the prompt may be sent again', async () => {
    const plain: CompletionBackend = { complete: backend().complete };
    assert.deepEqual(await new CompletionPipeline(plain, () => OPTIONS).prefill(requestAt('let a = ║\n')), { sent: false, skip: 'unsupported' });
    const b = backend();
    let fail = true;
    const flaky: CompletionBackend = {
      complete: b.complete,
      prefill: async (params) => {
        if (fail) throw new Error('worker gone');
        return b.prefill!(params, { signal: new AbortController().signal });
      },
    };
    const pipeline = new CompletionPipeline(flaky, () => OPTIONS);
    assert.deepEqual(await pipeline.prefill(requestAt('let a = ║\n')), { sent: false, skip: 'failed' });
    fail = false;
    assert.equal((await pipeline.prefill(requestAt('let a = ║\n'))).sent, true);
  });
});
