/**
 * The base of every prediction algorithm: Surprise's `AlgoBase` (surprise/prediction_algorithms/
 * algo_base.py).
 *
 * An algorithm implements only `fit(trainset)` (calling `super.fit`) and `estimate(u, i)` on inner
 * ids. The base class maps raw ids to inner ids, handles users and items the trainset does not
 * know, falls back to the default prediction (the global mean) when `estimate` throws
 * `PredictionImpossible`, and clips estimates to the rating scale.
 *
 * Unknown users and items: `estimate` receives −1 for an id the trainset does not know, and
 * decides as the Surprise algorithm it follows does (BaselineOnly and biased SVD use the part of the
 * baseline they know; most others throw `PredictionImpossible`). So estimates equal Surprise's.
 * The prediction is flagged `wasImpossible: true` with a `reason` whenever the user or the item is
 * unknown or the estimate was impossible (Surprise leaves the flag false when a partial baseline
 * was used; here a caller can always tell that the model did not know the pair).
 */
import type { Trainset } from '../trainset';
import type { Testset } from '../dataset/raw-ratings';
import { resolveParams, type ParamSpecs, type ParamValues } from '../params';

/** Thrown by `estimate` when no estimate can be made (Surprise's `PredictionImpossible`). */
export class PredictionImpossible extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PredictionImpossible';
  }
}

/** Details of a prediction. `wasImpossible` is always present; algorithms may add fields (e.g. `actualK`). */
export interface PredictionDetails {
  /** True when the user or item is unknown, or the algorithm could not estimate. */
  wasImpossible: boolean;
  /** Why, when `wasImpossible` (e.g. "User unknown", "Item unknown", "User and item are unknown."). */
  reason?: string;
  [key: string]: unknown;
}

/** One prediction (Surprise's `Prediction` named tuple). */
export interface Prediction {
  /** Raw user id. */
  uid: string;
  /** Raw item id. */
  iid: string;
  /** The true rating when known (testsets), else null. */
  rUi: number | null;
  /** The estimated rating, clipped to the rating scale unless `clip` was false. */
  est: number;
  /** How the estimate was obtained. */
  details: PredictionDetails;
}

/** What `estimate` returns: a number, or a number with details (Surprise's `(est, details)`). */
export type EstimateResult = number | { est: number; details: Record<string, unknown> };

/** Typed arrays an algorithm stores in a model file. */
export type StateArray = Float64Array | Float32Array | Int32Array | Uint32Array | Uint8Array;

/** What an algorithm saves after fitting: plain JSON values and typed arrays. */
export interface AlgoState {
  /** JSON-serialisable scalars (e.g. sigma of NormalPredictor). */
  values: Record<string, unknown>;
  /** Named typed arrays (e.g. bu, bi, pu, qi). */
  arrays: Record<string, StateArray>;
}

/** The static side of an algorithm class, as the registry and model files use it. */
export interface AlgorithmClass<A extends AlgoBase = AlgoBase> {
  new (params?: Record<string, unknown>): A;
  /** Registry name, as Surprise's class name (e.g. "SVD", "BaselineOnly"). */
  readonly algorithmName: string;
  /** Declared hyper-parameters with defaults. */
  readonly paramSpecs: ParamSpecs;
  /** One-line description for `--help` and reports. */
  readonly description: string;
}

export abstract class AlgoBase {
  /** Resolved hyper-parameters (defaults applied, validated). */
  readonly params: ParamValues;
  /** The trainset of the last `fit`; undefined before. */
  protected trainsetRef?: Trainset;

  /**
   * @param params hyper-parameters by name (see the class's `paramSpecs`).
   * @throws ParamError for an unknown parameter or a value of the wrong type or range.
   */
  constructor(params?: Record<string, unknown>) {
    const cls = this.constructor as unknown as AlgorithmClass;
    this.params = resolveParams(cls.paramSpecs, params, cls.algorithmName);
  }

  /** Registry name of this algorithm's class. */
  get name(): string {
    return (this.constructor as unknown as AlgorithmClass).algorithmName;
  }

  /** The trainset the algorithm was fitted on. @throws Error before `fit`. */
  get trainset(): Trainset {
    if (!this.trainsetRef) throw new Error(`${this.name} is not fitted: call fit(trainset) first`);
    return this.trainsetRef;
  }

  /** True once `fit` (or a model load) has happened. */
  get isFitted(): boolean {
    return this.trainsetRef !== undefined;
  }

  /**
   * Trains on `trainset`. Subclasses call `super.fit(trainset)` first, then learn.
   * @returns this algorithm, for chaining (Surprise's `fit` returns self).
   */
  fit(trainset: Trainset): this {
    this.trainsetRef = trainset;
    return this;
  }

  /**
   * Estimates the rating of inner user `u` for inner item `i` (−1 for an unknown one).
   * `predict` also passes the raw ids, so that an algorithm with side information (BayesianFM)
   * can answer a user or item the trainset does not know from its attributes; others ignore them.
   * @throws PredictionImpossible when no estimate can be made.
   */
  abstract estimate(u: number, i: number, ruid?: string, riid?: string): EstimateResult;

  /** The estimate used when prediction is impossible: the trainset's global mean. */
  defaultPrediction(): number {
    return this.trainset.globalMean;
  }

  /**
   * Predicts the rating of raw user `uid` for raw item `iid` (Surprise's `predict`).
   *
   * @param rUi the true rating, if known (kept in the result for accuracy measures).
   * @param clip clip the estimate to the trainset's rating scale (default true).
   * @returns a Prediction; never throws for unknown ids (they are flagged `wasImpossible`).
   * @throws Error when the algorithm is not fitted.
   */
  predict(
    uid: string | number,
    iid: string | number,
    rUi: number | null = null,
    clip = true,
  ): Prediction {
    const ts = this.trainset;
    const ruid = String(uid);
    const riid = String(iid);
    const u = ts.findUser(ruid);
    const i = ts.findItem(riid);
    let est: number;
    let details: PredictionDetails;
    try {
      const res = this.estimate(u, i, ruid, riid);
      if (typeof res === 'number') {
        est = res;
        details = { wasImpossible: false };
      } else {
        est = res.est;
        details = { ...res.details, wasImpossible: false };
      }
      if (u < 0 || i < 0) {
        details.wasImpossible = true;
        details.reason =
          u < 0 && i < 0 ? 'User and item are unknown.' : u < 0 ? 'User unknown' : 'Item unknown';
      }
    } catch (err) {
      if (!(err instanceof PredictionImpossible)) throw err;
      est = this.defaultPrediction();
      details = { wasImpossible: true, reason: err.message };
    }
    if (clip) {
      const [lo, hi] = ts.ratingScale;
      est = Math.min(hi, Math.max(lo, est));
    }
    return { uid: ruid, iid: riid, rUi, est, details };
  }

  /**
   * Predicts every rating of a testset (Surprise's `test`).
   * @returns one Prediction per test rating, in order, with `rUi` set.
   */
  test(testset: Testset, clip = true): Prediction[] {
    const out = new Array<Prediction>(testset.length);
    for (let k = 0; k < testset.length; k++) {
      const [uid, iid, r] = testset[k];
      out[k] = this.predict(uid, iid, r, clip);
    }
    return out;
  }

  /** What this algorithm learned, for a model file. Subclasses with fitted state override it. */
  exportState(): AlgoState {
    return { values: {}, arrays: {} };
  }

  /**
   * Restores what `exportState` saved, after the trainset has been restored.
   * @throws Error when a required value or array is missing or has the wrong size.
   */
  importState(_state: AlgoState): void {}

  /** Called by model loading: attaches the restored trainset, then the algorithm's state. */
  restore(trainset: Trainset, state: AlgoState): this {
    this.trainsetRef = trainset;
    this.importState(state);
    return this;
  }
}

/** Fetches a required array from a saved state, checking its length. @throws Error when absent or of another length. */
export function requireArray<T extends StateArray>(
  state: AlgoState,
  name: string,
  length: number,
  ctor: new (n: number) => T,
): T {
  const a = state.arrays[name];
  if (!a || !(a instanceof ctor) || a.length !== length) {
    throw new Error(
      `model state: array '${name}' missing or of wrong type/size (expected ${ctor.name} of ${length}, got ${
        a ? `${a.constructor.name} of ${a.length}` : 'nothing'
      })`,
    );
  }
  return a;
}
