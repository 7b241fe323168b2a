/** One set of shipped defaults: package.json declares them, and the extension, the CLI and `npm run bench` read them. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { SHIPPED_DEFAULTS } from '../../src/completion/defaults';
import { ROOT } from '../helpers/fixture';

test("package.json's settings declare the shipped defaults", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, { default: unknown }> } } };
  for (const [key, value] of Object.entries(SHIPPED_DEFAULTS)) {
    assert.equal(pkg.contributes.configuration.properties[`ultramem-complete.${key}`]?.default, value, key);
  }
});

test('the extension, the CLI and the bench take their defaults from SHIPPED_DEFAULTS, with no number of their own', () => {
  for (const file of ['src/extension/settings.ts', 'src/cli/main.ts', 'src/bench/main.ts']) {
    const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
    assert.match(source, /import \{ SHIPPED_DEFAULTS \} from '\.\.\/completion\/defaults';/, file);
    for (const key of Object.keys(SHIPPED_DEFAULTS)) {
      assert.doesNotMatch(source, new RegExp(`${key}: (\\d|true|false)|get\\('${key}', (\\d|true|false)`), `${file}: ${key}`);
    }
  }
});

test("every runner of our graphs opens its sessions with the worker's options (src/worker/sessionOptions.json)", () => {
  const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), 'utf8');
  /** The options argument of every InferenceSession.create call in a file. */
  const createOptions = (file: string): string[] => [...read(file).matchAll(/InferenceSession\.create\([^,]+, ([^)]*)\)/g)].map((m) => m[1]!);
  for (const file of ['src/worker/session.ts', 'src/bench/engine.ts', 'models/scripts/ort_session.mjs']) {
    const calls = createOptions(file);
    assert.ok(calls.length > 0, file);
    for (const options of calls) assert.match(options, /^\{ \.\.\.WORKER_SESSION_OPTIONS, intraOpNumThreads: \w+ \}$/, file);
  }
  assert.match(read('models/scripts/ort_session.mjs'), /WORKER_SESSION_OPTIONS = require\('\.\.\/\.\.\/src\/worker\/sessionOptions\.json'\)/);
  // bench_ort.mjs and the parity checks (models/ultramem/ort_check.py) open graphs through ort_session.mjs
  assert.match(read('models/scripts/bench_ort.mjs'), /from '\.\/ort_session\.mjs'/);
});
