/**
 * Alternatives to a shown suggestion and the next suggestion after an accept (issue 14, point 8), with a scripted
 * backend: alternatives are asked for after the first suggestion is finished (never before), with the same prompt,
 * go through the same filters, lose empty ones and repeats, are cancelled by a request for another prompt, and the
 * caller that got none hears when they come; prefetch() starts the next suggestion at once and the editor's request
 * there uses it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { distinctAlternatives } from '../../src/completion/alternatives';
import { CompletionPipeline, type CompletionBackend, type PipelineOptions } from '../../src/completion/pipeline';
import type { AlternativesParams, AlternativesResult, CompleteParams, CompleteResult } from '../../src/shared/protocol';
import { requestAt } from '../helpers/cursor';

const OPTIONS: PipelineOptions = { maxPromptTokens: 256, maxTokens: 64, maxLines: 8, neighbourSnippets: false, contextLength: 512, alternatives: 2 };
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 2));
const DOC = 'function area(w: number, h: number) {\n    ║\n}\n';

interface Recorded {
  readonly events: string[];
  readonly completeParams: CompleteParams[];
  readonly alternativesParams: AlternativesParams[];
  readonly signals: AbortSignal[];
  /** Resolves the alternatives asked for last. */
  release: () => void;
}

/** Completes with `text` (in two partials) and answers alternatives with `alternatives` once released. */
function scripted(text: string, alternatives: string[]): CompletionBackend & Recorded {
  const backend: CompletionBackend & Recorded = {
    events: [],
    completeParams: [],
    alternativesParams: [],
    signals: [],
    release: () => undefined,
    async complete(params, { onPartial }): Promise<CompleteResult> {
      backend.events.push('complete');
      backend.completeParams.push(params);
      await tick();
      onPartial(text.slice(0, 3));
      await tick();
      backend.events.push('complete done');
      const timings = { promptTokens: 10, reusedTokens: 0, generatedTokens: 4, tokenizeMs: 0, prefillMs: 1, decodeMs: 1, firstTextMs: 1, totalMs: 2, minMargin: null };
      return { text, stopReason: 'endToken', healedText: '', timings };
    },
    async alternatives(params, { signal }): Promise<AlternativesResult> {
      backend.events.push('alternatives');
      backend.alternativesParams.push(params);
      backend.signals.push(signal);
      await new Promise<void>((resolve) => {
        backend.release = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      const cancelled = signal.aborted;
      return { alternatives: cancelled ? [] : alternatives.map((t) => ({ text: t, stopReason: 'endToken' })), cancelled, prefilledTokens: 1, generatedTokens: 6, ms: 5 };
    },
  };
  return backend;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await tick();
}

describe('distinctAlternatives', () => {
  test('drops empty ones and repeats of the first or of each other (trailing whitespace aside), keeps the order', () => {
    assert.deepEqual(distinctAlternatives('return w * h;', ['return w * h;  ', '', '   ', 'return h * w;', 'return 0;', 'return h * w;']), ['return h * w;', 'return 0;']);
    assert.deepEqual(distinctAlternatives('x', []), []);
  });
});

describe('pipeline alternatives', () => {
  test('asked for only after the first suggestion is finished, with its prompt and stop rules; the next answer at the cursor carries them, filtered and without repeats', async () => {
    const backend = scripted('return w * h;', ['return h * w;', 'return w * h;', 'return 0;\n}']);
    const pipeline = new CompletionPipeline(backend, () => OPTIONS);
    const first = await pipeline.complete(requestAt(DOC), { noDebounce: true });
    assert.equal(first.result.text, 'return w * h;');
    assert.equal(first.alternatives, undefined);
    await settle();
    assert.deepEqual(backend.events, ['complete', 'complete done', 'alternatives']);
    assert.deepEqual({ ...backend.alternativesParams[0]! }, { ...backend.completeParams[0]!, count: 2 });
    backend.release();
    await settle();
    const again = await pipeline.complete(requestAt(DOC, { trigger: 'manual' }));
    assert.equal(again.result.text, 'return w * h;');
    // the repeat of the first is gone; the filters ran on each (trimSuffixOverlap: the suffix's closing brace)
    assert.deepEqual(again.alternatives, ['return h * w;', 'return 0;']);
    assert.equal(pipeline.stats.alternatives.offered, 2);
    // kept with the cached suggestion: a request elsewhere and back (an accept, then undo) finds them again
    await pipeline.complete(requestAt(DOC.replace('║', 'const s = 1;\n    ║')), { noDebounce: true });
    await settle();
    const back = await pipeline.complete(requestAt(DOC));
    assert.deepEqual(back.alternatives, ['return h * w;', 'return 0;']);
    assert.equal(backend.alternativesParams.filter((p) => p.prompt === backend.completeParams[0]!.prompt).length, 1, 'decoded once for the prompt');
  });

  test('none without the option (the old pipeline), and none for a suggestion the filters discarded', async () => {
    const off = scripted('return w * h;', ['return 0;']);
    await new CompletionPipeline(off, () => ({ ...OPTIONS, alternatives: undefined })).complete(requestAt(DOC), { noDebounce: true });
    const blank = scripted('   ', ['return 0;']);
    await new CompletionPipeline(blank, () => OPTIONS).complete(requestAt(DOC), { noDebounce: true });
    await settle();
    assert.ok(!off.events.includes('alternatives'));
    assert.ok(!blank.events.includes('alternatives'));
  });

  test('typing cancels them: a request for another prompt aborts them, even one the cache answers', async () => {
    const backend = scripted('return w * h;', ['return h * w;']);
    const pipeline = new CompletionPipeline(backend, () => OPTIONS);
    await pipeline.complete(requestAt(DOC), { noDebounce: true });
    await settle();
    assert.equal(backend.signals.length, 1);
    assert.equal(backend.signals[0]!.aborted, false);
    // 'r' goes through the shown suggestion: the cache answers, no worker request, and the alternatives stop
    const typed = await pipeline.complete(requestAt(DOC.replace('║', 'r║')), { noDebounce: true });
    assert.equal(typed.result.text, 'eturn w * h;');
    assert.equal(backend.signals[0]!.aborted, true);
    await settle();
    assert.equal(pipeline.stats.alternatives.cancelled, 1);
  });
});

describe('pipeline prefetch (the next suggestion after an accept)', () => {
  test('starts decoding at once, with no debounce; the editor\'s request there attaches to it and is counted as shown once', async () => {
    const backend = scripted('return w * h;', []);
    const pipeline = new CompletionPipeline(backend, () => OPTIONS);
    assert.equal(pipeline.prefetch(requestAt(DOC)), 'started');
    assert.deepEqual(backend.events, ['complete'], 'sent before any await');
    assert.equal(pipeline.stats.firstText.all.length, 0);
    assert.equal(pipeline.prefetch(requestAt(DOC)), 'running');
    // an automatic request would wait out the debounce first; it attaches instead
    const answer = await pipeline.complete(requestAt(DOC));
    assert.equal(answer.result.text, 'return w * h;');
    assert.equal(pipeline.stats.modelRequests, 1);
    assert.equal(pipeline.stats.prefetches, 1);
    assert.equal(pipeline.stats.firstText.all.length, 1);
    assert.equal(pipeline.prefetch(requestAt(DOC)), 'cached');
  });

  test('skips where a completion would be skipped', () => {
    const pipeline = new CompletionPipeline(scripted('x', []), () => OPTIONS);
    assert.equal(pipeline.prefetch(requestAt('const total = count║er + 1;\n')), 'midWord');
  });
});
