/**
 * The shipped model (models/ultramem-code-s) in the engine: the golden FIM prompt that the Python side checks too
 * (models/tests/data/fim_prompt.json, models/tests/test_fim_prompt.py) comes out of the pipeline's prompt builder and
 * the worker's tokenizer and token healing, and greedy decoding (the worker's generateIds) completes known prompts.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Tokenizer } from 'tokenizers';
import { SHIPPED_DEFAULTS } from '../../src/completion/defaults';
import { CompletionPipeline, type CompletionBackend } from '../../src/completion/pipeline';
import type { CompleteParams, FimTemplate } from '../../src/shared/protocol';
import { Engine } from '../../src/worker/engine';
import type { BuiltPrompt } from '../../src/worker/prompt';
import { ROOT } from '../helpers/fixture';

const MODEL = path.join(ROOT, 'models', 'ultramem-code-s');
const GOLDEN = JSON.parse(fs.readFileSync(path.join(ROOT, 'models', 'tests', 'data', 'fim_prompt.json'), 'utf8')) as {
  prefix: string;
  suffix: string;
  healedBytes: number[];
  ids: Record<FimTemplate, number[]>;
};
const control = { isCancelled: () => false, onPartial: () => undefined };

describe('the shipped model in the engine', () => {
  let engine: Engine;
  before(async () => {
    engine = await Engine.load({ modelDir: MODEL, threads: 1 });
  });
  after(async () => {
    await engine.release();
  });

  /** The prompt the worker would prefill for a completion at the golden cursor, with the shipped settings. */
  async function promptFor(fimTemplate: FimTemplate): Promise<BuiltPrompt> {
    const built: BuiltPrompt[] = [];
    const backend: CompletionBackend = {
      async complete(params: CompleteParams) {
        built.push(await engine.buildPrompt(params.prompt, params.stop.maxTokens));
        const timings = { promptTokens: 0, reusedTokens: 0, generatedTokens: 0, tokenizeMs: 0, prefillMs: 0, decodeMs: 0, firstTextMs: 0, totalMs: 0, minMargin: null };
        return { text: '', stopReason: 'endToken', healedText: '', timings };
      },
    };
    const options = { ...SHIPPED_DEFAULTS, contextLength: engine.info.contextLength, fimTemplate };
    await new CompletionPipeline(backend, () => options).complete(
      { prefix: GOLDEN.prefix, suffix: GOLDEN.suffix, languageId: 'python', path: 'mean.py', tabSize: 4, insertSpaces: true, trigger: 'manual' },
      { noDebounce: true },
    );
    assert.equal(built.length, 1, 'the pipeline asked the worker once');
    return built[0]!;
  }

  for (const template of ['psm', 'spm'] as const) {
    test(`the golden ${template} prompt: its token ids and the healed bytes`, async () => {
      const { ids, healBytes } = await promptFor(template);
      assert.deepEqual(ids, GOLDEN.ids[template]);
      assert.deepEqual([...healBytes], GOLDEN.healedBytes);
    });
  }

  test('greedy decoding completes known prompts', async () => {
    const tokenizer = Tokenizer.fromFile(path.join(MODEL, 'tokenizer.json'));
    const known = [
      ['for (let i = 0; i < n; i', '++) {'],
      ['public static void main(String', '[] args)'],
      ['#include <stdio.h>\n#include <stdlib', '.h>'],
      ['import numpy as np\nimport matplotlib.pyplot as', ' plt\n'],
      ['  return (\n    <div className="app">\n      <h1>Hello</h1>\n    </', 'div>'],
      ['package main\n\nimport (\n\t"fmt"\n\t"os', '"\n'],
    ];
    for (const [prompt, expected] of known) {
      const { ids } = await engine.generateIds({ ids: await engine.tokenize(prompt!), maxTokens: 8 }, control);
      const text = await tokenizer.decode(ids, false);
      assert.ok(text.startsWith(expected!), `${JSON.stringify(prompt)} -> ${JSON.stringify(text)}`);
    }
  });
});
