/**
 * onUpdate, the pipeline's "ask again" signal while a generation streams, with a scripted backend: it fires only
 * when the text the caller would get has changed. In VS Code every re-query briefly hides the ghost text, so a
 * partial that changes nothing on screen (a token of a held-back line) must not cause one.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CompletionPipeline, type CompletionBackend, type PipelineOptions } from '../../src/completion/pipeline';
import type { CompletionRequest } from '../../src/completion/types';
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
      const timings = { promptTokens: 10, reusedTokens: 0, generatedTokens: tokens.length, tokenizeMs: 0, prefillMs: 1, decodeMs: 1, firstTextMs: 1, totalMs: 2, minMargin: null };
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

/**
 * Asks early and again on every update until the generation is over, as the editor does; checks that each update
 * changed the answer and that the answers grew, the last one being the final text. Returns the answers.
 */
async function answersWhileStreaming(tokens: string[], req: CompletionRequest): Promise<{ texts: string[]; updates: number; final: string }> {
  const pipeline = new CompletionPipeline(scripted(tokens), () => OPTIONS);
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

  assert.equal(texts[texts.length - 1], final);
  for (let i = 1; i < texts.length; i++) {
    assert.notEqual(texts[i], texts[i - 1], `update ${i} changed nothing: ${JSON.stringify(texts)}`);
    assert.ok(texts[i]!.startsWith(texts[i - 1]!.trimEnd()), JSON.stringify(texts));
  }
  return { texts, updates, final };
}

describe('pipeline onUpdate while streaming', () => {
  test('each update changes the answer, the answers grow, and the last one is the final text', async () => {
    // first line word by word, then two more lines token by token (held back until each is complete)
    const tokens = ['const', ' total', ' =', ' 0;', '\n', '    for', ' (const', ' x', ' of', ' xs)', ' total', ' +=', ' x;', '\n', '    return', ' total;'];
    const { texts, updates } = await answersWhileStreaming(tokens, requestAt('function sum(xs) {\n    ║\n}\n', { trigger: 'manual' }));
    assert.ok(texts.length >= 3, `the text grew in steps: ${JSON.stringify(texts)}`);
    assert.ok(updates < tokens.length, `fewer updates (${updates}) than partials (${tokens.length})`);
  });

  test('a docstring longer than the line limit: its summary line shows while it decodes, then ends closed as a one-line docstring', async () => {
    // the statistics view test's shape: 8 lines (maxLines) of a numpy-style docstring that its first line opened
    const tokens = ['"""', 'Summarize', ' the', ' values', ' for', ' the', ' stats', ' view', '.', '\n', '\n', '    Parameters', '\n', '    ----------', '\n', '    values', ' :', ' list', ' of', ' float', '\n', '        The', ' numbers', ' to', ' summarize.', '\n', '\n', '    Returns'];
    const req = requestAt('def summarize_for_the_stats_view(values):\n    ║\n\n\nif __name__ == "__main__":\n    main()\n', { languageId: 'python', trigger: 'manual' });
    const { texts, final } = await answersWhileStreaming(tokens, req);
    assert.equal(final, '"""Summarize the values for the stats view."""');
    assert.ok(texts[0]!.startsWith('"""Summarize'), `the summary shows before decoding ends: ${JSON.stringify(texts)}`);
  });

  test('a docstring whose opener stands alone on its first line: nothing until the summary line has ended, then the opener and summary lines, the closer only in the final text', async () => {
    // the shipped model's shape for summarize_for_the_stats_view: the numpy-style summary on the second line, 8 lines (maxLines)
    const tokens = ['"""', '\n', '    Return', ' the', ' number', ' of', ' elements', ' in', ' the', ' mean', '.', '\n', '\n', '    Parameters', '\n', '    ----------', '\n', '    values', ' :', ' array_like', '\n', '        The', ' values', ' to', ' count', '.', '\n', '    n', ' :', ' int'];
    const req = requestAt('def summarize_for_the_stats_view(values):\n    ║\n\n\nif __name__ == "__main__":\n    main()\n', { languageId: 'python', trigger: 'manual' });
    const { texts, final } = await answersWhileStreaming(tokens, req);
    const head = '"""\n    Return the number of elements in the mean.';
    assert.equal(final, `${head}\n    """`);
    assert.deepEqual(texts.slice(0, -1).filter((t) => t !== ''), [head], `only the opener and summary lines show while decoding: ${JSON.stringify(texts)}`);
  });
});
