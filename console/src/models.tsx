/**
 * Models: the model versions (newest first) with their holdout RMSE/MAE as a chart, parameters,
 * sizes and which one serves; a new version appears live (`modelUpdated`).
 */
import { useState } from 'preact/hooks';
import type { ModelVersionsQuery } from '../../client/index';
import { ModelVersionsDocument } from '../../client/index';
import { short, time } from './api';
import { ErrorChart } from './chart';
import { useQuery, useStream } from './live';
import { Table } from './table';

type Model = ModelVersionsQuery['models'][number];

export function ModelsPage() {
  const [models, setModels] = useState<Model[]>([]);
  const first = useQuery(async (c) => {
    const r = await c.query(ModelVersionsDocument, { first: 50 });
    setModels(r.models);
    return r;
  });
  const streamError = useStream(
    (c) => c.modelUpdates(),
    (m) =>
      setModels((old) => [
        m,
        ...old.filter((o) => o.version !== m.version).map((o) => ({ ...o, serving: false })),
      ]),
  );
  return (
    <div class="grid">
      <section class="card" aria-labelledby="chart-title">
        <h2 id="chart-title">Holdout error by version</h2>
        {first.error && (
          <p class="error" role="alert">
            {first.error}
          </p>
        )}
        {streamError && (
          <p class="error" role="alert">
            Live updates stopped: {streamError}
          </p>
        )}
        <ErrorChart models={models} />
      </section>
      <section class="card" aria-labelledby="models-title">
        <h2 id="models-title">Model versions</h2>
        <Table
          label="Model versions table"
          columns={[
            'Version',
            'Algorithm',
            { label: 'Ranker', class: 'hide-narrow' },
            { label: 'RMSE', class: 'num' },
            { label: 'MAE', class: 'num' },
            { label: 'Ratings', class: 'num' },
            { label: 'Parameters', class: 'hide-narrow' },
            { label: 'Created', class: 'hide-narrow' },
            'Serving',
          ]}
          caption={<>{models.length} versions, newest first</>}
          tableProps={{ id: 'models-table' }}
        >
          {models.map((m) => (
            <tr key={m.version} data-version={m.version}>
              <td class="mono">{short(m.version)}</td>
              <td>{m.algorithm}</td>
              <td class="hide-narrow">{m.ranker?.name ?? <span class="muted">—</span>}</td>
              <td class="num">{m.holdoutRmse?.toFixed(4) ?? '—'}</td>
              <td class="num">{m.holdoutMae?.toFixed(4) ?? '—'}</td>
              <td class="num">{m.ratingsCount.toLocaleString('en')}</td>
              <td class="hide-narrow mono params">
                {Object.entries(m.params)
                  .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
                  .join(', ')}
              </td>
              <td class="hide-narrow">{time(m.createdAt)}</td>
              <td>{m.serving ? <span class="serving">serving</span> : ''}</td>
            </tr>
          ))}
        </Table>
      </section>
    </div>
  );
}
