/** The status bar item: model name, a spinner while generating, engine trouble, latency in the tooltip. */
import * as vscode from 'vscode';
import type { EngineState } from '../client/engineHost';
import type { PipelineStats } from '../completion/stats';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  private state: EngineState = { kind: 'stopped' };
  private busy = 0;
  private enabled = true;

  constructor(private readonly stats: PipelineStats) {
    this.item.name = 'UltraMem Complete';
    this.item.command = 'ultramem-complete.menu';
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
    if (s.kind === 'starting') icon = '$(loading~spin)';
    else if (s.kind === 'restarting') {
      icon = '$(warning)';
      text = 'UltraMem: restarting';
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    } else if (s.kind === 'modelError') {
      icon = '$(error)';
      text = 'UltraMem: model error';
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    } else if (s.kind === 'stopped') icon = '$(debug-disconnect)';
    if (this.busy > 0 && s.kind === 'ready') icon = '$(loading~spin)';
    this.item.text = `${icon} ${text}`;
    const sum = this.stats.summary();
    const ms = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '–' : `${Math.round(v)} ms`);
    const lines = [
      `**UltraMem Complete** — ${name}${this.enabled ? '' : ' (disabled)'}`,
      '',
      s.kind === 'restarting' ? `Engine restarting (attempt ${s.attempt}): ${s.reason}` : s.kind === 'modelError' ? `Model error: ${s.error.message}` : `Engine: ${s.kind}`,
      '',
      `Time to ghost text: last ${ms(sum['firstTextLastMs'])}, p50 ${ms(sum['firstTextP50Ms'])}, p95 ${ms(sum['firstTextP95Ms'])}`,
      `Whole suggestion: p50 ${ms(sum['totalP50Ms'])}, p95 ${ms(sum['totalP95Ms'])}`,
      '',
      'Click for the menu.',
    ];
    this.item.tooltip = new vscode.MarkdownString(lines.join('\n\n'));
  }

  dispose(): void {
    this.item.dispose();
  }
}
