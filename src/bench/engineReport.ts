/**
 * The report of `npm run bench:engine`: rows summarised over interleaved rounds, the JSON of issue 12's schema, and
 * the table. Pure functions, so the schema and the arithmetic are tested without timing anything.
 */
import { describeCpu, type CpuInfo } from './cpu';

export type EngineName = 'ultramem' | 'dense' | 'moe' | 'llama.cpp';

/** One cell of the grid: which engine, how many threads, which prompt length. */
export interface Cell {
  readonly engine: EngineName;
  readonly threads: number;
  readonly promptTokens: number;
  /** llama.cpp only. */
  readonly flashAttention?: boolean;
}

/** What one round measured for a cell. */
export interface CellTiming {
  readonly prefillMs: number;
  readonly decodeStepMs: readonly number[];
  readonly keystrokeMs: readonly number[];
}

export interface ModelWork {
  /** Activated multiply-accumulates per token, without attention over the context and the LM head. */
  readonly activatedMacsPerToken: number;
  readonly lmHeadMacs: number;
}

export interface EngineRow extends Cell {
  readonly prefillMs: number;
  /** Median decode step after the first, at the prompt's context. */
  readonly decodeMsPerToken: number;
  /** The first decode step after the prefill, apart: it used to cost several ordinary steps. */
  readonly firstDecodeMs: number;
  readonly keystrokeMs: number;
  readonly activatedMacsPerToken: number;
  /** Useful prefill work: 2 x activated MACs x prompt tokens / prefill time. */
  readonly prefillGflops: number;
  readonly prefillPercentOfGemmPeak: number;
  /** 2 x (activated + LM head MACs) / decode time. */
  readonly decodeGflops: number;
}

export interface EngineReport {
  readonly date: string;
  readonly quick: boolean;
  readonly rounds: number;
  readonly cpu: CpuInfo;
  /** uptime's 1, 5 and 15 minute load averages before and after: other jobs on the machine make timings noisy. */
  readonly loadAverage: { readonly before: readonly number[]; readonly after: readonly number[] };
  /** fp32 MatMul in onnxruntime-node with the worker's session options, GFLOP/s by thread count. */
  readonly gemmPeakGflops: Record<string, number>;
  /** The llama.cpp build and weight type, when its rows are there. */
  readonly llamaCpp?: string;
  readonly rows: EngineRow[];
  readonly targets: TargetCheck[];
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Medians over the rounds of one cell. */
export function summarise(cell: Cell, rounds: readonly CellTiming[], work: ModelWork, gemmPeakGflops: number): EngineRow {
  const prefillMs = median(rounds.map((r) => r.prefillMs));
  const decodeMsPerToken = median(rounds.flatMap((r) => r.decodeStepMs.slice(1)));
  const gflops = (macs: number, ms: number): number => (2 * macs) / ms / 1e6;
  const prefillGflops = gflops(work.activatedMacsPerToken * cell.promptTokens, prefillMs);
  return {
    ...cell,
    prefillMs,
    decodeMsPerToken,
    firstDecodeMs: median(rounds.map((r) => r.decodeStepMs[0] ?? NaN)),
    keystrokeMs: median(rounds.flatMap((r) => r.keystrokeMs)),
    activatedMacsPerToken: work.activatedMacsPerToken,
    prefillGflops,
    prefillPercentOfGemmPeak: (100 * prefillGflops) / gemmPeakGflops,
    decodeGflops: gflops(work.activatedMacsPerToken + work.lmHeadMacs, decodeMsPerToken),
  };
}

const num = (v: number, digits = 1): string => (Number.isFinite(v) ? v.toFixed(digits) : '–');

export function engineLabel(row: Cell): string {
  return row.flashAttention === undefined ? row.engine : `${row.engine}, flash attention ${row.flashAttention ? 'on' : 'off'}`;
}

/** One of issue 12's targets, a ratio of two rows of the same run, at one thread count. */
export interface TargetCheck {
  readonly target: string;
  readonly threads: number;
  readonly ratio: number;
  /** The ratio must be at most this. */
  readonly limit: number;
  readonly met: boolean;
}

/**
 * Issue 12's targets as ratios within one run (each at most its limit), for every thread count with the rows they
 * need: decode no slower than llama.cpp's on the same shape (its faster flash-attention setting), the first decode
 * step no slower than the others, a 1,536-token prefill 1.5x faster than llama.cpp with flash attention, UltraMem
 * within 1.15x (prefill) and 1.10x (decode) of its dense twin, decode at 1,536 tokens of context at least 0.9x as
 * fast as at 512, and a keystroke at 1,536 at most 1.2x the one at 512.
 */
export function checkTargets(rows: readonly EngineRow[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const find = (engine: EngineName, threads: number, promptTokens: number, flashAttention?: boolean): EngineRow | undefined =>
    rows.find((r) => r.engine === engine && r.threads === threads && r.promptTokens === promptTokens && r.flashAttention === flashAttention);
  const add = (target: string, threads: number, a: number | undefined, b: number | undefined, limit: number): void => {
    if (a === undefined || b === undefined) return;
    const ratio = a / b;
    out.push({ target, threads, ratio, limit, met: ratio <= limit });
  };
  const ours: EngineName[] = ['ultramem', 'dense'];
  for (const threads of [...new Set(rows.map((r) => r.threads))]) {
    for (const tokens of [512, 1536]) {
      const llamaDecode = Math.min(...[true, false].map((fa) => find('llama.cpp', threads, tokens, fa)?.decodeMsPerToken ?? Infinity));
      add(`dense decode / llama.cpp decode, ${tokens} tokens`, threads, find('dense', threads, tokens)?.decodeMsPerToken, Number.isFinite(llamaDecode) ? llamaDecode : undefined, 1);
      for (const engine of ours) {
        const row = find(engine, threads, tokens);
        add(`${engine} first decode step / decode step, ${tokens} tokens`, threads, row?.firstDecodeMs, row?.decodeMsPerToken, 1);
      }
      add(`ultramem prefill / dense prefill, ${tokens} tokens`, threads, find('ultramem', threads, tokens)?.prefillMs, find('dense', threads, tokens)?.prefillMs, 1.15);
      add(`ultramem decode / dense decode, ${tokens} tokens`, threads, find('ultramem', threads, tokens)?.decodeMsPerToken, find('dense', threads, tokens)?.decodeMsPerToken, 1.1);
    }
    add('dense prefill / llama.cpp prefill with flash attention, 1536 tokens', threads, find('dense', threads, 1536)?.prefillMs, find('llama.cpp', threads, 1536, true)?.prefillMs, 1 / 1.5);
    for (const engine of ours) {
      add(`${engine} decode at 1536 / at 512 tokens`, threads, find(engine, threads, 1536)?.decodeMsPerToken, find(engine, threads, 512)?.decodeMsPerToken, 1 / 0.9);
      add(`${engine} keystroke at 1536 / at 512 tokens`, threads, find(engine, threads, 1536)?.keystrokeMs, find(engine, threads, 512)?.keystrokeMs, 1.2);
    }
  }
  return out;
}

/** The report as markdown: a line on the machine, one table row per cell, then the targets. */
export function formatReport(r: EngineReport): string {
  const lines = [
    `${r.date}, ${describeCpu(r.cpu)}`,
    `load average before ${r.loadAverage.before.join(' ')}, after ${r.loadAverage.after.join(' ')}; ${r.rounds} interleaved round(s)${r.quick ? ' (--quick)' : ''}`,
    `GEMM peak (onnxruntime-node fp32 MatMul): ${Object.entries(r.gemmPeakGflops).map(([t, g]) => `${num(g)} GFLOP/s on ${t} thread${t === '1' ? '' : 's'}`).join(', ')}`,
    '',
    '| engine | threads | prompt tokens | prefill ms | prefill GFLOP/s | % of GEMM peak | decode ms/token | first decode step ms | decode GFLOP/s | keystroke ms | activated MACs/token |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of r.rows) {
    lines.push(
      `| ${engineLabel(row)} | ${row.threads} | ${row.promptTokens} | ${num(row.prefillMs, 0)} | ${num(row.prefillGflops)} | ${num(row.prefillPercentOfGemmPeak, 0)} | ` +
        `${num(row.decodeMsPerToken, 2)} | ${num(row.firstDecodeMs, 1)} | ${num(row.decodeGflops)} | ${num(row.keystrokeMs, 1)} | ${num(row.activatedMacsPerToken / 1e6, 2)}M |`,
    );
  }
  lines.push('', '| target (ratio at most the limit) | threads | ratio | limit | met |', '|---|---|---|---|---|');
  for (const t of r.targets) lines.push(`| ${t.target} | ${t.threads} | ${num(t.ratio, 2)} | ${num(t.limit, 2)} | ${t.met ? 'yes' : '**no**'} |`);
  return lines.join('\n');
}
