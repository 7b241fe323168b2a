/// <reference types="mocha" />
/** "UltraMem: Switch Model" swaps the worker's model without a reload; the next completion comes from the new model. */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { cliCompletion, compareWithCli, DEFAULT_MODEL, modelReady, openWithCursor, SECTION, setSetting, TINY_MODEL, triggerAndCommit } from './helpers';
import { pythonSample } from './samples';

suite('switching the model', () => {
  compareWithCli(async () => {
    await vscode.commands.executeCommand(`${SECTION}.switchModel`, DEFAULT_MODEL);
    await modelReady('ultramem-code-s');
    await setSetting('modelsFolder', undefined);
  });

  test('after switching to the test model, the completion is the test model\'s, not the default model\'s', async () => {
    const a = await modelReady('ultramem-code-s');
    const pidBefore = a.engine.workerPid;
    // The command takes only a folder Switch Model offers: the test model is offered from the modelsFolder setting.
    await setSetting('modelsFolder', path.dirname(TINY_MODEL));
    await vscode.commands.executeCommand(`${SECTION}.switchModel`, TINY_MODEL);
    assert.equal(a.engine.modelInfo?.name, 'tiny-fixture');
    assert.equal(a.engine.workerPid, pidBefore, 'the same worker process, no restart');

    const { editor, prefix, suffix } = await openWithCursor(pythonSample('normalize'), 'python');
    const inserted = await triggerAndCommit(editor);
    const tiny = await cliCompletion(TINY_MODEL, prefix, suffix, 'python');
    const big = await cliCompletion(DEFAULT_MODEL, prefix, suffix, 'python');
    assert.notEqual(tiny, big, 'the two models complete the sample differently');
    assert.equal(inserted, tiny);
  });
});
