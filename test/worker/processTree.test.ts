/**
 * The process tree on every platform: the extension host has one child, the worker, which starts none of its own,
 * and the worker ends when its parent goes, through the IPC channel closing rather than a signal or a process group
 * (Windows has neither SIGHUP nor process groups, and a killed VS Code sends nothing).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { test } from 'node:test';
import { requireFixture, WORKER_PATH } from '../helpers/fixture';

/** Whether a process runs (on Linux a zombie, exited but not yet reaped by whoever inherited it, does not count). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  return !fs.existsSync(stat) || !/^\d+ \(.*\) Z/.test(fs.readFileSync(stat, 'utf8'));
}

test('the worker ends when the process that started it is killed, and it started no process of its own', async () => {
  requireFixture();
  const client = path.join(__dirname, '..', '..', 'src', 'client', 'workerClient.js');
  // a stand-in for the extension host: starts a worker, prints its pid, then idles until killed
  const script = `const { WorkerClient } = require(${JSON.stringify(client)});
const w = new WorkerClient({ workerPath: ${JSON.stringify(WORKER_PATH)} });
w.ready.then(() => console.log(w.pid));
setInterval(() => {}, 1000);`;
  const host = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = Number(await new Promise<string>((resolve) => readline.createInterface({ input: host.stdout }).once('line', resolve)));
  try {
    assert.ok(pid > 0 && running(pid), `worker ${pid} runs`);
    if (fs.existsSync(`/proc/${pid}/task/${pid}/children`)) {
      assert.equal(fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim(), '', 'the worker has no child process');
    }
    host.kill('SIGKILL'); // no chance to stop its worker
    const deadline = Date.now() + 10_000;
    while (running(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!running(pid), `worker ${pid} still runs after its parent was killed`);
  } finally {
    if (running(pid)) process.kill(pid, 'SIGKILL');
  }
});
