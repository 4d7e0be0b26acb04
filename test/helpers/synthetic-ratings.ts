/**
 * Small synthetic rating data for tests: ratings from user and item biases plus noise, rounded to
 * whole stars in [1, 5], drawn from a seeded RandomState (so every run gets the same data).
 */
import * as fs from 'node:fs';
import { Dataset } from '../../src/engine/dataset/dataset';
import { RawRatings } from '../../src/engine/dataset/raw-ratings';
import { RandomState } from '../../src/engine/random';

/** One rating row: raw user id, raw item id, rating. */
export type Row = [user: string, item: string, rating: number];

/**
 * `nUsers` × `nItems` pairs, each observed with probability `density`; user `u<k>`, item `i<k>`.
 */
export function syntheticRows(seed = 1, nUsers = 40, nItems = 25, density = 0.45): Row[] {
  const rng = new RandomState(seed);
  const bu = Array.from({ length: nUsers }, () => rng.normal(0, 0.6));
  const bi = Array.from({ length: nItems }, () => rng.normal(0, 0.8));
  const rows: Row[] = [];
  for (let u = 0; u < nUsers; u++) {
    for (let i = 0; i < nItems; i++) {
      if (rng.random() < density) {
        const r = Math.round(3.5 + bu[u] + bi[i] + rng.normal(0, 0.7));
        rows.push([`u${u}`, `i${i}`, Math.min(5, Math.max(1, r))]);
      }
    }
  }
  return rows;
}

/** The rows as a Dataset on the scale [1, 5]. */
export function datasetOf(rows: Row[]): Dataset {
  return Dataset.loadFromRawRatings(
    new RawRatings(
      rows.map((r) => r[0]),
      rows.map((r) => r[1]),
      Float64Array.from(rows.map((r) => r[2])),
    ),
    [1, 5],
  );
}

/** Writes the rows as a CSV file with a header line `user,item,rating`. */
export function writeCsv(file: string, rows: Row[]): void {
  fs.writeFileSync(file, 'user,item,rating\n' + rows.map((r) => r.join(',')).join('\n') + '\n');
}
