/// <reference types="mocha" />
/** A killed worker comes back with its model; a broken model folder gives the documented error message. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { api, cliCompletion, compareWithCli, DEFAULT_MODEL, modelReady, openWithCursor, setSetting, triggerAndCommit, until } from './helpers';
import { clearTypescriptSample } from './samples';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

suite('resilience', () => {
  compareWithCli(() => setSetting('modelPath', undefined));

  test('a killed worker is restarted with the model and completions resume', async () => {
    const a = await modelReady();
    const pid = a.engine.workerPid;
    assert.ok(pid);
    const restarts = a.engine.restarts;
    const t0 = Date.now();
    process.kill(pid, 'SIGKILL');
    await until(() => a.engine.state.kind === 'restarting', 'the engine to report restarting', 10_000);
    await modelReady('ultramem-code-s');
    console.log(`    (worker back with its model ${Date.now() - t0} ms after the kill)`);
    assert.ok(!alive(pid), 'the old worker is gone');
    assert.notEqual(a.engine.workerPid, pid);
    assert.equal(a.engine.restarts, restarts + 1);

    const { editor, prefix, suffix } = await openWithCursor(await clearTypescriptSample(), 'typescript');
    assert.equal(await triggerAndCommit(editor), await cliCompletion(DEFAULT_MODEL, prefix, suffix, 'typescript'));
  });

  test('a broken model folder gives the documented message, the model that served serves on; a good model recovers', async () => {
    const a = await api();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-broken-model-'));
    try {
      fs.writeFileSync(path.join(dir, 'manifest.json'), '{ "format": "ultramem-complete-model", ');
      await setSetting('modelPath', dir);
      const message = await until(() => a.errorsShown.find((m) => m.includes(dir)), 'an error message naming the folder', 20_000);
      assert.match(message, new RegExp(`^UltraMem: cannot use the model in ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .+ \\[MANIFEST_NOT_JSON\\]$`));
      assert.equal(a.engine.state.kind, 'ready');
      assert.equal(a.engine.modelInfo?.name, 'ultramem-code-s');
      await setSetting('modelPath', undefined);
      await modelReady('ultramem-code-s');
      assert.equal(a.errorsShown.filter((m) => m === message).length, 1, 'each distinct message once');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
