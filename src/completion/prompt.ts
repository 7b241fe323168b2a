/**
 * The FIM prompt as parts for the worker, from the model's special tokens, in the manifest's `fim.template` order:
 * "psm": fimPrefix prefix fimSuffix suffix fimMiddle; "spm": fimPrefix fimSuffix suffix fimMiddle prefix, which puts
 * the prefix next to the middle it continues (small models learn that order first). Snippets come first, each after a
 * fileSeparator token with its path on the first line, so that the stable parts of the prompt precede the
 * volatile ones and the KV cache keeps them while the user types.
 */
import { opensBlock } from '../shared/text';
import type { FimTemplate, PromptPart, StopOptions } from '../shared/protocol';
import type { Snippet } from './snippets';
import type { CursorContext } from './types';

export interface PromptBudget {
  readonly prefixTokens: number;
  readonly suffixTokens: number;
  readonly snippetTokens: number;
}

/** Splits a total prompt budget: 65% prefix, 20% suffix, 15% snippets. */
export function splitBudget(totalTokens: number, withSnippets: boolean): PromptBudget {
  const snippetTokens = withSnippets ? Math.floor(totalTokens * 0.15) : 0;
  const suffixTokens = Math.floor(totalTokens * 0.2);
  return { prefixTokens: totalTokens - snippetTokens - suffixTokens, suffixTokens, snippetTokens };
}

export function buildFimPrompt(ctx: CursorContext, snippets: readonly Snippet[], budget: PromptBudget,
  template: FimTemplate = 'psm'): PromptPart[] {
  const parts: PromptPart[] = [];
  if (budget.snippetTokens > 0 && snippets.length > 0) {
    const each = Math.max(16, Math.floor(budget.snippetTokens / snippets.length));
    for (const s of snippets) {
      parts.push({ kind: 'special', token: 'fileSeparator' });
      parts.push({ kind: 'text', text: `${s.path}\n${s.text}\n`, maxTokens: each, keep: 'start', trimPriority: 3 });
    }
  }
  const prefix: PromptPart = { kind: 'text', text: ctx.prefix, maxTokens: budget.prefixTokens, keep: 'end', heal: true, trimPriority: 1 };
  const suffix: PromptPart[] = [
    { kind: 'special', token: 'fimSuffix' },
    { kind: 'text', text: ctx.suffix, maxTokens: budget.suffixTokens, keep: 'start', trimPriority: 2 },
    { kind: 'special', token: 'fimMiddle' },
  ];
  parts.push({ kind: 'special', token: 'fimPrefix' });
  if (template === 'spm') parts.push(...suffix, prefix);
  else parts.push(prefix, ...suffix);
  return parts;
}

/**
 * The indentation below which a multi-line completion has left the cursor's block: the cursor line's
 * indentation, or one column more when that line opens a block (ends with `{`, `(`, `[` or `:`), so that
 * the completion is the block's body; at column 0 of a blank line, the indentation of the block around it.
 */
export function blockIndent(ctx: CursorContext): number {
  return Math.max(opensBlock(ctx.linePrefix) ? ctx.indent + 1 : ctx.indent, ctx.enclosingIndent);
}

/** The worker's stop rules for a cursor (src/shared/stopRules.ts). */
export function stopOptionsFor(ctx: CursorContext, maxTokens: number, maxLines: number): StopOptions {
  return {
    maxTokens,
    maxLines: ctx.multiline ? maxLines : 1,
    ...(ctx.multiline ? { minIndent: blockIndent(ctx), nextSuffixLine: ctx.nextNonBlankLine, linePrefix: ctx.linePrefix, lineAbove: ctx.lineAbove } : {}),
    tabSize: ctx.tabSize,
    lineSuffix: ctx.lineSuffix.trim(),
    openBrackets: ctx.openBrackets,
  };
}
