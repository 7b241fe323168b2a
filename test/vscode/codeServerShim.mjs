#!/usr/bin/env node
// The "VS Code executable" handed to @vscode/test-electron (`runTests({ vscodeExecutablePath })`, or
// `useInstallation.fromPath` in .vscode-test.mjs) where no desktop VS Code can be downloaded. It takes the same
// arguments as `code`, runs the extension tests in code-server's real Node extension host, and exits with
// their exit code:
//   code-server in a throw-away sandbox → headless Chromium opens the workbench with the development
//   extension and the tests in the `payload` URL parameter → the workbench reports the end through
//   window.codeAutomationExit(code), and the extension host's console through window.codeAutomationLog.
// With ULTRAMEM_SCREENSHOT_DIR set, a suite's console line `[screenshot] NAME.png` saves the page there.
// The --user-data-dir/--extensions-dir that test-electron passes are ignored: every run gets fresh ones.
import { ensureCodeServer, killGroup, makeSandbox, startCodeServer } from '../../scripts/codeServer.mjs';
import { launchBrowser, remoteAuthority } from '../e2e/workbench.mjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';

// The workbench's own chatter on the console (connection set-up, the unreachable extension gallery).
const NOISE = /^(Resolving connection token|Resolved connection token|Creating a socket|Updating additional builtin|\[Service Worker\]|ChatSessionStore|getaddrinfo ENOTFOUND open-vsx\.org|\s+at .*workbench\.js)/;
const TIMEOUT_MS = Number(process.env.ULTRAMEM_EXTHOST_TIMEOUT_MS || 10 * 60_000);

function parseArgs(argv) {
  const a = { developmentPaths: [], testsPath: null, folders: [] };
  for (const arg of argv) {
    const m = /^--([^=]+)=(.*)$/.exec(arg);
    if (m?.[1] === 'extensionDevelopmentPath') a.developmentPaths.push(path.resolve(m[2]));
    else if (m?.[1] === 'extensionTestsPath') a.testsPath = path.resolve(m[2]);
    else if (!arg.startsWith('-')) a.folders.push(path.resolve(arg));
    // other desktop flags (--no-sandbox, --disable-extensions, --user-data-dir=…) have no meaning here
  }
  return a;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!args.testsPath || args.developmentPaths.length === 0) throw new Error('needs --extensionDevelopmentPath=… and --extensionTestsPath=…');
  const bin = await ensureCodeServer();
  const sb = makeSandbox('ultramem-exthost-');
  let server = null;
  let browser = null;
  const cleanup = async () => {
    await browser?.close().catch(() => undefined);
    if (server) await killGroup(server.pid);
    sb.remove();
  };
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => void cleanup().then(() => process.exit(130)));
  try {
    const folder = args.folders[0] ?? path.join(sb.root, 'workspace');
    fs.mkdirSync(folder, { recursive: true });
    server = await startCodeServer({ bin, sb, folder });
    const auth = await remoteAuthority(server.url());
    const payload = [
      ...args.developmentPaths.map((p) => ['extensionDevelopmentPath', `vscode-remote://${auth}${p}`]),
      ['extensionTestsPath', `vscode-remote://${auth}${args.testsPath}`],
    ];
    browser = await launchBrowser(sb);
    const page = browser.pages()[0] ?? (await browser.newPage());
    let finish;
    const exit = new Promise((resolve) => (finish = resolve));
    await page.exposeFunction('codeAutomationLog', async (type, logArgs) => {
      const lines = format(...(Array.isArray(logArgs) ? logArgs : [logArgs])).split('\n').filter((l) => !NOISE.test(l));
      if (lines.length) (type === 'error' ? process.stderr : process.stdout).write(`${lines.join('\n')}\n`);
      // a suite asks for a screenshot of the workbench (README pictures) by logging `[screenshot] NAME.png`; only
      // with ULTRAMEM_SCREENSHOT_DIR set, where the file goes (the suite waits for it)
      const dir = process.env.ULTRAMEM_SCREENSHOT_DIR;
      for (const l of lines) {
        const name = /\[screenshot\] ([\w.-]+\.png)/.exec(l)?.[1];
        if (dir && name) await page.screenshot({ path: path.join(dir, name) }).catch((e) => console.error(`screenshot ${name}: ${e.message}`));
      }
    });
    await page.exposeFunction('codeAutomationExit', (code) => finish(Number(code)));
    await page.goto(server.url({ payload: JSON.stringify(payload) }));
    const timer = setTimeout(() => finish(-1), TIMEOUT_MS);
    const code = await exit;
    clearTimeout(timer);
    if (code === -1) {
      console.error(`extension tests did not finish within ${TIMEOUT_MS / 1000} s; code-server log:\n${server.logLines.slice(-60).join('\n')}`);
      return 1;
    }
    return code;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`codeServerShim: ${e.stack ?? e}`);
    process.exit(1);
  },
);
