/**
 * The MLP adapter ("AdapterMLPZeroInit"): out = Linear2(ReLU(Linear1(x))) per token. It is the
 * text tower's POS connector (512 -> 512 -> 512) and, in the RSICD configuration, each block's
 * POS adapter (512 -> 128 -> 512). Weights in torch's (out,in) layout.
 */
import { addon } from '../native/addon';

/** Shapes of one MLP adapter call. */
export interface MlpAdapterDims {
  /** Tokens, N*L: the adapter acts on each row alone. */
  rows: number;
  /** Input width. */
  c: number;
  /** Hidden width. */
  r: number;
  /** Output width. */
  cout: number;
}

/** The adapter's parameters, or their gradients in the same layout. */
export interface MlpAdapterParams {
  /** Linear1 weight (R,C). */
  w1: Float32Array;
  /** Linear1 bias (R). */
  b1: Float32Array;
  /** Linear2 weight (Cout,R), zero-initialised in the model. */
  w2: Float32Array;
  /** Linear2 bias (Cout), zero-initialised in the model. */
  b2: Float32Array;
}

/** Floats of the buffers an MLP adapter needs: what the forward saves, and the backward's scratch. */
export function mlpAdapterSizes(d: MlpAdapterDims): { saved: number; scratch: number } {
  return { saved: d.rows * d.r, scratch: d.rows * d.r };
}

/** Arguments of {@link mlpAdapterForward}. */
export interface MlpAdapterForwardArgs extends MlpAdapterDims {
  /** Output (rows,Cout). */
  out: Float32Array;
  /** Receives what the backward needs ({@link mlpAdapterSizes}().saved floats). */
  saved: Float32Array;
  /** Input (rows,C). */
  x: Float32Array;
  params: MlpAdapterParams;
}

/** Arguments of {@link mlpAdapterBackward}. */
export interface MlpAdapterBackwardArgs extends MlpAdapterDims {
  /** Input gradient (rows,C), overwritten; omit when the input is frozen data. */
  dx?: Float32Array | null;
  /** Parameter gradients, accumulated (+=); named dw1, db1, dw2, db2 in errors. */
  grads: MlpAdapterParams;
  /** Output gradient (rows,Cout). */
  dout: Float32Array;
  /** The forward's input (rows,C). */
  x: Float32Array;
  /** The forward's weights (biases are not needed). */
  params: Pick<MlpAdapterParams, 'w1' | 'w2'>;
  /** What the forward saved. */
  saved: Float32Array;
  /** Clobbered work space ({@link mlpAdapterSizes}().scratch floats); allocated when omitted. */
  scratch?: Float32Array;
}

/** out = ReLU(x w1^T + b1) w2^T + b2, saving the hidden activation. */
export function mlpAdapterForward(a: MlpAdapterForwardArgs): void {
  const p = a.params;
  addon().mlpAdapterForward({
    out: a.out, saved: a.saved, x: a.x, w1: p.w1, b1: p.b1, w2: p.w2, b2: p.b2, rows: a.rows, c: a.c, r: a.r, cout: a.cout,
  });
}

/** dx (when given) and the accumulated parameter gradients from dout. */
export function mlpAdapterBackward(a: MlpAdapterBackwardArgs): void {
  const g = a.grads;
  const scratch = a.scratch ?? new Float32Array(mlpAdapterSizes(a).scratch);
  addon().mlpAdapterBackward({
    dx: a.dx ?? null, dw1: g.w1, db1: g.b1, dw2: g.w2, db2: g.b2, scratch, dout: a.dout, x: a.x,
    w1: a.params.w1, w2: a.params.w2, saved: a.saved, rows: a.rows, c: a.c, r: a.r, cout: a.cout,
  });
}
