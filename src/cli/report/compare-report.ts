/**
 * The outputs of `reelgraph compare`: the text table (stdout), the JSON document (`--json`) and
 * the self-contained HTML report (`--out report.html`: the table, per-fold figures, charts as
 * inline SVG and the run's metadata, with no script, stylesheet, font or image from elsewhere).
 */
import type { MeasureName } from '../../engine/metrics';
import { formatFixed, testKey, type CrossValidateResult } from '../../engine/model-selection';
import { figuresJson, foldRowsJson, type FiguresJson } from '../cross-validation';
import {
  TOP_N_METRICS,
  topNDescription,
  topNLabel,
  topNTitle,
  type TopNFigures,
  type TopNMetric,
  type TopNPlan,
} from '../top-n-options';
import {
  accuracyTimeSpec,
  foldSpreadSpec,
  measureMetric,
  renderVegaLite,
  splitOutliers,
  type ChartMetric,
  type ChartResult,
} from './charts';

/** A compared algorithm's cross-validation, with its top-N figures when `--top-n` was given. */
export type ComparedResult = CrossValidateResult & { topN?: TopNFigures };

/** Facts about a comparison run, shown in the report and the JSON. */
export interface CompareRunInfo {
  /** The built-in name or the ratings file given to `--dataset`. */
  dataset: string;
  /** Number of ratings of the data set. */
  nRatings: number;
  /** 'random' (KFold) or 'predefined' (u1…u5). */
  folds: 'random' | 'predefined';
  /** Number of folds. */
  nSplits: number;
  /** KFold's random state (null: entropy, or predefined folds). */
  seed: number | null;
  /** Measures computed, in order. */
  measures: MeasureName[];
  /** `--top-n`: k and the relevance threshold; null when top-N figures were not asked for. */
  topN: TopNPlan | null;
  /** When the run started (ISO 8601, UTC). */
  date: string;
  /** The machine: CPU model, cores, memory, OS, Node.js version. */
  machine: { cpu: string; cores: number; memoryGiB: number; os: string; node: string };
  /**
   * `--workers`: folds fitted at the same time (1: one after the other in the command's own
   * thread). The measures do not depend on it; the times do (folds share the cores).
   */
  workers: number;
  /** reelgraph version. */
  version: string;
  /** The command line, for reproduction. */
  command: string;
}

const pad = (s: string, w: number) => (s.length >= w ? s : s + ' '.repeat(w - s.length));

/**
 * The table printed on stdout: one line per algorithm in the given order (rank them first), with
 * the mean of each measure over the folds (4 decimals), with `topN` the mean of each top-N figure
 * (4 decimals), and the mean fit and test seconds per fold (2 decimals).
 *
 * ```
 * Algorithm     RMSE    MAE     Prec@10  Recall@10  NDCG@10  Hit@10  Fit (s)  Test (s)
 * SVD           0.9390  0.7398  0.8712   0.5423     0.8901   0.9421  0.64     0.09
 * ```
 *
 * @param topN the plan of `--top-n` (every result then needs its `topN` figures), or null.
 */
export function formatCompareTable(
  results: readonly ComparedResult[],
  measures: readonly MeasureName[],
  topN: TopNPlan | null = null,
): string {
  const header = [
    'Algorithm',
    ...measures.map((m) => m.toUpperCase()),
    ...(topN ? TOP_N_METRICS.map((m) => topNLabel(m, topN.k)) : []),
    'Fit (s)',
    'Test (s)',
  ];
  const rows = results.map((r) => [
    r.algorithmName,
    ...measures.map((m) => formatFixed(r.mean[testKey(m)]!, 4)),
    ...(topN ? TOP_N_METRICS.map((m) => formatFixed(r.topN!.mean[m], 4)) : []),
    formatFixed(r.mean.fitTime!, 2),
    formatFixed(r.mean.testTime!, 2),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)) + 2);
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => pad(cell, widths[c]))
      .join('')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The JSON document of a comparison (`--json`); algorithms best first. */
export interface CompareJson {
  run: CompareRunInfo;
  algorithms: Array<{
    algorithm: string;
    params: Record<string, unknown>;
    /** Per fold: test measures and seconds. */
    perFold: Array<
      { fold: number; fitTime: number; testTime: number } & Partial<Record<MeasureName, number>>
    >;
    /** Means and standard deviations over the folds (see `figuresJson`). */
    mean: FiguresJson;
    std: FiguresJson;
    /**
     * With `--top-n` only: per fold `{fold, nUsers, precision, recall, ndcg, hitRate}` (means over
     * the fold's test users, in [0, 1]), and their mean and std over the folds.
     */
    topN?: TopNFigures;
  }>;
}

/** Builds the `--json` document. */
export function toCompareJson(
  results: readonly ComparedResult[],
  run: CompareRunInfo,
): CompareJson {
  return {
    run,
    algorithms: results.map((r) => {
      return {
        algorithm: r.algorithmName,
        params: r.params,
        perFold: foldRowsJson(r, () => ({})),
        mean: figuresJson(r, r.mean),
        std: figuresJson(r, r.std),
        ...(run.topN && r.topN ? { topN: r.topN } : {}),
      };
    }),
  };
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;',
  );
}

/** The chart metric of a top-N figure (key `topN.<metric>`, higher is better). */
function topNMetric(m: TopNMetric, k: number): ChartMetric {
  const t = topNTitle(m, k);
  return { key: `topN.${m}`, label: t[0].toUpperCase() + t.slice(1), higherIsBetter: true };
}

function chartResults(results: readonly ComparedResult[]): ChartResult[] {
  return results.map((r) => {
    const perFold: ChartResult['perFold'] = {};
    const mean: ChartResult['mean'] = {};
    for (const m of r.measures) {
      perFold[m] = r[testKey(m)];
      mean[m] = r.mean[testKey(m)];
    }
    if (r.topN) {
      for (const m of TOP_N_METRICS) {
        perFold[`topN.${m}`] = r.topN.perFold.map((f) => f[m]);
        mean[`topN.${m}`] = r.topN.mean[m];
      }
    }
    return {
      algorithm: r.algorithmName,
      perFold,
      mean,
      fitTime: r.mean.fitTime!,
      testTime: r.mean.testTime!,
    };
  });
}

/** Parameters as a compact `name=value` list (objects as JSON), for the reports' tables. */
export function formatParams(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}

/** The stylesheet of the HTML reports (inline: the reports reference nothing outside). */
export const REPORT_STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  margin: 2rem auto; max-width: 1180px; padding: 0 1rem; color: #111827; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #e5e7eb; padding-bottom: .25rem; }
table { border-collapse: collapse; margin: .5rem 0; font-size: .9rem; }
th, td { border: 1px solid #e5e7eb; padding: .3rem .6rem; text-align: right; }
th { background: #f9fafb; }
td.name, th.name { text-align: left; }
td:not(.params) { white-space: nowrap; }
td.params { text-align: left; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .75rem;
  color: #4b5563; min-width: 240px; max-width: 360px; }
div.wide { overflow-x: auto; }
tr.best td { background: #ecfdf5; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; font-size: .9rem; }
dt { color: #6b7280; }
dd { margin: 0; }
figure { margin: 1rem 0; }
figcaption { color: #6b7280; font-size: .85rem; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; }
`;

/**
 * Renders the HTML report: run metadata, the ranked table (mean ± std of each measure and, with
 * `run.topN`, of each top-N figure; times), per-fold figures, and the charts (for each measure
 * then each top-N figure: against time, and per-fold spread) as inline SVG. One file, no
 * external reference.
 *
 * @param results cross-validation results, best first (each with `topN` when `run.topN`).
 */
export async function renderCompareReport(
  results: readonly ComparedResult[],
  run: CompareRunInfo,
): Promise<string> {
  const measures = run.measures;
  const topN = run.topN;
  const chartData = chartResults(results);
  const charts: { title: string; svg: string; caption: string }[] = [];
  const order = chartData.map((c) => c.algorithm);
  const metrics: ChartMetric[] = [
    ...measures.map(measureMetric),
    ...(topN ? TOP_N_METRICS.map((m) => topNMetric(m, topN.k)) : []),
  ];
  const leftOut = (m: ChartMetric, outliers: ChartResult[]) =>
    outliers.length === 0
      ? ''
      : ` Not drawn, far outside the others' range: ${outliers
          .map((o) => `${o.algorithm} (${m.label} ${formatFixed(o.mean[m.key]!, 4)})`)
          .join(', ')}.`;
  for (const m of metrics) {
    const { shown, outliers } = splitOutliers(chartData, m);
    charts.push({
      title: `${m.label} against time`,
      svg: await renderVegaLite(accuracyTimeSpec(shown, m, order)),
      caption:
        `Mean ${m.label} over the folds against the mean seconds per fold (fit + test).` +
        leftOut(m, outliers),
    });
  }
  for (const m of metrics) {
    const { shown, outliers } = splitOutliers(chartData, m);
    charts.push({
      title: `${m.label} per fold`,
      svg: await renderVegaLite(foldSpreadSpec(shown, m)),
      caption:
        `Each fold's ${m.label} (points), their range (line) and mean (tick).` +
        leftOut(m, outliers),
    });
  }

  const e = escapeHtml;
  const head = [
    '<th class="name">#</th>',
    '<th class="name">Algorithm</th>',
    ...measures.map((m) => `<th>${m.toUpperCase()} (mean ± std)</th>`),
    ...(topN ? TOP_N_METRICS.map((m) => `<th>${e(topNLabel(m, topN.k))} (mean ± std)</th>`) : []),
    '<th>Fit (s/fold)</th>',
    '<th>Test (s/fold)</th>',
    '<th class="name">Parameters</th>',
  ].join('');
  const rows = results
    .map((r, k) => {
      const cells = [
        `<td class="name">${k + 1}</td>`,
        `<td class="name">${e(r.algorithmName)}</td>`,
        ...measures.map(
          (m) =>
            `<td>${formatFixed(r.mean[testKey(m)]!, 4)} ± ${formatFixed(r.std[testKey(m)]!, 4)}</td>`,
        ),
        ...(topN
          ? TOP_N_METRICS.map(
              (m) =>
                `<td>${formatFixed(r.topN!.mean[m], 4)} ± ${formatFixed(r.topN!.std[m], 4)}</td>`,
            )
          : []),
        `<td>${formatFixed(r.mean.fitTime!, 2)}</td>`,
        `<td>${formatFixed(r.mean.testTime!, 2)}</td>`,
        `<td class="params">${e(formatParams(r.params))}</td>`,
      ];
      return `<tr${k === 0 ? ' class="best"' : ''}>${cells.join('')}</tr>`;
    })
    .join('\n');

  const nSplits = run.nSplits;
  const foldHead = [
    '<th class="name">Algorithm</th>',
    '<th class="name">Measure</th>',
    ...Array.from({ length: nSplits }, (_, k) => `<th>Fold ${k + 1}</th>`),
    '<th>Mean</th>',
    '<th>Std</th>',
  ].join('');
  const foldRows = results
    .flatMap((r) => {
      const line = (what: string, values: number[], mean: number, std: number, digits: number) =>
        `<tr><td class="name">${e(r.algorithmName)}</td><td class="name">${what}</td>${values
          .map((v) => `<td>${formatFixed(v, digits)}</td>`)
          .join('')}<td>${formatFixed(mean, digits)}</td><td>${formatFixed(std, digits)}</td></tr>`;
      return [
        ...measures.map((m) =>
          line(m.toUpperCase(), r[testKey(m)]!, r.mean[testKey(m)]!, r.std[testKey(m)]!, 4),
        ),
        ...(topN && r.topN
          ? TOP_N_METRICS.map((m) =>
              line(
                e(topNLabel(m, topN.k)),
                r.topN!.perFold.map((f) => f[m]),
                r.topN!.mean[m],
                r.topN!.std[m],
                4,
              ),
            )
          : []),
        line('Fit time (s)', r.fitTime, r.mean.fitTime!, r.std.fitTime!, 2),
        line('Test time (s)', r.testTime, r.mean.testTime!, r.std.testTime!, 2),
      ];
    })
    .join('\n');

  const foldsText =
    run.folds === 'predefined'
      ? `predefined folds (${nSplits}: u1…u5 base/test files)`
      : `${nSplits}-fold KFold, seed ${run.seed ?? 'none (entropy)'}`;
  const best = results[0];
  const m0 = measures.includes('rmse') ? 'rmse' : measures[0];
  const chartsHtml = charts
    .map(
      (c) =>
        `<figure aria-label="${e(c.title)}">\n${c.svg}\n<figcaption>${e(c.caption)}</figcaption>\n</figure>`,
    )
    .join('\n');

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>reelgraph compare — ${e(run.dataset)}</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
<h1>Algorithm comparison on ${e(run.dataset)}</h1>
<p>${results.length} algorithms cross-validated on the same ${e(foldsText)}; ranked by mean
${m0.toUpperCase()}. Best: <strong>${e(best.algorithmName)}</strong> (${m0.toUpperCase()}
${formatFixed(best.mean[testKey(m0)]!, 4)}).</p>

<h2>Results</h2>
<div class="wide">
<table>
<thead><tr>${head}</tr></thead>
<tbody>
${rows}
</tbody>
</table>
</div>

<h2>Charts</h2>
${chartsHtml}

<h2>Per fold</h2>
<table>
<thead><tr>${foldHead}</tr></thead>
<tbody>
${foldRows}
</tbody>
</table>

<h2>Run</h2>
<dl>
<dt>Data set</dt><dd>${e(run.dataset)} (${run.nRatings} ratings)</dd>
<dt>Folds</dt><dd>${e(foldsText)}</dd>
<dt>Measures</dt><dd>${e(measures.map((m) => m.toUpperCase()).join(', '))}</dd>
${
  topN
    ? `<dt>Top-N</dt><dd>${e(
        TOP_N_METRICS.map((m) => topNTitle(m, topN.k)).join(', ') + ': ' + topNDescription(topN),
      )}</dd>\n`
    : ''
}<dt>Date</dt><dd>${e(run.date)}</dd>
<dt>Machine</dt><dd>${e(
    `${run.machine.cpu}, ${run.machine.cores} cores, ${run.machine.memoryGiB} GiB, ${run.machine.os}, Node.js ${run.machine.node}`,
  )}</dd>
<dt>Workers</dt><dd>${e(
    run.workers === 1
      ? '1 (folds one after the other)'
      : `${run.workers} (folds fitted at the same time; times are per fold in its worker)`,
  )}</dd>
<dt>reelgraph</dt><dd>${e(run.version)}</dd>
<dt>Command</dt><dd><code>${e(run.command)}</code></dd>
</dl>
</body>
</html>
`;
}
