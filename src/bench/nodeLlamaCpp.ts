/**
 * node-llama-cpp (llama.cpp's prebuilt CPU binaries from the npm registry), the speed peer of `npm run bench:engine`.
 * Installed on first use outside the repository, next to code-server (scripts/codeServer.mjs): never a dependency
 * of the extension. Only the CPU build of this platform: `--omit=optional` keeps npm from pulling the CUDA and
 * Vulkan variants (about 730 MB); the platform package is named explicitly instead (README.md, "The engine against llama.cpp").
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Pinned exactly: newer releases may lack some platforms' prebuilt binaries on the registry. */
export const NODE_LLAMA_CPP_VERSION = '3.21.1';

/** node-llama-cpp's package of prebuilt CPU binaries for this platform. */
export function platformPackage(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  const names: Record<string, string> = {
    'linux-x64': 'linux-x64',
    'linux-arm64': 'linux-arm64',
    'darwin-arm64': 'mac-arm64-metal',
    'darwin-x64': 'mac-x64',
    'win32-x64': 'win-x64',
    'win32-arm64': 'win-arm64',
  };
  const name = names[`${platform}-${arch}`];
  if (!name) throw new Error(`node-llama-cpp has no prebuilt binaries for ${platform}-${arch}`);
  return `@node-llama-cpp/${name}@${NODE_LLAMA_CPP_VERSION}`;
}

/** The cache folder of tools installed on first use: the same as scripts/codeServer.mjs's toolsDir(). */
function toolsDir(): string {
  return process.env['ULTRAMEM_TOOLS_DIR'] || path.join(os.tmpdir(), 'ultramem-complete-tools');
}

function installDir(): string {
  return path.join(toolsDir(), `node-llama-cpp-${NODE_LLAMA_CPP_VERSION}`);
}

/** Installs node-llama-cpp unless it is there; returns the file URL of its entry module. */
export function ensureNodeLlamaCpp(log: (m: string) => void): string {
  const dir = installDir();
  const entry = path.join(dir, 'node_modules', 'node-llama-cpp', 'dist', 'index.js');
  const marker = path.join(dir, 'installed');
  if (!fs.existsSync(marker) || !fs.existsSync(entry)) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'ultramem-node-llama-cpp', private: true }));
    log(`installing node-llama-cpp ${NODE_LLAMA_CPP_VERSION} (CPU only) into ${dir} (about 15 s, 83 MB)`);
    const r = spawnSync(
      'npm',
      ['install', '--omit=optional', '--save-exact', '--no-package-lock', '--no-audit', '--no-fund', `node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`, platformPackage()],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, npm_config_cache: path.join(toolsDir(), 'npm-cache'), npm_config_update_notifier: 'false' } },
    );
    if (r.status !== 0) throw new Error(`npm install node-llama-cpp failed (exit ${r.status}):\n${(r.stderr ?? '').slice(-2000)}`);
    fs.writeFileSync(marker, NODE_LLAMA_CPP_VERSION);
  }
  return pathToFileURL(entry).href;
}
