/**
 * Reads and validates a model folder's manifest.json (format `ultramem-complete-model`, version 1,
 * see models/README.md). Every failure is a WorkerError with a code and a message naming the folder.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FimTemplate, SpecialTokenName } from './protocol';
import { WorkerError } from './errors';

export const MANIFEST_FORMAT = 'ultramem-complete-model';
export const MANIFEST_FORMAT_VERSION = 1;
/** Files above this size get their sha256 checked lazily (after the model is serving). */
export const EAGER_HASH_LIMIT_BYTES = 64 * 1024 * 1024;

export const SPECIAL_TOKEN_NAMES: readonly SpecialTokenName[] = [
  'fimPrefix',
  'fimSuffix',
  'fimMiddle',
  'endOfText',
  'fileSeparator',
];

export interface KvCacheSpec {
  readonly numLayers: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly dtype: 'float32';
}

export interface FileEntry {
  readonly bytes: number;
  readonly sha256: string;
}

export interface Manifest {
  readonly format: string;
  readonly formatVersion: number;
  readonly name: string;
  readonly displayName: string;
  readonly description: string;
  readonly architecture: 'ultramem' | 'dense' | 'moe';
  readonly graph: string;
  readonly floatGraph?: string;
  readonly tokenizer: string;
  readonly config: string;
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly kvCache: KvCacheSpec;
  readonly specialTokens: Readonly<Record<SpecialTokenName, { text: string; id: number }>>;
  readonly fim: { readonly template: FimTemplate };
  readonly stopTokenIds: readonly number[];
  readonly files: Readonly<Record<string, FileEntry>>;
}

export interface LoadedManifest {
  readonly dir: string;
  readonly manifest: Manifest;
  /** Files whose sha256 was not checked at load time (too large); check them with verifyDeferredHashes. */
  readonly deferredHashes: readonly string[];
}

type Json = Record<string, unknown>;

function invalid(dir: string, what: string): WorkerError {
  return new WorkerError('MANIFEST_INVALID', `Model folder ${dir}: manifest.json ${what}`);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(dir: string, o: Json, key: string, optional = false): string | undefined {
  const v = o[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw invalid(dir, `needs a non-empty string "${key}"`);
  return v;
}

function posInt(dir: string, o: Json, key: string, where = ''): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw invalid(dir, `needs a positive integer "${where}${key}"`);
  }
  return v;
}

/** A relative path that stays inside the folder. */
function insidePath(dir: string, rel: string, key: string): string {
  if (path.isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) {
    throw invalid(dir, `"${key}" must be a relative path inside the folder, got "${rel}"`);
  }
  return rel;
}

function parseManifest(dir: string, raw: unknown): Manifest {
  if (!isObject(raw)) throw new WorkerError('MANIFEST_NOT_JSON', `Model folder ${dir}: manifest.json is not a JSON object`);
  if (raw['format'] !== MANIFEST_FORMAT) {
    throw new WorkerError(
      'MANIFEST_WRONG_FORMAT',
      `Model folder ${dir}: manifest.json has format ${JSON.stringify(raw['format'])}, expected "${MANIFEST_FORMAT}"`,
    );
  }
  const version = raw['formatVersion'];
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw invalid(dir, 'needs an integer "formatVersion"');
  }
  if (version > MANIFEST_FORMAT_VERSION) {
    throw new WorkerError(
      'MANIFEST_UNSUPPORTED_VERSION',
      `Model folder ${dir}: manifest formatVersion ${version} is newer than this extension supports (${MANIFEST_FORMAT_VERSION}); update the extension`,
    );
  }
  const name = str(dir, raw, 'name')!;
  if (!/^[a-z0-9-]+$/.test(name)) throw invalid(dir, `"name" must match [a-z0-9-]+, got "${name}"`);
  const architecture = str(dir, raw, 'architecture')!;
  if (!['ultramem', 'dense', 'moe'].includes(architecture)) {
    throw invalid(dir, `"architecture" must be ultramem, dense or moe, got "${architecture}"`);
  }
  const graph = insidePath(dir, str(dir, raw, 'graph')!, 'graph');
  const floatGraphRaw = str(dir, raw, 'floatGraph', true);
  const floatGraph = floatGraphRaw === undefined ? undefined : insidePath(dir, floatGraphRaw, 'floatGraph');
  const tokenizer = insidePath(dir, str(dir, raw, 'tokenizer')!, 'tokenizer');
  const config = insidePath(dir, str(dir, raw, 'config')!, 'config');
  const vocabSize = posInt(dir, raw, 'vocabSize');
  const contextLength = posInt(dir, raw, 'contextLength');

  const kv = raw['kvCache'];
  if (!isObject(kv)) throw invalid(dir, 'needs an object "kvCache"');
  const kvCache: KvCacheSpec = {
    numLayers: posInt(dir, kv, 'numLayers', 'kvCache.'),
    numKvHeads: posInt(dir, kv, 'numKvHeads', 'kvCache.'),
    headDim: posInt(dir, kv, 'headDim', 'kvCache.'),
    dtype: 'float32',
  };
  if (kv['dtype'] !== 'float32') throw invalid(dir, `"kvCache.dtype" must be "float32", got ${JSON.stringify(kv['dtype'])}`);

  const st = raw['specialTokens'];
  if (!isObject(st)) throw invalid(dir, 'needs an object "specialTokens"');
  const specialTokens = {} as Record<SpecialTokenName, { text: string; id: number }>;
  for (const key of SPECIAL_TOKEN_NAMES) {
    const t = st[key];
    if (!isObject(t) || typeof t['text'] !== 'string' || typeof t['id'] !== 'number' || !Number.isInteger(t['id'])) {
      throw invalid(dir, `needs "specialTokens.${key}" with a string "text" and an integer "id"`);
    }
    if (t['id'] < 0 || t['id'] >= vocabSize) throw invalid(dir, `"specialTokens.${key}.id" ${t['id']} is not below vocabSize ${vocabSize}`);
    specialTokens[key] = { text: t['text'], id: t['id'] };
  }

  const fim = raw['fim'];
  if (!isObject(fim) || (fim['template'] !== 'psm' && fim['template'] !== 'spm')) {
    throw invalid(dir, 'needs "fim": {"template": "psm"} or {"template": "spm"}');
  }
  const template: FimTemplate = fim['template'];

  const stop = raw['stopTokenIds'];
  if (!Array.isArray(stop) || stop.length === 0 || !stop.every((x) => Number.isInteger(x) && x >= 0 && x < vocabSize)) {
    throw invalid(dir, `needs a non-empty array "stopTokenIds" of ids below vocabSize ${vocabSize}`);
  }

  const files = raw['files'];
  if (!isObject(files)) throw invalid(dir, 'needs an object "files"');
  const fileEntries: Record<string, FileEntry> = {};
  for (const [rel, entry] of Object.entries(files)) {
    insidePath(dir, rel, `files.${rel}`);
    if (!isObject(entry) || typeof entry['bytes'] !== 'number' || typeof entry['sha256'] !== 'string' || !/^[0-9a-f]{64}$/i.test(entry['sha256'])) {
      throw invalid(dir, `"files.${rel}" needs "bytes" (number) and "sha256" (64 hex digits)`);
    }
    fileEntries[rel] = { bytes: entry['bytes'], sha256: entry['sha256'].toLowerCase() };
  }
  for (const [key, rel] of [['graph', graph], ['floatGraph', floatGraph], ['tokenizer', tokenizer], ['config', config]] as const) {
    if (rel !== undefined && fileEntries[rel] === undefined) throw invalid(dir, `names "${key}": "${rel}" but "files" has no entry for it`);
  }

  return {
    format: MANIFEST_FORMAT,
    formatVersion: version,
    name,
    displayName: str(dir, raw, 'displayName', true) ?? name,
    description: str(dir, raw, 'description', true) ?? '',
    architecture: architecture as Manifest['architecture'],
    graph,
    ...(floatGraph === undefined ? {} : { floatGraph }),
    tokenizer,
    config,
    vocabSize,
    contextLength,
    kvCache,
    specialTokens,
    fim: { template },
    stopTokenIds: stop as number[],
    files: fileEntries,
  };
}

export function sha256File(file: string): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

function checkHash(dir: string, rel: string, entry: FileEntry): void {
  const actual = sha256File(path.join(dir, rel));
  if (actual !== entry.sha256) {
    throw new WorkerError('FILE_HASH_MISMATCH', `Model folder ${dir}: ${rel} has sha256 ${actual}, manifest says ${entry.sha256} (corrupt or replaced file)`);
  }
}

/** Reads, validates and checks the files of a model folder. Throws WorkerError. */
export function loadManifest(dir: string): LoadedManifest {
  const file = path.join(dir, 'manifest.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new WorkerError('MANIFEST_MISSING', `Model folder ${dir} has no readable manifest.json`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new WorkerError('MANIFEST_NOT_JSON', `Model folder ${dir}: manifest.json is not valid JSON (${(e as Error).message})`);
  }
  const manifest = parseManifest(dir, raw);
  const deferred: string[] = [];
  for (const [rel, entry] of Object.entries(manifest.files)) {
    const abs = path.join(dir, rel);
    let size: number;
    try {
      size = fs.statSync(abs).size;
    } catch {
      throw new WorkerError('FILE_MISSING', `Model folder ${dir}: ${rel} is listed in manifest.json but missing`);
    }
    if (size !== entry.bytes) {
      throw new WorkerError('FILE_SIZE_MISMATCH', `Model folder ${dir}: ${rel} has ${size} bytes, manifest says ${entry.bytes} (truncated or replaced file)`);
    }
    if (size > EAGER_HASH_LIMIT_BYTES) deferred.push(rel);
    else checkHash(dir, rel, entry);
  }
  return { dir, manifest, deferredHashes: deferred };
}

function sha256FileAsync(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = crypto.createHash('sha256');
    fs.createReadStream(file, { highWaterMark: 1 << 20 })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/**
 * Checks the sha256 of files skipped at load time, reading in chunks so the worker keeps serving
 * meanwhile; rejects with FILE_HASH_MISMATCH.
 */
export async function verifyDeferredHashes(loaded: LoadedManifest): Promise<void> {
  for (const rel of loaded.deferredHashes) {
    const entry = loaded.manifest.files[rel];
    if (!entry) continue;
    const actual = await sha256FileAsync(path.join(loaded.dir, rel));
    if (actual !== entry.sha256) {
      throw new WorkerError('FILE_HASH_MISMATCH', `Model folder ${loaded.dir}: ${rel} has sha256 ${actual}, manifest says ${entry.sha256} (corrupt or replaced file)`);
    }
  }
}
