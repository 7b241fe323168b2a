/// <reference types="mocha" />
/**
 * Show Local Statistics opens a webview (no document: nothing to save), with the histogram of the time to ghost text
 * and the counts, after a suggestion the model decoded; running it again refreshes the same panel.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, closeAll, modelReady, openWithCursor, SECTION, settle, sleep, triggerAndCommit, until } from './helpers';
import { pythonSample, typescriptSample } from './samples';

const VIEW_TYPE = `${SECTION}.stats`;

/** The tabs showing the statistics webview (the tab API may prefix the view type). */
const statsTabs = (): vscode.Tab[] =>
  vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(VIEW_TYPE));
const untitledTabs = (): vscode.Tab[] =>
  vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputText && t.input.uri.scheme === 'untitled');

const keyed = (html: string, key: string): string | undefined => new RegExp(`data-key="${key}">([^<]*)<`).exec(html)?.[1];
const svgData = (html: string, name: string): string | undefined => new RegExp(`<svg class="histogram"[^>]*\\bdata-${name}="([^"]*)"`).exec(html)?.[1];

/** Runs the command, watching for documents it opens; resolves to the HTML it put in the webview. */
async function showStats(): Promise<{ html: string; opened: string[] }> {
  const opened: string[] = [];
  const sub = vscode.workspace.onDidOpenTextDocument((d) => opened.push(d.uri.toString()));
  try {
    const html = await vscode.commands.executeCommand<string>(`${SECTION}.showStats`);
    return { html, opened };
  } finally {
    sub.dispose();
  }
}

suite('statistics view', () => {
  suiteSetup(async function () {
    // run alone (`npx vscode-test --run out/test/vscode/statsView.suite.js`), this suite waits for the first model load
    this.timeout(200_000);
    await modelReady('ultramem-code-s', 180_000);
  });
  suiteTeardown(closeAll);

  test('Show Local Statistics opens a webview with the latency chart and the counts, and no untitled document', async () => {
    // a suggestion the model decodes (a function name no other suite completes, so not from the cache), accepted
    const { editor } = await openWithCursor(pythonSample('summarize_for_the_stats_view'), 'python');
    const inserted = await triggerAndCommit(editor);
    assert.ok(inserted.length > 0, 'a suggestion was shown and accepted');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    const untitledBefore = untitledTabs().length;

    const { html, opened } = await showStats();
    assert.deepEqual(opened, [], 'the command opens no document');
    assert.equal(untitledTabs().length, untitledBefore, 'no untitled editor');
    // the tab model reaches the extension host a moment after the panel opens
    const tabs = await until(() => (statsTabs().length > 0 ? statsTabs() : null), 'the statistics tab', 5000);
    assert.equal(tabs.length, 1, 'one statistics tab');
    assert.ok(tabs[0]!.isActive, 'the statistics tab is active');
    assert.equal(tabs[0]!.label, 'UltraMem Statistics');
    assert.equal(tabs[0]!.isDirty, false);

    // the chart: at least the suggestion above, in its bins, with p50 and p95
    assert.match(html, /<svg class="histogram"/);
    const n = Number(svgData(html, 'n'));
    assert.ok(n >= 1, `suggestions in the histogram: ${n}`);
    assert.equal(svgData(html, 'counts')!.split(',').map(Number).reduce((a, b) => a + b, 0), n);
    assert.match(svgData(html, 'p50')!, /^\d+$/);
    assert.match(svgData(html, 'p95')!, /^\d+$/);
    assert.match(html, /<line class="marker p50"/);
    // the counts
    assert.ok(Number(keyed(html, 'requests')) >= 1);
    assert.ok(Number(keyed(html, 'modelRequests')) >= 1);
    assert.match(keyed(html, 'cacheHits') ?? '', /^\d+$/);
    assert.match(keyed(html, 'shown') ?? '', /^\d+$/);
    assert.match(keyed(html, 'accepted') ?? '', /^\d+$/);
    assert.match(keyed(html, 'partiallyAccepted') ?? '', /^\d+$/);
    assert.match(keyed(html, 'rss') ?? '', /^\d+\.\d MiB$/, 'the worker\'s resident memory');
    assert.match(html, /default-src 'none'/);
  });

  test('the accepted suggestion is counted for its language (when the provider reports its offers)', async function () {
    const { html } = await showStats();
    if (!html.includes('<td>python</td>')) {
      console.log('    (the provider reports no offers: acceptance counts stay 0)');
      this.skip();
    }
    const row = /<tr><td>python<\/td><td class="num">(\d+)<\/td><td class="num">(\d+)<\/td>/.exec(html);
    assert.ok(row, 'a python row');
    assert.ok(Number(row[1]) >= 1, `python suggestions shown: ${row[1]}`);
    assert.ok(Number(row[2]) >= 1, `python suggestions accepted: ${row[2]}`);
  });

  test('running the command again refreshes the same panel', async () => {
    const before = Number(keyed((await showStats()).html, 'requests'));
    await completeIn(pythonSample('another_one_for_the_stats_view'), 'python');
    const { html, opened } = await showStats();
    assert.deepEqual(opened, []);
    assert.ok(Number(keyed(html, 'requests')) > before, `requests ${before} → ${keyed(html, 'requests')}`);
    assert.equal(statsTabs().length, 1, 'still one statistics tab');
  });

  test('a screenshot of the view for the README (only with ULTRAMEM_SCREENSHOT_DIR)', async function () {
    const dir = process.env.ULTRAMEM_SCREENSHOT_DIR;
    if (!dir) this.skip();
    this.timeout(300_000);
    // a few more suggestions for the histogram, one of them taken a word at a time
    for (const name of ['mean_of', 'clamp_all', 'top_k', 'histogram_of', 'median']) await completeIn(pythonSample(name), 'python');
    await completeIn(pythonSample('first_word_only'), 'python', 'partial');
    await completeIn(typescriptSample(), 'typescript');
    for (const c of ['workbench.action.closeSidebar', 'workbench.action.closeAuxiliaryBar', 'workbench.action.closePanel']) {
      await vscode.commands.executeCommand(c).then(undefined, () => undefined);
    }
    await showStats();
    await sleep(1500); // the webview paints
    const file = path.join(dir, 'statistics-view.png');
    fs.rmSync(file, { force: true });
    console.log(`[screenshot] statistics-view.png`);
    await until(() => fs.existsSync(file) && fs.statSync(file).size > 0, 'the screenshot', 20_000);
  });
});

/** Opens `sample` in an untitled editor, triggers a completion and accepts it (whole, or its first word), then drops the editor. */
async function completeIn(sample: string, language: string, take: 'whole' | 'partial' = 'whole'): Promise<void> {
  const { editor } = await openWithCursor(sample, language);
  if (take === 'whole') await triggerAndCommit(editor);
  else {
    await vscode.commands.executeCommand(`${SECTION}.trigger`);
    await settle(await api());
    await vscode.commands.executeCommand('editor.action.inlineSuggest.acceptNextWord');
    await sleep(200);
  }
  await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
}
