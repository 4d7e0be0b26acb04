/**
 * The pieces of the compare report: the text table, outlier handling in charts, SVG rendering
 * for inline HTML, escaping.
 */
import {
  accuracyTimeSpec,
  renderVegaLite,
  splitOutliers,
  type ChartResult,
} from '../../src/cli/report/charts';
import { escapeHtml, formatCompareTable } from '../../src/cli/report/compare-report';
import type { CrossValidateResult } from '../../src/engine/model-selection';

const chart = (algorithm: string, rmse: number): ChartResult => ({
  algorithm,
  perFold: { rmse: [rmse - 0.01, rmse + 0.01] },
  mean: { rmse },
  fitTime: 0.5,
  testTime: 0.1,
});

describe('compare report', () => {
  test('formatCompareTable: aligned columns, 4 decimals for measures, 2 for seconds', () => {
    const r = (name: string, rmse: number, mae: number, fit: number, test: number) =>
      ({
        algorithmName: name,
        measures: ['rmse', 'mae'],
        mean: { testRmse: rmse, testMae: mae, fitTime: fit, testTime: test },
      }) as unknown as CrossValidateResult;
    const text = formatCompareTable(
      [r('SVD', 0.93456, 0.7381, 0.654, 0.031), r('NormalPredictor', 1.52, 1.2214, 0, 0.025)],
      ['rmse', 'mae'],
    );
    expect(text.split('\n')).toEqual([
      'Algorithm        RMSE    MAE     Fit (s)  Test (s)',
      'SVD              0.9346  0.7381  0.65     0.03',
      'NormalPredictor  1.5200  1.2214  0.00     0.03',
    ]);
  });

  test('formatCompareTable with --top-n: Prec@k, Recall@k, NDCG@k, Hit@k after the measures', () => {
    const r = {
      algorithmName: 'SVD',
      measures: ['rmse'],
      mean: { testRmse: 0.93456, fitTime: 0.654, testTime: 0.031 },
      topN: {
        perFold: [],
        mean: { precision: 0.71234, recall: 0.5, ndcg: 0.82344, hitRate: 0.9 },
        std: { precision: 0, recall: 0, ndcg: 0, hitRate: 0 },
      },
    } as unknown as CrossValidateResult;
    expect(formatCompareTable([r], ['rmse'], { k: 5, threshold: 4 }).split('\n')).toEqual([
      'Algorithm  RMSE    Prec@5  Recall@5  NDCG@5  Hit@5   Fit (s)  Test (s)',
      'SVD        0.9346  0.7123  0.5000    0.8234  0.9000  0.65     0.03',
    ]);
  });

  test('splitOutliers leaves out a far-off algorithm (median ± 10 MAD, at least 5 %)', () => {
    const rs = [
      chart('A', 0.93),
      chart('B', 0.94),
      chart('C', 0.95),
      chart('D', 0.96),
      chart('N', 1.52),
    ];
    // median 0.95, absolute deviations 0.02 0.01 0 0.01 0.57 → MAD 0.01; limit max(0.1, 0.0475).
    const { shown, outliers } = splitOutliers(rs, 'rmse');
    expect(shown.map((r) => r.algorithm)).toEqual(['A', 'B', 'C', 'D']);
    expect(outliers.map((r) => r.algorithm)).toEqual(['N']);
    // Fewer than 4 algorithms: all drawn.
    expect(splitOutliers(rs.slice(2), 'rmse').outliers).toEqual([]);
  });

  test('renderVegaLite gives inline SVG with no URL', async () => {
    const svg = await renderVegaLite(
      accuracyTimeSpec([chart('A', 0.93), chart('B', 0.95)], 'rmse'),
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('RMSE against time');
    expect(svg).not.toMatch(/https?:|xmlns/);
  });

  test('escapeHtml', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
    );
  });
});
