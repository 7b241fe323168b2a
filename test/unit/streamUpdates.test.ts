/**
 * onUpdate, the pipeline's "ask again" signal while a generation streams, with a scripted backend: it fires only
 * when the text the caller would get has changed. In VS Code every re-query briefly hides the ghost text, so a
 * partial that changes nothing on screen (a token of a held-back line) must not cause one.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CompletionPipeline, type CompletionBackend, type PipelineOptions } from '../../src/completion/pipeline';
import type { CompleteResult } from '../../src/shared/protocol';
import { requestAt } from '../helpers/cursor';

const OPTIONS: PipelineOptions = { maxPromptTokens: 256, maxTokens: 64, maxLines: 8, neighbourSnippets: false, contextLength: 512 };
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 2));

/** Streams the tokens (as the worker does: each partial extends the last), then answers their text; `runs`
 * gives each call its own tokens, in order. */
function scripted(...runs: string[][]): CompletionBackend {
  let call = 0;
  return {
    async complete(_params, { onPartial }): Promise<CompleteResult> {
      const tokens = runs[Math.min(call++, runs.length - 1)]!;
      let text = '';
      for (const t of tokens) {
        await tick();
        text += t;
        onPartial(text);
      }
      await tick();
      const timings = { promptTokens: 10, reusedTokens: 0, generatedTokens: tokens.length, tokenizeMs: 0, prefillMs: 1, decodeMs: 1, firstTextMs: 1, totalMs: 2 };
      return { text, stopReason: 'maxLines', healedText: '', timings };
    },
  };
}

describe('pipeline: attaching to a running generation', () => {
  test('a keystroke that attached before the generation had text, and is not continued by it, gets its own', async () => {
    // "are" starts a generation; "a" is typed before it has text, so "area" attaches; it then decodes "sti"
    const pipeline = new CompletionPipeline(scripted(['s', 'ti'], ['(x:', ' number)']), () => OPTIONS);
    const are = pipeline.complete(requestAt('export function are║\n'), { noDebounce: true });
    const area = pipeline.complete(requestAt('export function area║\n'), { noDebounce: true });
    assert.equal((await are).result.text, 'sti');
    assert.equal((await area).result.text, '(x: number)');
    assert.equal(pipeline.stats.modelRequests, 2);
  });
});

describe('pipeline onUpdate while streaming', () => {
  test('each update changes the answer, the answers grow, and the last one is the final text', async () => {
    // first line word by word, then two more lines token by token (held back until each is complete)
    const tokens = ['const', ' total', ' =', ' 0;', '\n', '    for', ' (const', ' x', ' of', ' xs)', ' total', ' +=', ' x;', '\n', '    return', ' total;'];
    const pipeline = new CompletionPipeline(scripted(tokens), () => OPTIONS);
    const req = requestAt('function sum(xs) {\n    ║\n}\n', { trigger: 'manual' });
    const texts: string[] = [];
    let updates = 0;
    const pending: Promise<void>[] = [];
    const ask = async (): Promise<void> => {
      const a = await pipeline.complete(req, { early: true, onUpdate: () => { updates++; pending.push(ask()); } });
      texts.push(a.result.text);
    };
    await ask();
    await pipeline.idle();
    while (pending.length) await pending.shift();
    const final = (await pipeline.complete(req)).result.text;

    assert.ok(texts.length >= 3, `the text grew in steps: ${JSON.stringify(texts)}`);
    assert.equal(texts[texts.length - 1], final);
    for (let i = 1; i < texts.length; i++) {
      assert.notEqual(texts[i], texts[i - 1], `update ${i} changed nothing: ${JSON.stringify(texts)}`);
      assert.ok(texts[i]!.startsWith(texts[i - 1]!.trimEnd()), JSON.stringify(texts));
    }
    assert.ok(updates < tokens.length, `fewer updates (${updates}) than partials (${tokens.length})`);
  });
});
