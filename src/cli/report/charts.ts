/**
 * Charts for reports, rendered to SVG strings without a browser: a Vega-Lite specification is
 * compiled to Vega (vega-lite 5) and rendered headless by a Vega `View` with `renderer: 'none'`
 * and `toSVG()` (vega 5, CommonJS builds — vega 6 is ESM-only, which jest's CommonJS runtime
 * cannot load).
 *
 * The SVG is meant to be inlined in an HTML page: the `xmlns` attributes (the only URLs Vega
 * writes) are removed, as HTML5 parsers put inline `<svg>` in the SVG namespace themselves. So
 * the page refers to nothing outside itself.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { MeasureName } from '../../engine/metrics';

/** Shared look: system fonts, no external resources. */
const CONFIG = {
  font: 'system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e5e7eb' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' as const },
  view: { stroke: '#d1d5db' },
};

/**
 * Renders a Vega-Lite specification to an SVG string for inline use in HTML (no `xmlns`
 * attributes, hence no URL).
 * @throws Error when the specification is invalid.
 */
export async function renderVegaLite(spec: TopLevelSpec): Promise<string> {
  const vgSpec = compile({ config: CONFIG, ...spec } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return svg.replace(/\s+xmlns(:\w+)?="[^"]*"/g, '');
  } finally {
    view.finalize();
  }
}

/** What the charts need of one algorithm's cross-validation. */
export interface ChartResult {
  algorithm: string;
  /** Test figure per fold, by metric key (a measure name such as `rmse`, or e.g. `topN.ndcg`). */
  perFold: Partial<Record<string, number[]>>;
  /** Mean test figure over the folds, by metric key. */
  mean: Partial<Record<string, number>>;
  /** Mean fit and test seconds per fold. */
  fitTime: number;
  testTime: number;
}

/** A figure drawn in charts: its key in `ChartResult`, its label, and which way is better. */
export interface ChartMetric {
  /** Key of `ChartResult.perFold` / `mean`. */
  key: string;
  /** Axis and title label, e.g. `RMSE`, `NDCG@10`. */
  label: string;
  /** True for scores (FCP, precision…), false for errors (RMSE, MAE, MSE). */
  higherIsBetter: boolean;
}

/** The chart metric of an accuracy measure: key = name, label upper case; FCP higher is better. */
export function measureMetric(m: MeasureName): ChartMetric {
  return { key: m, label: m.toUpperCase(), higherIsBetter: m === 'fcp' };
}

const metricOf = (m: MeasureName | ChartMetric): ChartMetric =>
  typeof m === 'string' ? measureMetric(m) : m;

/**
 * Splits results into those drawn and the outliers left out of a chart, so that one far-off
 * algorithm (NormalPredictor's RMSE is ~1.5 where the others are ~0.95) does not flatten the
 * others: an algorithm is left out when its mean lies more than 10 median absolute deviations
 * (and more than 5 % of the median) from the median of the means. With fewer than 4 algorithms
 * nothing is left out.
 */
export function splitOutliers(
  results: readonly ChartResult[],
  metric: MeasureName | ChartMetric,
): { shown: ChartResult[]; outliers: ChartResult[] } {
  const m = metricOf(metric).key;
  const means = results.map((r) => r.mean[m]).filter((v): v is number => Number.isFinite(v));
  if (means.length < 4) return { shown: [...results], outliers: [] };
  const med = medianOf(means);
  const mad = medianOf(means.map((v) => Math.abs(v - med)));
  const limit = Math.max(10 * mad, 0.05 * Math.abs(med));
  const shown: ChartResult[] = [];
  const outliers: ChartResult[] = [];
  for (const r of results) {
    const v = r.mean[m];
    (v !== undefined && Number.isFinite(v) && Math.abs(v - med) > limit ? outliers : shown).push(r);
  }
  return { shown, outliers };
}

function medianOf(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Colours and shapes enough for 20 algorithms, the same in every chart of a report. */
function algorithmEncoding(order: readonly string[], shown: readonly string[]) {
  const legend = { values: [...shown] };
  return {
    color: {
      field: 'algorithm',
      type: 'nominal',
      sort: order,
      scale: { domain: order, scheme: 'tableau20' },
      legend,
      title: 'algorithm',
    },
    shape: {
      field: 'algorithm',
      type: 'nominal',
      sort: order,
      scale: {
        domain: order,
        range: ['circle', 'square', 'triangle-up', 'diamond', 'cross', 'triangle-down'],
      },
      legend,
      title: 'algorithm',
    },
  };
}

/**
 * Accuracy against time: one point per algorithm, x = mean seconds per fold (fit + test, log
 * scale), y = mean test figure; colour and shape name the algorithm (legend). The best
 * algorithms sit low (errors; high for scores such as FCP or precision@k) and left (fast).
 *
 * @param results the algorithms to draw (see `splitOutliers`), best first.
 * @param order every algorithm of the report, for colours that agree across charts.
 */
export function accuracyTimeSpec(
  results: readonly ChartResult[],
  metric: MeasureName | ChartMetric,
  order: readonly string[] = results.map((r) => r.algorithm),
): TopLevelSpec {
  const { key: m, label, higherIsBetter } = metricOf(metric);
  const values = results.map((r) => ({
    algorithm: r.algorithm,
    seconds: Math.max(r.fitTime + r.testTime, 1e-4),
    fit: r.fitTime,
    test: r.testTime,
    score: r.mean[m],
  }));
  return {
    title: `${label} against time (mean per fold)`,
    width: 560,
    height: 320,
    data: { values },
    mark: { type: 'point', filled: true, size: 110, opacity: 0.9 },
    encoding: {
      x: {
        field: 'seconds',
        type: 'quantitative',
        scale: { type: 'log' },
        title: 'fit + test time per fold (s, log scale)',
      },
      y: {
        field: 'score',
        type: 'quantitative',
        scale: { zero: false, padding: 12 },
        title: `${label} (${higherIsBetter ? 'higher' : 'lower'} is better)`,
      },
      ...algorithmEncoding(
        order,
        results.map((r) => r.algorithm),
      ),
    },
  } as TopLevelSpec;
}

/**
 * Per-fold spread: for each algorithm (one row, best first), the test measure of every fold as a
 * point, the range (min–max) as a rule and the mean as a tick.
 */
export function foldSpreadSpec(
  results: readonly ChartResult[],
  metric: MeasureName | ChartMetric,
): TopLevelSpec {
  const { key: m, label } = metricOf(metric);
  const order = results.map((r) => r.algorithm);
  const folds = results.flatMap((r) =>
    (r.perFold[m] ?? []).map((v, k) => ({
      algorithm: r.algorithm,
      fold: `fold ${k + 1}`,
      score: v,
    })),
  );
  const stats = results.map((r) => {
    const v = r.perFold[m] ?? [];
    return {
      algorithm: r.algorithm,
      min: Math.min(...v),
      max: Math.max(...v),
      mean: r.mean[m],
    };
  });
  const y = { field: 'algorithm', type: 'nominal', sort: order, title: null };
  return {
    title: `${label} per fold`,
    width: 560,
    height: { step: 26 },
    layer: [
      {
        data: { values: stats },
        mark: { type: 'rule', color: '#9ca3af', strokeWidth: 2 },
        encoding: {
          y,
          x: {
            field: 'min',
            type: 'quantitative',
            scale: { zero: false, padding: 12 },
            title: label,
          },
          x2: { field: 'max' },
        },
      },
      {
        data: { values: folds },
        mark: { type: 'point', filled: true, size: 45, opacity: 0.8 },
        encoding: {
          y,
          x: { field: 'score', type: 'quantitative', scale: { zero: false } },
          color: { field: 'fold', type: 'nominal', title: 'fold' },
        },
      },
      {
        data: { values: stats },
        mark: { type: 'tick', color: '#111827', thickness: 2, size: 18 },
        encoding: { y, x: { field: 'mean', type: 'quantitative' } },
      },
    ],
  } as TopLevelSpec;
}
