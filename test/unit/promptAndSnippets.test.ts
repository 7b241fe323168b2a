import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildFimPrompt, splitBudget } from '../../src/completion/prompt';
import { jaccard, rankSnippets, SnippetIndex } from '../../src/completion/snippets';
import { contextAt } from '../helpers/cursor';

test('the FIM prompt is snippets, then fimPrefix prefix fimSuffix suffix fimMiddle, prefix healed', () => {
  const ctx = contextAt('let a = ║;\n');
  const parts = buildFimPrompt(ctx, [{ path: 'b.ts', text: 'let b = 2;', score: 1 }], splitBudget(1000, true));
  assert.deepEqual(
    parts.map((p) => (p.kind === 'special' ? p.token : p.heal ? 'PREFIX' : p.text)),
    ['fileSeparator', 'b.ts\nlet b = 2;\n', 'fimPrefix', 'PREFIX', 'fimSuffix', ';\n', 'fimMiddle'],
  );
  const prefix = parts.find((p) => p.kind === 'text' && p.heal);
  assert.ok(prefix && prefix.kind === 'text' && prefix.keep === 'end' && prefix.text === 'let a = ');
});

test('in SPM order the suffix comes first and the healed prefix last, next to the middle', () => {
  const ctx = contextAt('let a = ║;\n');
  const parts = buildFimPrompt(ctx, [], splitBudget(1000, false), 'spm');
  assert.deepEqual(
    parts.map((p) => (p.kind === 'special' ? p.token : p.heal ? 'PREFIX' : p.text)),
    ['fimPrefix', 'fimSuffix', ';\n', 'fimMiddle', 'PREFIX'],
  );
});

test('the budget split adds up', () => {
  const b = splitBudget(1000, true);
  assert.equal(b.prefixTokens + b.suffixTokens + b.snippetTokens, 1000);
  assert.equal(splitBudget(1000, false).snippetTokens, 0);
});

test('snippets: similar windows of same-language files rank first, others are left out', () => {
  assert.equal(jaccard(new Set(['a', 'b']), new Set(['b', 'c'])), 1 / 3);
  const prefix = 'function totalPrice(cart) {\n  return cart.items.reduce((sum, item) => sum + item.price, 0);\n}\nfunction ';
  const files = [
    { path: 'cart.ts', languageId: 'typescript', text: 'export function cartItems(cart) {\n  return cart.items.filter((item) => item.price > 0);\n}\n' },
    { path: 'other.ts', languageId: 'typescript', text: 'const colours = ["red", "green"];\n' },
    { path: 'cart.py', languageId: 'python', text: 'def cart_items(cart):\n    return [item for item in cart.items if item.price]\n' },
    { path: 'self.ts', languageId: 'typescript', text: prefix },
  ];
  const s = rankSnippets(prefix, 'typescript', 'self.ts', files);
  assert.deepEqual(s.map((x) => x.path), ['cart.ts']);
});

test('the snippet index reuses a file’s windows while its text is unchanged', () => {
  const index = new SnippetIndex();
  const f = { path: 'a.ts', languageId: 'typescript', text: 'const alpha = 1;\nconst beta = alpha + 1;\n' };
  const w1 = index.windows(f, 16);
  assert.equal(index.windows({ ...f }, 16), w1);
  assert.notEqual(index.windows({ ...f, text: f.text + 'const gamma = beta;\n' }, 16), w1);
});
