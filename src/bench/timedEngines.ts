/**
 * The engines `npm run bench:engine` times, behind one interface: our worker's Engine (src/worker/engine.ts, the
 * code the extension runs, in this process so that no IPC is timed) and llama.cpp through node-llama-cpp.
 * Both decode greedily from token ids; timestamps are taken as each token comes out.
 */
import { performance } from 'node:perf_hooks';
import { Engine } from '../worker/engine';

export interface PromptRun {
  /** Empty cache to the first token out. */
  readonly prefillMs: number;
  /** Each decode step after it, at the prompt's context. */
  readonly decodeStepMs: number[];
}

export interface TimedEngine {
  readonly threads: number;
  /** Cold prefill of `prompt` (an empty cache), then `decodeSteps` greedy decode steps. */
  run(prompt: readonly number[], decodeSteps: number): Promise<PromptRun>;
  /**
   * A keystroke after `run` or the previous keystroke: drops the prompt's last token (the word being typed),
   * appends `typed` (its longer re-tokenization) and decodes one token. Returns its milliseconds.
   */
  keystroke(typed: readonly [number, number]): Promise<number>;
  dispose(): Promise<void>;
}

function stepTimes(t0: number, stamps: readonly number[]): PromptRun {
  return { prefillMs: stamps[0]! - t0, decodeStepMs: stamps.slice(1).map((t, i) => t - stamps[i]!) };
}

/** Our worker's engine on a model folder; the prompt is the token ids the cache covers. */
export class WorkerEngine implements TimedEngine {
  private prompt: number[] = [];

  private constructor(private readonly engine: Engine, readonly threads: number) {}

  static async load(modelDir: string, threads: number): Promise<WorkerEngine> {
    return new WorkerEngine(await Engine.load({ modelDir, threads }), threads);
  }

  private async generate(ids: readonly number[], maxTokens: number): Promise<number[]> {
    const stamps: number[] = [];
    await this.engine.generateIds({ ids, maxTokens }, { isCancelled: () => false, onPartial: () => stamps.push(performance.now()) });
    return stamps;
  }

  async run(prompt: readonly number[], decodeSteps: number): Promise<PromptRun> {
    this.engine.resetCache();
    this.prompt = [...prompt];
    const t0 = performance.now();
    return stepTimes(t0, await this.generate(prompt, 1 + decodeSteps));
  }

  async keystroke(typed: readonly [number, number]): Promise<number> {
    this.prompt = [...this.prompt.slice(0, -1), ...typed];
    const t0 = performance.now();
    // Two tokens out: the first comes from the prefill of the typed ones, the second is the decoded one.
    const stamps = await this.generate(this.prompt, 2);
    return stamps[stamps.length - 1]! - t0;
  }

  async dispose(): Promise<void> {
    await this.engine.release();
  }
}

/** The parts of node-llama-cpp 3's API used here (its types live outside the repository). */
interface LlamaSequence {
  readonly nextTokenIndex: number;
  clearHistory(): Promise<void>;
  eraseContextTokenRanges(ranges: { start: number; end: number }[]): Promise<void>;
  evaluate(tokens: number[], options?: { temperature?: number }): AsyncGenerator<number, void, void>;
}
interface LlamaContext {
  readonly currentThreads: number;
  getSequence(): LlamaSequence;
  dispose(): Promise<void>;
}
export interface LlamaModel {
  createContext(options: { contextSize: number; batchSize: number; threads: number; flashAttention: boolean; sequences: number }): Promise<LlamaContext>;
  dispose(): Promise<void>;
}
interface NodeLlamaCpp {
  getLlama(options: { gpu: false; build: 'never'; skipDownload: true; usePrebuiltBinaries: true; logLevel: string }): Promise<{
    readonly buildType: string;
    loadModel(options: { modelPath: string }): Promise<LlamaModel>;
  }>;
}

/** Loads llama.cpp's prebuilt CPU backend (no GPU, never a build from source) and a GGUF file. */
export async function loadLlamaModel(entryUrl: string, ggufPath: string): Promise<LlamaModel> {
  const lib = (await import(entryUrl)) as NodeLlamaCpp;
  const llama = await lib.getLlama({ gpu: false, build: 'never', skipDownload: true, usePrebuiltBinaries: true, logLevel: 'warn' });
  return llama.loadModel({ modelPath: ggufPath });
}

/** One llama.cpp context (a thread count, flash attention on or off) with one sequence. */
export class LlamaCppEngine implements TimedEngine {
  private promptEnd = 0;

  private constructor(private readonly context: LlamaContext, private readonly sequence: LlamaSequence, readonly threads: number) {}

  static async create(model: LlamaModel, threads: number, flashAttention: boolean, contextSize: number): Promise<LlamaCppEngine> {
    const context = await model.createContext({ contextSize, batchSize: contextSize, threads, flashAttention, sequences: 1 });
    // Unset, it takes max(cores, 4) threads, which spin-wait when oversubscribed (README.md, "The engine against llama.cpp").
    if (context.currentThreads !== threads) throw new Error(`llama.cpp context runs ${context.currentThreads} threads, not ${threads}`);
    return new LlamaCppEngine(context, context.getSequence(), threads);
  }

  /** Feeds `tokens` and takes `count` tokens out (each one taken is fed back before the next); their times. */
  private async generate(tokens: number[], count: number): Promise<number[]> {
    const stamps: number[] = [];
    for await (const token of this.sequence.evaluate(tokens, { temperature: 0 })) {
      void token;
      stamps.push(performance.now());
      if (stamps.length >= count) break;
    }
    return stamps;
  }

  async run(prompt: readonly number[], decodeSteps: number): Promise<PromptRun> {
    await this.sequence.clearHistory();
    this.promptEnd = prompt.length;
    const t0 = performance.now();
    return stepTimes(t0, await this.generate([...prompt], 1 + decodeSteps));
  }

  async keystroke(typed: readonly [number, number]): Promise<number> {
    const t0 = performance.now();
    await this.sequence.eraseContextTokenRanges([{ start: this.promptEnd - 1, end: this.sequence.nextTokenIndex }]);
    const stamps = await this.generate([...typed], 2);
    this.promptEnd += 1;
    return stamps[stamps.length - 1]! - t0;
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
  }
}
