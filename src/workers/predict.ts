/**
 * The `predict` pipeline program (`reelgraph worker predict`): answers one prediction request
 * file per datum with the model the service published to the `models` repo.
 *
 * Input (the cross of `streaming` with glob `/*` and `models` with glob `/`): the request file at
 * `<pfs>/streaming/<name>` (its path is in the `streaming` variable) and the model at
 * `<pfs>/models/model.rgm`, with `<pfs>/models/serving.json` naming the `train` commit it came
 * from (services/model-publisher.ts). A pipeline created by an older version crosses `train`
 * instead: `<pfs>/train/model.rgm` is read when there is no `models` input. A top-level directory
 * of `streaming` is one datum too: each file below it is answered at the same relative path.
 *
 * No model in the input (the `models` repo has no model yet, on a pachd whose glob `/` gives an
 * empty datum): nothing is written, the datum succeeds and the request stays pending; the job of
 * the first model's `models` commit answers it.
 *
 * Request format: one `user_id movie_id` pair per line, separated by tabs and/or spaces; blank
 * lines are ignored; `\r\n` line ends are accepted.
 *
 * Answer format (`<pfs>/out/<same name>`, the output of the older Flask version of this system):
 * one line per request line, in request order:
 * - `user_id movie_id estimate`: the estimate printed as JavaScript's `String(number)` (shortest
 *   text that reads back to the same double), clipped to the rating scale;
 * - `user_id movie_id estimate impossible`: the user or the movie is unknown to the model (or the
 *   algorithm could not estimate): the estimate is the algorithm's fallback (Surprise's
 *   `was_impossible`; for SVD the global mean plus the known bias);
 * - either form followed by `folded-in`: the user was folded into the model from the rating
 *   batches the service published with it (`<pfs>/models/fold-in/`, workers/predict-fold-in.ts),
 *   as the API's online answers (`modelSource: FOLDED_IN`); the estimate is the folded user's;
 * - `# error line <n>: <problem>`: request line n (1-based, blank lines counted) does not parse.
 * Ids are echoed as written.
 *
 * The model is loaded once per process and kept while its version (`serving.json`; else the input
 * commit, `models_COMMIT` or `train_COMMIT` for an old pipeline) stays the same, so with `transform.datumBatching` one load answers every datum of a job.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AlgoBase } from '../engine/algorithms/base';
import { estimateFoldedResult } from '../engine/fold-in';
import type { FoldInOverlay } from '../engine/fold-in-overlay';
import { readModelFile } from '../engine/model-file';
import { MODEL_FILE, SERVING_FILE } from './files';
import { foldInOf, type WorkerFoldIn } from './predict-fold-in';

/** The name of the model input of the predict pipeline (the `models` repo). */
export const MODELS_INPUT = 'models';

/** The `version` in `<modelRoot>/serving.json`, or undefined when absent or unreadable. */
function servingVersion(modelRoot: string): string | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(modelRoot, SERVING_FILE), 'utf8')) as {
      version?: unknown;
    };
    return typeof v.version === 'string' ? v.version : undefined;
  } catch {
    return undefined;
  }
}

/** The word appended to an answer line whose estimate is the fallback. */
export const IMPOSSIBLE_MARK = 'impossible';
/**
 * The word appended (last) to an answer line whose user was folded into the model from the
 * rating batches published with it (workers/predict-fold-in.ts): `modelSource: FOLDED_IN`.
 */
export const FOLDED_IN_MARK = 'folded-in';

/** One parsed request line. */
export type RequestLine =
  { line: number; user: string; movie: string } | { line: number; problem: string };

const FIELD_SEP = /[ \t]+/;

/**
 * Parses a request file (see the module documentation).
 * @returns one entry per non-blank line, in order: the pair, or the problem of a bad line.
 */
export function parseRequests(text: string): RequestLine[] {
  const out: RequestLine[] = [];
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, k) => {
    const line = (k === 0 ? raw.replace(/^\ufeff/, '') : raw).trim();
    if (line.length === 0) return;
    const f = line.split(FIELD_SEP);
    if (f.length !== 2) {
      out.push({
        line: k + 1,
        problem: `expected 2 fields "user_id movie_id" separated by tabs or spaces, found ${f.length}: ${JSON.stringify(line)}`,
      });
    } else {
      out.push({ line: k + 1, user: f[0], movie: f[1] });
    }
  });
  return out;
}

/** Counts of one answered file. */
export interface AnswerCounts {
  answered: number;
  impossible: number;
  errors: number;
  /** Pairs answered from a folded-in user (optional for callers that do not count them). */
  folded?: number;
}

/**
 * Answers a request file with a fitted model.
 * @param foldIn the rating batches published with the model (workers/predict-fold-in.ts): a
 *   pair whose user it holds is answered from the folded-in user — the API's online formula
 *   (engine/fold-in.ts `estimateFoldedResult`, clipped to the rating scale; impossible when the
 *   model does not know the movie, or a k-NN has too few neighbours) — and marked
 *   {@link FOLDED_IN_MARK}; null: the trained model alone.
 * @returns the answer text (one line per non-blank request line, each ending with `\n`).
 */
export function answerRequests(
  text: string,
  algo: AlgoBase,
  counts: AnswerCounts = { answered: 0, impossible: 0, errors: 0 },
  foldIn: FoldInOverlay | null = null,
): string {
  let out = '';
  const [lo, hi] = algo.trainset.ratingScale;
  for (const r of parseRequests(text)) {
    if ('problem' in r) {
      out += `# error line ${r.line}: ${r.problem.replace(/[\r\n]+/g, ' ')}\n`;
      counts.errors++;
      continue;
    }
    counts.answered++;
    const folded = foldIn?.get(r.user)?.folded;
    let est: number;
    let impossible: boolean;
    if (folded) {
      const f = estimateFoldedResult(algo, folded, algo.trainset.findItem(r.movie));
      est = Math.min(hi, Math.max(lo, f.est));
      impossible = f.impossible;
      counts.folded = (counts.folded ?? 0) + 1;
    } else {
      const p = algo.predict(r.user, r.movie);
      est = p.est;
      impossible = p.details.wasImpossible;
    }
    if (impossible) counts.impossible++;
    out += `${r.user} ${r.movie} ${String(est)}${impossible ? ` ${IMPOSSIBLE_MARK}` : ''}${folded ? ` ${FOLDED_IN_MARK}` : ''}\n`;
  }
  return out;
}

let loaded: { key: string; algo: AlgoBase } | undefined;
let foldInLoaded: { key: string; algo: AlgoBase; foldIn: WorkerFoldIn } | undefined;

/**
 * The fold-in published with the model at `modelRoot` (workers/predict-fold-in.ts), read once per
 * `key` (the `models` commit) and model object, kept for the next datums of this process.
 */
function foldInFor(modelRoot: string, algo: AlgoBase, key: string | undefined): WorkerFoldIn {
  if (key && foldInLoaded && foldInLoaded.key === key && foldInLoaded.algo === algo) {
    return foldInLoaded.foldIn;
  }
  const foldIn = foldInOf(modelRoot, algo);
  if (key) foldInLoaded = { key, algo, foldIn };
  return foldIn;
}

/**
 * The model at `file`, loaded once per `key` (the `train` commit id; the file's size and mtime
 * when unknown) and kept for the next datums of this process.
 * @throws ModelFileError for a bad model file; Error when it does not exist.
 */
export function modelFor(file: string, key?: string): { algo: AlgoBase; reused: boolean } {
  if (!fs.existsSync(file)) {
    throw new Error(`no model at ${file}: the train pipeline's output has no ${MODEL_FILE}`);
  }
  let k = key;
  if (!k) {
    const st = fs.statSync(file);
    k = `${file}:${st.size}:${st.mtimeMs}`;
  }
  if (loaded && loaded.key === k) return { algo: loaded.algo, reused: true };
  loaded = { key: k, algo: readModelFile(file) };
  return { algo: loaded.algo, reused: false };
}

/** The request files of a datum: the matched path itself, or every file below it. */
function requestFiles(matched: string): string[] {
  const st = fs.statSync(matched);
  if (!st.isDirectory()) return [matched];
  const out: string[] = [];
  for (const e of fs.readdirSync(matched, { withFileTypes: true })) {
    out.push(...requestFiles(path.join(matched, e.name)));
  }
  return out.sort();
}

/**
 * Answers the requests of one datum: reads `<pfsRoot>/streaming/…` (the path in `env.streaming`,
 * else everything under `<pfsRoot>/streaming`) and writes `<pfsRoot>/out/<same path>`.
 *
 * @param log receives one summary line per answered file.
 * @throws Error when the model or the request file is missing; ModelFileError for a bad model.
 */
export function predictDatum(
  pfsRoot: string,
  env: Record<string, string | undefined>,
  log: (line: string) => void = () => undefined,
): void {
  const requestsRoot = path.join(pfsRoot, 'streaming');
  const matched = env.streaming || requestsRoot;
  // an old pipeline crosses `train`; else `models`, which may be empty or absent (no model yet)
  const legacy =
    !fs.existsSync(path.join(pfsRoot, MODELS_INPUT)) && fs.existsSync(path.join(pfsRoot, 'train'));
  const modelRoot = path.join(pfsRoot, legacy ? 'train' : MODELS_INPUT);
  const modelFile = path.join(modelRoot, MODEL_FILE);
  if (!legacy && !fs.existsSync(modelFile)) {
    log(`no model in the ${MODELS_INPUT} input yet: ${matched} stays pending`);
    return;
  }
  const inputCommit = legacy ? env.train_COMMIT : env.models_COMMIT;
  const version = legacy ? inputCommit : servingVersion(modelRoot);
  // keyed by the model version (serving.json), not the `models` commit: a commit that only adds
  // rating batches to `/fold-in/` leaves the model as it was, and it is not read again
  const { algo, reused } = modelFor(modelFile, version ? `version:${version}` : inputCommit);
  // the batches published with the model (none for an old pipeline crossing `train`)
  const foldIn = legacy ? null : foldInFor(modelRoot, algo, inputCommit);
  for (const file of requestFiles(matched)) {
    const rel = path.relative(requestsRoot, file);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new Error(`request file ${file} is not under ${requestsRoot}`);
    }
    const counts: AnswerCounts = { answered: 0, impossible: 0, errors: 0, folded: 0 };
    const answer = answerRequests(fs.readFileSync(file, 'utf8'), algo, counts, foldIn?.overlay);
    const dest = path.join(pfsRoot, 'out', rel);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, answer);
    log(
      `answered /${rel.split(path.sep).join('/')}: ${counts.answered} pairs (${counts.impossible} impossible), ` +
        `${counts.errors} bad lines; model of train commit ${version ?? '?'}${reused ? ' (already loaded)' : ''}` +
        (foldIn?.overlay
          ? `; ${counts.folded} folded in from ${foldIn.batches} batches (${foldIn.ratings} ratings)`
          : ''),
    );
  }
}
