/**
 * Top-N ranking figures for the commands that cross-validate (`evaluate`, `compare`): the options
 * `--top-n [k]` and `--threshold <rating>`, their validation, and the per-fold figures computed
 * from the very predictions each fold's RMSE/MAE come from (no second fit, no second predict).
 *
 * The protocol is that of Surprise's FAQ ("How to compute precision@k and recall@k",
 * examples/precision_recall_at_k.py): for each user of a fold's testset, the user's test items
 * ranked by estimate; the figures are `rankingAtK` of src/engine/top-n.ts (precision@k and
 * recall@k exactly as the FAQ, NDCG@k and hits on the same ranking). A fold's figure is the mean
 * over the users of its testset (the FAQ's `sum(precisions.values()) / len(precisions)`); the
 * command reports the mean and population standard deviation over the folds, as for RMSE.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { RatingScale } from '../engine/dataset';
import type { FoldPredictions } from '../engine/model-selection';
import { formatFixed, std } from '../engine/model-selection';
import { mean } from '../engine/numeric';
import { meanOf, rankingAtK } from '../engine/top-n';
import { intArg } from './data-options';
import { UsageError } from './errors';

/** Surprise's FAQ defaults: the top 10, relevant from 3.5 stars. */
export const DEFAULT_TOP_N_K = 10;
export const DEFAULT_TOP_N_THRESHOLD = 3.5;

/** The top-N figures, in the order they are printed. */
export const TOP_N_METRICS = ['precision', 'recall', 'ndcg', 'hitRate'] as const;
/** One top-N figure: precision@k, recall@k, NDCG@k, hit rate@k (each in [0, 1]). */
export type TopNMetric = (typeof TOP_N_METRICS)[number];

/** The options as commander parses them. */
export interface TopNCliOptions {
  /** `--top-n [k]`: k, true when the option is given without a value (k = 10), or undefined. */
  topN?: number | true;
  /** `--threshold <rating>`. */
  threshold?: number;
}

/** What the options resolve to: k and the relevance threshold (in rating units). */
export interface TopNPlan {
  k: number;
  threshold: number;
}

/** One fold's top-N figures: means over the users of the fold's testset. */
export type TopNFold = { fold: number; nUsers: number } & Record<TopNMetric, number>;

/** An algorithm's top-N figures: per fold, and their mean and std (`numpy.std`, ddof 0). */
export interface TopNFigures {
  perFold: TopNFold[];
  mean: Record<TopNMetric, number>;
  std: Record<TopNMetric, number>;
}

/** Parses `--threshold`: a finite number. */
function thresholdArg(text: string): number {
  const x = Number(text);
  if (text.trim() === '' || !Number.isFinite(x)) {
    throw new InvalidArgumentError('--threshold must be a rating, a finite number (e.g. 3.5).');
  }
  return x;
}

/** Adds `--top-n [k]` and `--threshold <rating>` to `cmd`. */
export function addTopNOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--top-n [k]',
        "also rank each user's test items by estimate and report precision@k, recall@k, NDCG@k " +
          `and hit rate (Surprise's FAQ protocol; k = ${DEFAULT_TOP_N_K} when omitted)`,
      ).argParser(intArg('--top-n', 1)),
    )
    .option(
      '--threshold <rating>',
      `with --top-n: true rating (and estimate) at or above which an item is relevant ` +
        `(recommended), within the rating scale (default ${DEFAULT_TOP_N_THRESHOLD})`,
      thresholdArg,
    );
}

/**
 * Validates the options before any data is read.
 * @returns the plan, or null when `--top-n` is not given.
 * @throws UsageError for `--threshold` without `--top-n`.
 */
export function planTopN(opts: TopNCliOptions): TopNPlan | null {
  if (opts.topN === undefined) {
    if (opts.threshold !== undefined) {
      throw new UsageError('--threshold applies only with --top-n [k]');
    }
    return null;
  }
  return {
    k: opts.topN === true ? DEFAULT_TOP_N_K : opts.topN,
    threshold: opts.threshold ?? DEFAULT_TOP_N_THRESHOLD,
  };
}

/**
 * Checks the threshold against the data set's rating scale, once it is loaded.
 * @throws UsageError when the threshold lies outside [lowest, highest].
 */
export function checkThresholdScale(plan: TopNPlan | null, scale: RatingScale): void {
  if (plan && (plan.threshold < scale[0] || plan.threshold > scale[1])) {
    throw new UsageError(
      `--threshold ${plan.threshold} is outside the rating scale [${scale[0]}, ${scale[1]}]: ` +
        'expected a rating within it',
    );
  }
}

/** One fold's figures from its test predictions (`rankingAtK`, then means over the users). */
export function topNFold(
  plan: TopNPlan,
  p: Pick<FoldPredictions, 'fold' | 'predictions'>,
): TopNFold {
  const r = rankingAtK(p.predictions, plan.k, plan.threshold);
  return {
    fold: p.fold,
    nUsers: r.precisions.size,
    precision: meanOf(r.precisions),
    recall: meanOf(r.recalls),
    ndcg: meanOf(r.ndcgs),
    hitRate: meanOf(r.hits),
  };
}

/** Means and standard deviations over folds. */
export function topNFigures(perFold: TopNFold[]): TopNFigures {
  const m = {} as Record<TopNMetric, number>;
  const s = {} as Record<TopNMetric, number>;
  for (const metric of TOP_N_METRICS) {
    const values = perFold.map((f) => f[metric]);
    m[metric] = mean(values);
    s[metric] = std(values);
  }
  return { perFold, mean: m, std: s };
}

/**
 * Collects the per-fold figures of one or several algorithms while they are cross-validated:
 * pass `onPredictions` to `crossValidate` / `compareAlgorithms`, then read `figures(name)`.
 */
export class TopNCollector {
  private readonly folds = new Map<string, TopNFold[]>();
  /** The figures of the fold seen last (for progress lines). */
  last: TopNFold | undefined;

  constructor(readonly plan: TopNPlan) {}

  /**
   * The `onPredictions` callback; `algorithm` defaults to the fitted algorithm's name. Folds may
   * arrive in any order (a pooled run hands them over as they finish).
   */
  readonly onPredictions = (
    p: Pick<FoldPredictions, 'fold' | 'predictions'> &
      ({ algorithm: string } | { algorithm?: undefined; algo: FoldPredictions['algo'] }),
  ): void => {
    const name = p.algorithm ?? p.algo.name;
    let list = this.folds.get(name);
    if (!list) this.folds.set(name, (list = []));
    this.last = topNFold(this.plan, p);
    list.push(this.last);
  };

  /** The figures of an algorithm. @throws Error when none of its folds was seen. */
  figures(algorithm: string): TopNFigures {
    const list = this.folds.get(algorithm);
    if (!list || list.length === 0) throw new Error(`no top-N figures for ${algorithm}`);
    return topNFigures([...list].sort((a, b) => a.fold - b.fold));
  }
}

/** Short column labels: `Prec@10`, `Recall@10`, `NDCG@10`, `Hit@10`. */
export function topNLabel(metric: TopNMetric, k: number): string {
  const name = { precision: 'Prec', recall: 'Recall', ndcg: 'NDCG', hitRate: 'Hit' }[metric];
  return `${name}@${k}`;
}

/** Long labels for reports: `precision@10`, `recall@10`, `NDCG@10`, `hit rate@10`. */
export function topNTitle(metric: TopNMetric, k: number): string {
  const name = { precision: 'precision', recall: 'recall', ndcg: 'NDCG', hitRate: 'hit rate' }[
    metric
  ];
  return `${name}@${k}`;
}

/** One sentence describing the protocol, for reports and help. */
export function topNDescription(plan: TopNPlan): string {
  return (
    `each user's test items ranked by estimate (Surprise's FAQ protocol), top ${plan.k}; ` +
    `relevant: true rating ≥ ${plan.threshold}; recommended: in the top ${plan.k} with estimate ` +
    `≥ ${plan.threshold}; per fold the mean over the testset's users`
  );
}

/**
 * Adds the top-N rows to Surprise's `print_summary` table (`formatSummary`), before its `Fit time`
 * row, in its layout (label padded to 18, cells to 8; 4 decimals; Mean, then Std over folds):
 *
 * ```
 * Precision@10      0.7353  0.7357  0.7278  0.7329  0.0036
 * ```
 */
export function withTopNRows(summary: string, figures: TopNFigures, k: number): string {
  const pad = (s: string, w: number) => (s.length >= w ? s : s + ' '.repeat(w - s.length));
  const rows = TOP_N_METRICS.map((m) => {
    const t = topNTitle(m, k);
    const cells = [...figures.perFold.map((f) => f[m]), figures.mean[m], figures.std[m]].map((v) =>
      pad(formatFixed(v, 4), 8),
    );
    return pad(t[0].toUpperCase() + t.slice(1), 18) + cells.join('');
  });
  const lines = summary.split('\n');
  const at = lines.findIndex((l) => l.startsWith('Fit time'));
  lines.splice(at < 0 ? lines.length : at, 0, ...rows);
  return lines.join('\n');
}

/** The paragraph `--help` shows about `--top-n` (after the options). */
export const TOP_N_HELP =
  `Top-N (--top-n [k], --threshold <rating>; defaults ${DEFAULT_TOP_N_K} and ${DEFAULT_TOP_N_THRESHOLD} as Surprise's FAQ):\n` +
  "  each fold's test predictions (the ones RMSE comes from; nothing is fitted again) are grouped\n" +
  '  by user and ranked by estimate. Relevant: true rating >= threshold; recommended: in the top k\n' +
  '  with estimate >= threshold. Per user: precision@k = relevant recommended / recommended,\n' +
  '  recall@k = relevant recommended / relevant (0 when undefined, as the FAQ), NDCG@k of the\n' +
  '  ranking (binary gain), hit = at least one relevant recommended item. Each fold: the mean over\n' +
  '  its users; reported: mean and std over the folds.\n';

/** `Prec@10 0.8123, Recall@10 0.5012, NDCG@10 0.8890, Hit@10 0.9500`, for progress lines. */
export function topNSummary(f: Record<TopNMetric, number>, k: number): string {
  return TOP_N_METRICS.map((m) => `${topNLabel(m, k)} ${formatFixed(f[m], 4)}`).join(', ');
}
