/** The CPU a benchmark ran on: its model and the flags that decide which kernels run, printed with every run. */
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';

export interface CpuInfo {
  readonly model: string;
  readonly logicalCores: number;
  /** The flags that decide which kernels run, true or false, then every flag lscpu lists. */
  readonly [flag: string]: string | number | boolean;
}

const KERNEL_FLAGS = ['avx2', 'fma', 'f16c', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx_vnni', 'avx512_bf16', 'amx_int8', 'asimddp', 'i8mm'];

/** The CPU's model and flags from `lscpu` output. */
export function cpuInfo(lscpu: string, logicalCores: number): CpuInfo {
  const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(lscpu)?.[1]?.trim() ?? '';
  const flags = field('Flags').split(/\s+/).filter(Boolean);
  const has = Object.fromEntries(KERNEL_FLAGS.map((f) => [f, flags.includes(f)]));
  return { model: field('Model name'), logicalCores, ...has, flags: flags.join(' ') };
}

/** This machine's CPU, from `lscpu` where there is one (Linux), else its model name alone. */
export function readCpuInfo(): CpuInfo {
  let lscpu = '';
  try {
    lscpu = execFileSync('lscpu', { encoding: 'utf8' });
  } catch {
    lscpu = `Model name: ${os.cpus()[0]?.model ?? 'unknown'}\n`;
  }
  return cpuInfo(lscpu, os.availableParallelism());
}

/** One line: model, cores and the kernel flags it has. */
export function describeCpu(cpu: CpuInfo): string {
  const flags = Object.entries(cpu).filter(([, v]) => v === true).map(([k]) => k);
  return `${cpu.model}, ${cpu.logicalCores} logical cores, kernel flags: ${flags.join(' ') || 'none of ' + KERNEL_FLAGS.join(' ')}`;
}
