// Runs the model tests: the Python suite (pytest, with a python3 that has torch and onnx) and the node tests
// under models/tests. Exits non-zero if either fails. Used by `npm test` and `.ci/run`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
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
const pytest = spawnSync(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', tests], { stdio: 'inherit' });
const nodeTests = readdirSync(tests).filter((f) => f.endsWith('.test.mjs')).map((f) => join(tests, f));
const node = spawnSync(process.execPath, ['--test', ...nodeTests], { stdio: 'inherit' });
process.exit(pytest.status === 0 && node.status === 0 ? 0 : 1);
