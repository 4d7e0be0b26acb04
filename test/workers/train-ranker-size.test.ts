/**
 * The train pipeline's ranker at catalogue size (src/workers/train-ranker.ts): EASE is skipped,
 * with a log line saying why and no ranker files, above EASE_MAX_CATALOGUE movies (the limit is
 * lowered to 30 here so the trainset stays tiny), and fitted at or below it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { trainRanker } from '../../src/workers/train-ranker';
import { trainsetOf } from '../engine/helpers';

describe('train pipeline ranker at catalogue size', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reelgraph-ranker-size-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  // 31 movies, each rated by two users
  const rows: [string, string, number][] = [];
  for (let i = 0; i < 31; i++) rows.push(['a', `m${i}`, 4], ['b', `m${i}`, 2 + (i % 3)]);

  it('skips EASE above the limit, says why and writes no ranker files', () => {
    const lines: string[] = [];
    const out = trainRanker(
      trainsetOf(rows),
      dir,
      { ranker: 'EASE', params: {} },
      (l) => lines.push(l),
      30,
    );
    expect(out).toBeNull();
    expect(lines).toEqual([
      "ranker EASE skipped: the trainset has 31 movies, more than 30 (EASE's dense item × item matrix would keep only its 2500 most-rated); recommendations rank by the rating model over every movie",
    ]);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('fits EASE at the limit, and other rankers above it', () => {
    expect(
      trainRanker(trainsetOf(rows), dir, { ranker: 'EASE', params: {} }, () => undefined, 31),
    ).not.toBeNull();
    expect(fs.readdirSync(dir).sort()).toEqual(['ranker.json', 'ranker.rgr']);
    const pop = trainRanker(
      trainsetOf(rows),
      dir,
      { ranker: 'MostPopular', params: {} },
      () => undefined,
      30,
    );
    expect(pop!.info.ranker).toBe('MostPopular');
  });
});
