/** bench:engine's report: issue 12's JSON schema, the arithmetic over rounds, and the CPU flags. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuInfo } from '../../src/bench/cpu';
import { checkTargets, formatReport, median, summarise, type Cell, type EngineReport } from '../../src/bench/engineReport';

const LSCPU = 'Architecture:  x86_64\nModel name:    AMD EPYC\nFlags:         fpu sse avx2 fma avx512f avx512_vnni\n';

test('cpuInfo: the model and the kernel flags, true or false, and every flag', () => {
  const cpu = cpuInfo(LSCPU, 2);
  assert.equal(cpu.model, 'AMD EPYC');
  assert.equal(cpu.logicalCores, 2);
  assert.equal(cpu['avx2'], true);
  assert.equal(cpu['avx512_vnni'], true);
  assert.equal(cpu['avx_vnni'], false);
  assert.equal(cpu['flags'], 'fpu sse avx2 fma avx512f avx512_vnni');
});

test('summarise: medians over rounds, the first decode step apart, GFLOP/s of useful work and % of the GEMM peak', () => {
  const work = { activatedMacsPerToken: 5e6, lmHeadMacs: 1e6 };
  const rounds = [
    { prefillMs: 100, decodeStepMs: [40, 2, 4], keystrokeMs: [10, 12] },
    { prefillMs: 300, decodeStepMs: [50, 3, 5], keystrokeMs: [14] },
    { prefillMs: 200, decodeStepMs: [60, 3, 9], keystrokeMs: [11] },
  ];
  const row = summarise({ engine: 'dense', threads: 1, promptTokens: 1000 }, rounds, work, 50);
  assert.equal(row.prefillMs, 200);
  assert.equal(row.firstDecodeMs, 50);
  assert.equal(row.decodeMsPerToken, 3.5); // steps after the first: 2 4 3 5 3 9
  assert.equal(row.keystrokeMs, 11.5);
  assert.equal(row.prefillGflops, 50); // 2 x 5e6 x 1000 / 0.2 s
  assert.equal(row.prefillPercentOfGemmPeak, 100);
  assert.ok(Math.abs(row.decodeGflops - (2 * 6e6) / 3.5e-3 / 1e9) < 1e-9);
  assert.ok(Number.isNaN(median([])));
});

test('the report has the schema of issue 12; flashAttention only on llama.cpp rows', () => {
  const work = { activatedMacsPerToken: 7e6, lmHeadMacs: 4e6 };
  const timing = [{ prefillMs: 100, decodeStepMs: [9, 5, 5], keystrokeMs: [20] }];
  const rows = [
    summarise({ engine: 'ultramem', threads: 2, promptTokens: 512 }, timing, work, 120),
    summarise({ engine: 'llama.cpp', threads: 1, promptTokens: 1536, flashAttention: false }, timing, work, 90),
  ];
  const report: EngineReport = {
    date: '2026-12-05T00:00:00.000Z',
    quick: true,
    rounds: 1,
    cpu: cpuInfo(LSCPU, 2),
    loadAverage: { before: [1, 1, 1], after: [2, 1, 1] },
    gemmPeakGflops: { '1': 90, '2': 120 },
    rows,
    targets: checkTargets(rows),
  };
  const json = JSON.parse(JSON.stringify(report)) as Record<string, unknown> & { rows: Record<string, unknown>[] };
  for (const key of ['cpu', 'gemmPeakGflops', 'rows']) assert.ok(key in json, key);
  assert.deepEqual(Object.keys(json['gemmPeakGflops'] as object), ['1', '2']);
  const required = ['engine', 'threads', 'promptTokens', 'prefillMs', 'decodeMsPerToken', 'keystrokeMs', 'activatedMacsPerToken'];
  for (const row of json.rows) for (const key of required) assert.equal(typeof row[key], key === 'engine' ? 'string' : 'number', key);
  assert.equal('flashAttention' in json.rows[0]!, false);
  assert.equal(json.rows[1]!['flashAttention'], false);
  const table = formatReport(report);
  assert.match(table, /kernel flags: avx2 fma avx512f avx512_vnni/);
  assert.match(table, /load average before 1 1 1, after 2 1 1/);
  assert.match(table, /\| llama\.cpp, flash attention off \| 1 \| 1536 \| 100 \|/);
  assert.match(table, /\| ultramem first decode step \/ decode step, 512 tokens \| 2 \| 1\.80 \| 1\.00 \| \*\*no\*\* \|/);
});

test("checkTargets: issue 12's ratios within one run, each against its limit", () => {
  const work = { activatedMacsPerToken: 7e6, lmHeadMacs: 4e6 };
  const row = (cell: Cell, prefillMs: number, decodeMs: number, firstDecodeMs: number, keystrokeMs: number) =>
    summarise(cell, [{ prefillMs, decodeStepMs: [firstDecodeMs, decodeMs], keystrokeMs: [keystrokeMs] }], work, 100);
  const rows = [
    row({ engine: 'dense', threads: 1, promptTokens: 512 }, 100, 4, 4, 10),
    row({ engine: 'dense', threads: 1, promptTokens: 1536 }, 400, 5, 20, 11),
    row({ engine: 'ultramem', threads: 1, promptTokens: 512 }, 110, 5, 5, 30),
    row({ engine: 'llama.cpp', threads: 1, promptTokens: 512, flashAttention: true }, 100, 3, 3, 5),
    row({ engine: 'llama.cpp', threads: 1, promptTokens: 512, flashAttention: false }, 100, 2, 3, 5),
    row({ engine: 'llama.cpp', threads: 1, promptTokens: 1536, flashAttention: true }, 800, 5, 5, 5),
  ];
  const byName = new Map(checkTargets(rows).map((t) => [t.target, t]));
  const check = (name: string, ratio: number, met: boolean): void => {
    const t = byName.get(name);
    assert.ok(t, name);
    assert.ok(Math.abs(t.ratio - ratio) < 1e-9, `${name}: ${t.ratio}`);
    assert.equal(t.met, met, name);
    assert.equal(t.threads, 1);
  };
  check('dense decode / llama.cpp decode, 512 tokens', 2, false); // against llama.cpp's faster setting
  check('dense decode / llama.cpp decode, 1536 tokens', 1, true);
  check('dense first decode step / decode step, 1536 tokens', 4, false);
  check('dense prefill / llama.cpp prefill with flash attention, 1536 tokens', 0.5, true);
  check('ultramem prefill / dense prefill, 512 tokens', 1.1, true);
  check('ultramem decode / dense decode, 512 tokens', 1.25, false);
  check('dense decode at 1536 / at 512 tokens', 1.25, false);
  check('dense keystroke at 1536 / at 512 tokens', 1.1, true);
  assert.equal(byName.has('ultramem decode at 1536 / at 512 tokens'), false, 'no row at 1536: no check');
});
