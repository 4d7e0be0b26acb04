/**
 * The catalogue files of the `training` repo as the train pipeline reads them: side information
 * beside the ratings (the layout agreed between issues 10, 13 and 15).
 *
 * - `/movies/<13-digit epoch ms>-<16 hex>.csv`: RFC 4180 CSV, header
 *   `movieId,title,genres,year[,extra columns…]`, genres `|`-separated;
 * - `/users/<13-digit epoch ms>-<16 hex>.csv`: header `userId[,attribute columns…]`, e.g.
 *   `userId,age,gender,occupation,zip`.
 * Files are read in name order; a later file's row replaces an earlier row with the same id. The
 * first training commit holds MovieLens 100K's u.item and u.user in this layout
 * (services/bootstrap.ts). Every other file of the repo is a ratings file (training-data.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatasetFormatError } from '../engine/dataset/errors';
import {
  mergeAttributeRows,
  parseCatalogueCsv,
  type AttributeRow,
  type CatalogueKind,
  type SideInfo,
} from '../engine/dataset/side-info';
import { CATALOGUE_DIRS, TrainingDataError } from './training-data';

export { CATALOGUE_DIRS };

/**
 * Reads and merges the catalogue files among `files` (repo paths under `dir`, sorted in PFS
 * order, as `listTrainingFiles` gives them).
 *
 * @returns the users' and movies' attributes (empty maps when there is no file).
 * @throws TrainingDataError naming the repo path, the line and the field of a malformed row, or a
 *   catalogue file that is not `.csv`.
 */
export function readCatalogue(dir: string, files: readonly string[]): SideInfo {
  const parts: Record<CatalogueKind, Map<string, AttributeRow>[]> = { movies: [], users: [] };
  for (const rel of files) {
    const kind = (Object.keys(CATALOGUE_DIRS) as CatalogueKind[]).find((k) =>
      rel.startsWith(CATALOGUE_DIRS[k]),
    );
    if (!kind) continue;
    if (!rel.endsWith('.csv')) {
      throw new TrainingDataError(rel, 1, `a ${kind} catalogue file must be a .csv file`);
    }
    const text = fs.readFileSync(path.join(dir, ...rel.split('/').filter(Boolean)), 'utf8');
    try {
      parts[kind].push(parseCatalogueCsv(text, rel, kind));
    } catch (e) {
      if (e instanceof DatasetFormatError) throw new TrainingDataError(rel, e.line, e.problem);
      throw e;
    }
  }
  return { users: mergeAttributeRows(parts.users), items: mergeAttributeRows(parts.movies) };
}
