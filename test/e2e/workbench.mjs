// Headless Debian Chromium (playwright-core, no browser download) on a code-server workbench.
// Shared by the extension-host shim (test/vscode/codeServerShim.mjs) and the UI tests (test/e2e/ui.test.mjs).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** A browser with a fresh profile inside the sandbox; its HOME and XDG dirs point there too (nothing in ~). */
export async function launchBrowser(sb, viewport = { width: 1280, height: 800 }) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  return chromium.launchPersistentContext(path.join(sb.root, 'chromium'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    env: { ...process.env, ...sb.env },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** The workbench's `remoteAuthority` (`remote` in VS Code 1.100, host:port in later versions), read from its HTML. */
export async function remoteAuthority(url) {
  const html = await (await fetch(url)).text();
  const m = /id="vscode-workbench-web-configuration"\s+data-settings="([^"]*)"/.exec(html);
  if (!m) return 'remote';
  const json = m[1].replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return JSON.parse(json).remoteAuthority ?? 'remote';
}

/** Waits for `cond()` (sync or async) to be truthy; returns its value. */
export async function until(cond, { timeout = 30_000, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}
