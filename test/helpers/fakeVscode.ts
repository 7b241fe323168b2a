/**
 * A thin fake of the few `vscode` API pieces the adapter uses, registered as the module `vscode` so that
 * src/extension/*.ts can be loaded under node's test runner. Import this before any src/extension module.
 */
import Module from 'node:module';

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
  isEqual(o: Position): boolean {
    return o.line === this.line && o.character === this.character;
  }
}

export class Range {
  constructor(
    readonly start: Position,
    readonly end: Position,
  ) {}
}

export class InlineCompletionItem {
  constructor(
    readonly insertText: string,
    readonly range?: Range,
  ) {}
}

export const InlineCompletionTriggerKind = { Invoke: 0, Automatic: 1 } as const;
export const EndOfLine = { LF: 1, CRLF: 2 } as const;

export class FakeDocument {
  version = 1;
  readonly uri: { scheme: string; path: string; toString(): string };
  constructor(
    public text: string,
    readonly languageId = 'typescript',
    name = '/work/sample.ts',
  ) {
    this.uri = { scheme: 'file', path: name, toString: () => `file://${name}` };
  }
  get eol(): number {
    return this.text.includes('\r\n') ? EndOfLine.CRLF : EndOfLine.LF;
  }
  private get starts(): number[] {
    const s = [0];
    for (let i = 0; i < this.text.length; i++) if (this.text[i] === '\n') s.push(i + 1);
    return s;
  }
  get lineCount(): number {
    return this.starts.length;
  }
  offsetAt(p: Position): number {
    const s = this.starts;
    const line = Math.min(Math.max(0, p.line), s.length - 1);
    const lineEnd = line + 1 < s.length ? s[line + 1]! - 1 : this.text.length;
    return Math.min(s[line]! + p.character, lineEnd);
  }
  positionAt(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    const s = this.starts;
    let line = 0;
    while (line + 1 < s.length && s[line + 1]! <= o) line++;
    return new Position(line, o - s[line]!);
  }
  getText(range?: Range): string {
    if (!range) return this.text;
    return this.text.slice(this.offsetAt(range.start), this.offsetAt(range.end));
  }
  lineAt(line: number): { range: Range; text: string } {
    const s = this.starts;
    const start = s[line]!;
    const end = line + 1 < s.length ? s[line + 1]! - 1 : this.text.length;
    return { range: new Range(this.positionAt(start), this.positionAt(end)), text: this.text.slice(start, end) };
  }
  /** The position of the first ║ marker, which is removed from the text. */
  static withCursor(textWithCursor: string, languageId?: string): { doc: FakeDocument; pos: Position } {
    const at = textWithCursor.indexOf('║');
    const doc = new FakeDocument(textWithCursor.replace('║', ''), languageId);
    return { doc, pos: doc.positionAt(at) };
  }
}

export function token(cancelled = false): { isCancellationRequested: boolean; onCancellationRequested: (f: () => void) => { dispose(): void }; cancel(): void } {
  const listeners: (() => void)[] = [];
  const t = {
    isCancellationRequested: cancelled,
    onCancellationRequested: (f: () => void) => {
      listeners.push(f);
      return { dispose: () => undefined };
    },
    cancel: () => {
      t.isCancellationRequested = true;
      listeners.forEach((f) => f());
    },
  };
  return t;
}

export const executed: string[] = [];
export const config: Record<string, unknown> = {};
/** Messages shown with window.show*Message, and the command handlers registered. */
export const messages: { kind: string; text: string; actions: string[] }[] = [];
export const commandHandlers = new Map<string, (...args: unknown[]) => unknown>();
export const providers: unknown[] = [];
export const statusItems: { text: string; tooltip: unknown; command?: string; show(): void; dispose(): void }[] = [];
export const logLines: string[] = [];

type Listener<T> = (e: T) => void;
export const configListeners: Listener<{ affectsConfiguration(s: string): boolean }>[] = [];

export class ThemeColor {
  constructor(readonly id: string) {}
}
export class MarkdownString {
  constructor(readonly value: string) {}
}

function logChannel(): Record<string, unknown> {
  const line = (level: string) => (m: string) => logLines.push(`${level} ${m}`);
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error'), trace: line('trace'), show: () => undefined, dispose: () => undefined };
}

/** An ExtensionContext for activate(): extensionPath is the repository root (dist/, models/). */
export function extensionContext(extensionPath: string): { extensionPath: string; subscriptions: { dispose(): unknown }[]; globalState: { get(k: string): unknown; update(k: string, v: unknown): Promise<void> } } {
  const state = new Map<string, unknown>();
  return {
    extensionPath,
    subscriptions: [],
    globalState: { get: (k) => state.get(k), update: async (k, v) => void state.set(k, v) },
  };
}

export const fake = {
  Disposable: { from: (...items: { dispose(): unknown }[]) => ({ dispose: () => items.forEach((d) => d.dispose()) }) },
  Position,
  Range,
  InlineCompletionItem,
  InlineCompletionTriggerKind,
  EndOfLine,
  ThemeColor,
  MarkdownString,
  StatusBarAlignment: { Left: 1, Right: 2 },
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  window: {
    activeTextEditor: undefined as undefined | { document: unknown; options: Record<string, unknown> },
    createOutputChannel: () => logChannel(),
    createStatusBarItem: () => {
      const item = { text: '', tooltip: undefined as unknown, name: '', backgroundColor: undefined, show: () => undefined, dispose: () => undefined };
      statusItems.push(item);
      return item;
    },
    showErrorMessage: async (text: string, ...actions: string[]) => {
      messages.push({ kind: 'error', text, actions });
      return undefined;
    },
    showWarningMessage: async (text: string, ...actions: string[]) => {
      messages.push({ kind: 'warning', text, actions });
      return undefined;
    },
    setStatusBarMessage: () => ({ dispose: () => undefined }),
    showQuickPick: async () => undefined,
    onDidChangeActiveTextEditor: () => ({ dispose: () => undefined }),
    onDidChangeWindowState: () => ({ dispose: () => undefined }),
    onDidChangeTextEditorSelection: () => ({ dispose: () => undefined }),
  },
  languages: {
    registerInlineCompletionItemProvider: (_selector: unknown, provider: unknown) => {
      providers.push(provider);
      return { dispose: () => undefined };
    },
  },
  workspace: {
    textDocuments: [] as unknown[],
    getConfiguration: (section: string) => ({
      get: (key: string, def: unknown) => config[`${section}.${key}`] ?? def,
      inspect: (key: string) => ({ key, globalValue: config[`${section}.${key}`], defaultValue: undefined }),
      update: async (key: string, value: unknown) => {
        config[`${section}.${key}`] = value;
        for (const l of configListeners) l({ affectsConfiguration: (s: string) => `${section}.${key}`.startsWith(s) });
      },
    }),
    onDidChangeConfiguration: (l: Listener<{ affectsConfiguration(s: string): boolean }>) => {
      configListeners.push(l);
      return { dispose: () => undefined };
    },
    asRelativePath: (uri: { path: string }) => uri.path.replace(/^.*\//, ''),
    onDidChangeTextDocument: () => ({ dispose: () => undefined }),
    onDidOpenTextDocument: () => ({ dispose: () => undefined }),
  },
  commands: {
    executeCommand: async (id: string, ...args: unknown[]) => {
      executed.push(id);
      return commandHandlers.get(id)?.(...args);
    },
    registerCommand: (id: string, fn: (...args: unknown[]) => unknown) => {
      commandHandlers.set(id, fn);
      return { dispose: () => commandHandlers.delete(id) };
    },
  },
};

const M = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
const original = M._resolveFilename;
M._resolveFilename = function (request: string, ...rest: unknown[]) {
  if (request === 'vscode') return 'vscode';
  return original.call(this, request, ...rest);
};
require.cache['vscode'] = { id: 'vscode', filename: 'vscode', loaded: true, exports: fake } as unknown as NodeJS.Module;
