/**
 * Alt+] / Alt+[ (src/extension/alternatives.ts) with a thin fake of `vscode` and a scripted backend: where the shown
 * suggestion came without its alternatives (an explicit request answered before they were decoded), the key waits
 * for them and has VS Code ask again (hide, trigger) before VS Code's own Show Next; where it came with them, the key
 * is VS Code's command alone.
 */
import { commandHandlers, executed, fake, FakeDocument, token } from '../helpers/fakeVscode';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type * as vscode from 'vscode';
import { CompletionPipeline, type CompletionBackend, type PipelineOptions } from '../../src/completion/pipeline';
import { registerAlternativeKeys, SHOW_NEXT_COMMAND, SHOW_PREVIOUS_COMMAND } from '../../src/extension/alternatives';
import { InlineProvider } from '../../src/extension/provider';
import type { AlternativesResult, CompleteResult } from '../../src/shared/protocol';

const OPTIONS: PipelineOptions = { maxPromptTokens: 256, maxTokens: 24, maxLines: 4, neighbourSnippets: false, contextLength: 512, alternatives: 2 };
const MANUAL = { triggerKind: 0, selectedCompletionInfo: undefined } as unknown as vscode.InlineCompletionContext;
const silent = { debug: () => undefined, warn: () => undefined };
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

const backend: CompletionBackend = {
  async complete(): Promise<CompleteResult> {
    await tick();
    const timings = { promptTokens: 10, reusedTokens: 0, generatedTokens: 4, tokenizeMs: 0, prefillMs: 1, decodeMs: 1, firstTextMs: 1, totalMs: 2, minMargin: null };
    return { text: 'return w * h;', stopReason: 'endToken', healedText: '', timings };
  },
  async alternatives(): Promise<AlternativesResult> {
    await tick();
    return { alternatives: [{ text: 'return h * w;', stopReason: 'endToken' }], cancelled: false, prefilledTokens: 1, generatedTokens: 5, ms: 5 };
  },
};

describe('Alt+] / Alt+[ for the alternatives', () => {
  test('a suggestion shown alone: wait for its alternatives, have VS Code ask again, then its Show Next; shown with them: Show Next alone', async () => {
    const pipeline = new CompletionPipeline(backend, () => OPTIONS);
    const provider = new InlineProvider({ pipeline, log: silent, isEnabled: () => true, neighbours: () => [] });
    const disposables = registerAlternativeKeys(provider, pipeline);
    const { doc, pos } = FakeDocument.withCursor('function area(w: number, h: number) {\n    ║\n}\n');
    fake.window.activeTextEditor = { document: doc, options: { tabSize: 4, insertSpaces: true }, selection: { active: pos } } as never;
    const ask = async (): Promise<number> => (await provider.provideInlineCompletionItems(doc as never, pos as never, MANUAL, token() as never))?.length ?? 0;
    try {
      // Trigger Completion: answered with the whole text, before the alternatives are decoded
      assert.equal(await ask(), 1);
      executed.length = 0;
      await commandHandlers.get(SHOW_NEXT_COMMAND)!();
      assert.deepEqual(executed, ['editor.action.inlineSuggest.hide', 'editor.action.inlineSuggest.trigger', 'editor.action.inlineSuggest.showNext']);
      // VS Code's new request (the fake does not make it) gets the suggestion and its alternative
      assert.equal(await ask(), 2);
      executed.length = 0;
      await commandHandlers.get(SHOW_PREVIOUS_COMMAND)!();
      assert.deepEqual(executed, ['editor.action.inlineSuggest.showPrevious']);
    } finally {
      fake.window.activeTextEditor = undefined;
      for (const d of disposables) d.dispose();
      provider.dispose();
    }
  });
});
