/**
 * The VS Code inline completion provider: converts a document and position into a CompletionRequest and a
 * CancellationToken into an AbortSignal, asks the pipeline, and turns the answer into one item.
 *
 * Streaming with the stable API: an automatic request is answered as soon as the text is useful (first line or a
 * few words). Once the worker has decoded the rest, one `editor.action.inlineSuggest.trigger` makes VS Code ask
 * again; the pipeline answers with the whole text at once, and VS Code replaces the shown ghost text with it in
 * place. One step rather than one per piece: VS Code asks again without hiding the ghost text only once (see
 * scheduleRefresh), and hiding it left the ghost text missing for several frames per step. An explicit request
 * (Trigger Completion) is answered with the whole text.
 */
import * as vscode from 'vscode';
import type { CompletionPipeline } from '../completion/pipeline';
import type { CompletionRequest, NeighbourFile } from '../completion/types';

/** Characters of context read around the cursor (the pipeline cuts them to the token budget). */
export const PREFIX_READ_CHARS = 32_000;
export const SUFFIX_READ_CHARS = 8_000;
/** Re-trigger at most this often while a suggestion streams. */
export const STREAM_REFRESH_MS = 40;

export interface ProviderDeps {
  readonly pipeline: CompletionPipeline;
  readonly log: Pick<vscode.LogOutputChannel, 'debug' | 'warn'>;
  /** Automatic completions allowed for this language (global and per-language switches). */
  readonly isEnabled: (languageId: string) => boolean;
  readonly neighbours: (document: vscode.TextDocument) => NeighbourFile[];
  readonly onShown?: (latencyMs: number) => void;
}

function toSignal(token: vscode.CancellationToken): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  if (token.isCancellationRequested) ac.abort();
  const sub = token.onCancellationRequested(() => ac.abort());
  return { signal: ac.signal, dispose: () => sub.dispose() };
}

const lf = (s: string): string => s.replace(/\r\n/g, '\n');

/**
 * The completion request at `position`, as if the suggest widget's selected item (when there is one) were inserted:
 * what the provider asks the pipeline, and what the background prefill puts into the cache for the next keystroke.
 */
export function requestAt(
  document: vscode.TextDocument,
  position: vscode.Position,
  trigger: CompletionRequest['trigger'],
  neighbours: (document: vscode.TextDocument) => NeighbourFile[],
  selected?: vscode.SelectedCompletionInfo,
): CompletionRequest {
  const start = selected ? selected.range.start : position;
  const offset = document.offsetAt(start);
  const endOffset = document.offsetAt(selected ? selected.range.end : position);
  const prefixStart = document.positionAt(Math.max(0, offset - PREFIX_READ_CHARS));
  const prefix = lf(document.getText(new vscode.Range(prefixStart, start))) + (selected ? selected.text : '');
  const suffix = lf(document.getText(new vscode.Range(document.positionAt(endOffset), document.positionAt(endOffset + SUFFIX_READ_CHARS))));
  // The editor's own options reflect indentation detection; the settings are the fallback.
  const editor = vscode.window.activeTextEditor?.document === document ? vscode.window.activeTextEditor : undefined;
  const config = vscode.workspace.getConfiguration('editor', document.uri);
  return {
    prefix,
    suffix,
    languageId: document.languageId,
    path: vscode.workspace.asRelativePath(document.uri, false),
    tabSize: Number(editor?.options.tabSize ?? config.get<number>('tabSize', 4)) || 4,
    insertSpaces: (editor?.options.insertSpaces ?? config.get<boolean>('insertSpaces', true)) !== false,
    trigger,
    neighbours: () => neighbours(document),
    documentLength: document.offsetAt(document.lineAt(document.lineCount - 1).range.end),
  };
}

export class InlineProvider implements vscode.InlineCompletionItemProvider {
  private refreshTimer: NodeJS.Timeout | null = null;
  /** The last suggestion returned: where, and whether alternatives came with it (src/extension/alternatives.ts). */
  private lastShown: { readonly document: vscode.TextDocument; readonly version: number; readonly offset: number; readonly items: number } | null = null;

  constructor(private readonly deps: ProviderDeps) {}

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const t0 = Date.now();
    const manual = context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke;
    if (!manual && !this.deps.isEnabled(document.languageId)) {
      this.deps.log.debug(`no completion: disabled for ${document.languageId}`);
      return undefined;
    }
    const selected = context.selectedCompletionInfo;
    // With the suggest widget open, complete as if its selected item were inserted; VS Code shows ghost
    // text only when it extends that item, over the item's range.
    const selectedText = selected ? selected.text : '';
    const req = requestAt(document, position, manual ? 'manual' : 'automatic', this.deps.neighbours, selected);

    const { signal, dispose } = toSignal(token);
    const version = document.version;
    try {
      const answer = await this.deps.pipeline.complete(req, {
        signal,
        early: !manual,
        onUpdate: (finished) => {
          if (finished) this.scheduleRefresh(document, version);
        },
      });
      const r = answer.result;
      if (r.isEmpty) {
        this.deps.log.debug(`no completion: ${r.skip ?? 'empty'}`);
        return undefined;
      }
      if (token.isCancellationRequested) return undefined;
      const inserted = (suggestion: string): string => (document.eol === vscode.EndOfLine.CRLF ? (selectedText + suggestion).replace(/\n/g, '\r\n') : selectedText + suggestion);
      const text = inserted(r.text);
      const range = selected ? selected.range : new vscode.Range(position, position);
      this.deps.onShown?.(Date.now() - t0);
      this.deps.log.debug(`completion (${r.source}${answer.streaming ? ', streaming' : ''}): ${JSON.stringify(r.text.slice(0, 80))}`);
      const item = new vscode.InlineCompletionItem(text, range);
      // acceptance statistics (Show Local Statistics): what is offered where; VS Code runs the command after a whole accept
      this.deps.pipeline.stats.acceptance.offered({ languageId: document.languageId, uri: document.uri.toString(), offset: document.offsetAt(range.start), text });
      item.command = { title: 'Accepted', command: 'ultramem-complete.accepted', arguments: [document.languageId] };
      // Show Next / Previous Inline Suggestion cycles through these (src/completion/alternatives.ts)
      const alternatives = (answer.alternatives ?? []).map((a) => new vscode.InlineCompletionItem(inserted(a), range, item.command));
      this.lastShown = { document, version, offset: document.offsetAt(position), items: 1 + alternatives.length };
      return [item, ...alternatives];
    } catch (e) {
      this.deps.log.warn(`completion failed: ${(e as Error).message}`);
      return undefined;
    } finally {
      dispose();
    }
  }

  /**
   * Asks VS Code to query again, if the editor is still where it was; the provider answers the new request at once
   * from the generation or the cache. VS Code (1.100, InlineCompletionsSource.fetch: UpdateRequest.satisfies) sends
   * a new request at the same position and document version only while the shown item came from an automatic
   * request: a trigger then replaces it in place, with no frame without ghost text. After an explicit request it
   * sends none unless the item is hidden first (`hide`; the command acts only while a suggestion is visible in the
   * focused editor), and the ghost text is missing until the answer arrives (15-330 ms on 2 busy cores).
   * test/e2e/ui.test.mjs counts those frames.
   */
  private scheduleRefresh(document: vscode.TextDocument, version: number): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      const editor = vscode.window.activeTextEditor;
      if (!editor || editor.document !== document || document.version !== version) return;
      void vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    }, STREAM_REFRESH_MS);
  }

  /** Whether the suggestion last returned, here, came without alternatives. */
  shownAlone(document: vscode.TextDocument, position: vscode.Position): boolean {
    const last = this.lastShown;
    return !!last && last.items === 1 && last.document === document && last.version === document.version && last.offset === document.offsetAt(position);
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
  }
}
