// `npm start`: builds and packages the extension (npm run package), then opens a real VS Code with it and the default
// model on a copy of the sample workspace (test/fixtures/workspace): the desktop `code` if it is installed, otherwise
// code-server on 127.0.0.1 (no auth: loopback only), installed on first use (scripts/codeServer.mjs). Everything
// runs in a throw-away sandbox (user data, extensions, HOME/XDG dirs, TMPDIR) that Ctrl+C removes, with every
// process it started.
//   npm start [-- --port N] [-- --code-server]      (--code-server: use code-server even where `code` exists)
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { codeServerCli, CODE_SERVER_VERSION, ensureCodeServer, findOnPath, killGroup, liveSandboxes, makeSandbox, ROOT, startCodeServer } from './codeServer.mjs';

const VSIX = path.join(ROOT, 'dist', 'ultramem-complete-linux-x64.vsix');
const log = (m) => console.log(`[start] ${m}`);

function parseArgs(argv) {
  const a = { port: 0, codeServer: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--port') a.port = Number(argv[++i]);
    else if (argv[i] === '--code-server') a.codeServer = true;
    else throw new Error(`unknown argument ${argv[i]} (usage: npm start [-- --port N] [-- --code-server])`);
  }
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) throw new Error('--port needs a port number');
  return a;
}

// Ctrl+C before VS Code runs (while packaging or installing; the terminal stops those children too): remove the
// sandboxes and leave. Once it runs, untilStopped() takes the signal and stops it in order.
let onSignal = (sig) => {
  for (const sb of [...liveSandboxes]) sb.remove();
  console.log(`\n[start] ${sig}: stopped`);
  process.exit(130);
};
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, (s) => onSignal(s));

/** Resolves on the first of SIGINT/SIGTERM/SIGHUP, or when `exited` resolves. */
function untilStopped(exited) {
  return new Promise((resolve) => {
    onSignal = resolve;
    exited.then(() => resolve('exit'));
  });
}

/** Desktop VS Code: the VSIX installed into the sandbox's extensions dir, one window, until it closes or Ctrl+C. */
async function runDesktop(code, sb, folder) {
  const dirs = ['--user-data-dir', sb.userData, '--extensions-dir', sb.extensions];
  const r = spawnSync(code, [...dirs, '--install-extension', VSIX], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`code --install-extension failed (exit ${r.status})`);
  log(`opening VS Code (${code}) on ${folder}; close the window or press Ctrl+C to stop`);
  const child = spawn(code, [...dirs, '--new-window', '--wait', '--disable-workspace-trust', folder], { stdio: 'inherit', detached: true });
  const why = await untilStopped(new Promise((resolve) => child.on('exit', resolve)));
  if (why !== 'exit') await killGroup(child.pid);
}

async function runCodeServer(sb, folder, port) {
  const bin = await ensureCodeServer(log);
  log('installing the VSIX into code-server');
  codeServerCli(bin, sb, ['--install-extension', VSIX]);
  const server = await startCodeServer({ bin, sb, folder, port });
  let exited;
  const stopped = new Promise((resolve) => (exited = resolve));
  const poll = setInterval(() => {
    try {
      process.kill(server.pid, 0);
    } catch {
      exited();
    }
  }, 500);
  console.log(`\nUltraMem Complete in VS Code (code-server ${CODE_SERVER_VERSION}), with the default model, on a copy of the sample workspace:\n\n    ${server.url()}\n\nOpen it in a browser on this machine (no password: it listens on 127.0.0.1 only). Ctrl+C stops it.\n`);
  const why = await untilStopped(stopped);
  clearInterval(poll);
  if (why === 'exit') console.error(`[start] code-server exited on its own; its last lines:\n${server.logLines.slice(-30).join('\n')}`);
  log('stopping code-server');
  await killGroup(server.pid);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  log('building and packaging the extension (npm run package)');
  const pkg = spawnSync('npm', ['run', '--silent', 'package'], { cwd: ROOT, stdio: 'inherit' });
  if (pkg.status !== 0) throw new Error(`npm run package failed (exit ${pkg.status})`);
  log(`packaged ${path.relative(ROOT, VSIX)} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const sb = makeSandbox('ultramem-start-');
  try {
    const folder = path.join(sb.root, 'workspace');
    fs.cpSync(path.join(ROOT, 'test', 'fixtures', 'workspace'), folder, { recursive: true });
    const code = args.codeServer ? null : findOnPath('code');
    if (code) await runDesktop(code, sb, folder);
    else await runCodeServer(sb, folder, args.port);
  } finally {
    sb.remove();
    log('stopped; the sandbox is removed and nothing is left running');
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`[start] ${e.message}`);
    process.exit(1);
  },
);
