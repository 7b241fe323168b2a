/** The palette commands: switch model, enable/disable (globally and per language), trigger, log, statistics, menu. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EngineHost } from '../client/engineHost';
import { catalog, type ModelEntry } from '../client/modelCatalog';
import type { CompletionPipeline } from '../completion/pipeline';
import { snapshotOf } from '../completion/statsReport';
import { readSettings, SECTION } from './settings';
import { StatsView } from './statsView';

export const MODEL_STATE_KEY = `${SECTION}.modelDir`;

export interface CommandDeps {
  readonly context: vscode.ExtensionContext;
  readonly host: EngineHost;
  readonly pipeline: CompletionPipeline;
  readonly log: vscode.LogOutputChannel;
  /** Loads a model folder, reporting failures once; resolves to whether it loaded. */
  readonly loadModel: (dir: string) => Promise<boolean>;
  /** Runs after a whole accept (the next suggestion is prepared at once). */
  readonly afterAccept?: () => void;
}

export function bundledModelsFolder(context: vscode.ExtensionContext): string {
  return path.join(context.extensionPath, 'models');
}

/**
 * Offers the model folders in a QuickPick. A folder passed as argument (keybindings, tests) skips the pick, but only
 * one the pick offers (bundled, or in the modelsFolder setting): anything that can run a command with arguments could
 * otherwise make the extension load, and remember, a model from anywhere, around the machine-scoped settings.
 */
async function switchModel(d: CommandDeps, dir?: string): Promise<void> {
  const s = readSettings();
  const entries = await catalog(bundledModelsFolder(d.context), s.modelsFolder || undefined);
  const pick = dir === undefined ? await pickModel(d, entries) : entries.find((e) => path.resolve(e.dir) === path.resolve(dir));
  if (!pick) {
    if (dir !== undefined) d.log.warn(`switchModel: ${dir} is not a bundled model nor one in the ${SECTION}.modelsFolder setting; ignored`);
    return;
  }
  if (s.modelPath) {
    void vscode.window.showWarningMessage(`The ${SECTION}.modelPath setting (${s.modelPath}) overrides the chosen model; clear it to use the picker.`);
  }
  if (await d.loadModel(pick.dir)) {
    await d.context.globalState.update(MODEL_STATE_KEY, pick.dir);
    d.pipeline.reset();
    void vscode.window.setStatusBarMessage(`UltraMem: now using ${d.host.modelInfo?.displayName ?? pick.displayName}`, 3000);
  }
}

async function pickModel(d: CommandDeps, entries: readonly ModelEntry[]): Promise<ModelEntry | undefined> {
  const current = d.host.modelInfo?.dir;
  const item = await vscode.window.showQuickPick(
    entries.map((e) => ({
      label: `${e.dir === current ? '$(check) ' : ''}${e.displayName}`,
      description: `${e.name} · ${e.source}`,
      detail: e.description || e.dir,
      dir: e.dir,
    })),
    { title: 'UltraMem: Switch Model', placeHolder: entries.length ? 'Choose the completion model' : 'No model folders found (see the modelsFolder setting)' },
  );
  return entries.find((e) => e.dir === item?.dir);
}

async function toggleLanguage(): Promise<void> {
  const languageId = vscode.window.activeTextEditor?.document.languageId;
  if (!languageId) return;
  const c = vscode.workspace.getConfiguration(SECTION);
  const list = new Set(c.get<string[]>('disabledLanguages', []));
  const disable = !list.has(languageId);
  if (disable) list.add(languageId);
  else list.delete(languageId);
  await c.update('disabledLanguages', [...list], vscode.ConfigurationTarget.Global);
  void vscode.window.setStatusBarMessage(`UltraMem: completions ${disable ? 'disabled' : 'enabled'} for ${languageId}`, 3000);
}

/**
 * Feeds the acceptance statistics: the provider gives each item `ACCEPTED_COMMAND` (VS Code runs it after a whole
 * accept) and records what it offers (`pipeline.stats.acceptance.offered`); a document edit that inserts part of the
 * offered text at its place is a partial accept.
 */
export const ACCEPTED_COMMAND = `${SECTION}.accepted`;
function trackEdits(d: CommandDeps): vscode.Disposable {
  return vscode.workspace.onDidChangeTextDocument((e) => {
    if (e.contentChanges.length !== 1) return;
    const ch = e.contentChanges[0]!;
    d.pipeline.stats.acceptance.edited(e.document.uri.toString(), ch.rangeOffset, ch.text);
  });
}

export function registerCommands(d: CommandDeps): vscode.Disposable[] {
  const c = (id: string, fn: (...args: unknown[]) => unknown): vscode.Disposable => vscode.commands.registerCommand(`${SECTION}.${id}`, fn);
  const view = new StatsView(
    {
      snapshot: (worker) => snapshotOf(d.pipeline.stats, { model: d.host.modelInfo?.name ?? null, engine: d.host.state.kind, restarts: d.host.restarts, worker }),
      worker: () => d.host.stats(),
    },
    path.join(d.context.extensionPath, 'media', 'icon.png'),
  );
  return [
    view,
    trackEdits(d),
    c('switchModel', (dir?: unknown) => switchModel(d, typeof dir === 'string' ? dir : undefined)),
    c('toggle', async () => {
      const cfg = vscode.workspace.getConfiguration(SECTION);
      await cfg.update('enable', !cfg.get('enable', true), vscode.ConfigurationTarget.Global);
    }),
    c('toggleLanguage', toggleLanguage),
    c('trigger', () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger')),
    c('showLog', () => d.log.show()),
    c('showStats', () => view.show()),
    c('accepted', (languageId?: unknown) => {
      if (typeof languageId === 'string') d.pipeline.stats.acceptance.accepted(languageId);
      d.afterAccept?.();
    }),
    c('menu', async () => {
      const items = [
        { label: '$(symbol-class) Switch Model', id: 'switchModel' },
        { label: '$(circle-slash) Enable/Disable Completions', id: 'toggle' },
        { label: '$(filter) Enable/Disable for This Language', id: 'toggleLanguage' },
        { label: '$(graph) Show Local Statistics', id: 'showStats' },
        { label: '$(output) Show Log', id: 'showLog' },
      ];
      const pick = await vscode.window.showQuickPick(items, { title: 'UltraMem Complete' });
      if (pick) await vscode.commands.executeCommand(`${SECTION}.${pick.id}`);
    }),
  ];
}
