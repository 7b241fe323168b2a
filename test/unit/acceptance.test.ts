/** Acceptance statistics: a suggestion counts once as shown while it streams or is typed through; whole and partial accepts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AcceptanceStats } from '../../src/completion/stats';

const A = 'file:///w/a.py';
const offer = (s: AcceptanceStats, offset: number, text: string, uri = A, languageId = 'python'): void => s.offered({ languageId, uri, offset, text });

test('a suggestion that grows while streaming, or is offered again unchanged, is shown once', () => {
  const s = new AcceptanceStats();
  offer(s, 10, 'return');
  offer(s, 10, 'return a +');
  offer(s, 10, 'return a + b\n');
  offer(s, 10, 'return a + b\n');
  assert.deepEqual(s.byLanguage, { python: { shown: 1, accepted: 0, partiallyAccepted: 0 } });
  // a different text at the same place is another suggestion
  offer(s, 10, 'pass');
  assert.equal(s.byLanguage['python']!.shown, 2);
});

test('typing through a suggestion keeps it one suggestion; typing something else makes the next offer new', () => {
  const s = new AcceptanceStats();
  offer(s, 0, 'return x');
  s.edited(A, 0, 'r'); // one character: typed, not accepted
  offer(s, 1, 'eturn x');
  s.edited(A, 1, 'e');
  offer(s, 2, 'turn x');
  assert.deepEqual(s.total, { shown: 1, accepted: 0, partiallyAccepted: 0 });
  s.edited(A, 3, 'z');
  offer(s, 4, 'foo');
  assert.deepEqual(s.total, { shown: 2, accepted: 0, partiallyAccepted: 0 });
});

test('Tab: the accept command counts the suggestion accepted once, whether its edit comes first or not', () => {
  const edit = new AcceptanceStats();
  offer(edit, 5, 'return a + b');
  edit.edited(A, 5, 'return a + b');
  edit.accepted('python');
  assert.deepEqual(edit.total, { shown: 1, accepted: 1, partiallyAccepted: 0 });

  const command = new AcceptanceStats();
  offer(command, 5, 'return a + b');
  command.accepted('python');
  command.edited(A, 5, 'return a + b');
  assert.deepEqual(command.total, { shown: 1, accepted: 1, partiallyAccepted: 0 });

  // the next suggestion, right after the accepted one, is a new one
  offer(command, 17, '\nprint(x)');
  assert.deepEqual(command.total, { shown: 2, accepted: 1, partiallyAccepted: 0 });
});

test('accepting a word counts a partial accept once; taking the rest later makes it accepted', () => {
  const s = new AcceptanceStats();
  offer(s, 0, 'return a + b');
  s.edited(A, 0, 'return');
  offer(s, 6, ' a + b'); // VS Code asks again after the partial accept: the same suggestion
  s.edited(A, 6, ' a');
  assert.deepEqual(s.total, { shown: 1, accepted: 0, partiallyAccepted: 1 });
  s.edited(A, 8, ' + b'); // a word accept that reaches the end
  assert.deepEqual(s.total, { shown: 1, accepted: 1, partiallyAccepted: 0 });
  s.accepted('python'); // no second count if VS Code also runs the command
  assert.deepEqual(s.total, { shown: 1, accepted: 1, partiallyAccepted: 0 });

  const tab = new AcceptanceStats();
  offer(tab, 0, 'return a + b');
  tab.edited(A, 0, 'return');
  tab.accepted('python'); // Tab on the rest (its edit not seen)
  assert.deepEqual(tab.total, { shown: 1, accepted: 1, partiallyAccepted: 0 });
});

test('edits elsewhere, in other documents or not matching the suggestion count nothing', () => {
  const s = new AcceptanceStats();
  offer(s, 0, 'return a + b');
  s.edited('file:///w/b.py', 0, 'return');
  s.edited(A, 40, 'return');
  s.edited(A, 0, 'retort');
  assert.deepEqual(s.total, { shown: 1, accepted: 0, partiallyAccepted: 0 });
});

test('counts are per language, and a language id is only a key', () => {
  const s = new AcceptanceStats();
  offer(s, 0, 'x = 1', A, 'python');
  offer(s, 0, 'let y = 2;', 'file:///w/b.ts', 'typescript');
  s.accepted('typescript');
  offer(s, 0, 'evil', 'file:///w/c', '__proto__');
  offer(s, 0, 'evil', 'file:///w/d', 'constructor');
  assert.deepEqual(Object.keys(s.byLanguage).sort(), ['__proto__', 'constructor', 'python', 'typescript']);
  assert.deepEqual(s.byLanguage['typescript'], { shown: 1, accepted: 1, partiallyAccepted: 0 });
  assert.deepEqual(s.byLanguage['__proto__'], { shown: 1, accepted: 0, partiallyAccepted: 0 });
  assert.deepEqual(s.total, { shown: 4, accepted: 1, partiallyAccepted: 0 });
  assert.equal(({} as Record<string, unknown>)['shown'], undefined, 'Object.prototype untouched');
});
