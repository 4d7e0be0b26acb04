/**
 * Data sets: readers, datasets, the built-in MovieLens data sets and their metadata.
 * Surprise's flow: `Reader` → `Dataset` → `Trainset`.
 */
export { RawRatings, type RatingScale, type TestRating, type Testset } from './raw-ratings';
export {
  Reader,
  parseDecimal,
  BUILTIN_DATASET_NAMES,
  type ReaderOptions,
  type BuiltinDatasetName,
} from './reader';
export {
  Dataset,
  predefinedFolds,
  removeDuplicates,
  type Fold,
  type Deduplicated,
} from './dataset';
export {
  BUILTIN_DATASETS,
  LARGE_DATASETS,
  LARGE_DATASET_NAMES,
  GROUPLENS_BASE_URL,
  verifyZip,
  type LargeDatasetName,
  type DownloadableDatasetName,
  type ZipChecksum,
  resolveBuiltin,
  verifyBuiltin,
  builtinSpec,
  builtinUrl,
  defaultCacheDir,
  type BuiltinOptions,
  type BuiltinDatasetSpec,
  type ChecksumResult,
} from './builtin';
export { DatasetFormatError, DatasetNotFoundError, ChecksumError } from './errors';
export { splitCsvLine } from './csv';
export {
  loadMovies,
  loadUsers,
  readMovies,
  readUsers,
  yearFromTitle,
  type Movie,
  type User,
} from './metadata';
export {
  parseCatalogueCsv,
  mergeAttributeRows,
  readBuiltinSideInfo,
  formatCatalogueCsv,
  emptySideInfo,
  CATALOGUE_HEADERS,
  MAX_CATALOGUE_COLUMNS,
  MAX_CATALOGUE_FIELD,
  type SideInfo,
  type AttributeRow,
  type AttributeRows,
  type CatalogueKind,
} from './side-info';
