// Bundles the extension host side, the model worker, the CLI, the bench and the soak test into dist/.
// Native and host-provided modules stay external: they are loaded from node_modules at run time.
// Usage: node esbuild.mjs [--production] [--watch]
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** @type {import('esbuild').BuildOptions} */
const options = {
  entryPoints: {
    extension: 'src/extension/extension.ts',
    worker: 'src/worker/main.ts',
    cli: 'src/cli/main.ts',
    bench: 'src/bench/main.ts',
    benchEngine: 'src/bench/engine.ts',
    soak: 'src/soak/main.ts',
  },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['vscode', 'onnxruntime-node', 'tokenizers'],
  sourcemap: production ? 'linked' : 'inline',
  minify: production,
  logLevel: 'warning',
  // dist/cli.js is the package's bin; Node ignores the line in the other bundles.
  banner: { js: '#!/usr/bin/env node' },
};

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log('esbuild: watching');
} else {
  await esbuild.build(options);
}
