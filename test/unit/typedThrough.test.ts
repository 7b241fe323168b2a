/**
 * Reuse of a completion for a longer prefix (typed-through cache hits, attaching to the running generation) with a
 * scripted backend: the characters typed since must be part of the suggestion shown for the shorter prefix. The UI
 * test's tiny-model flake: after `def clamp(values):` the model's block had an unbalanced tail, so the filters
 * showed nothing; Enter (auto-indented) then got the rest of that never-shown block, `        k_uanged per o =
 * torch.append(...`, instead of the model's completion for the new prefix, depending on whether the generation for
 * the colon had started before the Enter. Last, a request for another prompt supersedes the running generation.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CompletionPipeline, type CompletionBackend, type PipelineOptions } from '../../src/completion/pipeline';
import type { CompleteResult, StopReason } from '../../src/shared/protocol';
import { requestAt } from '../helpers/cursor';

const OPTIONS: PipelineOptions = { maxPromptTokens: 256, maxTokens: 64, maxLines: 8, neighbourSnippets: false, contextLength: 512 };
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 2));

/** Each call streams its run's tokens (each partial extends the last), then answers their text with the run's stop reason. */
function scripted(...runs: { tokens: string[]; stop: StopReason }[]): CompletionBackend & { calls: number } {
  const backend = {
    calls: 0,
    async complete(_params: unknown, { onPartial }: { onPartial: (text: string) => void }): Promise<CompleteResult> {
      const run = runs[Math.min(backend.calls++, runs.length - 1)]!;
      let text = '';
      for (const t of run.tokens) {
        await tick();
        text += t;
        onPartial(text);
      }
      await tick();
      const timings = { promptTokens: 10, reusedTokens: 0, generatedTokens: run.tokens.length, tokenizeMs: 0, prefillMs: 1, decodeMs: 1, firstTextMs: 1, totalMs: 2, minMargin: null };
      return { text, stopReason: run.stop, healedText: '', timings };
    },
  };
  return backend;
}

const AFTER = '\n\nif __name__ == "__main__":\n    main()\n';
const py = { languageId: 'python', path: 'stats.py' };
/** The signature typed, then Enter (VS Code indents the body). */
const atColon = requestAt(`def clamp(values):║${AFTER}`, py);
const afterEnter = requestAt(`def clamp(values):\n    ║${AFTER}`, py);
/** Ran out of tokens inside an unbalanced line: the filters cut the block to nothing after the colon. */
const UNBALANCED = { tokens: ['\n', '            k = f(a,', '\n', '        b'], stop: 'maxTokens' as const };
const OWN = { tokens: ['return', ' min(values)'], stop: 'endToken' as const };
/** A block the filters show after the colon. */
const SHOWN = { tokens: ['\n', '    return', ' max(values)'], stop: 'endToken' as const };

describe('pipeline: typing through only what was shown', () => {
  test('a finished completion the filters discarded is not typed through: the new prefix gets its own', async () => {
    const backend = scripted(UNBALANCED, OWN);
    const pipeline = new CompletionPipeline(backend, () => OPTIONS);
    const first = await pipeline.complete(atColon, { noDebounce: true });
    assert.equal(first.result.skip, 'filteredOut');
    const next = await pipeline.complete(afterEnter, { noDebounce: true });
    assert.equal(next.result.text, 'return min(values)', 'not the rest of the discarded block');
    assert.equal(next.result.source, 'model');
    assert.equal(backend.calls, 2);
  });

  test('a running generation whose suggestion the filters discard is not attached to for good: the new prefix gets its own', async () => {
    const backend = scripted(UNBALANCED, OWN);
    const pipeline = new CompletionPipeline(backend, () => OPTIONS);
    const first = pipeline.complete(atColon, { early: true, noDebounce: true, onUpdate: () => undefined });
    const next = await pipeline.complete(afterEnter, { early: true, noDebounce: true, onUpdate: () => undefined });
    await pipeline.idle();
    assert.equal(next.result.text, 'return min(values)', 'not the rest of the discarded block');
    assert.equal(pipeline.stats.inflightReuse, 1, 'it attached first');
    assert.equal(backend.calls, 2);
    assert.equal((await first).result.text, '', 'the colon got no suggestion');
    const again = await pipeline.complete(afterEnter, { noDebounce: true });
    assert.equal(again.result.text, 'return min(values)');
    assert.equal(again.result.source, 'cache');
  });

  test('the same prompt again after a discarded completion is answered from the cache, not decoded again', async () => {
    const backend = scripted(UNBALANCED, OWN);
    const pipeline = new CompletionPipeline(backend, () => OPTIONS);
    assert.equal((await pipeline.complete(atColon, { noDebounce: true })).result.skip, 'filteredOut');
    assert.equal((await pipeline.complete(afterEnter, { noDebounce: true })).result.text, 'return min(values)');
    assert.equal((await pipeline.complete(atColon, { noDebounce: true })).result.skip, 'filteredOut');
    assert.equal(backend.calls, 2);
  });

  test('a shown suggestion is still typed through, finished or running, with no new request', async () => {
    const finished = scripted(SHOWN, OWN);
    let pipeline = new CompletionPipeline(finished, () => OPTIONS);
    assert.equal((await pipeline.complete(atColon, { noDebounce: true })).result.text, '\n    return max(values)');
    const hit = await pipeline.complete(afterEnter, { noDebounce: true });
    assert.deepEqual([hit.result.source, hit.result.text, finished.calls], ['typedThrough', 'return max(values)', 1]);

    const running = scripted(SHOWN, OWN);
    pipeline = new CompletionPipeline(running, () => OPTIONS);
    const first = pipeline.complete(atColon, { early: true, noDebounce: true, onUpdate: () => undefined });
    const next = await pipeline.complete(afterEnter, { noDebounce: true });
    assert.deepEqual([next.result.source, next.result.text, running.calls], ['typedThrough', 'return max(values)', 1]);
    await first;
  });
});

describe('pipeline: reused text meets the new cursor\'s stop rules', () => {
  // The sample workspace's stats.py: the completion after `def percentile(values, p)` runs past the function (the
  // cursor's line opens no block there, so nothing stops it); after `:` and Enter, a fresh request stops at the
  // end of the body (blockEnd), and so must the rest of the old completion.
  const atSignature = requestAt('import math\n\ndef percentile(values, p)║\n', py);
  const inBody = requestAt('import math\n\ndef percentile(values, p):\n    ║\n', py);
  const PAST_THE_FUNCTION = { tokens: [':\n', '    return sorted(values)[p]\n', '\n', 'def mean(values):\n', '    return sum(values)'], stop: 'endToken' as const };

  test('a typed-through cache hit is cut at the end of the new cursor\'s block', async () => {
    const backend = scripted(PAST_THE_FUNCTION, OWN);
    const pipeline = new CompletionPipeline(backend, () => OPTIONS);
    assert.match((await pipeline.complete(atSignature, { noDebounce: true })).result.text, /def mean/);
    const hit = await pipeline.complete(inBody, { noDebounce: true });
    assert.deepEqual([hit.result.source, hit.result.text, backend.calls], ['typedThrough', 'return sorted(values)[p]', 1]);
  });

  test('attaching to the running generation cuts its text the same way, while it streams and when it ends', async () => {
    const backend = scripted(PAST_THE_FUNCTION, OWN);
    const pipeline = new CompletionPipeline(backend, () => OPTIONS);
    const first = pipeline.complete(atSignature, { early: true, noDebounce: true, onUpdate: () => undefined });
    const next = await pipeline.complete(inBody, { early: true, noDebounce: true, onUpdate: () => undefined });
    assert.doesNotMatch(next.result.text, /def mean/);
    await pipeline.idle();
    await first;
    const done = await pipeline.complete(inBody, { noDebounce: true });
    assert.equal(done.result.text, 'return sorted(values)[p]');
    assert.equal(backend.calls, 1);
  });
});

describe('pipeline statistics: a suggestion is counted once where it is shown', () => {
  test('the editor asking again at the same spot while the ghost text grows is not another suggestion shown', async () => {
    const backend = scripted({ tokens: ['\n', '    lo = min(values)', '\n', '    hi = max(values)', '\n', '    return lo, hi'], stop: 'endToken' });
    const pipeline = new CompletionPipeline(backend, () => OPTIONS);
    const grow = { early: true, noDebounce: true, onUpdate: () => undefined };
    const first = await pipeline.complete(atColon, grow);
    assert.ok(first.result.text.length > 0);
    await pipeline.complete(atColon, grow); // the re-triggers of a growing suggestion
    await pipeline.complete(atColon, grow);
    await pipeline.idle();
    assert.equal(backend.calls, 1);
    assert.deepEqual(pipeline.stats.shownFrom, { cache: 0, running: 0, model: 1 });
  });
});

describe('pipeline: the newest request wins', () => {
  test('a generation superseded by another prompt answers its caller "cancelled", even when the backend finished it', async () => {
    // The scripted backend ignores the abort, as the worker does when a short completion ends before the cancel
    // message reaches it (the real-worker test of this flaked that way under load).
    const backend = scripted(OWN, SHOWN);
    const pipeline = new CompletionPipeline(backend, () => OPTIONS);
    const superseded = pipeline.complete(atColon, { noDebounce: true });
    const newest = pipeline.complete(requestAt(`def spread(values):║${AFTER}`, py), { noDebounce: true });
    assert.equal((await superseded).result.skip, 'cancelled');
    assert.equal((await newest).result.text, '\n    return max(values)');
    assert.equal(pipeline.stats.shownFrom.model, 1);
    const again = await pipeline.complete(atColon, { noDebounce: true });
    assert.equal(backend.calls, 3, 'the superseded result was not cached');
    assert.equal(again.result.source, 'model');
  });
});
