// Packages the extension for VS Code targets, one VSIX each: dist/ultramem-complete-<target>.vsix.
//
//   node scripts/package.mjs [TARGET...]   (npm run package: linux-x64)
//   node scripts/package.mjs --all         (npm run package:all: the six targets of scripts/vsix.mjs)
//
// One production build, then per target a staging folder outside the repository holding exactly what ships:
// package.json (without scripts and devDependencies), README, CHANGELOG, LICENSE, media/, the bundles, the bundled
// model folders (every models/<name>/ with a model manifest, except test models) and, next to the bundles in
// dist/node_modules, the runtime modules with only the target's native binaries. `vsce package --no-dependencies`
// zips it (an allow-list, so nothing of the repository leaks in), and every VSIX is checked (scripts/vsix.mjs).
//
// darwin-x64: onnxruntime-node stopped shipping macOS x64 binaries after 1.23.2 (1.24.x and later hold
// darwin/arm64 only), so that VSIX carries onnxruntime-node and onnxruntime-common 1.23.2, fetched from the npm
// registry once into <tools dir>/npm-packages and checked against the integrity pinned below.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { toolsDir } from './codeServer.mjs';
import { checkVsix, machODependencies, TARGETS } from './vsix.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Model folders that exist for the tests; the extension's picker hides them too (src/client/modelCatalog.ts). */
export const TEST_MODELS = ['tiny-fixture'];

/** Per target: onnxruntime-node's bin folder and the tokenizers binding's file suffix. */
export const NATIVES = {
  'linux-x64': { ort: 'linux/x64', tokenizers: 'linux-x64-gnu' },
  'linux-arm64': { ort: 'linux/arm64', tokenizers: 'linux-arm64-gnu' },
  'darwin-x64': { ort: 'darwin/x64', tokenizers: 'darwin-x64', ortPackages: 'legacy' },
  'darwin-arm64': { ort: 'darwin/arm64', tokenizers: 'darwin-arm64' },
  'win32-x64': { ort: 'win32/x64', tokenizers: 'win32-x64-msvc' },
  'win32-arm64': { ort: 'win32/arm64', tokenizers: 'win32-arm64-msvc' },
};

/** The last onnxruntime-node with macOS x64 binaries, and its onnxruntime-common (integrity from the registry). */
export const LEGACY_ORT = [
  { name: 'onnxruntime-node', version: '1.23.2', integrity: 'sha512-OBTsG0W8ddBVOeVVVychpVBS87A9YV5sa2hJ6lc025T97Le+J4v++PwSC4XFs1C62SWyNdof0Mh4KvnZgtt4aw==' },
  { name: 'onnxruntime-common', version: '1.23.2', integrity: 'sha512-5LFsC9Dukzp2WV6kNHYLNzp8sT6V02IubLCbzw2Xd6X5GOlr65gAX6xiJwyi2URJol/s71gaQLC5F2C25AAR2w==' },
];

const log = (m) => console.log(`[package] ${m}`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
  return r;
}

/**
 * An npm package unpacked into the tools cache (fetched with `npm pack` the first time, integrity checked);
 * returns its folder.
 */
export function cachedPackage({ name, version, integrity }) {
  const dir = path.join(toolsDir(), 'npm-packages', `${name}-${version}`);
  const done = path.join(dir, '.unpacked');
  if (fs.existsSync(done)) return path.join(dir, 'package');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  log(`fetching ${name}@${version} from the npm registry into ${dir}`);
  const r = spawnSync('npm', ['pack', `${name}@${version}`, '--json', '--pack-destination', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`npm pack ${name}@${version} failed (exit ${r.status})`);
  const [info] = JSON.parse(r.stdout);
  if (info.integrity !== integrity) throw new Error(`${name}@${version}: integrity ${info.integrity}, expected ${integrity}`);
  run('tar', ['-xzf', path.join(dir, info.filename), '-C', dir]);
  fs.writeFileSync(done, `${integrity}\n`);
  return path.join(dir, 'package');
}

/** Copies `from` into `to`, keeping files for which `keep(relative path)` holds. */
function copyTree(from, to, keep = () => true) {
  fs.cpSync(from, to, { recursive: true, filter: (src) => fs.statSync(src).isDirectory() || keep(path.relative(from, src).split(path.sep).join('/')) });
}

/** A model folder ships whole (its manifest makes every listed file mandatory), without Python caches. */
const modelFile = (rel) => !/(^|\/)__pycache__\/|\.pyc$/.test(rel);

/** The model folders that ship: models/<name>/ whose manifest.json is a model manifest, except test models. */
export function bundledModels() {
  return fs.readdirSync(path.join(ROOT, 'models')).sort().filter((name) => {
    if (TEST_MODELS.includes(name)) return false;
    try {
      return JSON.parse(fs.readFileSync(path.join(ROOT, 'models', name, 'manifest.json'), 'utf8')).format === 'ultramem-complete-model';
    } catch {
      return false;
    }
  });
}

/** Fills `stage` with what the VSIX for `target` holds. */
function stage(target, dir) {
  const natives = NATIVES[target];
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  delete pkg.scripts;
  delete pkg.devDependencies;
  fs.mkdirSync(path.join(dir, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  // vsce warns without an ignore file; here every staged file ships
  fs.writeFileSync(path.join(dir, '.vscodeignore'), '# the staging folder holds only what ships (scripts/package.mjs)\n');
  for (const f of ['README.md', 'CHANGELOG.md', 'LICENSE']) fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
  copyTree(path.join(ROOT, 'media'), path.join(dir, 'media'));
  for (const f of ['extension.js', 'worker.js', 'cli.js']) fs.copyFileSync(path.join(ROOT, 'dist', f), path.join(dir, 'dist', f));

  for (const name of bundledModels()) copyTree(path.join(ROOT, 'models', name), path.join(dir, 'models', name), modelFile);

  runtimeModules(path.join(dir, 'dist', 'node_modules'), natives);
}

/**
 * Copies the runtime modules (onnxruntime-node, onnxruntime-common, tokenizers) into `modules` with only the native
 * binaries of `natives` (an entry of NATIVES). The bundles next to it resolve them from there.
 */
export function runtimeModules(modules, natives) {
  const [ortNode, ortCommon] = natives.ortPackages === 'legacy'
    ? LEGACY_ORT.map(cachedPackage)
    : ['onnxruntime-node', 'onnxruntime-common'].map((n) => path.join(ROOT, 'node_modules', n));
  const ortBin = `bin/napi-v6/${natives.ort}/`;
  copyTree(ortNode, path.join(modules, 'onnxruntime-node'), (rel) => rel === 'package.json' || (rel.startsWith('dist/') && rel.endsWith('.js')) || rel.startsWith(ortBin));
  dropUnloadedDylibs(path.join(modules, 'onnxruntime-node', ortBin));
  // dist/cjs/package.json says "commonjs" (the package itself is "module"): without it require() fails
  copyTree(ortCommon, path.join(modules, 'onnxruntime-common'), (rel) => ['package.json', 'dist/cjs/package.json'].includes(rel) || (rel.startsWith('dist/cjs/') && rel.endsWith('.js')));
  const tokenizersBinding = `tokenizers.${natives.tokenizers}.node`;
  copyTree(path.join(ROOT, 'node_modules', 'tokenizers'), path.join(modules, 'tokenizers'), (rel) => ['package.json', 'index.js', 'LICENSE', tokenizersBinding].includes(rel));
  for (const [what, p] of [['onnxruntime binaries', path.join(modules, 'onnxruntime-node', ortBin)], ['tokenizers binding', path.join(modules, 'tokenizers', tokenizersBinding)]]) {
    if (!fs.existsSync(p)) throw new Error(`no ${what} at ${p}`);
  }
}

/**
 * npm cannot hold symlinks, so onnxruntime-node's macOS folder has libonnxruntime.1.dylib and an identical
 * libonnxruntime.<version>.dylib (44 MB each); keep only the dylibs the binding loads (@rpath/…), transitively.
 */
function dropUnloadedDylibs(dir) {
  const files = fs.readdirSync(dir);
  const loaded = new Set(files.filter((f) => f.endsWith('.node')));
  for (const f of loaded) {
    for (const dep of machODependencies(fs.readFileSync(path.join(dir, f)))) {
      const name = /^@(rpath|loader_path)\/(.+)$/.exec(dep)?.[2];
      if (name && files.includes(name)) loaded.add(name); // a Set visits what is added while it iterates
    }
  }
  for (const f of files) if (f.endsWith('.dylib') && !loaded.has(f)) fs.rmSync(path.join(dir, f));
}

/** Packages one target into dist/; returns the check's result with the VSIX path and the seconds it took. */
export function packageTarget(target) {
  const t0 = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ultramem-package-${target}-`));
  const out = path.join(ROOT, 'dist', `ultramem-complete-${target}.vsix`);
  try {
    stage(target, dir);
    fs.rmSync(out, { force: true });
    run(process.execPath, [path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--target', target, '--no-dependencies', '--no-rewrite-relative-links', '--out', out], { cwd: dir });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const check = checkVsix(out, target, { testModels: TEST_MODELS });
  return { ...check, target, file: out, secs: (Date.now() - t0) / 1000 };
}

function main(argv) {
  const targets = argv.includes('--all') ? Object.keys(TARGETS) : argv.filter((a) => !a.startsWith('-'));
  if (targets.length === 0) targets.push('linux-x64');
  for (const t of targets) if (!NATIVES[t]) throw new Error(`unknown target ${t}; known: ${Object.keys(NATIVES).join(', ')}`);
  log('production build (node esbuild.mjs --production)');
  run(process.execPath, [path.join(ROOT, 'esbuild.mjs'), '--production'], { cwd: ROOT });
  const results = targets.map((t) => {
    log(`${t}: staging and vsce package`);
    return packageTarget(t);
  });
  for (const r of results) {
    const natives = r.natives.map((n) => path.posix.basename(n.name)).join(', ');
    log(`${path.relative(ROOT, r.file)}: ${(r.bytes / 1e6).toFixed(1)} MB in ${r.secs.toFixed(1)} s, models ${r.models.join(', ')}; ${TARGETS[r.target].format} ${TARGETS[r.target].arch}: ${natives}`);
    for (const p of r.problems) console.error(`[package] ${r.target}: ${p}`);
  }
  if (results.some((r) => r.problems.length > 0)) process.exitCode = 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    console.error(`[package] ${e.message}`);
    process.exit(1);
  }
}
