/** The background prefill's editor side reads the request the inline provider reads, so both send the same prompt (fake vscode, recording backend). */
import { fake, FakeDocument, token, type Position } from '../helpers/fakeVscode';
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type * as vscode from 'vscode';
import { CompletionPipeline, type CompletionBackend, type PipelineOptions } from '../../src/completion/pipeline';
import { registerBackgroundPrefill } from '../../src/extension/backgroundPrefill';
import { InlineProvider } from '../../src/extension/provider';
import type { CompleteParams, PrefillParams } from '../../src/shared/protocol';

const OPTIONS: PipelineOptions = { maxPromptTokens: 256, maxTokens: 24, maxLines: 4, neighbourSnippets: true, contextLength: 512, fimTemplate: 'spm' };
const MANUAL = { triggerKind: 0, selectedCompletionInfo: undefined } as unknown as vscode.InlineCompletionContext;
const silent = { debug: () => undefined, warn: () => undefined };

function recording(): CompletionBackend & { sent: (CompleteParams | PrefillParams)[] } {
  const sent: (CompleteParams | PrefillParams)[] = [];
  return {
    sent,
    complete: async (params) => {
      sent.push(params);
      return { text: '', stopReason: 'endToken', healedText: '', timings: { promptTokens: 0, reusedTokens: 0, generatedTokens: 0, tokenizeMs: 0, prefillMs: 0, decodeMs: 0, firstTextMs: 0, totalMs: 0, minMargin: null } };
    },
    prefill: async (params) => {
      sent.push(params);
      return { promptTokens: 0, reusedTokens: 0, prefilledTokens: 0, chunks: 0, cancelled: false, ms: 0 };
    },
  };
}

afterEach(() => {
  fake.window.activeTextEditor = undefined;
});

for (const [name, text, options] of [
  ['LF, spaces', 'def total(values):\n    result = 0\n    for v in values:\n        ║\n    return result\n', { tabSize: 4, insertSpaces: true }],
  ['CRLF, tabs', 'function f(a) {\r\n\tconst b = a * 2;\r\n\t║\r\n}\r\n', { tabSize: 2, insertSpaces: false }],
] as const) {
  test(`the prefill at the cursor sends the params the provider's completion there sends (${name})`, async () => {
    const { doc, pos } = FakeDocument.withCursor(text, name.startsWith('LF') ? 'python' : 'typescript');
    const neighbour = { path: 'other.py', languageId: doc.languageId, text: 'def helper(values):\n    result = 0\n    for v in values:\n        result += v\n' };
    fake.window.activeTextEditor = { document: doc, options, selection: { active: pos } } as unknown as typeof fake.window.activeTextEditor;

    const forProvider = recording();
    const provider = new InlineProvider({ pipeline: new CompletionPipeline(forProvider, () => OPTIONS), log: silent, isEnabled: () => true, neighbours: () => [neighbour] });
    await provider.provideInlineCompletionItems(doc as unknown as vscode.TextDocument, pos as unknown as vscode.Position, MANUAL, token() as unknown as vscode.CancellationToken);
    provider.dispose();

    const forPrefill = recording();
    const { prefiller, disposable } = registerBackgroundPrefill({
      pipeline: new CompletionPipeline(forPrefill, () => OPTIONS),
      isEnabled: () => true,
      neighbours: () => [neighbour],
      log: silent,
    });
    const outcome = await prefiller.fire();
    disposable.dispose();

    assert.equal(outcome.kind, 'answered');
    assert.equal(forProvider.sent.length, 1);
    assert.equal(forPrefill.sent.length, 1);
    assert.deepEqual(forPrefill.sent[0], forProvider.sent[0]);
  });
}

test('no active editor, or a language with completions off: nothing is sent', async () => {
  const backend = recording();
  const { doc, pos } = FakeDocument.withCursor('let a = ║\n', 'markdown');
  const { prefiller, disposable } = registerBackgroundPrefill({
    pipeline: new CompletionPipeline(backend, () => OPTIONS),
    isEnabled: (languageId) => languageId !== 'markdown',
    neighbours: () => [],
    log: silent,
  });
  assert.deepEqual(await prefiller.fire(), { kind: 'noTarget' });
  fake.window.activeTextEditor = { document: doc, options: {}, selection: { active: pos as Position } } as unknown as typeof fake.window.activeTextEditor;
  assert.deepEqual(await prefiller.fire(), { kind: 'disallowed', languageId: 'markdown' });
  disposable.dispose();
  assert.equal(backend.sent.length, 0);
});
