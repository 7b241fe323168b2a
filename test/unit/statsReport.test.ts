/** The statistics page from a snapshot: histogram bins, p50/p95, the counts, escaping and the page's CSP. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PipelineStats } from '../../src/completion/stats';
import { CHART, escapeHtml, histogram, latencyChart, niceStep, renderStatsHtml, snapshotOf, type StatsSnapshot } from '../../src/completion/statsReport';

function snapshot(over: Partial<StatsSnapshot> = {}): StatsSnapshot {
  return {
    takenAt: new Date(2026, 11, 5, 23, 4, 5),
    model: 'ultramem-code-s',
    engine: 'ready',
    restarts: 0,
    requests: 40,
    modelRequests: 12,
    cacheHits: 7,
    typedThroughHits: 5,
    inflightReuse: 3,
    shownFrom: { cache: 12, running: 3, model: 10 },
    firstTextFromModelMs: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
    totalMs: [200, 400],
    acceptance: { python: { shown: 8, accepted: 3, partiallyAccepted: 2 }, typescript: { shown: 4, accepted: 1, partiallyAccepted: 0 } },
    skipped: { midWord: 6, textAfterCursor: 2 },
    kvReuseRate: 0.8,
    decodeTokensPerSec: 123.4,
    prefillTokensPerSec: 2000,
    worker: { pid: 4242, rssBytes: 300 * 2 ** 20, kvBytes: 12 * 2 ** 20, cachedTokens: 900, backgroundPrefills: 6, backgroundPrefillsCancelled: 2, backgroundPrefilledTokens: 1500 },
    ...over,
  };
}

/** The value of `data-<name>` on the histogram's svg element. */
function svgData(html: string, name: string): string | undefined {
  const svg = /<svg class="histogram"[^>]*>/.exec(html)?.[0] ?? '';
  return new RegExp(`data-${name}="([^"]*)"`).exec(svg)?.[1];
}
const keyed = (html: string, key: string): string | undefined => new RegExp(`data-key="${key}">([^<]*)<`).exec(html)?.[1];

test('niceStep rounds up to 1, 2 or 5 times a power of ten', () => {
  assert.deepEqual([0.3, 1, 1.2, 2, 3, 7, 10, 26, 51, 499, 501].map(niceStep), [0.5, 1, 2, 2, 5, 10, 10, 50, 100, 500, 1000]);
  assert.equal(niceStep(0), 1);
  assert.equal(niceStep(NaN), 1);
});

test('histogram: round bins from 0 up to the largest value', () => {
  // 10..100 in steps of 10: a step of 10 (100/19 rounds up to 10), 11 bins, one value each from 10 on
  assert.deepEqual(histogram([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]), { step: 10, counts: [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], clipped: 0 });
  // bin edges belong to the upper bin: [0,50), [50,100), …
  assert.deepEqual(histogram([0, 49.9, 50, 99, 100, 950], 20), { step: 50, counts: [2, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], clipped: 0 });
  assert.deepEqual(histogram([]), { step: 1, counts: [], clipped: 0 });
  assert.deepEqual(histogram([0, 0]), { step: 1, counts: [2], clipped: 0 });
  // NaN, infinities and negatives are not drawn
  assert.deepEqual(histogram([5, NaN, Infinity, -3]).counts.reduce((a, b) => a + b, 0), 1);
});

test('histogram: a far outlier goes into the last bin instead of squashing the others', () => {
  const values = [...Array.from({ length: 200 }, (_, i) => 100 + (i % 50)), 60_000];
  const h = histogram(values);
  assert.equal(h.clipped, 1);
  assert.ok(h.step * h.counts.length < 1000, `range ${h.step * h.counts.length} ms`);
  assert.equal(h.counts.reduce((a, b) => a + b, 0), values.length);
  assert.equal(h.counts[h.counts.length - 1]! >= 1, true);
});

test('the chart draws one bar per non-empty bin and marks p50 and p95 where they are', () => {
  const svg = latencyChart([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 'latency <ms>');
  assert.equal(svgData(svg, 'counts'), '0,1,1,1,1,1,1,1,1,1,1');
  assert.equal(svgData(svg, 'p50'), '50');
  assert.equal(svgData(svg, 'p95'), '100');
  assert.equal(svgData(svg, 'n'), '10');
  assert.equal((svg.match(/<rect class="bar"/g) ?? []).length, 10);
  assert.match(svg, /<title>latency &lt;ms&gt;<\/title>/);
  // the 11 bins span 0..110 ms over the plot's width: p50 (50 ms) sits at 50/110 of it
  const plotW = CHART.width - CHART.left - CHART.right;
  const x50 = Number(/<line class="marker p50" x1="([\d.]+)"/.exec(svg)?.[1]);
  assert.ok(Math.abs(x50 - (CHART.left + (50 / 110) * plotW)) < 0.1, `p50 at x=${x50}`);
  assert.match(svg, />p50 50 ms</);
  assert.match(svg, />p95 100 ms</);
  // a bar's tooltip gives its range and count
  assert.match(svg, /<title>50–60 ms: 1<\/title>/);
  // styled by class only: the page's CSP allows no style attributes
  assert.doesNotMatch(svg, /style=/);
});

test('the chart of no values says so and marks nothing', () => {
  const svg = latencyChart([], 'empty');
  assert.match(svg, /no suggestion decoded by the model yet/);
  assert.doesNotMatch(svg, /class="marker/);
  assert.equal(svgData(svg, 'p50'), '');
});

test('the page has the chart, the percentiles, the acceptance per language, the cache hits and the worker memory', () => {
  const html = renderStatsHtml(snapshot(), { nonce: 'abc123', refreshCommand: 'ultramem-complete.showStats' });
  assert.match(html, /<svg class="histogram"/);
  assert.equal(keyed(html, 'p50'), '50 ms');
  assert.equal(keyed(html, 'p95'), '100 ms');
  assert.match(html, /<tr><td>python<\/td><td class="num">8<\/td><td class="num">3<\/td><td class="num">2<\/td><td class="num">38 %<\/td><\/tr>/);
  assert.match(html, /<tr><td>typescript<\/td><td class="num">4<\/td><td class="num">1<\/td><td class="num">0<\/td><td class="num">25 %<\/td><\/tr>/);
  assert.ok(html.indexOf('>python<') < html.indexOf('>typescript<'), 'languages by suggestions shown');
  assert.equal(keyed(html, 'shown'), '12');
  assert.equal(keyed(html, 'accepted'), '4');
  assert.equal(keyed(html, 'partiallyAccepted'), '2');
  assert.equal(keyed(html, 'cacheHits'), '7');
  assert.equal(keyed(html, 'typedThroughHits'), '5');
  assert.equal(keyed(html, 'requests'), '40');
  // cache hits apart from the model's suggestions: 12 from the cache and 3 from a running generation of 25 shown
  assert.equal(keyed(html, 'answeredAtOnce'), '15');
  assert.match(html, /12 from the cache, 3 from a generation already running/);
  assert.equal(keyed(html, 'rss'), '300.0 MiB');
  assert.match(html, /<td>midWord<\/td><td class="num">6<\/td>/);
  assert.match(html, /taken at 23:04:05/);
  assert.match(html, /<a href="command:ultramem-complete.showStats">Refresh<\/a>/);
  assert.match(html, /80 %/);
  assert.match(html, /123 tokens\/s/);
  assert.match(html, /<td>background prefills \(cancelled\)<\/td><td class="num">6 \(2\)<\/td>/);
  assert.match(html, /<td>tokens prefilled in the background<\/td><td class="num">1500<\/td>/);
});

test('the page loads nothing and runs nothing: a strict CSP, its stylesheet by nonce, theme colours', () => {
  const html = renderStatsHtml(snapshot(), { nonce: 'n0nce' });
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1] ?? '';
  assert.match(csp, /^default-src 'none';/);
  assert.match(csp, /style-src 'nonce-n0nce'/);
  assert.match(csp, /script-src 'none'/);
  assert.doesNotMatch(csp, /unsafe|https?:|\*/);
  assert.doesNotMatch(html, /<script|<img|<link|<iframe|\son\w+=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/i);
  assert.equal((html.match(/<style nonce="n0nce">/g) ?? []).length, 1);
  assert.match(html, /var\(--vscode-foreground\)/);
  assert.match(html, /var\(--vscode-charts-blue\)/);
  assert.doesNotMatch(html, /#[0-9a-f]{3,6}\b|rgb\(/i, 'no fixed colours');
  assert.doesNotMatch(html, /command:/, 'no refresh link without a command');
});

test('language names, skip reasons and the model name are escaped', () => {
  const html = renderStatsHtml(
    snapshot({
      model: '<b>m</b>',
      acceptance: { '<img src=x onerror=alert(1)>': { shown: 1, accepted: 0, partiallyAccepted: 0 }, 'a&"b\'': { shown: 1, accepted: 1, partiallyAccepted: 0 } },
      skipped: { '</td><script>x</script>': 1 },
    }),
    { nonce: '"><script>' },
  );
  assert.doesNotMatch(html, /<img|<script|<b>m/);
  assert.match(html, /<td>&lt;img src=x onerror=alert\(1\)&gt;<\/td>/);
  assert.match(html, /<td>a&amp;&quot;b&#39;<\/td>/);
  assert.match(html, /&lt;\/td&gt;&lt;script&gt;x&lt;\/script&gt;/);
  assert.match(html, /<strong>&lt;b&gt;m&lt;\/b&gt;<\/strong>/);
  assert.equal(escapeHtml(`<&>"'`), '&lt;&amp;&gt;&quot;&#39;');
});

test('without the worker, and before any suggestion, the page still renders and says so', () => {
  const html = renderStatsHtml(snapshot({ worker: null, firstTextFromModelMs: [], totalMs: [], acceptance: {}, skipped: {}, kvReuseRate: NaN }), { nonce: 'x' });
  assert.match(html, /The worker did not answer/);
  assert.match(html, /no suggestion decoded by the model yet/);
  assert.equal(keyed(html, 'p50'), '–');
  assert.equal(keyed(html, 'shown'), '0');
  assert.doesNotMatch(html, /NaN|undefined/);
  assert.match(renderStatsHtml(snapshot({ worker: 'waiting' }), { nonce: 'x' }), /data-key="rss">Asking the worker/);
});

test('snapshotOf copies the pipeline statistics, so a later suggestion does not change a rendered snapshot', () => {
  const stats = new PipelineStats();
  stats.requests = 3;
  stats.cacheHits = 1;
  stats.shown(120, 'model');
  stats.shown(1, 'cache');
  stats.acceptance.offered({ languageId: 'python', uri: 'file:///a.py', offset: 0, text: 'return x' });
  const s = snapshotOf(stats, { model: 'm', engine: 'ready', restarts: 1, worker: { pid: 1, rssBytes: 2 ** 20, kvBytes: 0, cachedTokens: 0 } });
  stats.shown(300, 'model');
  stats.acceptance.accepted('python');
  assert.deepEqual(s.firstTextFromModelMs, [120]);
  assert.deepEqual(s.shownFrom, { cache: 1, running: 0, model: 1 });
  assert.deepEqual(s.acceptance, { python: { shown: 1, accepted: 0, partiallyAccepted: 0 } });
  assert.equal(s.requests, 3);
  assert.equal(s.restarts, 1);
  assert.match(renderStatsHtml(s, { nonce: 'x' }), /1 restart ·/);
});
