/// <reference types="mocha" />
/** Helpers for the extension-host suites: the extension's API, waiting, completions in a real editor, the CLI. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { UltraMemApi } from '../../src/extension/extension';

export const EXTENSION_ID = 'ultramem.ultramem-complete';
export const SECTION = 'ultramem-complete';
/** The repository (the extension under development): this file is out/test/vscode/helpers.js. */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const DEFAULT_MODEL = path.join(ROOT, 'models', 'ultramem-code-s');
export const TINY_MODEL = path.join(ROOT, 'models', 'tiny-fixture');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until<T>(cond: () => T | Promise<T>, what: string, ms = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

export async function api(): Promise<UltraMemApi> {
  const ext = vscode.extensions.getExtension<UltraMemApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not installed`);
  return ext.activate();
}

/** Waits until the engine has `model` loaded and ready. */
export async function modelReady(model = 'ultramem-code-s', ms = 60_000): Promise<UltraMemApi> {
  const a = await api();
  await until(() => a.engine.state.kind === 'ready' && a.engine.modelInfo?.name === model, `model ${model} ready (state: ${a.engine.state.kind})`, ms);
  return a;
}

export async function setSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration(SECTION).update(key, value, vscode.ConfigurationTarget.Global);
}

/**
 * For a suite that compares with the CLI: before it, the default model is ready and snippets from other files are
 * off (the CLI never adds them, and their budget share changes the prompt); after it, editors close after each test
 * and `restore` runs, then the setting is back to its default.
 */
export function compareWithCli(restore: () => Promise<void> = async () => undefined): void {
  suiteSetup(async () => {
    await setSetting('neighbourSnippets', false);
    await modelReady();
  });
  teardown(closeAll);
  suiteTeardown(async () => {
    await restore();
    await setSetting('neighbourSnippets', undefined);
  });
}

/** Opens an untitled editor with `text`; the cursor goes to the `║` marker (removed). */
export async function openWithCursor(text: string, language: string): Promise<{ editor: vscode.TextEditor; prefix: string; suffix: string }> {
  const at = text.indexOf('║');
  if (at < 0) throw new Error('no ║ cursor marker');
  const prefix = text.slice(0, at);
  const suffix = text.slice(at + 1);
  const doc = await vscode.workspace.openTextDocument({ language, content: prefix + suffix });
  const editor = await vscode.window.showTextDocument(doc);
  const pos = doc.positionAt(prefix.length);
  editor.selection = new vscode.Selection(pos, pos);
  return { editor, prefix, suffix };
}

export async function closeAll(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/**
 * Waits until a completion has been decoded to the end (the extension is idle again after having worked, or was
 * idle throughout: a cache hit or no request) and the last streamed piece has been shown (one refresh later).
 */
export async function settle(a: UltraMemApi, startMs = 3000): Promise<void> {
  const t0 = Date.now();
  while (!a.generating && Date.now() - t0 < startMs) await sleep(20);
  await until(() => !a.generating, 'the completion to finish decoding', 30_000);
  await sleep(400);
}

/** Accepts the shown suggestion with `editor.action.inlineSuggest.commit`; returns the inserted text ('' if none). */
export async function commit(editor: vscode.TextEditor): Promise<string> {
  const before = editor.document.getText();
  const offset = editor.document.offsetAt(editor.selection.active);
  await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
  await sleep(100);
  const after = editor.document.getText();
  return after.slice(offset, offset + after.length - before.length);
}

/** Asks for a completion at the cursor (the Trigger command: manual), waits until it is whole and accepts it. */
export async function triggerAndCommit(editor: vscode.TextEditor): Promise<string> {
  await vscode.commands.executeCommand(`${SECTION}.trigger`);
  await settle(await api());
  return commit(editor);
}

/** Types `text` (an automatic request), waits until its completion is whole and accepts it; '' if none was shown. */
export async function typeAndCommit(editor: vscode.TextEditor, text: string): Promise<string> {
  await vscode.commands.executeCommand('type', { text });
  await settle(await api());
  return commit(editor);
}

/**
 * The CLI's answers (`node dist/cli.js --jsonl`, the same engine and pipeline, one process) to prefix/suffix pairs:
 * the completion and how close its greedy decoding came to another token (`minMargin`). Run asynchronously: a
 * synchronous child would block the extension host, and the extension with it.
 */
export async function cliAnswers(model: string, requests: readonly { prefix: string; suffix: string; language: string }[]): Promise<{ completion: string; minMargin: number | null }[]> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), '--model', model, '--jsonl'], {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  child.stdin.end(requests.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`cli failed (exit ${code}): ${err}`);
  return out.trim().split('\n').map((line) => {
    const r = JSON.parse(line) as { completion: string; minMargin: number | null; error?: string };
    if (r.error) throw new Error(`cli: ${JSON.stringify(r.error)}`);
    return r;
  });
}

/** The CLI's completion for a prefix and suffix (cliAnswers). */
export async function cliCompletion(model: string, prefix: string, suffix: string, language: string): Promise<string> {
  return (await cliAnswers(model, [{ prefix, suffix, language }]))[0]!.completion;
}
