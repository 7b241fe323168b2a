/** test/leaks.mjs (the "nothing left behind" check of npm test) looks only at processes the tests started. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/fixture';

interface LeakCheck {
  snapshot(): unknown;
  leftovers(before: unknown, graceMs?: number): Promise<string[]>;
}

/** A process that idles with `name` on its command line. */
function idle(name: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', name], { env, stdio: 'ignore' });
}

test('a process named like ours that the tests did not start is not a leftover; one they started is', { skip: process.platform !== 'linux' && 'needs /proc' }, async () => {
  const leaks = (await import(path.join(ROOT, 'test', 'leaks.mjs'))) as LeakCheck;
  const before = leaks.snapshot();
  // another checkout's worker: started from an environment without this run's mark
  const foreign = idle('/elsewhere/ultramem-complete/dist/worker.js', { PATH: process.env['PATH'] });
  const ours = idle('started-by-this-test', process.env);
  try {
    await new Promise((r) => setTimeout(r, 300));
    const found = await leaks.leftovers(before, 100);
    assert.ok(found.some((f) => f.includes(`process ${ours.pid}:`)), found.join('; '));
    assert.ok(!found.some((f) => f.includes(`process ${foreign.pid}:`)), found.join('; '));
  } finally {
    foreign.kill();
    ours.kill();
  }
});
