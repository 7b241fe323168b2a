// `npm start` end to end: it packages the extension, starts code-server with the VSIX on 127.0.0.1 and prints the
// URL; the workbench there runs the extension with the default model; Ctrl+C (SIGINT to its process group, as a
// terminal sends it) stops everything: no process, port, temp folder or file under the home folder is left behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { makeSandbox, ROOT } from '../../scripts/codeServer.mjs';
import { leftovers, snapshot } from '../leaks.mjs';
import { launchBrowser, until } from './workbench.mjs';

test('npm start opens VS Code with the extension and the default model; Ctrl+C leaves nothing behind', async () => {
  const before = snapshot();
  const t0 = Date.now();
  // --code-server: this test drives the browser workbench even on a machine with a desktop `code`
  const child = spawn('npm', ['start', '--', '--code-server'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (out += b));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const sb = makeSandbox('ultramem-e2e-');
  let browser;
  try {
    const url = await until(() => /http:\/\/127\.0\.0\.1:\d+\/\?folder=\S+/.exec(out)?.[0], { timeout: 8 * 60_000, interval: 200, what: `the URL in npm start's output:\n${out}` });
    const ready = Date.now() - t0;
    browser = await launchBrowser(sb, { width: 1100, height: 680 });
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(url);
    await page.locator('.statusbar-item', { hasText: 'ultramem-code-s' }).first().waitFor({ timeout: 90_000 });
    await page.screenshot({ path: path.join(ROOT, 'test-results', 'e2e', 'npm-start.png') });
    console.log(`  npm start: URL after ${ready} ms (package + install VSIX + start), model in the status bar after ${Date.now() - t0} ms`);
  } finally {
    await browser?.close().catch(() => undefined);
    sb.remove();
    const t1 = Date.now();
    try {
      process.kill(-child.pid, 'SIGINT');
    } catch {
      // already gone
    }
    const { code, signal } = await exited;
    console.log(`  npm start: stopped ${Date.now() - t1} ms after Ctrl+C (exit ${code ?? signal})`);
  }
  assert.match(out, /stopped; the sandbox is removed and nothing is left running/);
  assert.deepEqual(await leftovers(before), []);
});
