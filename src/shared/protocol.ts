/**
 * The one protocol between the host (extension, CLI, bench, tests) and the model worker.
 *
 * Transport: Node IPC (`child_process.fork`, JSON serialization). Every request carries an id; the worker
 * answers it exactly once with a `response` or an `error`. While a `complete` request runs, the worker sends
 * `partial` notifications for it, in order (`seq` 0, 1, 2, ...); each partial's text extends the previous one.
 * The host may send `cancel` for a request id at any time. A newer `complete` cancels the running one:
 * the worker decodes for one request at a time and the newest request wins (the old one stops within
 * one decode step and resolves with `stopReason: 'cancelled'`).
 * A `prefill` (background prefill) has the lowest priority: it puts a completion's prompt into the KV cache without
 * decoding, in chunks, and any other request that arrives (a newer `prefill` too) cancels it at the next chunk
 * boundary; the chunks already run stay in the cache, so the request that cancelled it reuses them.
 * `alternatives` (decoded after a completion was shown, for VS Code's Show Next/Previous Inline Suggestion) is
 * background work too: any request that arrives cancels it before its next decode step.
 *
 * Both sides import this file; it has no imports and no runtime dependencies.
 */

export const PROTOCOL_VERSION = 1;

/** Names of the special tokens in a model manifest (`specialTokens`). */
export type SpecialTokenName = 'fimPrefix' | 'fimSuffix' | 'fimMiddle' | 'endOfText' | 'fileSeparator';

/** One piece of a prompt: a special token of the model, or text the worker tokenizes. */
export type PromptPart =
  | { readonly kind: 'special'; readonly token: SpecialTokenName }
  | {
      readonly kind: 'text';
      readonly text: string;
      /** Keep at most this many tokens of the text (dropping from the side opposite to `keep`). */
      readonly maxTokens?: number;
      /** Which end of the text survives truncation; default 'start'. The prefix keeps its 'end'. */
      readonly keep?: 'start' | 'end';
      /**
       * Token healing: this part ends at the cursor. The worker removes its last token and constrains
       * the first generated tokens to re-create that text, so the completion can extend a partial word.
       * At most one part may set it.
       */
      readonly heal?: boolean;
      /** When the whole prompt is over the model's context, parts with a higher priority are cut first. */
      readonly trimPriority?: number;
    };

/** Where decoding stops, besides the model's end/FIM tokens. */
export interface StopOptions {
  /** Most tokens to decode (the healed text counts). */
  readonly maxTokens: number;
  /** Most lines in the result; 1 = single-line completion. */
  readonly maxLines: number;
  /**
   * Stop at a new non-empty line (not the first) indented less than this many columns, and cut it; except
   * a line of only closing brackets indented at most one level less, which ends the block: it is kept and
   * decoding stops after it.
   */
  readonly minIndent?: number;
  /** Tab width used to measure indentation; default 4. */
  readonly tabSize?: number;
  /** The cursor's line before the cursor: a finished line that repeats the line above it (the first line with
   * this prefix) stops decoding and is cut. */
  readonly linePrefix?: string;
  /** The document's line above the cursor's, trimmed: a first line that completes the cursor's line (`linePrefix`)
   * into a copy of it stops decoding with nothing kept, since the post-filter discards such a completion. */
  readonly lineAbove?: string;
  /** The rest of the cursor's line (trimmed); reaching it in the first line stops decoding. */
  readonly lineSuffix?: string;
  /** The first non-blank line after the cursor's line, with its indentation, trailing whitespace trimmed; an output line equal to it stops decoding. */
  readonly nextSuffixLine?: string;
  /** Brackets opened before the cursor and not closed, innermost last, for example "({". */
  readonly openBrackets?: string;
}

export type StopReason =
  | 'endToken'
  | 'maxTokens'
  | 'maxLines'
  | 'blockEnd'
  | 'suffixRepeat'
  | 'repeatedLine'
  | 'unopenedBracket'
  | 'contextFull'
  | 'cancelled';

export interface LoadParams {
  /** Absolute path of a model folder (it holds manifest.json). */
  readonly modelDir: string;
  /** Intra-op threads; 0 or absent picks a default from the number of cores. */
  readonly threads?: number;
  /** Run the float graph instead of the quantized one (parity checks). */
  readonly useFloatGraph?: boolean;
}

export interface SpecialTokenInfo {
  readonly text: string;
  readonly id: number;
}

/** The order of a FIM prompt (models/README.md): psm = fimPrefix prefix fimSuffix suffix fimMiddle;
 * spm = fimPrefix fimSuffix suffix fimMiddle prefix (the prefix last, next to the middle it continues). */
export type FimTemplate = 'psm' | 'spm';

export interface ModelInfo {
  readonly name: string;
  readonly displayName: string;
  readonly description: string;
  readonly dir: string;
  readonly architecture: string;
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly fimTemplate: FimTemplate;
  readonly specialTokens: Readonly<Record<SpecialTokenName, SpecialTokenInfo>>;
  /** Intra-op threads of decoding (the setting, or the fastest in the probe at load) and of a prefill. */
  readonly threads: number;
  readonly prefillThreads: number;
  readonly loadMs: number;
  readonly graph: string;
}

export interface CompleteParams {
  readonly prompt: readonly PromptPart[];
  readonly stop: StopOptions;
}

export interface CompleteTimings {
  /** Tokens in the prompt after truncation and healing. */
  readonly promptTokens: number;
  /** Prompt tokens found in the KV cache (not prefilled again). */
  readonly reusedTokens: number;
  /** Tokens decoded (including the one that hit a stop rule). */
  readonly generatedTokens: number;
  readonly tokenizeMs: number;
  readonly prefillMs: number;
  readonly decodeMs: number;
  /** From the request's arrival to the first non-empty partial (or the end, if none). */
  readonly firstTextMs: number;
  readonly totalMs: number;
  /**
   * The smallest gap between the best and the second-best logit over the tokens decoded freely (not forced by token
   * healing or as an alternative's first token); null when there were none. How close greedy decoding came to
   * another path: runs whose arithmetic differs slightly (a cache prefilled in other chunks, another CPU's kernels)
   * can part where it is small.
   */
  readonly minMargin: number | null;
}

export interface CompleteResult {
  /** The text to insert at the cursor (the healed part of the prefix is not repeated). */
  readonly text: string;
  readonly stopReason: StopReason;
  /** Text of the prefix token that token healing removed ('' when none). */
  readonly healedText: string;
  readonly timings: CompleteTimings;
}

/**
 * A background prefill: the params of the `complete` that the host expects next (the same prompt parts and stop
 * options, so the worker builds exactly the token ids that request will: the same truncation, context fit and token
 * healing). The worker prefills them into its KV cache and decodes nothing.
 */
export interface PrefillParams extends CompleteParams {
  /** Tokens per chunk (a cancel is seen between chunks). Default: the worker sizes chunks to about PREFILL_CHUNK_MS. */
  readonly chunkTokens?: number;
}

/** About this long per chunk of a background prefill when the request names no chunkTokens: the longest a request that cancels it waits. */
export const PREFILL_CHUNK_MS = 50;

export interface PrefillResult {
  /** Tokens of the prompt after truncation and healing (what a `complete` with the same params sends); 0 when cancelled before it was built. */
  readonly promptTokens: number;
  /** Of those, found in the KV cache already. */
  readonly reusedTokens: number;
  /** Run by this prefill; reusedTokens + prefilledTokens = promptTokens unless it was cancelled. */
  readonly prefilledTokens: number;
  readonly chunks: number;
  /** Another request arrived (or a `cancel` for it) before it was done; what it prefilled stays in the cache. */
  readonly cancelled: boolean;
  readonly ms: number;
}

/**
 * Alternatives to a completion: the params of the `complete` it answered (the same prompt, so the KV cache holds it,
 * and the same stop rules), each decoded greedily from another of the most likely first tokens than the greedy one.
 */
export interface AlternativesParams extends CompleteParams {
  /** How many (1..MAX_ALTERNATIVES); fewer come back when fewer first tokens are allowed (token healing) or it was cancelled. */
  readonly count: number;
}

/** The most alternatives one request decodes. */
export const MAX_ALTERNATIVES = 4;

export interface Alternative {
  /** As CompleteResult's text: what to insert at the cursor. */
  readonly text: string;
  readonly stopReason: StopReason;
}

export interface AlternativesResult {
  /** In the order of their first token's likelihood (the 2nd most likely first); those finished before a cancel. */
  readonly alternatives: Alternative[];
  /** Another request arrived (or a `cancel` for it) before all were decoded. */
  readonly cancelled: boolean;
  /** Prompt tokens not found in the KV cache (1 at least: the logits after the prompt come from running its last token). */
  readonly prefilledTokens: number;
  readonly generatedTokens: number;
  /** Time the worker spent on it: prefill and decoding. */
  readonly ms: number;
}

export interface GenerateIdsParams {
  readonly ids: readonly number[];
  readonly maxTokens: number;
  /** Stop at the manifest's stop tokens (the stop token is included in the output). Default false. */
  readonly stopAtStopTokens?: boolean;
  /** Also return the logits after the prompt (parity checks against the PyTorch reference). */
  readonly returnFirstLogits?: boolean;
}

export interface GenerateIdsResult {
  readonly ids: number[];
  readonly reusedTokens: number;
  readonly firstLogits?: number[];
}

export interface TokenizeParams {
  readonly text: string;
}

export interface TokenizeResult {
  readonly ids: number[];
}

export interface WorkerStats {
  readonly pid: number;
  readonly rssBytes: number;
  readonly model: string | null;
  readonly cachedTokens: number;
  readonly kvBytes: number;
  readonly requests: number;
  readonly promptTokens: number;
  readonly reusedTokens: number;
  readonly generatedTokens: number;
  readonly prefillMs: number;
  readonly decodeMs: number;
  /** Background prefills answered, those of them cancelled, and the tokens they prefilled (not in the counts above). */
  readonly backgroundPrefills: number;
  readonly backgroundPrefillsCancelled: number;
  readonly backgroundPrefilledTokens: number;
}

export type Empty = Record<string, never>;

/** Every request method with its params and result. */
export interface Methods {
  load: { params: LoadParams; result: ModelInfo };
  complete: { params: CompleteParams; result: CompleteResult };
  prefill: { params: PrefillParams; result: PrefillResult };
  alternatives: { params: AlternativesParams; result: AlternativesResult };
  generateIds: { params: GenerateIdsParams; result: GenerateIdsResult };
  tokenize: { params: TokenizeParams; result: TokenizeResult };
  stats: { params: Empty; result: WorkerStats };
  resetCache: { params: Empty; result: Empty };
  shutdown: { params: Empty; result: Empty };
}
export type MethodName = keyof Methods;

/** Error codes a request can fail with. Model-folder codes are documented in models/README.md. */
export type ErrorCode =
  | 'MANIFEST_MISSING'
  | 'MANIFEST_NOT_JSON'
  | 'MANIFEST_WRONG_FORMAT'
  | 'MANIFEST_UNSUPPORTED_VERSION'
  | 'MANIFEST_INVALID'
  | 'FILE_MISSING'
  | 'FILE_SIZE_MISMATCH'
  | 'FILE_HASH_MISMATCH'
  | 'TOKENIZER_INVALID'
  | 'GRAPH_CONTRACT'
  /** Set by the host, not the worker: the load did not finish in time (EngineHost's loadTimeoutMs). */
  | 'LOAD_TIMEOUT'
  | 'NO_MODEL'
  | 'BAD_REQUEST'
  | 'INTERNAL';

export interface WireError {
  readonly code: ErrorCode;
  readonly message: string;
}

// ---- envelopes ----

export type HostMessage =
  | { readonly type: 'request'; readonly id: number; readonly method: MethodName; readonly params: unknown }
  | { readonly type: 'cancel'; readonly id: number };

export type WorkerMessage =
  | { readonly type: 'ready'; readonly protocol: number; readonly pid: number }
  | { readonly type: 'response'; readonly id: number; readonly result: unknown }
  | { readonly type: 'error'; readonly id: number; readonly error: WireError }
  | { readonly type: 'partial'; readonly id: number; readonly seq: number; readonly text: string; readonly tokens: number }
  | { readonly type: 'log'; readonly level: 'debug' | 'info' | 'warn' | 'error'; readonly message: string };

export type PartialMessage = Extract<WorkerMessage, { type: 'partial' }>;

export function isHostMessage(value: unknown): value is HostMessage {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { type?: unknown; id?: unknown };
  return (v.type === 'request' || v.type === 'cancel') && typeof v.id === 'number';
}
