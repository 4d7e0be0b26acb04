/**
 * Parsing of the predict program's answer files (the contract of workers/predict.ts): one line
 * per request line, `user_id movie_id estimate`, plus a 4th field `impossible` when the estimate
 * is the model's fallback, and `# error line <n>: <problem>` for a request line that did not
 * parse. Estimates are printed as the shortest decimal that reads back to the same double, so
 * `Number(text)` recovers the model's value exactly.
 */
import type { PredictionLineError, PredictionValue } from './types';

/** The word the predict program appends to a fallback estimate. */
export const IMPOSSIBLE_MARK = 'impossible';
/** The word the predict program appends (last) to an estimate of a folded-in user. */
export const FOLDED_IN_MARK = 'folded-in';

const ERROR_LINE = /^# error line (\d+): (.*)$/;

/**
 * Parses an answer file.
 * @returns the answered pairs in file order and the rejected request lines; a line that fits
 *   neither form (which the predict program never writes) is reported as a line error with
 *   line 0 and the text.
 */
export function parseAnswers(text: string): {
  predictions: PredictionValue[];
  lineErrors: PredictionLineError[];
} {
  const predictions: PredictionValue[] = [];
  const lineErrors: PredictionLineError[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const m = ERROR_LINE.exec(line);
    if (m) {
      lineErrors.push({ line: Number(m[1]), message: m[2] });
      continue;
    }
    const f = line.trim().split(/[ \t]+/);
    const estimate = Number(f[2]);
    const folded = f.length > 3 && f[f.length - 1] === FOLDED_IN_MARK;
    const marks = f.length - 3 - (folded ? 1 : 0);
    if (
      (marks === 0 || (marks === 1 && f[3] === IMPOSSIBLE_MARK)) &&
      f[2] !== '' &&
      Number.isFinite(estimate)
    ) {
      predictions.push({
        userId: f[0],
        movieId: f[1],
        estimate,
        wasImpossible: marks === 1,
        modelSource: folded ? 'FOLDED_IN' : 'TRAINED',
      });
    } else {
      lineErrors.push({ line: 0, message: `unreadable answer line ${JSON.stringify(line)}` });
    }
  }
  return { predictions, lineErrors };
}
