/**
 * LayerNorm over the last dimension, as torch.nn.LayerNorm(C, eps=1e-5) with weight and bias.
 * Row-major float32; rows are the N = (batch x tokens) leading positions.
 */
import { addon } from '../native/addon';

/** The epsilon added to the variance (open_clip's LayerNorm default). */
export const LAYER_NORM_EPS = 1e-5;

/** Arguments of {@link layerNormForward}. */
export interface LayerNormForwardArgs {
  /** Output (N,C). */
  out: Float32Array;
  /** Input (N,C). */
  x: Float32Array;
  /** Scale (C). */
  weight: Float32Array;
  /** Shift (C). */
  bias: Float32Array;
  /** Rows. */
  n: number;
  /** Channels normalised over. */
  c: number;
  /** Receives each row's mean (N) for the backward pass; omit in inference. */
  mean?: Float32Array | null;
  /** Receives each row's 1/sqrt(var + eps) (N) for the backward pass; omit in inference. */
  rstd?: Float32Array | null;
}

/** Arguments of {@link layerNormBackward}. */
export interface LayerNormBackwardArgs {
  /** Input gradient (N,C), overwritten. */
  dx: Float32Array;
  /** Output gradient (N,C). */
  dout: Float32Array;
  /** The forward's input (N,C). */
  x: Float32Array;
  /** The forward's scale (C). */
  weight: Float32Array;
  /** Row means (N) saved by the forward. */
  mean: Float32Array;
  /** Row 1/sqrt(var + eps) (N) saved by the forward. */
  rstd: Float32Array;
  n: number;
  c: number;
  /** Scale gradient (C), accumulated (+=); omit for a frozen LayerNorm. */
  dweight?: Float32Array | null;
  /** Shift gradient (C), accumulated (+=); omit for a frozen LayerNorm. */
  dbias?: Float32Array | null;
}

/** out = (x - mean) / sqrt(var + 1e-5) * weight + bias per row, saving mean and rstd when given. */
export function layerNormForward(a: LayerNormForwardArgs): void {
  addon().layerNormForward({
    out: a.out, mean: a.mean ?? null, rstd: a.rstd ?? null, x: a.x, weight: a.weight, bias: a.bias, n: a.n, c: a.c,
  });
}

/** dx from dout; dweight and dbias accumulate when given. */
export function layerNormBackward(a: LayerNormBackwardArgs): void {
  addon().layerNormBackward({
    dx: a.dx, dweight: a.dweight ?? null, dbias: a.dbias ?? null, dout: a.dout, x: a.x, weight: a.weight,
    mean: a.mean, rstd: a.rstd, n: a.n, c: a.c,
  });
}
