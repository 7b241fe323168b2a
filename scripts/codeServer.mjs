// code-server (VS Code in the browser, from the npm registry) for `npm start` and the VS Code tests:
// installs a pinned version into a cache folder outside the repository and the home folder, and starts it
// inside a throw-away sandbox (user data, extensions, XDG dirs, TMPDIR), so nothing lands in ~.
//
//   node scripts/codeServer.mjs install [--chromium]   install the apt packages it needs (as root) and code-server
//                                                      (and Debian's chromium for the UI tests); prints its path
//   node scripts/codeServer.mjs path        prints the path of the installed binary (exit 1 if not installed)
//
// The cache folder is $ULTRAMEM_TOOLS_DIR, else <os temp>/ultramem-complete-tools.
// Why 4.100.3: the newest code-server whose engines field accepts Node 20 (VS Code 1.100.3; package.json
// engines.vscode is ^1.100.0). README.md, "Tests in a real VS Code", lists the facts this relies on.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
/** Debian packages code-server's native modules need to build (kerberos, node-pty, spdlog), and ripgrep for search. */
export const CODE_SERVER_APT = ['build-essential', 'pkg-config', 'libx11-dev', 'libxkbfile-dev', 'libsecret-1-dev', 'libkrb5-dev', 'ripgrep'];
// @vscode/ripgrep's postinstall downloads from GitHub; it first looks for this file in $TMPDIR (see seedRipgrep).
const RIPGREP_CACHE = ['vscode-ripgrep-cache-1.15.11', 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz'];

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function toolsDir() {
  return process.env.ULTRAMEM_TOOLS_DIR || path.join(os.tmpdir(), 'ultramem-complete-tools');
}

const installDir = () => path.join(toolsDir(), `code-server-${CODE_SERVER_VERSION}`);
export const codeServerBin = () => path.join(installDir(), 'node_modules', '.bin', 'code-server');
const markerFile = () => path.join(installDir(), '.installed');

export function isInstalled() {
  return fs.existsSync(markerFile()) && fs.existsSync(codeServerBin());
}

const log0 = (m) => console.log(`[code-server] ${m}`);
const secs = (t0) => `${((Date.now() - t0) / 1000).toFixed(0)} s`;

/** Sandboxes not removed yet (a Ctrl+C handler can remove them all). */
export const liveSandboxes = new Set();

/**
 * A throw-away folder tree for one run: HOME, XDG config/data/cache, TMPDIR, VS Code user data and extensions.
 * `env` points a child process at it; `remove()` deletes it.
 */
export function makeSandbox(prefix = 'ultramem-vscode-') {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const d = (name) => {
    const p = path.join(root, name);
    fs.mkdirSync(p, { recursive: true });
    return p;
  };
  const sb = {
    root,
    home: d('home'),
    userData: d('user-data'),
    extensions: d('extensions'),
    tmp: d('tmp'),
    env: {},
    remove: () => {
      fs.rmSync(root, { recursive: true, force: true, maxRetries: 5 });
      liveSandboxes.delete(sb);
    },
  };
  liveSandboxes.add(sb);
  sb.env = {
    HOME: sb.home,
    XDG_CONFIG_HOME: d('home/.config'),
    XDG_DATA_HOME: d('home/.local/share'),
    XDG_CACHE_HOME: d('home/.cache'),
    XDG_RUNTIME_DIR: d('run'),
    TMPDIR: sb.tmp,
    ORT_DISABLE_TELEMETRY: '1',
  };
  return sb;
}

/** Debian packages in `names` that are not installed. */
export function missingAptPackages(names) {
  return names.filter((n) => spawnSync('dpkg-query', ['-W', '-f=${Status}', n], { encoding: 'utf8' }).stdout?.includes('install ok installed') !== true);
}

/** Installs missing Debian packages (as root, else it says which command to run and throws). */
export function ensureAptPackages(names, log = log0) {
  const missing = missingAptPackages(names);
  if (missing.length === 0) return;
  const cmd = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) throw new Error(`missing Debian packages: ${missing.join(' ')}; install them with: sudo apt-get update && sudo ${cmd}`);
  const t0 = Date.now();
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-q'], ['install', '-y', '-q', '--no-install-recommends', ...missing]]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) throw new Error(`apt-get ${args[0]} failed (exit ${r.status})`);
  }
  log(`Debian packages installed in ${secs(t0)}`);
}

/** A tar.gz of Debian's rg where @vscode/ripgrep looks for its cached download (it cannot reach GitHub). */
function seedRipgrep(tmp) {
  const dir = path.join(tmp, RIPGREP_CACHE[0]);
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync('tar', ['czf', path.join(dir, RIPGREP_CACHE[1]), '-C', path.dirname(findOnPath('rg')), 'rg']);
  if (r.status !== 0) throw new Error(`could not pack rg: ${r.stderr}`);
}

export function findOnPath(cmd) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Installs code-server into the cache folder unless it is there already; returns the binary's path.
 * Progress: npm's script headers and a heartbeat on the console; the whole npm output goes to install.log.
 */
export async function ensureCodeServer(log = log0) {
  if (isInstalled()) return codeServerBin();
  ensureAptPackages(CODE_SERVER_APT, log);
  const dir = installDir();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'ultramem-code-server', private: true }));
  const logFile = path.join(toolsDir(), 'install.log');
  const sb = makeSandbox('ultramem-install-');
  const t0 = Date.now();
  try {
    seedRipgrep(sb.tmp);
    log(`installing code-server ${CODE_SERVER_VERSION} into ${dir} (about 2 minutes on 2 cores; log: ${logFile})`);
    const nodedir = process.env.npm_config_nodedir || (fs.existsSync('/usr/include/node/node.h') ? '/usr' : undefined);
    const env = {
      ...process.env,
      ...sb.env,
      npm_config_cache: path.join(toolsDir(), 'npm-cache'),
      // code-server's postinstall refuses to run as root without it (npm 11 only warns "unknown env config")
      npm_config_unsafe_perm: 'true',
      // its postinstall runs `npx node-gyp`; its native modules need their install scripts (npm 11 blocks them)
      npm_config_yes: 'true',
      npm_config_dangerously_allow_all_scripts: 'true',
      // run from `npm test`, this process inherits the project's ignore-scripts=true (.npmrc) as npm_config_ignore_scripts,
      // which npm 11.19 lets win over the line above
      npm_config_ignore_scripts: 'false',
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      ...(nodedir ? { npm_config_nodedir: nodedir } : {}),
    };
    const out = fs.createWriteStream(logFile);
    const child = spawn('npm', ['install', '--foreground-scripts', '--no-package-lock', `code-server@${CODE_SERVER_VERSION}`], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = [];
    const onData = (buf) => {
      out.write(buf);
      for (const line of buf.toString().split('\n')) {
        if (!line.trim()) continue;
        tail = [...tail.slice(-39), line];
        if (/^> \S+@\S+ (pre|post)?install$/.test(line)) log(`${secs(t0)}: ${line.slice(2)}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const beat = setInterval(() => log(`${secs(t0)}: still installing…`), 20_000);
    const code = await new Promise((resolve) => child.on('close', resolve));
    clearInterval(beat);
    out.end();
    if (code !== 0) throw new Error(`npm install code-server failed (exit ${code}); last lines:\n${tail.join('\n')}`);
    const v = spawnSync(codeServerBin(), ['--version'], { env: { ...process.env, ...sb.env }, encoding: 'utf8' });
    if (v.status !== 0) throw new Error(`code-server --version failed: ${v.stderr}`);
    fs.writeFileSync(markerFile(), v.stdout);
    log(`installed in ${secs(t0)}: ${v.stdout.trim().split('\n').pop()}`);
    return codeServerBin();
  } finally {
    sb.remove();
  }
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Settings for a quiet workbench: no welcome page, walkthroughs, telemetry or update checks. */
export const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'chat.disableAIFeatures': true,
  'files.hotExit': 'off',
};

/** Runs code-server's CLI (not the server) in the sandbox, e.g. --install-extension. */
export function codeServerCli(bin, sb, args) {
  const r = spawnSync(bin, ['--user-data-dir', sb.userData, '--extensions-dir', sb.extensions, ...args], { env: { ...process.env, ...sb.env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`code-server ${args.join(' ')} failed (exit ${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

/**
 * Starts code-server on 127.0.0.1 (no auth: loopback only) in its own process group, with the sandbox's
 * dirs and `settings` as user settings; resolves when /healthz answers. `stop()` ends the whole group.
 */
export async function startCodeServer({ bin, sb, folder, port, settings = {}, machineSettings = {}, env = {}, output = 'pipe', args: extraArgs = [] }) {
  const p = port || (await freePort());
  fs.mkdirSync(path.join(sb.userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(sb.userData, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...settings }, null, 2));
  // code-server's window is a remote one, which reads machine-scoped settings only from the server's Machine settings
  fs.mkdirSync(path.join(sb.userData, 'Machine'), { recursive: true });
  fs.writeFileSync(path.join(sb.userData, 'Machine', 'settings.json'), JSON.stringify(machineSettings, null, 2));
  const args = ['--bind-addr', `127.0.0.1:${p}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--disable-getting-started-override', '--user-data-dir', sb.userData, '--extensions-dir', sb.extensions, ...extraArgs, folder];
  const child = spawn(bin, args, { env: { ...process.env, ...sb.env, ...env }, stdio: ['ignore', output, output], detached: true });
  const logLines = [];
  if (output === 'pipe') {
    const keep = (b) => logLines.push(...b.toString().split('\n').filter(Boolean));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
  }
  let exited = false;
  child.on('exit', () => (exited = true));
  const base = `http://127.0.0.1:${p}`;
  const server = {
    port: p,
    base,
    pid: child.pid,
    logLines,
    url: (q = {}) => `${base}/?${new URLSearchParams({ folder, ...q }).toString().replace(/\+/g, '%20')}`,
    stop: () => killGroup(child.pid),
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`code-server exited at start:\n${logLines.join('\n')}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`code-server did not answer on ${base} within 60 s:\n${logLines.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const groupAlive = (pid) => {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** SIGTERM to a process group, SIGKILL after `graceMs`; resolves when no process of the group is left. */
export async function killGroup(pid, graceMs = 5000) {
  if (!pid || !groupAlive(pid)) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (groupAlive(pid)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    while (groupAlive(pid)) await new Promise((r) => setTimeout(r, 50));
  }
}

async function main(argv) {
  if (argv[0] === 'install') {
    if (argv.includes('--chromium')) ensureAptPackages(['chromium']); // for the UI tests
    console.log(await ensureCodeServer());
  } else if (argv[0] === 'path' && isInstalled()) {
    console.log(codeServerBin());
  } else {
    if (argv[0] !== 'path') console.error('usage: node scripts/codeServer.mjs install [--chromium] | path');
    process.exitCode = argv[0] === 'path' ? 1 : 2;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`[code-server] ${e.message}`);
    process.exit(1);
  });
}
