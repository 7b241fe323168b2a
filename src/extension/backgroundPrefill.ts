/**
 * The editor events of the background prefill (the logic is src/client/backgroundPrefill.ts): the active editor
 * changing, a document opening, the window regaining focus, edits and cursor moves in the active editor. The
 * request at the cursor is the inline provider's own (`requestAt`), so the prompt the pipeline builds for it is the
 * one the first keystroke there extends.
 */
import * as vscode from 'vscode';
import { BackgroundPrefiller, type PrefillTarget } from '../client/backgroundPrefill';
import type { CompletionPipeline } from '../completion/pipeline';
import type { NeighbourFile } from '../completion/types';
import { requestAt } from './provider';

export interface BackgroundPrefillWiring {
  readonly pipeline: CompletionPipeline;
  /** Automatic completions allowed for this language (the provider's own check). */
  readonly isEnabled: (languageId: string) => boolean;
  readonly neighbours: (document: vscode.TextDocument) => NeighbourFile[];
  readonly log: Pick<vscode.LogOutputChannel, 'debug'>;
}

function activeTarget(neighbours: BackgroundPrefillWiring['neighbours']): PrefillTarget | null {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return null;
  const document = editor.document;
  return {
    document: document.uri.toString(),
    version: document.version,
    offset: document.offsetAt(editor.selection.active),
    languageId: document.languageId,
    request: () => requestAt(document, editor.selection.active, 'automatic', neighbours),
  };
}

/** The scheduler, subscribed to the editor events; dispose() unsubscribes and cancels what is pending. */
export function registerBackgroundPrefill(w: BackgroundPrefillWiring): { prefiller: BackgroundPrefiller; disposable: vscode.Disposable } {
  const prefiller = new BackgroundPrefiller({
    target: () => activeTarget(w.neighbours),
    allowed: w.isEnabled,
    prefill: (req, signal) => w.pipeline.prefill(req, { signal }),
    log: (m) => w.log.debug(m),
  });
  const active = (document: vscode.TextDocument): boolean => vscode.window.activeTextEditor?.document === document;
  const subs = [
    vscode.window.onDidChangeActiveTextEditor((editor) => editor && prefiller.trigger('focus')),
    vscode.window.onDidChangeWindowState((state) => state.focused && prefiller.trigger('focus')),
    vscode.workspace.onDidOpenTextDocument(() => prefiller.trigger('open')),
    vscode.workspace.onDidChangeTextDocument((e) => e.contentChanges.length > 0 && active(e.document) && prefiller.trigger('edit')),
    vscode.window.onDidChangeTextEditorSelection((e) => e.textEditor === vscode.window.activeTextEditor && prefiller.trigger('cursor')),
  ];
  return { prefiller, disposable: vscode.Disposable.from(...subs, { dispose: () => prefiller.dispose() }) };
}
