/**
 * The status bar item: model name, the model loading, a spinner while generating, engine trouble, latency in the
 * tooltip (from the model, or "from cache" for suggestions the cache answered at once).
 */
import * as vscode from 'vscode';
import type { EngineState } from '../client/engineHost';
import type { PipelineStats } from '../completion/stats';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  private state: EngineState = { kind: 'stopped' };
  private busy = 0;
  private enabled = true;
  /** Model folders being loaded, oldest first: the newest shows (a model may serve meanwhile). */
  private loading: { dir: string }[] = [];

  constructor(private readonly stats: PipelineStats) {
    this.item.name = 'UltraMem Complete';
    this.item.command = 'ultramem-complete.menu';
    stats.onShown = () => this.render();
    this.render();
    this.item.show();
  }

  setState(state: EngineState): void {
    this.state = state;
    this.render();
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.render();
  }

  /** Shows `dir` loading until the returned function is called. */
  beginLoading(dir: string): () => void {
    const entry = { dir };
    this.loading.push(entry);
    this.render();
    return () => {
      this.loading = this.loading.filter((e) => e !== entry);
      this.render();
    };
  }

  get generating(): boolean {
    return this.busy > 0;
  }

  setBusy(busy: boolean): void {
    this.busy = Math.max(0, this.busy + (busy ? 1 : -1));
    this.render();
  }

  private render(): void {
    const s = this.state;
    const name = s.kind === 'ready' ? s.model.displayName : 'UltraMem';
    let icon = this.enabled ? '$(sparkle)' : '$(circle-slash)';
    let text = s.kind === 'ready' ? s.model.name : 'UltraMem';
    this.item.backgroundColor = undefined;
    if (s.kind === 'restarting') {
      icon = '$(warning)';
      text = 'UltraMem: restarting';
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    } else if (s.kind === 'modelError') {
      icon = '$(error)';
      text = 'UltraMem: model error';
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    } else if (s.kind === 'stopped') icon = '$(debug-disconnect)';
    if (this.busy > 0 && s.kind === 'ready') icon = '$(loading~spin)';
    const loadingDir = this.loading[this.loading.length - 1]?.dir ?? (s.kind === 'starting' ? s.modelDir : undefined);
    if (loadingDir !== undefined) {
      icon = '$(loading~spin)';
      // not the folder's name: the item names a model only once it serves (the tooltip names the folder)
      text = 'UltraMem: loading the model';
      this.item.backgroundColor = undefined;
    }
    this.item.text = `${icon} ${text}`;
    const sum = this.stats.summary();
    const ms = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '–' : `${Math.round(v)} ms`);
    const engine =
      s.kind === 'restarting' ? `Engine restarting (attempt ${s.attempt}): ${s.reason}` : s.kind === 'modelError' ? `Model error: ${s.error.message}` : `Engine: ${s.kind}`;
    const lines = [
      `**UltraMem Complete** — ${name}${this.enabled ? '' : ' (disabled)'}`,
      '',
      loadingDir !== undefined ? `Loading the model in ${loadingDir}${s.kind === 'ready' ? `; ${s.model.name} answers meanwhile` : ''}` : engine,
      '',
      `Time to ghost text: last ${this.stats.lastSource === 'cache' ? 'from cache' : ms(sum['firstTextLastMs'])}; from the model p50 ${ms(sum['firstTextFromModelP50Ms'])}, p95 ${ms(sum['firstTextFromModelP95Ms'])}`,
      `From cache: ${this.stats.shownFrom.cache} of ${this.stats.shownFrom.cache + this.stats.shownFrom.running + this.stats.shownFrom.model} suggestions`,
      `Whole suggestion: p50 ${ms(sum['totalP50Ms'])}, p95 ${ms(sum['totalP95Ms'])}`,
      '',
      'Click for the menu, or [show the local statistics](command:ultramem-complete.showStats).',
    ];
    const tooltip = new vscode.MarkdownString(lines.join('\n\n'));
    // the one command its link may run
    tooltip.isTrusted = { enabledCommands: ['ultramem-complete.showStats'] };
    this.item.tooltip = tooltip;
  }

  dispose(): void {
    this.item.dispose();
  }
}
