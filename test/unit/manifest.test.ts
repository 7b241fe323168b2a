import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { WorkerError } from '../../src/worker/errors';
import { externalDataLocations, loadManifest, MAX_MANIFEST_BYTES } from '../../src/worker/manifest';
import { FIXTURE_DIR, requireFixture } from '../helpers/fixture';

/** A copy of the fixture in a temp folder, changed by `change`, removed after `check`. */
/** `change` edits the manifest object in place, or returns the manifest's whole text. */
async function withCopy(change: (dir: string, manifest: Record<string, unknown>) => string | void, check: (dir: string) => Promise<void>): Promise<void> {
  requireFixture();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-manifest-'));
  const dir = path.join(root, 'model');
  try {
    fs.cpSync(FIXTURE_DIR, dir, { recursive: true });
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    const text = change(dir, manifest);
    fs.writeFileSync(path.join(dir, 'manifest.json'), text ?? JSON.stringify(manifest));
    await check(dir);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const rejectsWith = (code: string, pattern: RegExp) => (e: unknown) => e instanceof WorkerError && e.code === code && pattern.test(e.message);

test('the fixture manifest validates', async () => {
  requireFixture();
  const m = await loadManifest(FIXTURE_DIR);
  assert.equal(m.manifest.fim.template, 'psm');
});

test('a file over 64 MB has its hash checked before the model is accepted, not later', async () => {
  await withCopy(
    (dir, m) => {
      fs.writeFileSync(path.join(dir, 'big.bin'), '');
      fs.truncateSync(path.join(dir, 'big.bin'), 65 << 20); // sparse: no disk, still read in full
      (m['files'] as Record<string, unknown>)['big.bin'] = { bytes: 65 << 20, sha256: '0'.repeat(64) };
    },
    (dir) => assert.rejects(loadManifest(dir), rejectsWith('FILE_HASH_MISMATCH', /big\.bin/)),
  );
});

test('a manifest larger than the bound is refused without being parsed', async () => {
  await withCopy(
    (_dir, m) => JSON.stringify(m) + ' '.repeat(MAX_MANIFEST_BYTES),
    (dir) => assert.rejects(loadManifest(dir), rejectsWith('MANIFEST_INVALID', /more than the/)),
  );
});

test('a listed file that is a link out of the folder is refused, though its bytes match', async () => {
  await withCopy(
    (dir) => {
      const outside = path.join(path.dirname(dir), 'config.json');
      fs.copyFileSync(path.join(dir, 'config.json'), outside);
      fs.rmSync(path.join(dir, 'config.json'));
      fs.symlinkSync(outside, path.join(dir, 'config.json'));
    },
    (dir) => assert.rejects(loadManifest(dir), rejectsWith('MANIFEST_INVALID', /leads outside the folder/)),
  );
});

test('contextLength above the context the model was trained for is refused', async () => {
  await withCopy(
    (_dir, m) => {
      m['contextLength'] = 1e9;
    },
    (dir) => assert.rejects(loadManifest(dir), rejectsWith('MANIFEST_INVALID', /contextLength/)),
  );
});

test('external data a graph names must be listed (and so hashed)', async () => {
  const entry = (name: string): Buffer => Buffer.concat([Buffer.from('\x0a\x08location\x12', 'latin1'), Buffer.from([name.length]), Buffer.from(name)]);
  assert.deepEqual(externalDataLocations(Buffer.concat([Buffer.from([1, 2, 3]), entry('weights.bin'), Buffer.from([9])])), ['weights.bin']);
  assert.deepEqual(externalDataLocations(Buffer.from('no external data here')), []);
  await withCopy(
    (dir, m) => {
      const files = m['files'] as Record<string, { bytes: number; sha256: string }>;
      const graph = Buffer.concat([fs.readFileSync(path.join(dir, 'model.onnx')), entry('weights.bin')]);
      fs.writeFileSync(path.join(dir, 'model.onnx'), graph);
      files['model.onnx'] = { bytes: graph.length, sha256: crypto.createHash('sha256').update(graph).digest('hex') };
    },
    (dir) => assert.rejects(loadManifest(dir), rejectsWith('MANIFEST_INVALID', /weights\.bin/)),
  );
});

test('a file path absolute on POSIX or Windows, or climbing out, is refused on every platform', async () => {
  for (const graph of ['/etc/model.onnx', 'C:\\models\\model.onnx', 'C:model.onnx', '\\\\server\\share\\model.onnx', '\\model.onnx', '..\\model.onnx', 'sub/../../model.onnx']) {
    await withCopy(
      (_dir, m) => void (m['graph'] = graph),
      (dir) => assert.rejects(loadManifest(dir), rejectsWith('MANIFEST_INVALID', /"graph" must be a relative path inside the folder/), graph),
    );
  }
});

test('the FIM template is psm or spm, anything else is refused with the field named', async () => {
  requireFixture();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-template-'));
  try {
    for (const f of fs.readdirSync(FIXTURE_DIR)) fs.copyFileSync(path.join(FIXTURE_DIR, f), path.join(dir, f));
    const raw = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    for (const [template, ok] of [['spm', true], ['psm', true], ['pms', false]] as const) {
      fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ ...raw, fim: { template } }));
      if (ok) assert.equal((await loadManifest(dir)).manifest.fim.template, template);
      else await assert.rejects(loadManifest(dir), (e: unknown) => e instanceof WorkerError && /fim/.test(e.message));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
