/// <reference types="mocha" />
/** Activation in a real VS Code: the extension starts, registers its commands and loads the bundled default model. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, EXTENSION_ID, modelReady, ROOT } from './helpers';

suite('activation', () => {
  test('the extension activates on startup and loads the bundled default model', async () => {
    const t0 = Date.now();
    const a = await modelReady('ultramem-code-s');
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext?.isActive);
    assert.equal(a.engine.modelInfo?.dir, path.join(ROOT, 'models', 'ultramem-code-s'));
    assert.ok(a.engine.workerPid, 'a worker process runs');
    console.log(`    (model ready ${Date.now() - t0} ms after the suite started; VS Code ${vscode.version}, uiKind ${vscode.env.uiKind}, appHost ${vscode.env.appHost})`);
  });

  test('every command of the manifest is registered', async () => {
    await api();
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { contributes: { commands: { command: string }[] } };
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const c of pkg.contributes.commands) assert.ok(registered.has(c.command), c.command);
  });
});
