// Lint rules that encode the layout: only src/extension may import `vscode` (the pipeline, the client and
// the worker run without VS Code: CLI, bench, tests); the worker and the pipeline sit side by side on src/shared
// and never import each other, the client or the adapter; src/shared imports nothing of ours.
// test/unit/layering.test.ts checks the same without eslint.
import tseslint from 'typescript-eslint';

const noVscode = { name: 'vscode', message: 'Only src/extension may import vscode.' };
/** An import of one of these src/ folders, from a file in another folder of src/. */
const folders = (...names) => names.map((n) => `**/${n}/**`);

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'models/**', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['src/client/**/*.ts', 'src/cli/**/*.ts', 'src/bench/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [noVscode], patterns: ['**/extension/*'] }],
    },
  },
  {
    files: ['src/worker/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [noVscode],
        patterns: [{ group: folders('completion', 'client', 'extension'), message: 'src/worker may import src/shared, not the pipeline, the client or the adapter.' }],
      }],
    },
  },
  {
    files: ['src/completion/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [noVscode],
        patterns: [{ group: folders('worker', 'client', 'extension'), message: 'src/completion may import src/shared, not the worker, the client or the adapter.' }],
      }],
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [noVscode],
        patterns: [{ group: ['../**'], message: 'src/shared imports only itself.' }],
      }],
    },
  },
);
