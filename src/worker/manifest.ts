/**
 * Reads and validates a model folder's manifest.json (format `ultramem-complete-model`, versions 1 and 2,
 * see models/README.md) and checks its files before the model serves. Every failure is a WorkerError with a code
 * and a message naming the folder.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FimTemplate, SpecialTokenName } from '../shared/protocol';
import { WorkerError } from './errors';

export const MANIFEST_FORMAT = 'ultramem-complete-model';
/** Version 2 adds kvCache.layout "capacity"; a version-1 manifest is read as the "concat" layout. */
export const MANIFEST_FORMAT_VERSION = 2;

export const SPECIAL_TOKEN_NAMES: readonly SpecialTokenName[] = [
  'fimPrefix',
  'fimSuffix',
  'fimMiddle',
  'endOfText',
  'fileSeparator',
];

/**
 * How the graph keeps its KV cache (models/README.md): "concat" takes the past [1, H, P, D] and returns it with the
 * new tokens appended; "capacity" takes buffers [1, H, contextLength, D] and a past_length, and writes the new
 * tokens into the buffers in place.
 */
export type KvLayout = 'concat' | 'capacity';

export interface KvCacheSpec {
  readonly numLayers: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly dtype: 'float32';
  readonly layout: KvLayout;
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

/**
 * A relative path that stays inside the folder by the rules of every platform, so that a model folder means the same
 * on Linux, macOS and Windows: absolute for POSIX or for Windows (`/…`, `\\…`, `C:\…`, and the drive-relative `C:…`)
 * or climbing with `..` (either separator) is refused everywhere.
 */
function insidePath(dir: string, rel: string, key: string): string {
  if (path.posix.isAbsolute(rel) || path.win32.isAbsolute(rel) || /^[A-Za-z]:/.test(rel) || rel.split(/[\\/]/).includes('..')) {
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
    layout: kv['layout'] === undefined ? 'concat' : (kv['layout'] as KvLayout),
  };
  if (kv['dtype'] !== 'float32') throw invalid(dir, `"kvCache.dtype" must be "float32", got ${JSON.stringify(kv['dtype'])}`);
  if (kvCache.layout !== 'concat' && kvCache.layout !== 'capacity') {
    throw invalid(dir, `"kvCache.layout" must be "concat" or "capacity", got ${JSON.stringify(kv['layout']).slice(0, 40)}`);
  }
  if (kvCache.layout === 'capacity' && version < 2) throw invalid(dir, '"kvCache.layout" "capacity" needs formatVersion 2');

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

/** The most bytes read from manifest.json; a real one is about 2 KB. */
export const MAX_MANIFEST_BYTES = 1 << 20;
/** The most bytes read from config.json or tokenizer.json as text (the shipped tokenizer is about 1 MB). */
export const MAX_TEXT_FILE_BYTES = 64 << 20;
/** No model we ship or train comes near this; it bounds the prompt and the KV cache whatever the config says. */
export const MAX_CONTEXT_LENGTH = 65_536;

/** Reads a regular file as UTF-8, refusing anything larger than maxBytes (a FIFO or device is refused too). */
export async function readBoundedText(file: string, maxBytes: number): Promise<string> {
  const handle = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new Error(`${file} is not a regular file`);
    if (st.size > maxBytes) throw new Error(`${file} has ${st.size} bytes, more than the ${maxBytes} allowed`);
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await handle.read(buf, 0, st.size, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * The external-data files an ONNX graph names. Each one is a StringStringEntryProto {key: "location", value: FILE}
 * inside a TensorProto: field 1 (tag 0x0a), length 8, "location", then field 2 (tag 0x12), length, the file name.
 * Scanning for that byte pattern finds them without an ONNX parser; a stray match only makes us demand a listed file.
 */
export function externalDataLocations(bytes: Buffer): string[] {
  const key = Buffer.from('\x0a\x08location\x12', 'latin1');
  const out = new Set<string>();
  for (let i = bytes.indexOf(key); i >= 0; i = bytes.indexOf(key, i + 1)) {
    const len = bytes[i + key.length];
    if (len === undefined || len === 0 || len > 127) continue; // names over 127 bytes would need a longer varint
    out.add(bytes.subarray(i + key.length + 1, i + key.length + 1 + len).toString('utf8'));
  }
  return [...out];
}

/** sha256 of a file, read in chunks (the worker keeps serving meanwhile), and the external-data names in it. */
async function hashAndScan(file: string, scan: boolean): Promise<{ sha256: string; externalData: string[] }> {
  const hash = crypto.createHash('sha256');
  const external = new Set<string>();
  // A pattern may straddle two chunks: keep the tail of the previous one (an entry is at most 10 + 1 + 127 bytes).
  let tail = Buffer.alloc(0);
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    if (!scan) continue;
    const window = Buffer.concat([tail, chunk]);
    for (const name of externalDataLocations(window)) external.add(name);
    tail = window.subarray(Math.max(0, window.length - 160));
  }
  return { sha256: hash.digest('hex'), externalData: [...external] };
}

/** The real path of `rel` inside the real folder `realDir`; a link that leads out of the folder is refused. */
async function realInside(dir: string, realDir: string, rel: string): Promise<string> {
  const real = await fs.promises.realpath(path.join(dir, rel));
  if (!real.startsWith(realDir + path.sep)) throw invalid(dir, `"${rel}" leads outside the folder (to ${real})`);
  return real;
}

/**
 * Reads, validates and checks the files of a model folder: every read is asynchronous and bounded, every listed
 * file has its size and sha256 checked, files resolve (links included) inside the folder, the external data the
 * graphs name is listed, and contextLength is within the model's config. Throws WorkerError.
 */
export async function loadManifest(dir: string): Promise<LoadedManifest> {
  let text: string;
  try {
    text = await readBoundedText(path.join(dir, 'manifest.json'), MAX_MANIFEST_BYTES);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw new WorkerError('MANIFEST_MISSING', `Model folder ${dir} has no readable manifest.json`);
    throw invalid(dir, `cannot be read: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new WorkerError('MANIFEST_NOT_JSON', `Model folder ${dir}: manifest.json is not valid JSON (${(e as Error).message})`);
  }
  const manifest = parseManifest(dir, raw);
  const realDir = await fs.promises.realpath(dir);
  const graphs = new Set([manifest.graph, manifest.floatGraph].filter((g): g is string => g !== undefined));
  for (const [rel, entry] of Object.entries(manifest.files)) {
    let real: string;
    let size: number;
    try {
      real = await realInside(dir, realDir, rel);
      const st = await fs.promises.stat(real);
      if (!st.isFile()) throw invalid(dir, `"${rel}" is not a regular file`);
      size = st.size;
    } catch (e) {
      if (e instanceof WorkerError) throw e;
      throw new WorkerError('FILE_MISSING', `Model folder ${dir}: ${rel} is listed in manifest.json but missing`);
    }
    if (size !== entry.bytes) {
      throw new WorkerError('FILE_SIZE_MISMATCH', `Model folder ${dir}: ${rel} has ${size} bytes, manifest says ${entry.bytes} (truncated or replaced file)`);
    }
    const { sha256, externalData } = await hashAndScan(real, graphs.has(rel));
    if (sha256 !== entry.sha256) {
      throw new WorkerError('FILE_HASH_MISMATCH', `Model folder ${dir}: ${rel} has sha256 ${sha256}, manifest says ${entry.sha256} (corrupt or replaced file)`);
    }
    for (const name of externalData) {
      const data = path.posix.normalize(path.posix.join(path.posix.dirname(rel), name));
      if (manifest.files[data] === undefined) throw invalid(dir, `does not list "${data}", external data of the graph ${rel}`);
    }
  }
  await checkContextLength(dir, manifest);
  return { dir, manifest };
}

/** contextLength may not exceed the context the model was trained for (config.json's context_length). */
async function checkContextLength(dir: string, manifest: Manifest): Promise<void> {
  let config: unknown;
  try {
    config = JSON.parse(await readBoundedText(path.join(dir, manifest.config), MAX_TEXT_FILE_BYTES));
  } catch (e) {
    throw invalid(dir, `names config "${manifest.config}", which is not readable JSON (${(e as Error).message})`);
  }
  const trained = isObject(config) ? config['context_length'] : undefined;
  const max = typeof trained === 'number' && Number.isInteger(trained) && trained > 0 ? Math.min(trained, MAX_CONTEXT_LENGTH) : MAX_CONTEXT_LENGTH;
  if (manifest.contextLength > max) {
    throw invalid(dir, `"contextLength" ${manifest.contextLength} exceeds the model's ${max} (${manifest.config} context_length, at most ${MAX_CONTEXT_LENGTH})`);
  }
}
