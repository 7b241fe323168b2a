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
  const session = read('src/worker/session.ts');
  assert.equal(session.match(/InferenceSession\.create\(/g)?.length, 1);
  assert.match(session, /InferenceSession\.create\(opts\.graphPath, \{ \.\.\.WORKER_SESSION_OPTIONS, intraOpNumThreads: threads \}\)/);
  assert.match(read('src/bench/engine.ts'), /InferenceSession\.create\(graph, \{ \.\.\.WORKER_SESSION_OPTIONS, intraOpNumThreads: threads \}\)/);
  // bench_ort.mjs and the evaluation open graphs through ort_session.mjs
  assert.match(read('models/scripts/bench_ort.mjs'), /import \{ openDecoder \} from '\.\/ort_session\.mjs'/);
  const ortSession = read('models/scripts/ort_session.mjs');
  assert.match(ortSession, /require\('\.\.\/\.\.\/src\/worker\/sessionOptions\.json'\)/);
  assert.equal(ortSession.match(/InferenceSession\.create\(/g)?.length, 1);
  assert.match(ortSession, /InferenceSession\.create\(modelPath, \{ \.\.\.WORKER_SESSION_OPTIONS, intraOpNumThreads: threads \}\)/);
});
