/** Other open files of the same language, most recently edited first, offered to the snippet ranker. */
import * as vscode from 'vscode';
import type { NeighbourFile } from '../completion/types';

const MAX_FILES = 8;
const MAX_CHARS = 100_000;

export class NeighbourTracker implements vscode.Disposable {
  private readonly recent: string[] = [];
  private readonly sub: vscode.Disposable;

  constructor() {
    this.sub = vscode.workspace.onDidChangeTextDocument((e) => this.touch(e.document.uri.toString()));
  }

  private touch(uri: string): void {
    const i = this.recent.indexOf(uri);
    if (i >= 0) this.recent.splice(i, 1);
    this.recent.unshift(uri);
    if (this.recent.length > 50) this.recent.pop();
  }

  neighbours(document: vscode.TextDocument): NeighbourFile[] {
    const rank = (d: vscode.TextDocument): number => {
      const i = this.recent.indexOf(d.uri.toString());
      return i < 0 ? Number.MAX_SAFE_INTEGER : i;
    };
    return vscode.workspace.textDocuments
      .filter((d) => d !== document && d.languageId === document.languageId && (d.uri.scheme === 'file' || d.uri.scheme === 'untitled'))
      .filter((d) => d.offsetAt(d.lineAt(d.lineCount - 1).range.end) <= MAX_CHARS)
      .sort((a, b) => rank(a) - rank(b))
      .slice(0, MAX_FILES)
      .map((d) => ({ path: vscode.workspace.asRelativePath(d.uri, false), languageId: d.languageId, text: d.getText().replace(/\r\n/g, '\n') }));
  }

  dispose(): void {
    this.sub.dispose();
  }
}
