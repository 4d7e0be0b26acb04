/**
 * A line chart of the models' holdout RMSE and MAE over versions, drawn as SVG (no library):
 * x = versions oldest → newest, y = error (rating points), both series on one axis.
 */
import type { ModelVersionsQuery } from '../../client/index';

type Model = ModelVersionsQuery['models'][number];

const W = 640;
const H = 260;
const PAD = { l: 48, r: 40, t: 16, b: 36 };
const COLORS = { rmse: '#0b57d0', mae: '#b3261e' };

/** The chart; versions without holdout figures are left out. */
export function ErrorChart({ models }: { models: Model[] }) {
  const pts = [...models]
    .filter((m) => m.holdoutRmse != null && m.holdoutMae != null)
    .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  if (pts.length === 0) return <p class="muted">No model has holdout figures yet.</p>;
  const values = pts.flatMap((m) => [m.holdoutRmse!, m.holdoutMae!]);
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  const margin = Math.max((hi - lo) * 0.15, 0.02);
  lo = Math.max(0, lo - margin);
  hi = hi + margin;
  const x = (i: number) =>
    PAD.l +
    (pts.length === 1 ? (W - PAD.l - PAD.r) / 2 : (i * (W - PAD.l - PAD.r)) / (pts.length - 1));
  const y = (v: number) => PAD.t + ((hi - v) * (H - PAD.t - PAD.b)) / (hi - lo);
  const ticks = [0, 1, 2, 3, 4].map((k) => lo + ((hi - lo) * k) / 4);
  const line = (key: 'holdoutRmse' | 'holdoutMae') =>
    pts.map((m, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(m[key]!).toFixed(1)}`).join(' ');
  const label = `Holdout error of ${pts.length} model version${pts.length > 1 ? 's' : ''}: ${pts
    .map(
      (m) =>
        `${m.version.slice(0, 8)} RMSE ${m.holdoutRmse!.toFixed(4)} MAE ${m.holdoutMae!.toFixed(4)}`,
    )
    .join('; ')}`;
  return (
    <figure style={{ margin: 0 }}>
      <svg
        class="chart"
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={label}
        data-versions={pts.length}
      >
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.l} x2={W - PAD.r} y1={y(t)} y2={y(t)} stroke="#e3e3ea" />
            <text x={PAD.l - 6} y={y(t) + 4} text-anchor="end" font-size="11" fill="#4a4a55">
              {t.toFixed(3)}
            </text>
          </g>
        ))}
        {pts.map((m, i) => (
          <text
            key={m.version}
            x={x(i)}
            y={H - PAD.b + 16}
            text-anchor="middle"
            font-size="11"
            fill="#4a4a55"
          >
            {m.version.slice(0, 6)}
          </text>
        ))}
        <path d={line('holdoutRmse')} fill="none" stroke={COLORS.rmse} stroke-width="2.5" />
        <path d={line('holdoutMae')} fill="none" stroke={COLORS.mae} stroke-width="2.5" />
        {pts.map((m, i) => (
          <g key={`p${m.version}`}>
            <circle class="point-rmse" cx={x(i)} cy={y(m.holdoutRmse!)} r="4" fill={COLORS.rmse} />
            <circle class="point-mae" cx={x(i)} cy={y(m.holdoutMae!)} r="4" fill={COLORS.mae} />
          </g>
        ))}
      </svg>
      <figcaption class="legend">
        <span>
          <span class="swatch" style={{ background: COLORS.rmse }} />
          RMSE
        </span>
        <span>
          <span class="swatch" style={{ background: COLORS.mae }} />
          MAE
        </span>
        <span class="muted">versions oldest → newest</span>
      </figcaption>
    </figure>
  );
}
