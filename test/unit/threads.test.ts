/** The worker's thread plan: the setting overrides; unset, prefill on the physical cores and a decode probe. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { MAX_PREFILL_THREADS, MAX_THREADS, physicalCores, threadPlan } from '../../src/worker/session';

test('threadPlan: a setting above 0 is used for prefill and decode alike, clamped to MAX_THREADS', () => {
  assert.deepEqual(threadPlan(1, 16), { prefill: 1, decodeCandidates: [1] });
  assert.deepEqual(threadPlan(3, 2), { prefill: 3, decodeCandidates: [3] });
  assert.deepEqual(threadPlan(64, 16), { prefill: MAX_THREADS, decodeCandidates: [MAX_THREADS] });
});

test('threadPlan: unset, a prefill takes every physical core up to 8 and decoding is probed among 1, 2, 4', () => {
  assert.deepEqual(threadPlan(0, 1), { prefill: 1, decodeCandidates: [1] });
  assert.deepEqual(threadPlan(0, 2), { prefill: 2, decodeCandidates: [1, 2] });
  assert.deepEqual(threadPlan(0, 6), { prefill: 6, decodeCandidates: [1, 2, 4] });
  assert.deepEqual(threadPlan(0, 32), { prefill: MAX_PREFILL_THREADS, decodeCandidates: [1, 2, 4] });
});

test('physicalCores: SMT siblings count once, offline CPUs not at all; no topology gives the logical count', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ultramem-cpus-'));
  try {
    // cpu0/cpu2 and cpu1/cpu3 are hyper-thread pairs; cpu4 is offline (no topology folder)
    const topology: [number, string, string][] = [[0, '0', '0'], [1, '0', '1'], [2, '0', '0'], [3, '0', '1']];
    for (const [cpu, pkg, core] of topology) {
      fs.mkdirSync(path.join(dir, `cpu${cpu}`, 'topology'), { recursive: true });
      fs.writeFileSync(path.join(dir, `cpu${cpu}`, 'topology', 'physical_package_id'), `${pkg}\n`);
      fs.writeFileSync(path.join(dir, `cpu${cpu}`, 'topology', 'core_id'), `${core}\n`);
    }
    fs.mkdirSync(path.join(dir, 'cpu4'));
    fs.mkdirSync(path.join(dir, 'cpufreq'));
    assert.equal(physicalCores(dir), Math.min(2, os.availableParallelism()));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(physicalCores(path.join(os.tmpdir(), 'no-such-cpu-dir')), os.availableParallelism());
});
