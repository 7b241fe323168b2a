/** Bad model folders give the documented error codes; the worker opens no network socket and writes no telemetry. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isWorkerRequestError, type WorkerClient } from '../../src/client/workerClient';
import { MAX_ERROR_MESSAGE } from '../../src/worker/errors';
import { MANIFEST_FORMAT_VERSION } from '../../src/worker/manifest';
import type { ErrorCode } from '../../src/shared/protocol';
import { FIXTURE_DIR, startWorker } from '../helpers/fixture';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-folders-'));

/** A copy of the fixture with one change applied. */
function brokenCopy(name: string, change: (dir: string) => void, root = tmpRoot): string {
  const dir = path.join(root, name);
  fs.cpSync(FIXTURE_DIR, dir, { recursive: true });
  change(dir);
  return dir;
}

function editManifest(dir: string, edit: (m: Record<string, unknown>) => void): void {
  const file = path.join(dir, 'manifest.json');
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(m);
  fs.writeFileSync(file, JSON.stringify(m, null, 2));
}

describe('model folder validation', () => {
  let w: WorkerClient;
  before(async () => {
    w = startWorker();
    await w.ready;
  });
  after(async () => {
    await w.stop();
    fs.rmSync(tmpRoot, { recursive: true, force: true });
  });

  const cases: [string, ErrorCode, (dir: string) => void][] = [
    ['no manifest', 'MANIFEST_MISSING', (d) => fs.rmSync(path.join(d, 'manifest.json'))],
    ['manifest not JSON', 'MANIFEST_NOT_JSON', (d) => fs.writeFileSync(path.join(d, 'manifest.json'), '{"format": ')],
    ['another format', 'MANIFEST_WRONG_FORMAT', (d) => editManifest(d, (m) => (m['format'] = 'gguf'))],
    ['newer format version', 'MANIFEST_UNSUPPORTED_VERSION', (d) => editManifest(d, (m) => (m['formatVersion'] = MANIFEST_FORMAT_VERSION + 1))],
    ['capacity layout in a version-1 manifest', 'MANIFEST_INVALID', (d) => editManifest(d, (m) => (m['formatVersion'] = 1))],
    ['an unknown cache layout', 'MANIFEST_INVALID', (d) => editManifest(d, (m) => ((m['kvCache'] as { layout: string }).layout = 'paged'))],
    // the fixture's graph keeps a capacity cache: read as a concat graph it would be fed the wrong inputs
    ['a cache layout the graph does not have', 'GRAPH_CONTRACT', (d) => editManifest(d, (m) => ((m['kvCache'] as { layout: string }).layout = 'concat'))],
    ['missing field', 'MANIFEST_INVALID', (d) => editManifest(d, (m) => delete m['kvCache'])],
    ['path outside the folder', 'MANIFEST_INVALID', (d) => editManifest(d, (m) => (m['graph'] = '../model.onnx'))],
    ['named file absent', 'FILE_MISSING', (d) => fs.rmSync(path.join(d, 'config.json'))],
    ['file size differs', 'FILE_SIZE_MISMATCH', (d) => fs.appendFileSync(path.join(d, 'config.json'), ' ')],
    [
      'file hash differs',
      'FILE_HASH_MISMATCH',
      (d) => {
        const f = path.join(d, 'config.json');
        const b = fs.readFileSync(f);
        b[b.length - 2] = b[b.length - 2] === 0x20 ? 0x09 : 0x20;
        fs.writeFileSync(f, b);
      },
    ],
    [
      'special token id disagrees with the tokenizer',
      'MANIFEST_INVALID',
      (d) =>
        editManifest(d, (m) => {
          const st = m['specialTokens'] as Record<string, { id: number }>;
          st['fimMiddle']!.id = st['fimPrefix']!.id;
        }),
    ],
    [
      'graph does not match the manifest',
      'GRAPH_CONTRACT',
      (d) =>
        editManifest(d, (m) => {
          (m['kvCache'] as { numLayers: number }).numLayers += 1;
        }),
    ],
    // a million layers once gave a 77.5 MB message listing every missing input
    ['a million layers claimed', 'GRAPH_CONTRACT', (d) => editManifest(d, (m) => ((m['kvCache'] as { numLayers: number }).numLayers = 1e6))],
    // once sized the tokenizer's byte table: 1.37 GB and no answer
    ['vocabSize far above the graph\'s', 'GRAPH_CONTRACT', (d) => editManifest(d, (m) => (m['vocabSize'] = 6e8))],
    ['a manifest that is a FIFO', 'MANIFEST_INVALID', (d) => {
      fs.rmSync(path.join(d, 'manifest.json'));
      spawnSync('mkfifo', [path.join(d, 'manifest.json')]);
    }],
  ];

  for (const [name, code, change] of cases) {
    test(`${name}: ${code}`, async () => {
      const dir = brokenCopy(name.replace(/\W+/g, '-'), change);
      await assert.rejects(w.request('load', { modelDir: dir }), (e: unknown) => {
        assert.ok(isWorkerRequestError(e), String(e));
        assert.equal(e.code, code, e.message);
        assert.ok(e.message.includes(dir), `message names the folder: ${e.message}`);
        assert.ok(e.message.length <= MAX_ERROR_MESSAGE, `a short message: ${e.message.length} characters`);
        return true;
      });
    });
  }

  test('a relative model path is refused', async () => {
    await assert.rejects(w.request('load', { modelDir: 'models/tiny-fixture' }), (e: unknown) => isWorkerRequestError(e) && e.code === 'BAD_REQUEST');
  });

  test('requests before a model is loaded fail with NO_MODEL', async () => {
    const fresh = startWorker();
    try {
      await assert.rejects(fresh.request('tokenize', { text: 'x' }), (e: unknown) => isWorkerRequestError(e) && e.code === 'NO_MODEL');
    } finally {
      await fresh.stop();
    }
  });

  test('the worker survives a failed load and still loads a good folder', async () => {
    const info = await w.request('load', { modelDir: FIXTURE_DIR, threads: 1 });
    assert.equal(info.name, 'tiny-fixture');
  });

  test('threads above the documented 1..4 are clamped', async () => {
    const info = await w.request('load', { modelDir: FIXTURE_DIR, threads: 64 });
    assert.equal(info.threads, 4);
  });
});

const COMPLETE = {
  prompt: [{ kind: 'special', token: 'fimPrefix' }, { kind: 'text', text: 'let x = ' }, { kind: 'special', token: 'fimSuffix' }, { kind: 'special', token: 'fimMiddle' }],
  stop: { maxTokens: 4, maxLines: 1 },
} as const;

describe('switching models in the worker', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-folders-'));
  let w: WorkerClient;
  before(async () => {
    w = startWorker();
    await w.request('load', { modelDir: FIXTURE_DIR, threads: 1 });
  });
  after(async () => {
    await w.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** A fixture copy that also lists a sparse file of `mb` MB with a wrong hash: its load fails only after reading it all. */
  function withWrongBigFile(name: string, mb: number): string {
    return brokenCopy(name, (d) => {
      fs.writeFileSync(path.join(d, 'big.bin'), '');
      fs.truncateSync(path.join(d, 'big.bin'), mb << 20);
      editManifest(d, (m) => ((m['files'] as Record<string, unknown>)['big.bin'] = { bytes: mb << 20, sha256: 'f'.repeat(64) }));
    }, root);
  }

  test('a hash mismatch in a file over 64 MB fails the load, and the old model keeps serving', async () => {
    const dir = withWrongBigFile('big-wrong-hash', 65);
    await assert.rejects(w.request('load', { modelDir: dir, threads: 1 }), (e: unknown) => isWorkerRequestError(e) && e.code === 'FILE_HASH_MISMATCH');
    const r = await w.request('complete', COMPLETE);
    assert.ok(r.timings.generatedTokens >= 1);
    assert.equal((await w.request('stats', {})).model, 'tiny-fixture');
  });

  test('of overlapping loads, a later one that fails leaves the earlier one to serve', async () => {
    // a restart reloading the model while a switch to a broken folder fails: the worker once dropped the reload
    // as superseded and was left with no model
    const mb = 128;
    const zeros = crypto.createHash('sha256');
    for (let i = 0; i < mb; i++) zeros.update(Buffer.alloc(1 << 20));
    const slowGood = brokenCopy('slow-good', (d) => {
      fs.writeFileSync(path.join(d, 'big.bin'), '');
      fs.truncateSync(path.join(d, 'big.bin'), mb << 20);
      editManifest(d, (m) => {
        m['name'] = 'slow-good';
        (m['files'] as Record<string, unknown>)['big.bin'] = { bytes: mb << 20, sha256: zeros.digest('hex') };
      });
    }, root);
    const broken = brokenCopy('broken-later', (d) => fs.writeFileSync(path.join(d, 'manifest.json'), '{"format": '), root);
    const fresh = startWorker();
    try {
      const first = fresh.request('load', { modelDir: slowGood, threads: 1 });
      await assert.rejects(fresh.request('load', { modelDir: broken, threads: 1 }), (e: unknown) => isWorkerRequestError(e) && e.code === 'MANIFEST_NOT_JSON');
      assert.equal((await first).name, 'slow-good');
      assert.equal((await fresh.request('stats', {})).model, 'slow-good');
    } finally {
      await fresh.stop();
    }
  });

  test('the old model answers completions while a new one loads', async () => {
    const dir = withWrongBigFile('slow-load', 256);
    const order: string[] = [];
    const loading = w.request('load', { modelDir: dir, threads: 1 }).then(
      () => order.push('load'),
      () => order.push('load'),
    );
    await new Promise((r) => setTimeout(r, 20));
    const r = await w.request('complete', COMPLETE);
    order.push('complete');
    await loading;
    assert.ok(r.timings.generatedTokens >= 1);
    assert.deepEqual(order, ['complete', 'load'], 'the completion did not wait for the load');
  });
});

/** Inodes of the sockets a process holds. */
function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]!);
    } catch {
      // fd closed meanwhile
    }
  }
  return out;
}

function inetInodes(): Set<string> {
  const out = new Set<string>();
  for (const table of ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6']) {
    let text = '';
    try {
      text = fs.readFileSync(`/proc/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9) out.add(cols[9]!);
    }
  }
  return out;
}

describe('privacy', { skip: process.platform !== 'linux' && 'needs /proc' }, () => {
  test('the worker opens no network socket and onnxruntime writes no telemetry', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-home-'));
    const w = startWorker({ env: { HOME: home, XDG_CONFIG_HOME: home, XDG_CACHE_HOME: home, XDG_DATA_HOME: home, TMPDIR: home } });
    try {
      const pid = await w.ready;
      await w.request('load', { modelDir: FIXTURE_DIR, threads: 1 });
      await w.request('complete', {
        prompt: [{ kind: 'special', token: 'fimPrefix' }, { kind: 'text', text: 'let x = ' }, { kind: 'special', token: 'fimSuffix' }, { kind: 'special', token: 'fimMiddle' }],
        stop: { maxTokens: 8, maxLines: 1 },
      });
      const sockets = socketInodes(pid);
      const inet = inetInodes();
      const network = [...sockets].filter((s) => inet.has(s));
      assert.deepEqual(network, [], 'no TCP/UDP/raw sockets');
      assert.deepEqual(fs.readdirSync(home), [], 'nothing written under HOME, XDG dirs or TMPDIR');
    } finally {
      await w.stop();
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
