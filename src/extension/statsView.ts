/**
 * The local statistics view: one webview panel (no document, so nothing asks to be saved) showing the page
 * src/completion/statsReport.ts renders. No scripts; the only command a link in it may run is the refresh. It
 * refreshes when the command runs again, when the panel comes back into view, and from its Refresh link.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { renderStatsHtml, type StatsSnapshot, type WorkerMemory } from '../completion/statsReport';
import { SECTION } from './settings';

export const STATS_VIEW_TYPE = `${SECTION}.stats`;
export const STATS_COMMAND = `${SECTION}.showStats`;
/**
 * The worker answers between two requests, so after the suggestion it is decoding: the page shows at once without
 * its memory when it takes longer than WORKER_FIRST_MS, and again with it when it answers (or says it did not, after
 * WORKER_WAIT_MS).
 */
export const WORKER_FIRST_MS = 300;
export const WORKER_WAIT_MS = 20_000;

export interface StatsSource {
  /** The numbers of now, with the worker's answer, or that it is being asked, or that it did not answer. */
  snapshot(worker: WorkerMemory | 'waiting' | null): StatsSnapshot;
  /** Asks the worker for its numbers (null: no worker). */
  worker(): Promise<WorkerMemory | null>;
}

/** `p`'s value, or 'waiting' if it takes longer than `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'waiting'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'waiting'>((resolve) => (timer = setTimeout(() => resolve('waiting'), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export class StatsView implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private renders = 0;

  /** `icon`: the tab's icon, a file path. */
  constructor(
    private readonly source: StatsSource,
    private readonly icon?: string,
  ) {}

  /** Opens the panel, or brings it forward, with fresh numbers; resolves to the HTML it shows in the end. */
  async show(): Promise<string> {
    if (this.panel) this.panel.reveal(undefined, false);
    else {
      const panel = vscode.window.createWebviewPanel(
        STATS_VIEW_TYPE,
        'UltraMem Statistics',
        { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
        { enableScripts: false, enableForms: false, enableCommandUris: [STATS_COMMAND], localResourceRoots: [], enableFindWidget: true },
      );
      if (this.icon) panel.iconPath = vscode.Uri.file(this.icon);
      this.panel = panel;
      panel.onDidDispose(() => {
        if (this.panel === panel) this.panel = undefined;
      });
      panel.onDidChangeViewState((e) => {
        if (e.webviewPanel.visible) void this.refresh();
      });
    }
    return this.refresh();
  }

  /** Renders the current numbers into the panel (of overlapping refreshes, the latest wins). */
  private async refresh(): Promise<string> {
    const n = ++this.renders;
    const asked = this.source.worker().catch(() => null);
    let worker = await within(asked, WORKER_FIRST_MS);
    if (worker === 'waiting') {
      this.render(n, 'waiting');
      worker = await within(asked, WORKER_WAIT_MS);
    }
    return this.render(n, worker === 'waiting' ? null : worker);
  }

  private render(n: number, worker: WorkerMemory | 'waiting' | null): string {
    const html = renderStatsHtml(this.source.snapshot(worker), { nonce: randomBytes(16).toString('base64'), refreshCommand: STATS_COMMAND });
    if (this.panel && n === this.renders) this.panel.webview.html = html;
    return html;
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
