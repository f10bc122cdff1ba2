/**
 * Side Fusion (spec section 4): four block taps f1..f4 (N,L,C) through SL_k(z) = ReLU(Linear_k(z)),
 * k = 1..3, and Linear_4 (zero-initialised in the model, no ReLU), chained or end-add.
 * With `mean` (vision) each SL_k ends with a mean over the L tokens, broadcast back over the
 * tokens before the next add, and the result s4 is (N,C). Without it (text) everything is per
 * token and s4 is (N,L,C); as nothing mixes tokens, the text tower passes only its EOT rows (L = 1).
 */
import { addon } from '../native/addon';

/** Shapes and variant of one Side Fusion call. */
export interface SideFusionDims {
  /** Sequences. */
  n: number;
  /** Tokens per tap (50 vision; 1 for the text tower's gathered EOT rows). */
  l: number;
  /** Width. */
  c: number;
  /**
   * true: s_k = SL_k(f_k + s_{k-1}), s4 = Linear_4(f4 + s3) (RSITMD);
   * false (end-add): s_k = SL_k(f_k), s4 = Linear_4(s1 + s2 + s3), f4 unused (RSICD).
   */
  chained: boolean;
  /** Whether each stage ends with the mean over tokens (the vision tower). */
  mean: boolean;
}

/** The four linears (w_k (C,C), b_k (C)), or their gradients in the same layout. */
export interface SideFusionParams {
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
  w3: Float32Array;
  b3: Float32Array;
  /** Zero-initialised in the model. */
  w4: Float32Array;
  /** Zero-initialised in the model. */
  b4: Float32Array;
}

/** The taps (N,L,C); f4 only for the chained variant. */
export interface SideFusionTaps {
  f1: Float32Array;
  f2: Float32Array;
  f3: Float32Array;
  f4?: Float32Array | null;
}

/**
 * Floats of the buffers a Side Fusion needs: what the forward saves (three ReLU outputs, the
 * chained variant's two stage inputs, the input of Linear_4) and the backward's scratch.
 */
export function sideFusionSizes(d: SideFusionDims): { saved: number; scratch: number } {
  const tokens = d.n * d.l * d.c;
  const rows = (d.mean ? d.n : d.n * d.l) * d.c;
  return { saved: (d.chained ? 5 : 3) * tokens + rows, scratch: 2 * rows + 2 * tokens };
}

/** Arguments of {@link sideFusionForward}. */
export interface SideFusionForwardArgs extends SideFusionDims {
  /** Output: (N,C) with mean, (N,L,C) without. */
  s4: Float32Array;
  /** Receives what the backward needs ({@link sideFusionSizes}().saved floats). */
  saved: Float32Array;
  taps: SideFusionTaps;
  params: SideFusionParams;
}

/** Input gradients of {@link sideFusionBackward}, each (N,L,C), overwritten; omit those not needed. */
export interface SideFusionTapGrads {
  df1?: Float32Array | null;
  df2?: Float32Array | null;
  df3?: Float32Array | null;
  /** Chained only. */
  df4?: Float32Array | null;
}

/** Arguments of {@link sideFusionBackward}. */
export interface SideFusionBackwardArgs extends SideFusionDims {
  /** Tap gradients to compute. */
  dtaps: SideFusionTapGrads;
  /** Parameter gradients, accumulated (+=); named dw1, db1, ... in errors. */
  grads: SideFusionParams;
  /** Gradient of s4: (N,C) with mean, (N,L,C) without. */
  ds4: Float32Array;
  /** The forward's taps (f4 is not needed). */
  taps: SideFusionTaps;
  /** The forward's weights (biases are not needed). */
  params: Pick<SideFusionParams, 'w1' | 'w2' | 'w3' | 'w4'>;
  /** What the forward saved. */
  saved: Float32Array;
  /** Clobbered work space ({@link sideFusionSizes}().scratch floats); allocated when omitted. */
  scratch?: Float32Array;
}

/** s4 from the taps, saving the intermediates for the backward. */
export function sideFusionForward(a: SideFusionForwardArgs): void {
  const { taps: t, params: p } = a;
  addon().sideFusionForward({
    s4: a.s4, saved: a.saved, f1: t.f1, f2: t.f2, f3: t.f3, f4: t.f4 ?? null,
    w1: p.w1, b1: p.b1, w2: p.w2, b2: p.b2, w3: p.w3, b3: p.b3, w4: p.w4, b4: p.b4,
    n: a.n, l: a.l, c: a.c, chained: a.chained, mean: a.mean,
  });
}

/** The requested tap gradients and the accumulated parameter gradients from ds4. */
export function sideFusionBackward(a: SideFusionBackwardArgs): void {
  const { dtaps: d, grads: g, taps: t, params: p } = a;
  const scratch = a.scratch ?? new Float32Array(sideFusionSizes(a).scratch);
  addon().sideFusionBackward({
    df1: d.df1 ?? null, df2: d.df2 ?? null, df3: d.df3 ?? null, df4: d.df4 ?? null,
    dw1: g.w1, db1: g.b1, dw2: g.w2, db2: g.b2, dw3: g.w3, db3: g.b3, dw4: g.w4, db4: g.b4,
    scratch, ds4: a.ds4, f1: t.f1, f2: t.f2, f3: t.f3, w1: p.w1, w2: p.w2, w3: p.w3, w4: p.w4, saved: a.saved,
    n: a.n, l: a.l, c: a.c, chained: a.chained, mean: a.mean,
  });
}
