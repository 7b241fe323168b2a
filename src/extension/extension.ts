/**
 * Activation: wires the extension (wiring.ts: the engine host, the pipeline, the inline provider, the status bar and
 * the commands) and loads the model. Everything disposable goes on context.subscriptions; deactivate awaits the worker.
 */
import * as vscode from 'vscode';
import type { EngineHost } from '../client/engineHost';
import type { PipelineStats } from '../completion/stats';
import { bundledModelsFolder } from './commands';
import { SECTION } from './settings';
import { chooseModel, errorFunnel, wire } from './wiring';

let host: EngineHost | null = null;

/** What activate() returns (`vscode.extensions.getExtension(...).exports`): a read-only view for integration tests. */
export interface UltraMemApi {
  readonly engine: Pick<EngineHost, 'state' | 'modelInfo' | 'workerPid' | 'restarts'>;
  /** The error messages shown to the user this session, each once, in order. */
  readonly errorsShown: readonly string[];
  /** Whether a completion is being decoded right now. */
  readonly generating: boolean;
  /** The pipeline's counters (alternatives decoded, next suggestions prepared after an accept, ...). */
  readonly stats: Pick<PipelineStats, 'alternatives' | 'prefetches' | 'modelRequests'>;
}

export async function activate(context: vscode.ExtensionContext): Promise<UltraMemApi> {
  const log = vscode.window.createOutputChannel('UltraMem Complete', { log: true });
  context.subscriptions.push(log);
  const errors = errorFunnel(log);
  const { engine, pipeline, status, settings, loadModel } = wire(context, log, errors.report);
  host = engine;

  const api: UltraMemApi = {
    engine,
    get errorsShown() {
      return [...errors.shown];
    },
    get generating() {
      return status.generating;
    },
    stats: pipeline.stats,
  };
  const dir = await chooseModel(context, settings().modelPath);
  if (!dir) {
    errors.report(`UltraMem: no model found. Bundled models belong in ${bundledModelsFolder(context)}; or set ${SECTION}.modelPath.`);
    return api;
  }
  log.info(`loading model from ${dir}`);
  void loadModel(dir);
  return api;
}

export async function deactivate(): Promise<void> {
  await host?.stop();
  host = null;
}
