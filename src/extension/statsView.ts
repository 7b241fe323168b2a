/**
 * The local statistics view: one webview panel (no document, so nothing asks to be saved) showing the page
 * src/completion/statsReport.ts renders. No scripts; the only command a link in it may run is the refresh. It
 * refreshes when the command runs again, when the panel comes back into view, and from its Refresh link.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { renderStatsHtml, type StatsSnapshot } from '../completion/statsReport';
import { SECTION } from './settings';

export const STATS_VIEW_TYPE = `${SECTION}.stats`;
export const STATS_COMMAND = `${SECTION}.showStats`;

export class StatsView implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private renders = 0;

  /** `icon`: the tab's icon, a file path. */
  constructor(
    private readonly collect: () => Promise<StatsSnapshot>,
    private readonly icon?: string,
  ) {}

  /** Opens the panel, or brings it forward, with fresh numbers; resolves to the HTML it shows. */
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

  /** Renders the current numbers into the panel (the latest of overlapping refreshes wins). */
  private async refresh(): Promise<string> {
    const n = ++this.renders;
    const html = renderStatsHtml(await this.collect(), { nonce: randomBytes(16).toString('base64'), refreshCommand: STATS_COMMAND });
    if (this.panel && n === this.renders) this.panel.webview.html = html;
    return html;
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
