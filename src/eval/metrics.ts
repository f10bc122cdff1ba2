/**
 * Retrieval metrics exactly as the authors' `itm_eval` (spec section 8): from S = I T^T,
 * text retrieval ranks the best of each image's captions, image retrieval ranks each caption's
 * image; R@K = % of queries with 0-based rank < K; mR = mean of the six; all rounded as Python's
 * round(x, 2).
 *
 * Ties. The authors rank with `np.argsort(score)[::-1]`, whose order among equal scores belongs to
 * numpy's sorting algorithm (introsort, or a SIMD sorting network on AVX-512 machines) and differs
 * between machines and numpy versions. We use the one deterministic order every stable sort
 * gives, `np.argsort(score, kind='stable')[::-1]`: descending score, and among equal scores the
 * higher index first. The rank of a target is then
 *   #{j : s_j > s_target} + #{j > target : s_j == s_target},
 * counted in one pass with no sort. Equal scores are common in practice: RSITMD and RSICD repeat
 * captions verbatim across images, and equal captions embed to equal vectors. How many queries a
 * tie could have moved is reported beside the ranks.
 */
import { posaplError } from '../errors';
import { checkCount, checkTyped } from './checks';
import { pythonFloatRepr, pythonRound } from './python';

/** The authors' metric dict: percentages rounded to 2 decimals, in their key order. */
export interface RetrievalMetrics {
  /** Image query -> caption, R@1 (%). */
  txt_r1: number;
  /** Image query -> caption, R@5 (%). */
  txt_r5: number;
  /** Image query -> caption, R@10 (%). */
  txt_r10: number;
  /** Caption query -> image, R@1 (%). */
  img_r1: number;
  /** Caption query -> image, R@5 (%). */
  img_r5: number;
  /** Caption query -> image, R@10 (%). */
  img_r10: number;
  /** Mean of the six recalls (mR). */
  r_mean: number;
}

/** The keys of {@link RetrievalMetrics} in the authors' order. */
export const METRIC_KEYS: readonly (keyof RetrievalMetrics)[] = [
  'txt_r1', 'txt_r5', 'txt_r10', 'img_r1', 'img_r5', 'img_r10', 'r_mean',
];

/** 0-based ranks of every query (0 = retrieved first). */
export interface RetrievalRanks {
  /** (nImages) rank, among all captions, of the best-ranked caption of each image (image queries). */
  text: Int32Array;
  /** (nImages) which caption achieved that rank. */
  bestText: Int32Array;
  /** (nTexts) rank, among all images, of each caption's own image (caption queries). */
  image: Int32Array;
  /** Image queries whose ground truth shares its score with a caption of another image (another tie order could move its rank). */
  tiedTextQueries: number;
  /** Caption queries whose image shares its score with another image. */
  tiedImageQueries: number;
}

/**
 * Ranks of every query in both directions from sims (nImages, nTexts) = I T^T, with the tie
 * order of the module comment. O(nImages * nTexts); throws on non-finite similarities and on an
 * image with no caption (the authors would count it as a miss with rank 1e20).
 */
export function retrievalRanks(sims: Float32Array, nImages: number, nTexts: number, textImage: Int32Array): RetrievalRanks {
  checkInputs(sims, nImages, nTexts, textImage);

  // Each image's best caption: highest score, the higher index among equal scores.
  const bestText = new Int32Array(nImages).fill(-1);
  for (let t = 0; t < nTexts; t++) {
    const i = textImage[t];
    const best = bestText[i];
    if (best < 0 || sims[i * nTexts + t] >= sims[i * nTexts + best]) bestText[i] = t;
  }
  const captionless = bestText.indexOf(-1);
  if (captionless >= 0) {
    throw posaplError('POSAPL_SHAPE', `Expected at least one caption for every image but image ${captionless} has none in textImage`);
  }

  // Image queries: one pass over each row.
  const text = new Int32Array(nImages);
  let tiedTextQueries = 0;
  for (let i = 0; i < nImages; i++) {
    const row = sims.subarray(i * nTexts, (i + 1) * nTexts); // (nTexts)
    const target = bestText[i];
    const s = row[target];
    let rank = 0;
    let tied = false;
    for (let j = 0; j < nTexts; j++) {
      const v = row[j];
      if (v > s) rank++;
      else if (v === s && textImage[j] !== i) {
        tied = true;
        if (j > target) rank++;
      }
    }
    text[i] = rank;
    if (tied) tiedTextQueries++;
  }

  // Caption queries: the same counts per column, accumulated row by row for contiguous reads.
  const targetScore = new Float32Array(nTexts); // (nTexts) score of each caption's own image
  for (let t = 0; t < nTexts; t++) targetScore[t] = sims[textImage[t] * nTexts + t];
  const image = new Int32Array(nTexts);
  const tiedImage = new Uint8Array(nTexts);
  for (let i = 0; i < nImages; i++) {
    const row = sims.subarray(i * nTexts, (i + 1) * nTexts);
    for (let t = 0; t < nTexts; t++) {
      const v = row[t];
      const s = targetScore[t];
      if (v > s) image[t]++;
      else if (v === s && i !== textImage[t]) {
        tiedImage[t] = 1;
        if (i > textImage[t]) image[t]++;
      }
    }
  }
  let tiedImageQueries = 0;
  for (let t = 0; t < nTexts; t++) tiedImageQueries += tiedImage[t];

  return { text, bestText, image, tiedTextQueries, tiedImageQueries };
}

/** The metric dict from ranks, with the authors' arithmetic order so that every double matches. */
export function metricsFromRanks(ranks: Pick<RetrievalRanks, 'text' | 'image'>): RetrievalMetrics {
  const recall = (r: Int32Array, k: number) => {
    let hits = 0;
    for (let q = 0; q < r.length; q++) if (r[q] < k) hits++;
    return (100.0 * hits) / r.length;
  };
  const tr1 = recall(ranks.text, 1);
  const tr5 = recall(ranks.text, 5);
  const tr10 = recall(ranks.text, 10);
  const ir1 = recall(ranks.image, 1);
  const ir5 = recall(ranks.image, 5);
  const ir10 = recall(ranks.image, 10);
  const trMean = (tr1 + tr5 + tr10) / 3;
  const irMean = (ir1 + ir5 + ir10) / 3;
  const rMean = (trMean + irMean) / 2;
  return {
    txt_r1: pythonRound(tr1, 2),
    txt_r5: pythonRound(tr5, 2),
    txt_r10: pythonRound(tr10, 2),
    img_r1: pythonRound(ir1, 2),
    img_r5: pythonRound(ir5, 2),
    img_r10: pythonRound(ir10, 2),
    r_mean: pythonRound(rMean, 2),
  };
}

/**
 * The authors' metrics from sims (nImages, nTexts) = I T^T and the image index of each caption
 * (textImage, (nTexts)). See the module comment for ranks and ties.
 */
export function retrievalMetrics(sims: Float32Array, nImages: number, nTexts: number, textImage: Int32Array): RetrievalMetrics {
  return metricsFromRanks(retrievalRanks(sims, nImages, nTexts, textImage));
}

/** The metrics as the authors print them: `{'txt_r1': 26.99, 'txt_r5': 50.22, ...}` (a Python dict repr). */
export function formatMetrics(m: RetrievalMetrics): string {
  return `{${METRIC_KEYS.map((k) => `'${k}': ${pythonFloatRepr(m[k])}`).join(', ')}}`;
}

function checkInputs(sims: Float32Array, nImages: number, nTexts: number, textImage: Int32Array): void {
  checkCount(nImages, 'nImages');
  checkCount(nTexts, 'nTexts');
  checkTyped(sims, 'Float32Array', nImages * nTexts, 'sims', `(nImages,nTexts) = (${nImages},${nTexts})`);
  checkTyped(textImage, 'Int32Array', nTexts, 'textImage', `(nTexts) = (${nTexts})`);
  for (let t = 0; t < nTexts; t++) {
    const i = textImage[t];
    if (i < 0 || i >= nImages) {
      throw posaplError('POSAPL_SHAPE', `Expected image indices in [0, ${nImages}) for textImage but received ${i} at caption ${t}`);
    }
  }
  for (let k = 0; k < sims.length; k++) {
    if (!Number.isFinite(sims[k])) {
      const i = Math.floor(k / nTexts);
      throw posaplError('POSAPL_NONFINITE', `Expected finite similarities for sims but received ${sims[k]} at image ${i}, caption ${k - i * nTexts}`);
    }
  }
}
