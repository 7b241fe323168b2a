/**
 * The local statistics as a page: a snapshot of the pipeline's, the acceptance and the worker's numbers, rendered to
 * self-contained HTML with an inline SVG histogram of the time to ghost text. Plain TypeScript (no `vscode`), so the
 * rendering is unit-tested; src/extension/statsView.ts shows it in a webview. The page loads nothing: its
 * Content-Security-Policy allows only its own nonce'd stylesheet, no scripts, images, fonts or connections. Colours
 * and fonts are VS Code's theme variables, so it follows the theme.
 */
import { percentile, type AcceptanceCounts, type PipelineStats, type TextSource } from './stats';

/** The worker's part (src/shared/protocol.ts WorkerStats, the fields shown). */
export interface WorkerMemory {
  readonly pid: number;
  readonly rssBytes: number;
  readonly kvBytes: number;
  readonly cachedTokens: number;
  /** Background prefills (the prompt prepared while the user reads), those cancelled, and the tokens they prefilled. */
  readonly backgroundPrefills?: number;
  readonly backgroundPrefillsCancelled?: number;
  readonly backgroundPrefilledTokens?: number;
}

export interface StatsSnapshot {
  /** When it was taken (shown as local time of day). */
  readonly takenAt: Date;
  readonly model: string | null;
  readonly engine: string;
  readonly restarts: number;
  readonly requests: number;
  readonly modelRequests: number;
  readonly cacheHits: number;
  readonly typedThroughHits: number;
  readonly inflightReuse: number;
  /** Where each shown suggestion's first text came from. */
  readonly shownFrom: Readonly<Record<TextSource, number>>;
  /** Time to ghost text of the suggestions the model decoded for (no cache, no running generation), ms. */
  readonly firstTextFromModelMs: readonly number[];
  /** Time to decode a whole suggestion, ms. */
  readonly totalMs: readonly number[];
  readonly acceptance: Readonly<Record<string, AcceptanceCounts>>;
  readonly skipped: Readonly<Record<string, number>>;
  readonly kvReuseRate: number;
  readonly decodeTokensPerSec: number;
  readonly prefillTokensPerSec: number;
  /** 'waiting': being asked (it answers between two requests); null: it did not answer (not running, restarting, busy). */
  readonly worker: WorkerMemory | 'waiting' | null;
}

/** The pipeline's statistics, copied (the arrays too), with what the engine host knows. */
export function snapshotOf(
  stats: PipelineStats,
  engine: { model: string | null; engine: string; restarts: number; worker: WorkerMemory | 'waiting' | null },
  takenAt = new Date(),
): StatsSnapshot {
  const sum = stats.summary();
  const copy = <T extends object>(r: Readonly<Record<string, T>>): Record<string, T> => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, { ...v }]));
  return {
    takenAt,
    model: engine.model,
    engine: engine.engine,
    restarts: engine.restarts,
    requests: stats.requests,
    modelRequests: stats.modelRequests,
    cacheHits: stats.cacheHits,
    typedThroughHits: stats.typedThroughHits,
    inflightReuse: stats.inflightReuse,
    shownFrom: { ...stats.shownFrom },
    firstTextFromModelMs: [...stats.firstTextFromModel.all],
    totalMs: [...stats.total.all],
    acceptance: copy(stats.acceptance.byLanguage),
    skipped: Object.fromEntries(Object.entries(stats.skipped)),
    kvReuseRate: sum['kvReuseRate'] ?? NaN,
    decodeTokensPerSec: sum['decodeTokensPerSec'] ?? NaN,
    prefillTokensPerSec: sum['prefillTokensPerSec'] ?? NaN,
    worker: (engine.worker === 'waiting' || engine.worker === null) ? engine.worker : {
      pid: engine.worker.pid,
      rssBytes: engine.worker.rssBytes,
      kvBytes: engine.worker.kvBytes,
      cachedTokens: engine.worker.cachedTokens,
      backgroundPrefills: engine.worker.backgroundPrefills,
      backgroundPrefillsCancelled: engine.worker.backgroundPrefillsCancelled,
      backgroundPrefilledTokens: engine.worker.backgroundPrefilledTokens,
    },
  };
}

/** The smallest 1, 2 or 5 × 10^k at least `x` (x > 0); 1 for anything else. */
export function niceStep(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return 1;
  const e = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * e >= x * (1 - 1e-12)) return m * e;
  return 10 * e;
}

export interface Histogram {
  /** Bin i holds the values in [i·step, (i+1)·step); the last also holds everything beyond, when `clipped` > 0. */
  readonly step: number;
  readonly counts: readonly number[];
  /** Values beyond the last bin's range, counted in it (far outliers, so that they do not squash the rest). */
  readonly clipped: number;
}

/**
 * Bins of a round width from 0, at most `maxBins` of them, over the values up to the largest; when the largest is
 * beyond twice the 99th percentile, the range ends there and the last bin collects the outliers.
 */
export function histogram(values: readonly number[], maxBins = 20): Histogram {
  const finite = values.filter((v) => Number.isFinite(v) && v >= 0);
  if (finite.length === 0) return { step: 1, counts: [], clipped: 0 };
  const max = Math.max(...finite);
  const p99 = percentile(finite, 99);
  const top = max > 2 * p99 ? 2 * p99 : max;
  const step = niceStep(top / Math.max(1, maxBins - 1));
  const n = Math.min(maxBins, Math.floor(top / step) + 1);
  const counts = new Array<number>(n).fill(0);
  let clipped = 0;
  for (const v of finite) {
    const i = Math.floor(v / step);
    if (i >= n) clipped++;
    counts[Math.min(i, n - 1)]!++;
  }
  return { step, counts, clipped };
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Text for HTML content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const ms = (v: number): string => (Number.isFinite(v) ? `${Math.round(v)} ms` : '–');
const pct = (v: number): string => (Number.isFinite(v) ? `${(100 * v).toFixed(0)} %` : '–');
const rate = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(0)} tokens/s` : '–');
const mib = (bytes: number): string => (Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : '–');
/** A number of the histogram's axis: whole milliseconds, or seconds from 10 s. */
const axis = (v: number): string => (v >= 10_000 ? `${+(v / 1000).toFixed(1)} s` : `${+v.toFixed(1)}`);

export const CHART = { width: 560, height: 184, left: 36, right: 12, top: 36, bottom: 30 } as const;
/** About the width of a character of the 11 px marker labels. */
const LABEL_CHAR_PX = 6.5;

/**
 * An inline SVG histogram of `values` (ms) with the p50 and p95 marked. Styled only by class names (the page's
 * stylesheet maps them to theme colours): the CSP allows no inline style attributes.
 */
export function latencyChart(values: readonly number[], label: string): string {
  const h = histogram(values);
  const n = values.length;
  const p50 = percentile(values, 50);
  const p95 = percentile(values, 95);
  const { width: W, height: H, left: L, right: R, top: T, bottom: B } = CHART;
  const plotW = W - L - R;
  const plotH = H - T - B;
  const bins = Math.max(1, h.counts.length);
  const span = bins * h.step;
  const x = (v: number): number => L + (Math.min(v, span) / span) * plotW;
  const peak = Math.max(1, ...h.counts);
  const y = (c: number): number => T + plotH - (c / peak) * plotH;
  const f = (v: number): string => v.toFixed(1);
  const parts: string[] = [];
  parts.push(
    `<svg class="histogram" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(label)}"` +
      ` data-n="${n}" data-step="${h.step}" data-counts="${h.counts.join(',')}" data-p50="${Number.isFinite(p50) ? Math.round(p50) : ''}" data-p95="${Number.isFinite(p95) ? Math.round(p95) : ''}">`,
  );
  parts.push(`<title>${escapeHtml(label)}</title>`);
  h.counts.forEach((c, i) => {
    if (c === 0) return;
    const x0 = x(i * h.step);
    const x1 = x((i + 1) * h.step);
    const last = i === h.counts.length - 1 && h.clipped > 0;
    const range = last ? `≥ ${axis(i * h.step)} ms` : `${axis(i * h.step)}–${axis((i + 1) * h.step)} ms`;
    parts.push(`<rect class="bar" x="${f(x0 + 1)}" y="${f(y(c))}" width="${f(Math.max(1, x1 - x0 - 2))}" height="${f(T + plotH - y(c))}"><title>${range}: ${c}</title></rect>`);
  });
  // axes: the baseline, the peak count, a few round ticks under it
  parts.push(`<line class="axis" x1="${L}" y1="${T + plotH}" x2="${W - R}" y2="${T + plotH}"/>`);
  parts.push(`<text class="tick" x="${L - 4}" y="${T + 4}" text-anchor="end">${peak}</text>`);
  parts.push(`<text class="tick" x="${L - 4}" y="${T + plotH}" text-anchor="end">0</text>`);
  const every = Math.max(1, Math.ceil(bins / 5));
  for (let i = 0; i <= bins; i += every) {
    const clippedEdge = i === bins && h.clipped > 0;
    parts.push(`<text class="tick" x="${f(x(i * h.step))}" y="${T + plotH + 14}" text-anchor="middle">${axis(i * h.step)}${clippedEdge ? '+' : ''}</text>`);
  }
  parts.push(`<text class="tick" x="${W - R}" y="${H - 2}" text-anchor="end">ms</text>`);
  if (n === 0) {
    parts.push(`<text class="empty" x="${L + plotW / 2}" y="${T + plotH / 2}" text-anchor="middle">no suggestion decoded by the model yet</text>`);
  } else {
    // each label on its own row above the plot, right of its line unless that runs past the edge: close values stay readable
    const rows = [['p50', p50, 12], ['p95', p95, 27]] as const;
    for (const [name, v, row] of rows) {
      const xv = x(v);
      const label = `${name} ${ms(v)}`;
      const fitsRight = xv + 3 + label.length * LABEL_CHAR_PX <= W - R;
      parts.push(`<line class="marker ${name}" x1="${f(xv)}" y1="${row + 4}" x2="${f(xv)}" y2="${T + plotH}"/>`);
      parts.push(`<text class="marker-label ${name}" x="${f(fitsRight ? xv + 3 : xv - 3)}" y="${row}" text-anchor="${fitsRight ? 'start' : 'end'}">${escapeHtml(label)}</text>`);
    }
  }
  parts.push('</svg>');
  return parts.join('');
}

/** `[[header…], [cell…]…]` as a table; cells are escaped; a cell's `key` becomes data-key (tests read those). */
function table(caption: string, header: readonly string[], rows: readonly (readonly (string | { text: string; key: string })[])[]): string {
  const th = header.map((h, i) => `<th${i > 0 ? ' class="num"' : ''}>${escapeHtml(h)}</th>`).join('');
  const trs = rows
    .map(
      (r) =>
        `<tr>${r.map((c, i) => (typeof c === 'string' ? `<td${i > 0 ? ' class="num"' : ''}>${escapeHtml(c)}</td>` : `<td class="num" data-key="${escapeHtml(c.key)}">${escapeHtml(c.text)}</td>`)).join('')}</tr>`,
    )
    .join('');
  return `<table><caption>${escapeHtml(caption)}</caption><thead><tr>${th}</tr></thead><tbody>${trs}</tbody></table>`;
}

const cell = (key: string, v: number | string): { text: string; key: string } => ({ key, text: String(v) });

export interface RenderOptions {
  /** The nonce of the page's one stylesheet (fresh for every render). */
  readonly nonce: string;
  /** A command the Refresh link runs (`command:` URI; the webview must allow it); no link when absent. */
  readonly refreshCommand?: string;
}

/** The whole page. */
export function renderStatsHtml(s: StatsSnapshot, opts: RenderOptions): string {
  const nonce = escapeHtml(opts.nonce);
  const csp = `default-src 'none'; style-src 'nonce-${nonce}'; img-src 'none'; script-src 'none'; font-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'`;
  const time = `${String(s.takenAt.getHours()).padStart(2, '0')}:${String(s.takenAt.getMinutes()).padStart(2, '0')}:${String(s.takenAt.getSeconds()).padStart(2, '0')}`;
  const fromModel = s.firstTextFromModelMs;
  const answeredAtOnce = s.shownFrom.cache + s.shownFrom.running;
  const shownTotal = s.shownFrom.cache + s.shownFrom.running + s.shownFrom.model;

  const languages = Object.entries(s.acceptance).sort(([a, x], [b, y]) => y.shown - x.shown || (a < b ? -1 : a > b ? 1 : 0));
  const total = languages.reduce((t, [, n]) => ({ shown: t.shown + n.shown, accepted: t.accepted + n.accepted, partiallyAccepted: t.partiallyAccepted + n.partiallyAccepted }), {
    shown: 0,
    accepted: 0,
    partiallyAccepted: 0,
  });
  const share = (n: AcceptanceCounts): string => (n.shown > 0 ? pct(n.accepted / n.shown) : '–');
  const acceptanceRows = [
    ...languages.map(([lang, n]) => [lang, String(n.shown), String(n.accepted), String(n.partiallyAccepted), share(n)]),
    ['all languages', cell('shown', total.shown), cell('accepted', total.accepted), cell('partiallyAccepted', total.partiallyAccepted), share(total)],
  ];
  const skips = Object.entries(s.skipped).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
  const w = s.worker;

  const body = [
    `<header><h1>UltraMem Complete: local statistics</h1>`,
    `<p class="meta">Model <strong>${escapeHtml(s.model ?? 'none')}</strong> · engine ${escapeHtml(s.engine)}${s.restarts > 0 ? ` · ${s.restarts} restart${s.restarts === 1 ? '' : 's'}` : ''} · taken at ${time}` +
      `${opts.refreshCommand ? ` · <a href="command:${escapeHtml(opts.refreshCommand)}">Refresh</a>` : ''}</p>`,
    `<p class="meta">Counted in this window since VS Code started; nothing here leaves this machine.</p></header>`,

    `<section><h2>Time to ghost text</h2>`,
    `<p>The ${fromModel.length === 1 ? 'suggestion' : `${fromModel.length} suggestions`} the model decoded for${fromModel.length === 500 ? ' (the latest 500)' : ''}: ` +
      `p50 <strong data-key="p50">${ms(percentile(fromModel, 50))}</strong>, p95 <strong data-key="p95">${ms(percentile(fromModel, 95))}</strong>.</p>`,
    latencyChart(fromModel, 'Histogram of the time to ghost text of the suggestions the model decoded, in milliseconds'),
    `<p>Shown at once, without waiting for the model: <strong data-key="answeredAtOnce">${answeredAtOnce}</strong> of ${shownTotal} ` +
      `(${s.shownFrom.cache} from the cache, ${s.shownFrom.running} from a generation already running for an earlier keystroke). ` +
      `A whole suggestion took p50 ${ms(percentile(s.totalMs, 50))}, p95 ${ms(percentile(s.totalMs, 95))} to decode.</p></section>`,

    `<section><h2>Acceptance</h2>`,
    table('Suggestions shown and taken, per language', ['language', 'shown', 'accepted', 'partially accepted', 'accepted share'], acceptanceRows),
    `<p class="note">Accepted: taken whole, with Tab or a word or line at a time to its end. Partially accepted: some words or lines taken, not the rest. A suggestion counts once however often it grew while streaming.</p></section>`,

    `<section><h2>Requests, cache and memory</h2><div class="grid">`,
    table('Requests', ['', 'count'], [
      ['completion requests', cell('requests', s.requests)],
      ['decoded by the model', cell('modelRequests', s.modelRequests)],
      ['cache hits', cell('cacheHits', s.cacheHits)],
      ['typed through a suggestion', cell('typedThroughHits', s.typedThroughHits)],
      ['joined a running generation', cell('inflightReuse', s.inflightReuse)],
    ]),
    w !== null && w !== 'waiting'
      ? table('The worker process', ['', 'value'], [
          ['resident memory (RSS)', cell('rss', mib(w.rssBytes))],
          ['KV cache', mib(w.kvBytes)],
          ['tokens in the KV cache', String(w.cachedTokens)],
          ['process id', String(w.pid)],
        ])
      : w === 'waiting'
        ? `<p data-key="rss">Asking the worker for its memory (it answers when the suggestion it decodes is done)…</p>`
        : `<p data-key="rss">The worker did not answer (it is not running, is restarting, or was busy for long).</p>`,
    table('Engine', ['', 'value'], [
      ['prompt reused from the KV cache', pct(s.kvReuseRate)],
      ['decoding', rate(s.decodeTokensPerSec)],
      ['prompt processing', rate(s.prefillTokensPerSec)],
      ...(w !== null && w !== 'waiting' && w.backgroundPrefills !== undefined
        ? [
            ['background prefills (cancelled)', `${w.backgroundPrefills} (${w.backgroundPrefillsCancelled ?? 0})`],
            ['tokens prefilled in the background', String(w.backgroundPrefilledTokens ?? 0)],
          ]
        : []),
    ]),
    skips.length > 0 ? table('No suggestion, by reason', ['reason', 'count'], skips.map(([r, c]) => [r, String(c)])) : '',
    `</div></section>`,
  ].join('\n');

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>UltraMem Statistics</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** Theme variables only (VS Code sets them on the webview's body and updates them when the theme changes). */
const STYLE = `
body { color: var(--vscode-foreground); background: var(--vscode-editor-background); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); padding: 0 20px 20px; max-width: 820px; }
h1 { font-size: 1.4em; font-weight: 600; margin-bottom: 0.2em; }
h2 { font-size: 1.1em; font-weight: 600; margin-top: 1.6em; border-bottom: 1px solid var(--vscode-panel-border, var(--vscode-widget-border, transparent)); padding-bottom: 0.2em; }
.meta, .note, caption { color: var(--vscode-descriptionForeground); }
.note { font-size: 0.9em; }
a { color: var(--vscode-textLink-foreground); }
a:hover { color: var(--vscode-textLink-activeForeground); }
table { border-collapse: collapse; margin: 0.6em 0 1em; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); column-gap: 28px; }
.grid table { width: 100%; align-self: start; }
caption { text-align: left; padding-bottom: 0.3em; }
th, td { text-align: left; padding: 2px 12px 2px 0; border-bottom: 1px solid var(--vscode-editorWidget-border, transparent); }
th { font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
svg.histogram { display: block; max-width: 100%; height: auto; margin: 0.4em 0; }
svg .bar { fill: var(--vscode-charts-blue); }
svg .bar:hover { fill: var(--vscode-charts-purple, var(--vscode-charts-blue)); }
svg .axis { stroke: var(--vscode-descriptionForeground); stroke-width: 1; }
svg .tick, svg .empty { fill: var(--vscode-descriptionForeground); font-size: 10px; font-family: var(--vscode-font-family); }
svg .marker { stroke-width: 1.5; stroke-dasharray: 4 3; }
svg .marker.p50 { stroke: var(--vscode-charts-green); }
svg .marker.p95 { stroke: var(--vscode-charts-orange); }
svg .marker-label { font-size: 11px; font-family: var(--vscode-font-family); }
svg .marker-label.p50 { fill: var(--vscode-charts-green); }
svg .marker-label.p95 { fill: var(--vscode-charts-orange); }
`;
