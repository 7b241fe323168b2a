/// <reference types="mocha" />
/**
 * The registered provider in a real editor returns the shipped model's completion, the same text the CLI gives for
 * the same prefix and suffix, and `editor.action.inlineSuggest.commit` inserts it at the cursor.
 */
import assert from 'node:assert/strict';
import { cliCompletion, compareWithCli, DEFAULT_MODEL, openWithCursor, triggerAndCommit } from './helpers';
import { clearTypescriptSample, pythonSample } from './samples';

suite('completion with the shipped model', () => {
  compareWithCli();

  for (const [language, sample] of [['python', async () => pythonSample()], ['typescript', clearTypescriptSample]] as const) {
    test(`${language}: the committed completion is the CLI's completion for the same prefix and suffix`, async () => {
      const { editor, prefix, suffix } = await openWithCursor(await sample(), language);
      const t0 = Date.now();
      const inserted = await triggerAndCommit(editor);
      const ms = Date.now() - t0;
      const expected = await cliCompletion(DEFAULT_MODEL, prefix, suffix, language);
      console.log(`    (${language}: ${JSON.stringify(inserted)} in ${ms} ms)`);
      assert.notEqual(expected, '', 'the sample gets a completion from the CLI');
      assert.equal(inserted, expected);
    });
  }

  test('commit inserts the completion at the cursor and moves the cursor to its end', async () => {
    const { editor, prefix, suffix } = await openWithCursor(pythonSample('rescale'), 'python');
    const inserted = await triggerAndCommit(editor);
    assert.ok(inserted.length > 0, 'a completion was shown and accepted');
    assert.equal(editor.document.getText(), prefix + inserted + suffix);
    const end = editor.document.positionAt(prefix.length + inserted.length);
    assert.ok(editor.selection.active.isEqual(end), `cursor at ${editor.selection.active.line}:${editor.selection.active.character}, expected ${end.line}:${end.character}`);
    assert.ok(editor.selection.isEmpty);
  });
});

