// What a VSIX holds, read without unpacking tools: a zip reader (central directory + inflate) and the format and
// CPU architecture of native binaries from their headers (ELF e_machine, Mach-O cputype, PE Machine). Used by
// scripts/package.mjs to check every VSIX it writes and by test/package/vsix.test.mjs.
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';

/** The six VS Code targets we package, with the native format and architecture each must contain. */
export const TARGETS = {
  'linux-x64': { format: 'elf', arch: 'x64' },
  'linux-arm64': { format: 'elf', arch: 'arm64' },
  'darwin-x64': { format: 'mach-o', arch: 'x64' },
  'darwin-arm64': { format: 'mach-o', arch: 'arm64' },
  'win32-x64': { format: 'pe', arch: 'x64' },
  'win32-arm64': { format: 'pe', arch: 'arm64' },
};

const ELF_MACHINES = { 0x03: 'ia32', 0x28: 'arm', 0x3e: 'x64', 0xb7: 'arm64' };
const MACHO_CPUS = { 0x00000007: 'ia32', 0x01000007: 'x64', 0x0000000c: 'arm', 0x0100000c: 'arm64' };
const PE_MACHINES = { 0x014c: 'ia32', 0x8664: 'x64', 0xaa64: 'arm64', 0x01c4: 'arm' };

/**
 * The format and architecture of a native binary from its first bytes, or null for anything else.
 * A universal (fat) Mach-O reports arch 'universal' and the architectures it holds in `archs`.
 * @param {Buffer} b
 * @returns {{ format: 'elf' | 'mach-o' | 'pe', arch: string, archs?: string[] } | null}
 */
export function nativeKind(b) {
  if (b.length >= 20 && b.readUInt32BE(0) === 0x7f454c46) {
    const le = b[5] === 1;
    const machine = le ? b.readUInt16LE(18) : b.readUInt16BE(18);
    return { format: 'elf', arch: ELF_MACHINES[machine] ?? `elf-machine-0x${machine.toString(16)}` };
  }
  if (b.length >= 8 && (b.readUInt32LE(0) === 0xfeedfacf || b.readUInt32LE(0) === 0xfeedface)) {
    const cpu = b.readUInt32LE(4);
    return { format: 'mach-o', arch: MACHO_CPUS[cpu] ?? `mach-o-cpu-0x${cpu.toString(16)}` };
  }
  if (b.length >= 8 && b.readUInt32BE(0) === 0xcafebabe && b.readUInt32BE(4) < 32) {
    // fat header: big-endian count, then 20-byte entries starting with the cputype (Java class files share the
    // magic but have a version number far above 32 there)
    const archs = [];
    for (let i = 0; i < b.readUInt32BE(4) && 8 + 20 * i + 4 <= b.length; i++) {
      const cpu = b.readUInt32BE(8 + 20 * i);
      archs.push(MACHO_CPUS[cpu] ?? `mach-o-cpu-0x${cpu.toString(16)}`);
    }
    return { format: 'mach-o', arch: 'universal', archs };
  }
  if (b.length >= 0x40 && b.readUInt16LE(0) === 0x5a4d) {
    const pe = b.readUInt32LE(0x3c);
    if (pe + 6 <= b.length && b.readUInt32LE(pe) === 0x00004550) {
      const machine = b.readUInt16LE(pe + 4);
      return { format: 'pe', arch: PE_MACHINES[machine] ?? `pe-machine-0x${machine.toString(16)}` };
    }
  }
  return null;
}

const MACHO_DYLIB_COMMANDS = new Set([0xc, 0x20, 0x80000018, 0x8000001f, 0x80000023]); // LC_(LAZY_|WEAK_|REEXPORT_|UPWARD_)LOAD_DYLIB

/**
 * The libraries a 64-bit Mach-O file loads (its LC_*LOAD_DYLIB commands, e.g. `@rpath/libonnxruntime.1.dylib`;
 * not its own LC_ID_DYLIB). A VSIX must hold the `@rpath/` and `@loader_path/` ones next to the file.
 * @param {Buffer} b the whole file
 */
export function machODependencies(b) {
  if (b.length < 32 || b.readUInt32LE(0) !== 0xfeedfacf) return [];
  const deps = [];
  let p = 32;
  for (let i = 0; i < b.readUInt32LE(16) && p + 8 <= b.length; i++) {
    const cmd = b.readUInt32LE(p);
    const size = b.readUInt32LE(p + 4);
    if (MACHO_DYLIB_COMMANDS.has(cmd)) {
      const start = p + b.readUInt32LE(p + 8);
      deps.push(b.toString('utf8', start, b.indexOf(0, start)));
    }
    p += size;
  }
  return deps;
}

/** File names that must be native binaries wherever they appear. */
export const NATIVE_NAME = /\.(node|so(\.\d+)*|dylib|dll|exe)$/i;

/**
 * The entries of a zip file (stored or deflated; no zip64, which a VSIX under 4 GB does not need).
 * @param {string} file
 * @returns {{ name: string, size: number, read: () => Buffer }[]}
 */
export function zipEntries(file) {
  const zip = fs.readFileSync(file);
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file} is not a zip file (no end of central directory)`);
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  const entries = [];
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${n}`);
    const method = zip.readUInt16LE(p + 10);
    const compressed = zip.readUInt32LE(p + 20);
    const size = zip.readUInt32LE(p + 24);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const name = zip.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    const read = () => {
      if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error(`${file}: bad local header for ${name}`);
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + compressed);
      if (method === 0) return data;
      if (method === 8) return zlib.inflateRawSync(data);
      throw new Error(`${file}: ${name} uses compression method ${method}`);
    };
    entries.push({ name, size, read });
  }
  return entries;
}

/**
 * Checks one VSIX for a target: at most `maxBytes`, a bundled model (manifest and the graph it names) and no test
 * model, the extension's bundles and the files its package.json names, onnxruntime's binding and the tokenizer's
 * binding, every native file in the target's own format and architecture, and (Mach-O) the libraries each loads
 * from its own folder next to it. Returns the problems (empty when it is fine) and what it found.
 * @param {string} file
 * @param {string} target one of TARGETS
 * @param {{ maxBytes?: number, testModels?: Iterable<string> }} [opts]
 */
export function checkVsix(file, target, opts = {}) {
  const want = TARGETS[target];
  if (!want) throw new Error(`unknown target ${target}`);
  const maxBytes = opts.maxBytes ?? 200 * 1024 * 1024;
  const problems = [];
  const bytes = fs.statSync(file).size;
  if (bytes > maxBytes) problems.push(`${bytes} bytes, over the limit of ${maxBytes}`);
  const entries = zipEntries(file);
  const names = new Set(entries.map((e) => e.name));
  const natives = [];
  for (const e of entries) {
    // the first 4 KB hold every header read here (PE's e_lfanew points well inside them)
    const kind = e.size >= 64 ? nativeKind(e.read().subarray(0, 4096)) : null;
    if (!kind) {
      if (NATIVE_NAME.test(e.name)) problems.push(`${e.name} is named like a native binary but is none`);
      continue;
    }
    natives.push({ name: e.name, ...kind });
    if (kind.format !== want.format || kind.arch !== want.arch) problems.push(`${e.name} is ${kind.format} ${kind.arch}${kind.archs ? ` (${kind.archs.join(', ')})` : ''}, not ${want.format} ${want.arch}`);
    for (const dep of kind.format === 'mach-o' ? machODependencies(e.read()) : []) {
      const bundled = /^@(rpath|loader_path)\/(.+)$/.exec(dep);
      const next = bundled && `${e.name.slice(0, e.name.lastIndexOf('/') + 1)}${bundled[2]}`;
      if (next && !names.has(next)) problems.push(`${e.name} loads ${dep}, which is not next to it`);
    }
  }
  for (const required of ['extension/package.json', 'extension/dist/extension.js', 'extension/dist/worker.js']) {
    if (!names.has(required)) problems.push(`no ${required}`);
  }
  if (names.has('extension/package.json')) {
    // files the manifest names: the icon and the walkthrough's pages
    const manifest = JSON.parse(entries.find((e) => e.name === 'extension/package.json').read().toString('utf8'));
    const named = [manifest.icon, ...(manifest.contributes?.walkthroughs ?? []).flatMap((w) => w.steps.map((s) => s.media?.markdown ?? s.media?.image))];
    for (const f of named.filter(Boolean)) if (!names.has(`extension/${f}`)) problems.push(`no ${f}, which package.json names`);
  }
  if (!natives.some((n) => n.name.endsWith('/onnxruntime_binding.node'))) problems.push('no onnxruntime_binding.node');
  if (!natives.some((n) => /\/tokenizers\.[^/]+\.node$/.test(n.name))) problems.push('no tokenizers binding');
  const models = [...names].filter((n) => /^extension\/models\/[^/]+\/manifest\.json$/.test(n)).map((n) => n.split('/')[2]);
  if (models.length === 0) problems.push('no bundled model');
  for (const m of models) {
    const manifest = JSON.parse(entries.find((e) => e.name === `extension/models/${m}/manifest.json`).read().toString('utf8'));
    if (manifest.format !== 'ultramem-complete-model') {
      problems.push(`models/${m}/manifest.json is not a model manifest`);
      continue;
    }
    for (const f of [manifest.graph, manifest.tokenizer]) if (!names.has(`extension/models/${m}/${f}`)) problems.push(`model ${m} lacks ${f}`);
  }
  const testModels = new Set(opts.testModels ?? []);
  const folders = new Set([...names].filter((n) => n.startsWith('extension/models/')).map((n) => n.split('/')[2]));
  for (const f of folders) if (testModels.has(f)) problems.push(`test model ${f} is bundled`);
  return { problems, bytes, natives, models };
}
