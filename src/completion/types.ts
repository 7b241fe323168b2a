/**
 * Stage contracts of the completion pipeline. Plain TypeScript: nothing here knows about VS Code.
 * Text is LF-only inside the pipeline; the adapter converts CRLF documents at the boundary.
 */
import type { CompleteResult, StopOptions, StopReason } from '../shared/protocol';

/** Another file offered as context (open editors and recently edited files). */
export interface NeighbourFile {
  readonly path: string;
  readonly languageId: string;
  readonly text: string;
}

export interface CompletionRequest {
  /** Document text before the cursor (may be only its tail for huge files), LF line ends. */
  readonly prefix: string;
  /** Document text after the cursor (may be only its head), LF line ends. */
  readonly suffix: string;
  readonly languageId: string;
  /** Workspace-relative or absolute path, used in snippet headers and as part of the cache key. */
  readonly path: string;
  readonly tabSize: number;
  readonly insertSpaces: boolean;
  /** 'manual' skips the debounce and some prefilters. */
  readonly trigger: 'automatic' | 'manual';
  /** Other files for snippets; called only when a model request is made (not for cache hits). */
  readonly neighbours?: () => readonly NeighbourFile[];
  /** The whole document's size in characters (for the huge-file prefilter); default prefix+suffix. */
  readonly documentLength?: number;
}

/** What the pipeline knows about the cursor position, computed once per request. */
export interface CursorContext {
  readonly prefix: string;
  readonly suffix: string;
  readonly linePrefix: string;
  readonly lineSuffix: string;
  /** Indentation width of the cursor's line (its whitespace before the cursor when the line is blank). */
  readonly indent: number;
  /**
   * With the cursor at column 0 of a blank line, the indentation of the block around it: the smaller of the previous
   * non-blank line's (one more when that line opens a block) and the next non-blank line's; 0 elsewhere (indentation
   * before the cursor is the user's own) or when either line is missing.
   */
  readonly enclosingIndent: number;
  /** The following lines of the document after the cursor's line (up to a few). */
  readonly followingLines: readonly string[];
  /** With its indentation; trailing whitespace trimmed. */
  readonly nextNonBlankLine: string;
  /** The document's line above the cursor's, trimmed ('' on the first line). */
  readonly lineAbove: string;
  /** Brackets opened in the prefix window and not closed, innermost last. */
  readonly openBrackets: string;
  /** The request's language id. */
  readonly languageId: string;
  /** The multi-line string or block comment the cursor is inside (its opener, '"""' or '/*'; see syntaxOf), or ''. */
  readonly openBlock: string;
  readonly multiline: boolean;
  readonly tabSize: number;
  readonly insertSpaces: boolean;
}

/** Why no completion is shown (logged at debug level, so "why no suggestion?" has an answer). */
export type SkipReason =
  | 'disabled'
  | 'hugeFile'
  | 'hugeLine'
  | 'binary'
  | 'minified'
  | 'midWord'
  | 'textAfterCursor'
  | 'cancelled'
  | 'noModel'
  | 'workerError'
  | 'filteredOut'
  | 'empty';

/** The model's answer for one prompt, before the post-cache filters (what the cache stores). */
export interface RawCompletion {
  readonly text: string;
  readonly stopReason: StopReason;
}

/** One result: immutable; a discard is an explicit empty result with a reason, not null. */
export class CompletionResult {
  private constructor(
    readonly text: string,
    readonly source: 'model' | 'cache' | 'typedThrough' | 'none',
    readonly skip: SkipReason | null,
    readonly stopReason: StopReason | null,
    readonly timings: CompleteResult['timings'] | null,
  ) {}

  static of(text: string, source: 'model' | 'cache' | 'typedThrough', stopReason: StopReason | null, timings: CompleteResult['timings'] | null = null): CompletionResult {
    return new CompletionResult(text, source, null, stopReason, timings);
  }

  static skipped(reason: SkipReason): CompletionResult {
    return new CompletionResult('', 'none', reason, null, null);
  }

  withText(text: string): CompletionResult {
    if (text.trim().length === 0) return new CompletionResult('', this.source, 'filteredOut', this.stopReason, this.timings);
    return new CompletionResult(text, this.source, this.skip, this.stopReason, this.timings);
  }

  get isEmpty(): boolean {
    return this.text.length === 0;
  }
}

/** A filter on the completion text. Pure. Returning '' discards the completion. */
export type TextFilter = (text: string, ctx: CursorContext, stopReason: StopReason | null) => string;

export interface NamedFilter {
  readonly name: string;
  readonly apply: TextFilter;
}

export type { StopOptions };
