/** The status bar item (fake vscode API, real engine and statistics): the model loading, then the model; the tooltip. */
import { MarkdownString, statusItems } from '../helpers/fakeVscode';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineHost } from '../../src/client/engineHost';
import { PipelineStats } from '../../src/completion/stats';
import { StatusBar } from '../../src/extension/statusBar';
import { FIXTURE_DIR, requireFixture, WORKER_PATH } from '../helpers/fixture';

test('the status bar shows the model loading, then the model; a second load shows while the first model serves', async () => {
  requireFixture();
  const status = new StatusBar(new PipelineStats());
  const item = statusItems[statusItems.length - 1]!;
  const texts: string[] = [];
  const host = new EngineHost({
    workerPath: WORKER_PATH,
    threads: () => 1,
    onState: (s) => {
      status.setState(s);
      texts.push(`${s.kind}: ${item.text}`);
    },
  });
  try {
    const first = status.beginLoading(FIXTURE_DIR);
    await host.load(FIXTURE_DIR);
    first();
    texts.push(`done: ${item.text}`);
    const second = status.beginLoading('/elsewhere/other-model');
    texts.push(`switching: ${item.text}`);
    assert.match((item.tooltip as MarkdownString).value, /Loading the model in \/elsewhere\/other-model; tiny-fixture answers meanwhile/);
    second();
    texts.push(`switch done: ${item.text}`);
  } finally {
    await host.stop();
    status.dispose();
  }
  assert.deepEqual(texts, [
    'starting: $(loading~spin) UltraMem: loading the model',
    'ready: $(loading~spin) UltraMem: loading the model',
    'done: $(sparkle) tiny-fixture',
    'switching: $(loading~spin) UltraMem: loading the model',
    'switch done: $(sparkle) tiny-fixture',
    'stopped: $(debug-disconnect) UltraMem',
  ]);
});

test('the tooltip says "from cache" for a cache hit, and gives the model\'s own times', () => {
  const stats = new PipelineStats();
  const status = new StatusBar(stats);
  const tooltip = (): string => (statusItems[statusItems.length - 1]!.tooltip as MarkdownString).value;
  try {
    stats.shown(312.4, 'model');
    assert.match(tooltip(), /Time to ghost text: last 312 ms; from the model p50 312 ms, p95 312 ms/);
    stats.shown(0.2, 'cache');
    assert.match(tooltip(), /Time to ghost text: last from cache; from the model p50 312 ms, p95 312 ms/);
    assert.doesNotMatch(tooltip(), /\b0 ms/);
    assert.match(tooltip(), /From cache: 1 of 2 suggestions/);
    stats.shown(40.6, 'running');
    assert.match(tooltip(), /last 41 ms; from the model p50 312 ms/);
  } finally {
    status.dispose();
  }
});
