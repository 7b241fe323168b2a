import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { WorkerError } from '../../src/worker/errors';
import { loadManifest, verifyDeferredHashes, type LoadedManifest } from '../../src/worker/manifest';
import { FIXTURE_DIR, requireFixture } from '../helpers/fixture';

test('the fixture manifest validates', () => {
  requireFixture();
  const m = loadManifest(FIXTURE_DIR);
  assert.equal(m.manifest.fim.template, 'psm');
  assert.deepEqual(m.deferredHashes, [], 'small files are hashed at load time');
});

test('hashes deferred for large files are checked later, without blocking, and a mismatch is reported', async () => {
  requireFixture();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-lazy-'));
  try {
    const loaded = loadManifest(FIXTURE_DIR);
    fs.copyFileSync(path.join(FIXTURE_DIR, loaded.manifest.graph), path.join(dir, loaded.manifest.graph));
    const good: LoadedManifest = { ...loaded, dir, deferredHashes: [loaded.manifest.graph] };
    await verifyDeferredHashes(good);
    fs.appendFileSync(path.join(dir, loaded.manifest.graph), 'x');
    await assert.rejects(verifyDeferredHashes(good), (e: unknown) => e instanceof WorkerError && e.code === 'FILE_HASH_MISMATCH');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the FIM template is psm or spm, anything else is refused with the field named', () => {
  requireFixture();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-template-'));
  try {
    for (const f of fs.readdirSync(FIXTURE_DIR)) fs.copyFileSync(path.join(FIXTURE_DIR, f), path.join(dir, f));
    const raw = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    for (const [template, ok] of [['spm', true], ['psm', true], ['pms', false]] as const) {
      fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ ...raw, fim: { template } }));
      if (ok) assert.equal(loadManifest(dir).manifest.fim.template, template);
      else assert.throws(() => loadManifest(dir), (e: unknown) => e instanceof WorkerError && /fim/.test(e.message));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
