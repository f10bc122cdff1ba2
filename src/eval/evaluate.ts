/**
 * evaluateRetrieval: embeds every evaluation image and caption with the model, S = I T^T, and
 * scores it with the authors' metrics (spec section 8).
 */
import { posaplError } from '../errors';
import { gemm } from '../ops/gemm';
import type { PosaplModel } from '../posapl/model';
import { checkCount, checkTyped } from './checks';
import { metricsFromRanks, RetrievalMetrics, RetrievalRanks, retrievalRanks } from './metrics';

/** Options of {@link evaluateRetrieval}. */
export interface EvaluateRetrievalOptions {
  model: PosaplModel;
  /** Number of evaluation images. */
  nImages: number;
  /**
   * Resolves to the normalised test-transform pixels (m,3,S,S) of the listed images, in that
   * order. Called with consecutive batches; the next batch is requested before the current one
   * is embedded, so a loader that decodes in worker threads overlaps the compute.
   */
  loadPixels: (indices: number[]) => Promise<Float32Array>;
  /** Caption ids (nTexts, context_length). */
  ids: Int32Array;
  /** POS ids (nTexts, context_length), or null to run without the POS stream. */
  posIds: Int32Array | null;
  /** (nTexts) image index of each caption; nTexts is its length. */
  textImage: Int32Array;
  /** Images per loadPixels call (default 64). */
  imageBatch?: number;
  /** Captions per encode call (default 256, as the authors). */
  textBatch?: number;
  /** Called after every batch, for a progress display. */
  onProgress?: (progress: { phase: 'images' | 'texts'; done: number; total: number }) => void;
}

/** What {@link evaluateRetrieval} returns. */
export interface RetrievalEvaluation {
  metrics: RetrievalMetrics;
  ranks: RetrievalRanks;
  /** (nImages, nTexts) = I T^T. */
  sims: Float32Array;
  /** (nImages, embed_dim) L2-normalised. */
  imageEmbeddings: Float32Array;
  /** (nTexts, embed_dim) L2-normalised. */
  textEmbeddings: Float32Array;
}

/** Embeds all images and captions, computes S = I T^T and the retrieval metrics. */
export async function evaluateRetrieval(opts: EvaluateRetrievalOptions): Promise<RetrievalEvaluation> {
  const { model, nImages, loadPixels, ids, posIds, textImage } = opts;
  if (typeof (model as Partial<PosaplModel> | null)?.encodeImages !== 'function') {
    throw posaplError('POSAPL_TYPE', `Expected a PosaplModel for model but received ${String(model)}`);
  }
  checkCount(nImages, 'nImages');
  if (typeof loadPixels !== 'function') {
    throw posaplError('POSAPL_TYPE', `Expected a function for loadPixels but received ${typeof loadPixels}`);
  }
  const imageBatch = opts.imageBatch ?? 64;
  const textBatch = opts.textBatch ?? 256;
  checkCount(imageBatch, 'imageBatch');
  checkCount(textBatch, 'textBatch');
  if (!ArrayBuffer.isView(textImage) || textImage.constructor.name !== 'Int32Array' || textImage.length < 1) {
    throw posaplError('POSAPL_TYPE', `Expected a non-empty Int32Array (nTexts) for textImage but received ${String(textImage)}`);
  }
  const nTexts = textImage.length;
  // Checked before the long embedding passes rather than after them.
  const outside = textImage.findIndex((i) => i < 0 || i >= nImages);
  if (outside >= 0) {
    throw posaplError('POSAPL_SHAPE', `Expected image indices in [0, ${nImages}) for textImage but received ${textImage[outside]} at caption ${outside}`);
  }
  const L = model.config.text_cfg.context_length;
  checkTyped(ids, 'Int32Array', nTexts * L, 'ids', `(nTexts,${L})`);
  if (posIds !== null) checkTyped(posIds, 'Int32Array', nTexts * L, 'posIds', `(nTexts,${L})`);

  const E = model.config.embed_dim;
  const S = model.config.vision_cfg.image_size;
  const imageEmbeddings = new Float32Array(nImages * E); // (nImages,E)
  const batchIndices = (b0: number) => Array.from({ length: Math.min(imageBatch, nImages - b0) }, (_, k) => b0 + k);
  let pending: Promise<Float32Array> | null = loadPixels(batchIndices(0));
  try {
    for (let b0 = 0; b0 < nImages; b0 += imageBatch) {
      const indices = batchIndices(b0);
      const pixels = await (pending as Promise<Float32Array>);
      pending = b0 + imageBatch < nImages ? loadPixels(batchIndices(b0 + imageBatch)) : null;
      checkTyped(pixels, 'Float32Array', indices.length * 3 * S * S, `the pixels loadPixels gave for images ${b0}..${b0 + indices.length - 1}`, `(${indices.length},3,${S},${S})`);
      imageEmbeddings.set(model.encodeImages(pixels, indices.length), b0 * E);
      opts.onProgress?.({ phase: 'images', done: b0 + indices.length, total: nImages });
    }
  } finally {
    // A prefetch left behind by an error must not become an unhandled rejection.
    pending?.catch(() => undefined);
  }

  const textEmbeddings = new Float32Array(nTexts * E); // (nTexts,E)
  for (let t0 = 0; t0 < nTexts; t0 += textBatch) {
    const m = Math.min(textBatch, nTexts - t0);
    const rows = (a: Int32Array) => a.subarray(t0 * L, (t0 + m) * L);
    textEmbeddings.set(model.encodeTexts(rows(ids), posIds ? rows(posIds) : null, m), t0 * E);
    opts.onProgress?.({ phase: 'texts', done: t0 + m, total: nTexts });
  }

  const sims = new Float32Array(nImages * nTexts); // (nImages,nTexts)
  gemm({ c: sims, a: imageEmbeddings, b: textEmbeddings, m: nImages, n: nTexts, k: E, transB: true });
  const ranks = retrievalRanks(sims, nImages, nTexts, textImage);
  return { metrics: metricsFromRanks(ranks), ranks, sims, imageEmbeddings, textEmbeddings };
}
