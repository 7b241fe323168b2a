// What the VS Code tests (and `npm start`) must not leave behind: processes and listening ports they started, their
// sandbox folders in the temp dir, onnxruntime's telemetry files, and new files under the home folder (npm's own
// cache and logs in ~/.npm excepted: npm runs the tests). `snapshot()` before, `leftovers(before)` after.
// A process is the tests' when it carries the mark that snapshot() puts into this process's environment, which every
// process started afterwards inherits (code-server, its extension host and our worker, Chromium); processes of the
// same names that others run on the machine (another checkout's worker, a developer's browser) are not looked at.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const MARK = 'ULTRAMEM_TEST_RUN';
const OUR_TEMP = /^(ultramem-(vscode|e2e|exthost|install|broken-model|start)-|mat-debug-\d+\.log$|\.ses$)/;
const HOME_DEPTH = 3;

function processes() {
  const out = new Map();
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (cmd) out.set(pid, cmd);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Whether process `pid` carries this run's mark in its environment (false when it is not ours to read). */
function marked(pid, mark) {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`${MARK}=${mark}`);
  } catch {
    return false;
  }
}

/** Listening TCP ports → the socket's inode. */
function listeningPorts() {
  const ports = new Map();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(f)) continue;
    for (const line of fs.readFileSync(f, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A') ports.set(parseInt(cols[1].split(':')[1], 16), cols[9]);
    }
  }
  return ports;
}

/** The pid of the process holding socket `inode` (undefined if none is found). */
function socketOwner(inode, procs) {
  for (const pid of procs.keys()) {
    try {
      if (fs.readdirSync(`/proc/${pid}/fd`).some((fd) => fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`)) return pid;
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}

function homeEntries(dir = os.homedir(), depth = 0, out = new Set()) {
  if (depth >= HOME_DEPTH) return out;
  let entries = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (depth === 0 && e.name === '.npm') continue;
    out.add(p);
    if (e.isDirectory() && !e.isSymbolicLink()) homeEntries(p, depth + 1, out);
  }
  return out;
}

const tempEntries = () => new Set(fs.readdirSync(os.tmpdir()).filter((n) => OUR_TEMP.test(n)));

/** Marks this process's environment (so everything started from now on is recognisably the tests') and records the machine. */
export function snapshot() {
  process.env[MARK] ??= randomUUID();
  return { mark: process.env[MARK], pids: new Set(processes().keys()), ports: listeningPorts(), home: homeEntries(), temp: tempEntries() };
}

/** What appeared since `before` and is still there (processes get `graceMs` to exit); [] when clean. */
export async function leftovers(before, graceMs = 10_000) {
  const newOurs = () => [...processes()].filter(([pid]) => !before.pids.has(pid) && Number(pid) !== process.pid && marked(pid, before.mark));
  const deadline = Date.now() + graceMs;
  while (newOurs().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const found = newOurs().map(([pid, cmd]) => `process ${pid}: ${cmd.slice(0, 120)}`);
  const procs = processes();
  for (const [port, inode] of listeningPorts()) {
    if (before.ports.has(port)) continue;
    const owner = socketOwner(inode, procs);
    if (owner === undefined || marked(owner, before.mark)) found.push(`listening port ${port} (${procs.get(owner)?.slice(0, 80) ?? 'owner unknown'})`);
  }
  for (const n of tempEntries()) if (!before.temp.has(n)) found.push(`temp ${path.join(os.tmpdir(), n)}`);
  for (const p of homeEntries()) if (!before.home.has(p)) found.push(`home ${p}`);
  return found;
}
