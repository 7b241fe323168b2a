/** The Switch Model catalog reads manifests asynchronously and only up to a bound (a 300 MB one blocked VS Code 9.8 s). */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { modelsIn } from '../../src/client/modelCatalog';
import { MAX_MANIFEST_BYTES } from '../../src/worker/manifest';
import { FIXTURE_DIR, requireFixture } from '../helpers/fixture';

test('a manifest over the bound is skipped unread; the folder next to it is listed', async () => {
  requireFixture();
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-catalog-'));
  try {
    const manifest = fs.readFileSync(path.join(FIXTURE_DIR, 'manifest.json'), 'utf8');
    for (const name of ['huge', 'normal']) fs.mkdirSync(path.join(folder, name));
    fs.writeFileSync(path.join(folder, 'huge', 'manifest.json'), manifest + ' '.repeat(MAX_MANIFEST_BYTES));
    fs.writeFileSync(path.join(folder, 'normal', 'manifest.json'), manifest);
    const listing = modelsIn(folder, 'user');
    assert.ok(listing instanceof Promise, 'read asynchronously');
    assert.deepEqual((await listing).map((e) => path.basename(e.dir)), ['normal']);
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
});
