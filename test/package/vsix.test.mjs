// The per-platform VSIXs (scripts/package.mjs): the header reader names every native binary that npm gave us for
// all platforms correctly, the zip reader reads what Python's zipfile writes, each packaged VSIX holds a model and
// only its own platform's native binaries, and the onnxruntime that the darwin-x64 VSIX carries (1.23.2) runs the
// shipped model as 1.30.0 does.
//   node --test test/package/vsix.test.mjs     checks dist/ultramem-complete-<t>.vsix for each t in
//                                               $ULTRAMEM_VSIX_TARGETS (comma-separated; default linux-x64)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NATIVES, runtimeModules, TEST_MODELS } from '../../scripts/package.mjs';
import { checkVsix, machODependencies, nativeKind, TARGETS, zipEntries } from '../../scripts/vsix.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MODULES = path.join(ROOT, 'node_modules');
const head = (file) => {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(4096);
    return b.subarray(0, fs.readSync(fd, b, 0, b.length, 0));
  } finally {
    fs.closeSync(fd);
  }
};

test('the header reader names the format and CPU of every native binary in onnxruntime-node and tokenizers', () => {
  const os2format = { linux: 'elf', android: 'elf', darwin: 'mach-o', win32: 'pe' };
  const seen = new Set();
  const ortBin = path.join(MODULES, 'onnxruntime-node', 'bin', 'napi-v6');
  for (const platform of fs.readdirSync(ortBin)) {
    for (const arch of fs.readdirSync(path.join(ortBin, platform))) {
      for (const f of fs.readdirSync(path.join(ortBin, platform, arch))) {
        assert.deepEqual(nativeKind(head(path.join(ortBin, platform, arch, f))), { format: os2format[platform], arch }, `${platform}/${arch}/${f}`);
        seen.add(`${os2format[platform]} ${arch}`);
      }
    }
  }
  // tokenizers.<platform>-<arch>[-abi].node, napi-rs names: arm = 32-bit ARM, ia32 = 32-bit x86
  for (const f of fs.readdirSync(path.join(MODULES, 'tokenizers')).filter((n) => n.endsWith('.node'))) {
    const [platform, arch] = f.split('.')[1].split('-');
    const kind = nativeKind(head(path.join(MODULES, 'tokenizers', f)));
    if (arch === 'universal') assert.deepEqual(kind, { format: 'mach-o', arch: 'universal', archs: ['x64', 'arm64'] }, f);
    else assert.deepEqual(kind, { format: os2format[platform], arch }, f);
    seen.add(`${kind.format} ${kind.arch}`);
  }
  for (const { format, arch } of Object.values(TARGETS)) {
    // darwin x64 is in tokenizers only (onnxruntime-node 1.30.0 dropped it), and that counts
    assert.ok(seen.has(`${format} ${arch}`), `a ${format} ${arch} binary was examined`);
  }
  // the macOS binding loads its library through @rpath (the VSIX check needs it next to the binding)
  assert.deepEqual(machODependencies(fs.readFileSync(path.join(ortBin, 'darwin', 'arm64', 'onnxruntime_binding.node'))).filter((d) => d.startsWith('@')), ['@rpath/libonnxruntime.1.dylib']);
  assert.equal(nativeKind(head(path.join(ROOT, 'package.json'))), null);
  assert.equal(nativeKind(head(path.join(ROOT, 'media', 'icon.png'))), null);
});

test('the zip reader reads stored and deflated entries as Python zipfile wrote them', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-zip-'));
  try {
    const zip = path.join(dir, 't.zip');
    const script = `import zipfile,sys
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr(zipfile.ZipInfo('a/stored.txt'), 'plain text', compress_type=zipfile.ZIP_STORED)
    z.writestr('b/deflated.txt', 'x' * 10000 + 'end', compress_type=zipfile.ZIP_DEFLATED)
    z.comment = b'a comment after the central directory'`;
    const r = spawnSync('python3', ['-c', script, zip], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const entries = zipEntries(zip);
    assert.deepEqual(entries.map((e) => [e.name, e.size]), [['a/stored.txt', 10], ['b/deflated.txt', 10003]]);
    assert.equal(entries[0].read().toString(), 'plain text');
    assert.equal(entries[1].read().toString(), `${'x'.repeat(10000)}end`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a VSIX whose macOS binding lacks the library it loads, and has no model, fails the check', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-zip-'));
  try {
    const vsix = path.join(dir, 'broken.vsix');
    const binding = path.join(MODULES, 'onnxruntime-node', 'bin', 'napi-v6', 'darwin', 'arm64', 'onnxruntime_binding.node');
    const script = `import zipfile,sys
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.write(sys.argv[2], 'extension/dist/node_modules/onnxruntime-node/bin/napi-v6/darwin/arm64/onnxruntime_binding.node')`;
    const r = spawnSync('python3', ['-c', script, vsix, binding], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const { problems } = checkVsix(vsix, 'darwin-arm64');
    assert.ok(problems.includes('extension/dist/node_modules/onnxruntime-node/bin/napi-v6/darwin/arm64/onnxruntime_binding.node loads @rpath/libonnxruntime.1.dylib, which is not next to it'), problems.join('\n'));
    assert.ok(problems.includes('no bundled model') && problems.includes('no tokenizers binding'), problems.join('\n'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const targets = (process.env.ULTRAMEM_VSIX_TARGETS ?? 'linux-x64').split(',').filter(Boolean);
for (const target of targets) {
  test(`dist/ultramem-complete-${target}.vsix: at most 200 MB, a model, no test model, only ${TARGETS[target]?.format} ${TARGETS[target]?.arch} binaries`, () => {
    const file = path.join(ROOT, 'dist', `ultramem-complete-${target}.vsix`);
    assert.ok(fs.existsSync(file), `${file} exists (node scripts/package.mjs ${target})`);
    const r = checkVsix(file, target, { testModels: TEST_MODELS });
    assert.deepEqual(r.problems, []);
    console.log(`  ${target}: ${(r.bytes / 1e6).toFixed(1)} MB, models ${r.models.join(', ')}, ${r.natives.length} native files: ${r.natives.map((n) => path.posix.basename(n.name)).join(', ')}`);
    // the check can fail: the same VSIX is wrong for a target of another format or CPU
    const other = Object.keys(TARGETS).find((t) => TARGETS[t].format !== TARGETS[target].format);
    const wrong = checkVsix(file, other, { testModels: TEST_MODELS });
    assert.equal(wrong.problems.filter((p) => p.endsWith(`not ${TARGETS[other].format} ${TARGETS[other].arch}`)).length, r.natives.length);
    assert.ok(checkVsix(file, target, { maxBytes: r.bytes - 1 }).problems.some((p) => p.includes('over the limit')));
  });
}

// Two prompts completed through a CLI bundle with the shipped model, as JSONL.
const REQUESTS = [
  { prefix: 'def mean(values):\n    ', suffix: '\n', language: 'python' },
  { prefix: 'export function clamp(x: number, lo: number, hi: number): number {\n  ', suffix: '\n}\n', language: 'typescript' },
];
function completions(cli, model) {
  const input = `${REQUESTS.map((r) => JSON.stringify(r)).join('\n')}\n`;
  const r = spawnSync(process.execPath, [cli, '--model', model, '--threads', '1', '--max-tokens', '24', '--jsonl'], { input, encoding: 'utf8', env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l).completion);
}
const SHIPPED_MODEL = path.join(ROOT, 'models', 'ultramem-code-s');

test('the linux-x64 VSIX, unpacked, completes with its own modules and model as the repository build does', () => {
  const file = path.join(ROOT, 'dist', 'ultramem-complete-linux-x64.vsix');
  assert.ok(fs.existsSync(file), `${file} exists (npm run package)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-vsix-'));
  try {
    for (const e of zipEntries(file)) {
      const to = path.join(dir, ...e.name.split('/'));
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.writeFileSync(to, e.read());
    }
    const ext = path.join(dir, 'extension');
    const shipped = completions(path.join(ext, 'dist', 'cli.js'), path.join(ext, 'models', 'ultramem-code-s'));
    console.log(`  from the VSIX: ${JSON.stringify(shipped)}`);
    assert.ok(shipped.every((c) => c.length > 0), 'non-empty completions');
    assert.deepEqual(shipped, completions(path.join(ROOT, 'dist', 'cli.js'), SHIPPED_MODEL));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('onnxruntime-node 1.23.2 (the darwin-x64 VSIX\'s) gives the same completions with the shipped model as 1.30.0', () => {
  // its linux-x64 build from the same npm package, next to copies of the bundles: nothing else resolvable from there
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-ort-legacy-'));
  try {
    fs.mkdirSync(path.join(dir, 'dist'));
    for (const f of ['cli.js', 'worker.js']) fs.copyFileSync(path.join(ROOT, 'dist', f), path.join(dir, 'dist', f));
    runtimeModules(path.join(dir, 'dist', 'node_modules'), { ...NATIVES['linux-x64'], ortPackages: 'legacy' });
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'dist', 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')).version, '1.23.2');
    const legacy = completions(path.join(dir, 'dist', 'cli.js'), SHIPPED_MODEL);
    console.log(`  onnxruntime 1.23.2: ${JSON.stringify(legacy)}`);
    assert.ok(legacy.every((c) => c.length > 0), 'non-empty completions');
    assert.deepEqual(legacy, completions(path.join(ROOT, 'dist', 'cli.js'), SHIPPED_MODEL));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
