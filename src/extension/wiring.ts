/**
 * The extension's wiring: the engine host (worker process), the pipeline, the inline provider, the status bar, the
 * background prefill, the commands and the settings, everything disposable on context.subscriptions. activate()
 * (extension.ts) wires them and loads the model.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EngineHost } from '../client/engineHost';
import { defaultModel } from '../client/modelCatalog';
import { isWorkerRequestError } from '../client/workerClient';
import { ALTERNATIVES } from '../completion/alternatives';
import { CompletionPipeline, type PipelineOptions } from '../completion/pipeline';
import type { NeighbourFile } from '../completion/types';
import { clip } from '../worker/errors';
import { registerAlternativeKeys } from './alternatives';
import { registerBackgroundPrefill } from './backgroundPrefill';
import { bundledModelsFolder, MODEL_STATE_KEY, registerCommands } from './commands';
import { NeighbourTracker } from './neighbours';
import { InlineProvider, requestAt } from './provider';
import { readSettings, SECTION, type Settings } from './settings';
import { StatusBar } from './statusBar';

/** What wire() made, for activate() to load the model and answer with its API. */
export interface Wired {
  readonly engine: EngineHost;
  readonly pipeline: CompletionPipeline;
  readonly status: StatusBar;
  readonly settings: () => Settings;
  /** Loads a model folder; false (and the error shown) when it cannot be used. */
  readonly loadModel: (dir: string) => Promise<boolean>;
}

/** One funnel for user-facing errors: each distinct message is shown once per session. */
export function errorFunnel(log: vscode.LogOutputChannel): { report: (message: string) => void; shown: ReadonlySet<string> } {
  const shown = new Set<string>();
  const report = (message: string): void => {
    log.error(message);
    if (shown.has(message)) return;
    shown.add(message);
    void vscode.window.showErrorMessage(message, 'Switch Model', 'Show Log').then((choice) => {
      if (choice === 'Switch Model') void vscode.commands.executeCommand(`${SECTION}.switchModel`);
      if (choice === 'Show Log') log.show();
    });
  };
  return { report, shown };
}

function pipelineOptions(settings: Settings, engine: EngineHost): PipelineOptions {
  return {
    maxPromptTokens: settings.maxPromptTokens,
    maxTokens: settings.maxTokens,
    maxLines: settings.maxLines,
    neighbourSnippets: settings.neighbourSnippets,
    contextLength: engine.modelInfo?.contextLength ?? 512,
    fimTemplate: engine.modelInfo?.fimTemplate,
    alternatives: ALTERNATIVES,
  };
}

/** Creates the engine host, the pipeline, the provider, the status bar, the background prefill and the commands. */
export function wire(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, reportOnce: (message: string) => void): Wired {
  let settings = readSettings();
  let background: ReturnType<typeof registerBackgroundPrefill> | null = null;
  const engine = new EngineHost({
    workerPath: path.join(context.extensionPath, 'dist', 'worker.js'),
    threads: () => settings.threads,
    log: (level, message) => (level === 'error' ? log.error(message) : level === 'warn' ? log.warn(message) : log.info(message)),
    onState: (s) => {
      status.setState(s);
      if (s.kind === 'ready') log.info(`model ${s.model.name} ready (${s.model.loadMs} ms, ${s.model.threads} threads)`);
      if (s.kind === 'ready') background?.prefiller.trigger('modelReady');
      if (s.kind === 'restarting') log.warn(`engine restarting in ${s.delayMs} ms (attempt ${s.attempt}): ${s.reason}`);
    },
  });
  const pipeline = new CompletionPipeline(engine, () => pipelineOptions(settings, engine), (m) => log.debug(m), (busy) => status.setBusy(busy));
  const status = new StatusBar(pipeline.stats);
  status.setEnabled(settings.enable);
  const neighbours = new NeighbourTracker();
  const isEnabled = (languageId: string): boolean => settings.enable && !settings.disabledLanguages.includes(languageId);
  const neighboursOf = (doc: vscode.TextDocument): ReturnType<NeighbourTracker['neighbours']> => (settings.neighbourSnippets ? neighbours.neighbours(doc) : []);
  const provider = new InlineProvider({ pipeline, log, isEnabled, neighbours: neighboursOf });
  // The prompt at the cursor goes into the worker's KV cache while the user looks, not on the first keystroke.
  background = registerBackgroundPrefill({ pipeline, isEnabled, neighbours: neighboursOf, log });
  const loadModel = modelLoader(engine, status, reportOnce);

  context.subscriptions.push(
    status,
    neighbours,
    provider,
    background.disposable,
    vscode.languages.registerInlineCompletionItemProvider({ pattern: '**' }, provider),
    ...registerCommands({ context, host: engine, pipeline, log, loadModel, afterAccept: () => prepareNext(pipeline, isEnabled, neighboursOf, log) }),
    ...registerAlternativeKeys(provider, pipeline),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      const before = settings;
      settings = readSettings();
      status.setEnabled(settings.enable);
      if (settings.modelPath !== before.modelPath || settings.threads !== before.threads) {
        pipeline.reset();
        void chooseModel(context, settings.modelPath).then((dir) => loadModel(dir ?? ''));
      }
    }),
    { dispose: () => void engine.stop() },
  );
  return { engine, pipeline, status, settings: () => settings, loadModel };
}

/** Loads a model folder into the engine with the status bar's loading state; an error goes to the user once. */
function modelLoader(engine: EngineHost, status: StatusBar, reportOnce: (message: string) => void): (dir: string) => Promise<boolean> {
  return async (dir) => {
    const doneLoading = status.beginLoading(dir);
    try {
      await engine.load(dir);
      return true;
    } catch (e) {
      // clipped: the text comes partly from the model folder, and a notification is no place for a long one
      const what = isWorkerRequestError(e) ? `${clip(e.message)} [${e.code}]` : clip((e as Error).message);
      reportOnce(`UltraMem: cannot use the model in ${dir}: ${what}`);
      return false;
    } finally {
      doneLoading();
    }
  };
}

/**
 * After a whole accept, the suggestion at the new cursor starts decoding at once (as llama.vscode does). VS Code asks
 * there too, but after its own debounce and a trip to the extension host, and the pipeline may add its debounce; its
 * request attaches to this generation or finds it in the cache.
 */
function prepareNext(pipeline: CompletionPipeline, isEnabled: (languageId: string) => boolean, neighbours: (doc: vscode.TextDocument) => NeighbourFile[], log: vscode.LogOutputChannel): void {
  const editor = vscode.window.activeTextEditor;
  if (!editor || !isEnabled(editor.document.languageId)) return;
  log.debug(`next suggestion after an accept: ${pipeline.prefetch(requestAt(editor.document, editor.selection.active, 'automatic', neighbours))}`);
}

/** The modelPath setting, else the model chosen with Switch Model (if it still exists), else the bundled default. */
export async function chooseModel(context: vscode.ExtensionContext, modelPath: string): Promise<string | null> {
  if (modelPath) return modelPath;
  const chosen = context.globalState.get<string>(MODEL_STATE_KEY);
  if (chosen && fs.existsSync(path.join(chosen, 'manifest.json'))) return chosen;
  return (await defaultModel(bundledModelsFolder(context)))?.dir ?? null;
}
