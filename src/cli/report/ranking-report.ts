/**
 * The HTML report of `reelgraph compare --protocol ranking --out report.html`: one per-user
 * stratified split, every model's top-k figures (nDCG, MAP, precision, recall, hit rate, catalogue
 * coverage, with Microsoft Recommenders' definitions: src/engine/ranking-protocol.ts), charts of
 * nDCG and MAP against fit + test time as inline SVG, and the run's metadata. One file: no
 * script, stylesheet, font or image from elsewhere (like the cross-validation report).
 */
import { formatFixed } from '../../engine/model-selection';
import type { RankingResult } from '../../engine/ranking-protocol';
import { accuracyTimeSpec, renderVegaLite, type ChartMetric, type ChartResult } from './charts';
import { escapeHtml, formatParams, REPORT_STYLE, type CompareRunInfo } from './compare-report';

/** Facts of a ranking-protocol run shown in the report. */
export interface RankingRunInfo extends Pick<
  CompareRunInfo,
  'dataset' | 'nRatings' | 'date' | 'machine' | 'version' | 'command'
> {
  /** Ratings in the training and the test part of the split. */
  nTrain: number;
  nTest: number;
  /** The split's test fraction, in (0, 1). */
  testSize: number;
  /** The split's seed. */
  seed: number;
  /** The list length k. */
  k: number;
}

/** The figures of the table and the charts, in order: [key, label]. */
function figureColumns(k: number): [keyof RankingResult, string][] {
  return [
    ['ndcg', `nDCG@${k}`],
    ['map', 'MAP'],
    ['precision', `Precision@${k}`],
    ['recall', `Recall@${k}`],
    ['hitRate', `Hit rate@${k}`],
    ['coverage', 'Coverage'],
  ];
}

/**
 * Renders the report.
 *
 * @param results every model's figures (any order: the report ranks them by nDCG, best first).
 * @param run the split and the machine.
 * @returns the HTML document (UTF-8 text).
 */
export async function renderRankingReport(
  results: readonly RankingResult[],
  run: RankingRunInfo,
): Promise<string> {
  const e = escapeHtml;
  const ranked = [...results].sort((a, b) => b.ndcg - a.ndcg);
  const columns = figureColumns(run.k);
  const chartData: ChartResult[] = ranked.map((r) => ({
    algorithm: r.algorithm,
    perFold: { ndcg: [r.ndcg], map: [r.map] },
    mean: { ndcg: r.ndcg, map: r.map },
    fitTime: r.fitTime,
    testTime: r.testTime,
  }));
  const order = ranked.map((r) => r.algorithm);
  const charts: string[] = [];
  for (const metric of [
    { key: 'ndcg', label: `nDCG@${run.k}`, higherIsBetter: true },
    { key: 'map', label: 'MAP', higherIsBetter: true },
  ] as ChartMetric[]) {
    const spec = accuracyTimeSpec(chartData, metric, order) as unknown as {
      title: string;
      encoding: { x: { title: string } };
    };
    spec.title = `${metric.label} against time`;
    spec.encoding.x.title = 'fit + test time (s, log scale)';
    const svg = await renderVegaLite(spec as unknown as Parameters<typeof renderVegaLite>[0]);
    charts.push(
      `<figure aria-label="${e(spec.title)}">\n${svg}\n<figcaption>${e(
        `${metric.label} of each model on the test part against its fit + test seconds.`,
      )}</figcaption>\n</figure>`,
    );
  }
  const head = [
    '<th class="name">#</th>',
    '<th class="name">Model</th>',
    ...columns.map(([, label]) => `<th>${e(label)}</th>`),
    '<th>Users</th>',
    '<th>Fit (s)</th>',
    '<th>Test (s)</th>',
    '<th class="name">Parameters</th>',
  ].join('');
  const rows = ranked
    .map((r, i) => {
      const cells = [
        `<td class="name">${i + 1}</td>`,
        `<td class="name">${e(r.algorithm)}</td>`,
        ...columns.map(([key]) => `<td>${formatFixed(r[key] as number, 4)}</td>`),
        `<td>${r.nUsers}</td>`,
        `<td>${formatFixed(r.fitTime, 2)}</td>`,
        `<td>${formatFixed(r.testTime, 2)}</td>`,
        `<td class="params">${e(formatParams(r.params))}</td>`,
      ];
      return `<tr${i === 0 ? ' class="best"' : ''}>${cells.join('')}</tr>`;
    })
    .join('\n');
  const best = ranked[0];
  const splitText = `one per-user stratified split (test size ${run.testSize}, seed ${run.seed}): ${run.nTrain} training and ${run.nTest} test ratings`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>reelgraph compare --protocol ranking — ${e(run.dataset)}</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
<h1>Ranking comparison on ${e(run.dataset)}</h1>
<p>${ranked.length} models measured on the same ${e(splitText)}; top ${run.k} over every movie of the
training part the user did not rate; ranked by nDCG@${run.k}.${
    best
      ? ` Best: <strong>${e(best.algorithm)}</strong> (nDCG@${run.k} ${formatFixed(best.ndcg, 4)}).`
      : ''
  }</p>

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
${charts.join('\n')}

<h2>Run</h2>
<dl>
<dt>Data set</dt><dd>${e(run.dataset)} (${run.nRatings} ratings)</dd>
<dt>Split</dt><dd>${e(splitText)}</dd>
<dt>Figures</dt><dd>${e(
    "nDCG, MAP, precision, recall and hit rate at k, catalogue coverage; Microsoft Recommenders' definitions (MAP divides by the user's relevant count)",
  )}</dd>
<dt>Date</dt><dd>${e(run.date)}</dd>
<dt>Machine</dt><dd>${e(
    `${run.machine.cpu}, ${run.machine.cores} cores, ${run.machine.memoryGiB} GiB, ${run.machine.os}, Node.js ${run.machine.node}`,
  )}</dd>
<dt>reelgraph</dt><dd>${e(run.version)}</dd>
<dt>Command</dt><dd><code>${e(run.command)}</code></dd>
</dl>
</body>
</html>
`;
}
