/// <reference types="mocha" />
/** "Enable/Disable Completions for the Current Language" in a real editor: typing gets no suggestion, then does again. */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { closeAll, modelReady, openWithCursor, SECTION, setSetting, typeAndCommit } from './helpers';
import { pythonSample } from './samples';

const disabled = (): string[] => vscode.workspace.getConfiguration(SECTION).get<string[]>('disabledLanguages', []);

suite('disabling completions for a language', () => {
  suiteSetup(() => modelReady());
  teardown(closeAll);
  suiteTeardown(() => setSetting('disabledLanguages', undefined));

  test('typing in a disabled language shows no suggestion; enabling it again brings them back', async () => {
    const { editor, prefix, suffix } = await openWithCursor(pythonSample('normalize'), 'python');
    assert.ok(!disabled().includes('python'));
    await vscode.commands.executeCommand(`${SECTION}.toggleLanguage`);
    assert.ok(disabled().includes('python'), 'python is in disabledLanguages');

    assert.equal(await typeAndCommit(editor, 'r'), '', 'no suggestion while python is disabled');
    assert.equal(editor.document.getText(), `${prefix}r${suffix}`);

    await vscode.commands.executeCommand(`${SECTION}.toggleLanguage`);
    assert.ok(!disabled().includes('python'));
    const shown = await typeAndCommit(editor, 'e');
    assert.ok(shown.length > 0, 'a suggestion is shown and accepted once python is enabled again');
    assert.equal(editor.document.getText(), `${prefix}re${shown}${suffix}`);
  });
});
