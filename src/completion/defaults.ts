/**
 * The shipped defaults of the settings that decide what is decoded and how fast: one set for the extension (its
 * fallbacks in src/extension/settings.ts; package.json's `contributes.configuration` declares the same values, which a
 * test checks), the CLI and `npm run bench`, so that the benchmark measures what users get.
 */
export const SHIPPED_DEFAULTS = {
  /** onnxruntime intra-op threads; 0 lets the worker choose (src/worker/session.ts threadPlan). */
  threads: 0,
  maxPromptTokens: 1024,
  maxLines: 8,
  maxTokens: 96,
  neighbourSnippets: true,
} as const;
