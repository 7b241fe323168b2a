// Runs the model tests: the Python suite (pytest, with a python3 that has torch and onnx) and the node tests
// under models/tests. Prints their output, then one line `models: N passed, N failed`; with --summary FILE it
// also writes {passed, failed} there. Exits non-zero if either fails. Used by `npm test`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const models = join(dirname(fileURLToPath(import.meta.url)), '..');
const tests = join(models, 'tests');

function pythonWithTorch() {
  for (const candidate of [process.env.ULTRAMEM_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean)) {
    const probe = spawnSync(candidate, ['-c', 'import torch, onnx, pytest'], { stdio: 'ignore' });
    if (probe.status === 0) return candidate;
  }
  return null;
}

const python = pythonWithTorch();
if (!python) {
  console.error('models: no python3 with torch, onnx and pytest (Debian: apt-get install python3-torch python3-onnx python3-pytest)');
  process.exit(1);
}
/** Runs a command with its output streamed as it comes (a test run takes minutes) and kept for the counts. */
function run(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    child.stderr.on('data', (chunk) => process.stderr.write(chunk));
    child.on('close', (code) => resolve({ ok: code === 0, out }));
  });
}

const count = (re, text) => Number(re.exec(text)?.[1] ?? 0);
const pytest = await run(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', tests]);
const nodeTests = readdirSync(tests).filter((f) => f.endsWith('.test.mjs')).map((f) => join(tests, f));
const node = await run(process.execPath, ['--test', ...nodeTests]);
const passed = count(/(\d+) passed/, pytest.out) + count(/^# pass (\d+)/m, node.out);
const failed = count(/(\d+) failed/, pytest.out) + count(/(\d+) error/, pytest.out) + count(/^# fail (\d+)/m, node.out);
const ok = pytest.ok && node.ok;
console.log(`models: ${passed} passed, ${failed + (ok || failed ? 0 : 1)} failed`);
const summaryAt = process.argv.indexOf('--summary');
if (summaryAt > 0) {
  mkdirSync(dirname(process.argv[summaryAt + 1]), { recursive: true });
  writeFileSync(process.argv[summaryAt + 1], JSON.stringify({ passed, failed, ok }));
}
process.exit(ok ? 0 : 1);
