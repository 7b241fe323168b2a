/**
 * Show Local Statistics with the fake vscode API: a webview panel (no document), scripts off, only the refresh command
 * allowed; the same panel again on the next run, with fresh numbers; acceptance fed by the `accepted` command and edits.
 */
import { commandHandlers, extensionContext, fake } from '../helpers/fakeVscode';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import type * as vscode from 'vscode';
import type { EngineHost } from '../../src/client/engineHost';
import type { CompletionPipeline } from '../../src/completion/pipeline';
import { PipelineStats } from '../../src/completion/stats';

interface FakePanel {
  viewType: string;
  title: string;
  options: Record<string, unknown>;
  webview: { html: string };
  iconPath?: unknown;
  reveals: number;
  visible: boolean;
  fireViewState(): void;
  dispose(): void;
}

const panels: FakePanel[] = [];
const opened: unknown[] = [];
let editListener: ((e: unknown) => void) | undefined;
const f = fake as unknown as Record<string, Record<string, unknown>> & Record<string, unknown>;
f['ViewColumn'] = { Active: -1 };
f['Uri'] = { file: (p: string) => ({ scheme: 'file', fsPath: p }) };
f['window']!['createWebviewPanel'] = (viewType: string, title: string, _show: unknown, options: Record<string, unknown>) => {
  let onDispose = (): void => undefined;
  let onViewState = (_e: unknown): void => undefined;
  const panel: FakePanel & Record<string, unknown> = {
    viewType,
    title,
    options,
    webview: { html: '' },
    reveals: 0,
    visible: true,
    reveal: () => void panel.reveals++,
    onDidDispose: (l: () => void) => ((onDispose = l), { dispose: () => undefined }),
    onDidChangeViewState: (l: (e: unknown) => void) => ((onViewState = l), { dispose: () => undefined }),
    fireViewState: () => onViewState({ webviewPanel: panel }),
    dispose: () => onDispose(),
  };
  panels.push(panel);
  return panel;
};
f['workspace']!['openTextDocument'] = async (...args: unknown[]) => void opened.push(args);
f['workspace']!['onDidChangeTextDocument'] = (l: (e: unknown) => void) => ((editListener = l), { dispose: () => undefined });

async function setup(workerDelayMs = 0): Promise<{ stats: PipelineStats; disposables: vscode.Disposable[]; workerCalls: () => number }> {
  // loaded after the fake got its webview parts (a module's `vscode` namespace has the keys there were when it loaded)
  const { registerCommands } = await import('../../src/extension/commands');
  const stats = new PipelineStats();
  let calls = 0;
  const host = {
    modelInfo: { name: 'ultramem-code-s' },
    state: { kind: 'ready' },
    restarts: 0,
    stats: async () => {
      calls++;
      await new Promise((r) => setTimeout(r, workerDelayMs));
      return { pid: 77, rssBytes: 256 * 2 ** 20, kvBytes: 0, cachedTokens: 0 };
    },
  } as unknown as EngineHost;
  const disposables = registerCommands({
    context: extensionContext('/ext') as unknown as vscode.ExtensionContext,
    host,
    pipeline: { stats } as unknown as CompletionPipeline,
    log: {} as vscode.LogOutputChannel,
    loadModel: async () => true,
  });
  return { stats, disposables, workerCalls: () => calls };
}

test('the command opens a script-less webview with the chart and the counts, opens no document, and reuses its panel', async () => {
  const { stats, disposables, workerCalls } = await setup();
  try {
    stats.requests = 2;
    stats.modelRequests = 1;
    stats.shown(180, 'model');
    const html = (await commandHandlers.get('ultramem-complete.showStats')!()) as string;
    assert.equal(panels.length, 1);
    const p = panels[0]!;
    assert.equal(p.viewType, 'ultramem-complete.stats');
    assert.equal(p.title, 'UltraMem Statistics');
    assert.equal(p.options['enableScripts'], false);
    assert.deepEqual(p.options['enableCommandUris'], ['ultramem-complete.showStats']);
    assert.deepEqual(p.options['localResourceRoots'], []);
    assert.deepEqual(p.iconPath, { scheme: 'file', fsPath: path.join('/ext', 'media', 'icon.png') });
    assert.equal(p.webview.html, html);
    assert.match(html, /<svg class="histogram"[^>]*data-n="1"/);
    assert.match(html, /data-key="requests">2</);
    assert.match(html, /data-key="rss">256\.0 MiB</);
    assert.deepEqual(opened, [], 'no untitled document');

    // again: the same panel, brought forward, with the numbers of now
    stats.requests = 5;
    const again = (await commandHandlers.get('ultramem-complete.showStats')!()) as string;
    assert.equal(panels.length, 1);
    assert.equal(p.reveals, 1);
    assert.match(again, /data-key="requests">5</);
    assert.equal(p.webview.html, again);

    // back into view: refreshed
    stats.requests = 9;
    p.fireViewState();
    await new Promise((r) => setTimeout(r, 10));
    assert.match(p.webview.html, /data-key="requests">9</);
    assert.equal(workerCalls(), 3, 'the worker is asked for its memory on every refresh');

    // closed: the next run opens a new panel
    p.dispose();
    await commandHandlers.get('ultramem-complete.showStats')!();
    assert.equal(panels.length, 2);
  } finally {
    for (const d of disposables) d.dispose();
  }
});

test('a busy worker: the page shows at once without its memory, then with it when it answers', async () => {
  const { WORKER_FIRST_MS } = await import('../../src/extension/statsView');
  const { disposables } = await setup(WORKER_FIRST_MS + 400);
  try {
    const before = panels.length;
    const done = commandHandlers.get('ultramem-complete.showStats')!() as Promise<string>;
    await new Promise((r) => setTimeout(r, WORKER_FIRST_MS + 100));
    const p = panels[before]!;
    assert.match(p.webview.html, /data-key="rss">Asking the worker/);
    assert.match(p.webview.html, /<svg class="histogram"/);
    const html = await done;
    assert.match(html, /data-key="rss">256\.0 MiB</);
    assert.equal(p.webview.html, html);
  } finally {
    for (const d of disposables) d.dispose();
  }
});

test('the accepted command and document edits feed the acceptance counts', async () => {
  const { stats, disposables } = await setup();
  try {
    stats.acceptance.offered({ languageId: 'python', uri: 'file:///a.py', offset: 4, text: 'return a + b' });
    editListener!({ document: { uri: { toString: () => 'file:///a.py' } }, contentChanges: [{ rangeOffset: 4, text: 'return' }] });
    assert.deepEqual(stats.acceptance.byLanguage['python'], { shown: 1, accepted: 0, partiallyAccepted: 1 });
    void commandHandlers.get('ultramem-complete.accepted')!('python');
    assert.deepEqual(stats.acceptance.byLanguage['python'], { shown: 1, accepted: 1, partiallyAccepted: 0 });
    void commandHandlers.get('ultramem-complete.accepted')!(42); // not a language id: ignored
    assert.deepEqual(stats.acceptance.total, { shown: 1, accepted: 1, partiallyAccepted: 0 });
  } finally {
    for (const d of disposables) d.dispose();
  }
});
