/**
 * The retrieval losses of POSAPL (spec section 5): the contrastive loss with image-id soft
 * targets and the power-scaled triplet loss, computed together over one similarity matrix.
 */
import { addon } from '../native/addon';

/** Arguments of {@link retrievalLosses}. */
export interface RetrievalLossArgs {
  /** L2-normalised image embeddings I (N,E). */
  image: Float32Array;
  /** L2-normalised text embeddings T (N,E); row i pairs with image row i. */
  text: Float32Array;
  /** Image id of each pair (N): pairs sharing an image share the contrastive target mass. */
  imageIds: Int32Array;
  /** Batch size N (pairs). */
  n: number;
  /** Embedding width E. */
  e: number;
  /** The raw stored logit_scale parameter (4.6052 for LAION ViT-B/32), not its exp. */
  logitScale: number;
  /** Triplet margin; default 0.1 (the paper). */
  margin?: number;
  /** Triplet power, > 0; default 2 (the paper). */
  gamma?: number;
  /** Weight of the contrastive loss in the gradients; default 1. */
  contrastiveWeight?: number;
  /** Weight of the triplet loss in the gradients; default 1, 0 switches it off (ablation). */
  tripletWeight?: number;
  /** Receives dLoss/dimage (N,E) when given; the loss is weighted by the two weights. */
  dImage?: Float32Array | null;
  /** Receives dLoss/dtext (N,E) when given. */
  dText?: Float32Array | null;
}

/** Values of both losses, unweighted, and their weighted sum (the loss the gradients are of). */
export interface RetrievalLosses {
  /** L_c, the mean of the image-to-text and text-to-image cross entropies. */
  contrastive: number;
  /** L_t, the summed power-scaled triplet loss. */
  triplet: number;
  /** contrastiveWeight * contrastive + tripletWeight * triplet. */
  total: number;
}

/**
 * Both retrieval losses of one batch and, when dImage/dText are given, the gradients of their
 * weighted sum with respect to the embeddings. S = I T^T is formed once (native GEMM); the
 * N x N work runs on all cores.
 */
export function retrievalLosses(args: RetrievalLossArgs): RetrievalLosses {
  const contrastiveWeight = args.contrastiveWeight ?? 1;
  const tripletWeight = args.tripletWeight ?? 1;
  const { contrastive, triplet } = addon().retrievalLosses({
    dImage: args.dImage ?? null, dText: args.dText ?? null, image: args.image, text: args.text,
    imageIds: args.imageIds, n: args.n, e: args.e, logitScale: args.logitScale, margin: args.margin ?? 0.1,
    gamma: args.gamma ?? 2, contrastiveWeight, tripletWeight,
  });
  return { contrastive, triplet, total: contrastiveWeight * contrastive + tripletWeight * triplet };
}
