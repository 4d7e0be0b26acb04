/**
 * The design of BayesianFM on a trainset: the relation-block modes (users, items, and time bins
 * when asked and available) whose feature rows carry the blocks the parameters switch on.
 *
 * Feature numbering within a mode: the one-hot ids first (if on), then the related entities
 * (the items a user rated / the users who rated an item, if on), then the attribute features
 * (fm-features.ts encoding of the trainset's side information, if on). Prior groups: one per block.
 */
import type { Trainset } from '../trainset';
import type { ParamValues } from '../params';
import { emptyEncoding, encodeAttributes, type AttributeFeatures } from './fm-features';
import type { FMMode } from './bayesian-fm-sampler';

/** Prior groups (one per block). */
export const G_USER = 0;
export const G_IMPLICIT = 1;
export const G_USER_ATTR = 2;
export const G_ITEM = 3;
export const G_FLIPPED = 4;
export const G_ITEM_ATTR = 5;
export const G_TIME = 6;
export const N_GROUPS = 7;

/** What `buildFMDesign` returns. */
export interface FMDesignParts {
  /** [users, items] or [users, items, time bins]. */
  modes: FMMode[];
  /** The newest time bin (−1 without a time mode): predictions are made at it. */
  newestBin: number;
  /** The encoded user and item attributes (empty when the block is off or there are none). */
  userAttributes: AttributeFeatures;
  itemAttributes: AttributeFeatures;
}

/**
 * Builds the modes of BayesianFM's design from `trainset` (and its sideInfo, urTimestamps) and
 * the resolved parameters `p` (useUser, useItem, useImplicit, useFlipped, useTime, timeBinDays,
 * useUserAttributes, useItemAttributes). Time bins are `timeBinDays` wide from the oldest
 * rating; without timestamps there is no time mode.
 */
export function buildFMDesign(trainset: Trainset, p: ParamValues): FMDesignParts {
  const { nUsers, nItems, nRatings, urOffsets, urItems, irOffsets, irUsers } = trainset;
  const side = trainset.sideInfo;
  const uEnc = p.useUserAttributes && side ? encodeAttributes(side.users) : emptyEncoding();
  const iEnc = p.useItemAttributes && side ? encodeAttributes(side.items) : emptyEncoding();
  const uIndex = new Map(uEnc.ids.map((id, r) => [id, r]));
  const iIndex = new Map(iEnc.ids.map((id, r) => [id, r]));
  const userOf = new Int32Array(nRatings);
  for (let u = 0; u < nUsers; u++) userOf.fill(u, urOffsets[u], urOffsets[u + 1]);
  const modes = [
    buildMode(
      nUsers,
      userOf,
      p.useUser as boolean,
      p.useImplicit as boolean,
      nItems,
      urOffsets,
      urItems,
      uEnc,
      uIndex,
      (u) => trainset.toRawUid(u),
      [G_USER, G_IMPLICIT, G_USER_ATTR],
    ),
    buildMode(
      nItems,
      urItems,
      p.useItem as boolean,
      p.useFlipped as boolean,
      nUsers,
      irOffsets,
      irUsers,
      iEnc,
      iIndex,
      (i) => trainset.toRawIid(i),
      [G_ITEM, G_FLIPPED, G_ITEM_ATTR],
    ),
  ];
  let newestBin = -1;
  const times = trainset.urTimestamps;
  if (p.useTime && times) {
    const width = (p.timeBinDays as number) * 86400;
    let t0 = Infinity;
    for (let r = 0; r < nRatings; r++) if (times[r] < t0) t0 = times[r];
    const binOf = new Int32Array(nRatings);
    for (let r = 0; r < nRatings; r++) {
      binOf[r] = Number.isFinite(times[r]) ? Math.floor((times[r] - t0) / width) : 0;
      if (binOf[r] > newestBin) newestBin = binOf[r];
    }
    const nBins = newestBin + 1;
    const rowOffsets = new Int32Array(nBins + 1);
    const rowFeatures = new Int32Array(nBins);
    for (let b = 0; b < nBins; b++) {
      rowOffsets[b + 1] = b + 1;
      rowFeatures[b] = b;
    }
    modes.push({
      nEntities: nBins,
      entityOf: binOf,
      nFeatures: nBins,
      rowOffsets,
      rowFeatures,
      rowValues: new Float64Array(nBins).fill(1),
      group: new Int32Array(nBins).fill(G_TIME),
    });
  }
  return { modes, newestBin, userAttributes: uEnc, itemAttributes: iEnc };
}

/**
 * The feature rows of one mode: one-hot id, the related entities (implicit/flipped), attributes.
 */
export function buildMode(
  nEnt: number,
  entityOf: Int32Array,
  useId: boolean,
  useRelated: boolean,
  nRelated: number,
  relOffsets: Int32Array,
  relIds: Int32Array,
  enc: AttributeFeatures,
  encIndex: Map<string, number>,
  rawId: (e: number) => string,
  groups: [number, number, number],
): FMMode {
  const idBase = 0;
  const relBase = useId ? nEnt : 0;
  const attrBase = relBase + (useRelated ? nRelated : 0);
  const nFeatures = attrBase + enc.featureNames.length;
  const attrRow = new Int32Array(nEnt).fill(-1);
  let nnz = 0;
  for (let e = 0; e < nEnt; e++) {
    if (useId) nnz++;
    if (useRelated) nnz += relOffsets[e + 1] - relOffsets[e];
    const r = encIndex.get(rawId(e));
    if (r !== undefined) {
      attrRow[e] = r;
      nnz += enc.offsets[r + 1] - enc.offsets[r];
    }
  }
  const rowOffsets = new Int32Array(nEnt + 1);
  const rowFeatures = new Int32Array(nnz);
  const rowValues = new Float64Array(nnz);
  let p = 0;
  for (let e = 0; e < nEnt; e++) {
    if (useId) {
      rowFeatures[p] = idBase + e;
      rowValues[p++] = 1;
    }
    if (useRelated) {
      const a = relOffsets[e];
      const b = relOffsets[e + 1];
      const x = b > a ? 1 / Math.sqrt(b - a) : 0;
      for (let q = a; q < b; q++) {
        rowFeatures[p] = relBase + relIds[q];
        rowValues[p++] = x;
      }
    }
    const r = attrRow[e];
    if (r >= 0) {
      for (let q = enc.offsets[r]; q < enc.offsets[r + 1]; q++) {
        rowFeatures[p] = attrBase + enc.features[q];
        rowValues[p++] = enc.values[q];
      }
    }
    rowOffsets[e + 1] = p;
  }
  const group = new Int32Array(nFeatures);
  group.fill(groups[0], 0, relBase);
  group.fill(groups[1], relBase, attrBase);
  group.fill(groups[2], attrBase, nFeatures);
  return { nEntities: nEnt, entityOf, nFeatures, rowOffsets, rowFeatures, rowValues, group };
}
