/**
 * Stop rules, evaluated on the decoded text after every token. Pure: `checkStop(text, options)`.
 *
 * Besides whether to stop (and where to cut), it says how much of the text is safe to stream: text that
 * no later token can cause to be cut away, so ghost text only ever grows. A trailing line that is still
 * blank (its indentation is unknown), a trailing line that may turn into a copy of the next suffix line or of
 * the line above it, a trailing closing-bracket line left of the block (kept if it stays one, cut if it grows
 * into `} else {`), and a tail of the first line that may turn into the rest of the cursor's line are held back.
 * A first line that completes the cursor's line into a copy of the document's line above stops decoding with
 * nothing kept (the post-filter `stopAtRepeatingLines` would discard the whole completion), and is held back while
 * it may still become one. Between tokens the engine also asks `endsAtLineStart`, the one rule that reads the model's
 * probabilities.
 */
import { codeLineKey, copiesLineAbove, firstRepeatedLine, indentWidth, repeatMayStartAt, scanBrackets } from './text';
import type { StopOptions, StopReason } from './protocol';

export interface StopCheck {
  /** Null while decoding should go on. */
  readonly stop: StopReason | null;
  /** When stopping: how many characters of the text to keep. */
  readonly keep: number;
  /** Characters at the start of the text that will not be cut by any later token. */
  readonly safe: number;
}

/** Index after the end of line `i` (position of its '\n'), given line start offsets. */
function lineStarts(lines: readonly string[]): number[] {
  const starts: number[] = [];
  let pos = 0;
  for (const line of lines) {
    starts.push(pos);
    pos += line.length + 1;
  }
  return starts;
}

/** Earliest position in line 0 where the output, at bracket depth 0 of its own, reaches the line suffix. */
function lineSuffixHit(line0: string, lineSuffix: string): { hit: number; partial: number } {
  let partial = -1;
  for (let j = 0; j < line0.length; j++) {
    if (j > 0 && /\s/.test(line0[j - 1]!) && /\s/.test(line0[j]!)) continue;
    const rest = line0.slice(j).trimStart();
    if (rest.length === 0) break;
    const matches = rest.startsWith(lineSuffix) || lineSuffix.startsWith(rest);
    if (!matches) continue;
    if (scanBrackets(line0.slice(0, j), '', false).open.length > 0) continue;
    if (rest.startsWith(lineSuffix)) return { hit: j, partial };
    if (partial < 0) partial = j;
  }
  return { hit: -1, partial };
}

/**
 * The model's probability of its stop tokens at a line start above which a completion ends there, though greedy
 * decoding would go on: the shipped model rarely ranks its end token first (4 of 210 human-eval multi-line answers
 * ended on it) but often ranks it high where the hole ends, and its answers then ran on past the function (models/LOG.md,
 * 2026-12-07: 0.15 ended 22 of those answers, 2 more solved, the held-out multi-line answers level; 0.3 ended 8).
 */
export const LINE_START_STOP_PROBABILITY = 0.15;

/** The probability the model gives its stop tokens together: a softmax over the logits. */
export function stopProbability(logits: Float32Array, stopIds: ReadonlySet<number>): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let total = 0;
  for (let i = 0; i < logits.length; i++) total += Math.exp(logits[i]! - max);
  let stop = 0;
  for (const id of stopIds) if (id < logits.length) stop += Math.exp(logits[id]! - max);
  return stop / total;
}

/**
 * Whether decoding ends before the next token: the text's last line is blank so far, after some text, and the stop
 * tokens are at least LINE_START_STOP_PROBABILITY likely (`stopProbabilityNow` is only called then).
 */
export function endsAtLineStart(text: string, stopProbabilityNow: () => number): boolean {
  const lineStart = text.lastIndexOf('\n') + 1;  // asked after every token: only the last line is read mid-line
  if (lineStart === 0 || !/^[ \t]*$/.test(text.slice(lineStart)) || text.slice(0, lineStart).trim().length === 0) return false;
  return stopProbabilityNow() >= LINE_START_STOP_PROBABILITY;
}

export function checkStop(text: string, o: StopOptions): StopCheck {
  const lines = text.split('\n');
  const starts = lineStarts(lines);
  const last = lines.length - 1;
  let stopAt = Infinity;
  let reason: StopReason | null = null;
  const stopBefore = (pos: number, why: StopReason): void => {
    if (pos < stopAt) {
      stopAt = pos;
      reason = why;
    }
  };

  if (lines.length > o.maxLines) stopBefore(starts[o.maxLines]! - 1, 'maxLines');

  // only finished lines: the last one may still grow into something else
  const repeated = o.linePrefix === undefined ? -1 : firstRepeatedLine(lines, o.linePrefix, last);
  if (repeated > 0) stopBefore(starts[repeated]! - 1, 'repeatedLine');
  const copiesAbove = (finished: boolean): boolean => o.lineAbove !== undefined && lines[0]!.trim().length > 0 &&
    copiesLineAbove((o.linePrefix ?? '') + lines[0]!, o.lineAbove, finished);
  if (last >= 1 && copiesAbove(true)) stopBefore(0, 'repeatedLine');

  const tab = o.tabSize ?? 4;
  const next = o.nextSuffixLine ?? '';
  const nextKey = codeLineKey(next);
  let tailUndecided = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.replace(/\s+$/, '');
    if (line.trim().length === 0) continue;
    if (i < last && next.length > 0 && codeLineKey(line) === nextKey) {
      stopBefore(starts[i]! - 1, 'suffixRepeat');
      break;
    }
    if (o.minIndent !== undefined && indentWidth(line, tab) < o.minIndent) {
      const closesBlock = /^[)\]}]+[;,)]*$/.test(line.trim()) && indentWidth(line, tab) >= o.minIndent - tab;
      if (!closesBlock) stopBefore(starts[i]! - 1, 'blockEnd');
      else if (i < last) stopBefore(starts[i + 1]! - 1, 'blockEnd');
      else tailUndecided = true;
      break;
    }
  }

  const brackets = scanBrackets(text, o.openBrackets ?? '');
  if (brackets.unmatchedAt >= 0) stopBefore(brackets.unmatchedAt, 'unopenedBracket');

  const lineSuffix = (o.lineSuffix ?? '').trim();
  let partialSuffixAt = -1;
  if (lineSuffix.length > 0) {
    const { hit, partial } = lineSuffixHit(lines[0]!.replace(/\r$/, ''), lineSuffix);
    if (hit >= 0) stopBefore(hit, 'suffixRepeat');
    if (last === 0) partialSuffixAt = partial;
  }

  if (reason !== null) {
    const keep = Math.min(stopAt, text.length);
    return { stop: reason, keep, safe: keep };
  }

  let safe = text.length;
  if (last >= 1) {
    const tail = lines[last]!;
    const above = (last === 1 ? (o.linePrefix ?? '') + lines[0]! : lines[last - 1]!).trimEnd();
    const mayRepeatAbove = o.linePrefix !== undefined && above.startsWith(tail.trimEnd());
    if (tailUndecided || mayRepeatAbove || tail.trim().length === 0 || (next.length > 0 && nextKey.startsWith(codeLineKey(tail)))) safe = starts[last]! - 1;
    const blockRepeat = o.linePrefix === undefined ? -1 : repeatMayStartAt(lines, o.linePrefix);
    if (blockRepeat > 0) safe = Math.min(safe, starts[blockRepeat]! - 1);
  }
  if (partialSuffixAt >= 0) safe = Math.min(safe, partialSuffixAt);
  if (last === 0 && copiesAbove(false)) safe = 0;
  return { stop: null, keep: text.length, safe };
}
