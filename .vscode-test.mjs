// Extension-host integration tests (mocha suites in test/vscode/*.suite.ts, compiled to out/) through the standard
// entry point `npx vscode-test` (@vscode/test-cli → @vscode/test-electron). Where VS Code can be downloaded, set
// ULTRAMEM_VSCODE=stable (or a version) and the same suites run in the desktop VS Code. Otherwise (our machines:
// no download) test/vscode/codeServerShim.mjs stands in for the VS Code executable and runs them in code-server's
// real Node extension host (installing code-server on first use, see scripts/codeServer.mjs).
// Build first: `npm run build && npx tsc -p tsconfig.json` (npm test does both).
import { defineConfig } from '@vscode/test-cli';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const desktop = process.env.ULTRAMEM_VSCODE;

export default defineConfig({
  label: 'extension-host',
  // activation first: it measures the start-up; the others in any order (each restores what it changes)
  files: ['out/test/vscode/activation.suite.js', 'out/test/vscode/**/*.suite.js'],
  workspaceFolder: './test/fixtures/workspace',
  mocha: { ui: 'tdd', timeout: 60_000, color: false },
  env: { ORT_DISABLE_TELEMETRY: '1' },
  ...(desktop ? { version: desktop } : { useInstallation: { fromPath: path.join(here, 'test/vscode/codeServerShim.mjs') } }),
});
