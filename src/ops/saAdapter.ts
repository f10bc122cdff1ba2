/**
 * The SA-adapter ("AdapterSAZeroInit", spec section 2) on a block's MLP output m (N,L,C):
 * y = m wd^T + bd (C -> R); a = MHA(y) + y with nn.MultiheadAttention(R, H) and no mask, over
 * the L tokens; out = a wu^T + bu (R -> C). Weights in torch's layouts.
 */
import { addon } from '../native/addon';

/** Shapes of one SA-adapter call. */
export interface SaAdapterDims {
  /** Sequences. */
  n: number;
  /** Tokens per sequence: attention mixes them. */
  l: number;
  /** Model width (768 vision, 512 text). */
  c: number;
  /** Adapter width (128 in the paper). */
  r: number;
  /** Attention heads (8), dividing r. */
  h: number;
}

/** The adapter's parameters, or their gradients in the same layout. */
export interface SaAdapterParams {
  /** Down projection weight (R,C), `l1.weight`. */
  wd: Float32Array;
  /** Down projection bias (R). */
  bd: Float32Array;
  /** Attention in_proj_weight (3R,R), rows [q; k; v]. */
  win: Float32Array;
  /** Attention in_proj_bias (3R). */
  bin: Float32Array;
  /** Attention out_proj.weight (R,R). */
  wo: Float32Array;
  /** Attention out_proj.bias (R). */
  bo: Float32Array;
  /** Up projection weight (C,R), `l2.weight`, zero-initialised in the model. */
  wu: Float32Array;
  /** Up projection bias (C), zero-initialised in the model. */
  bu: Float32Array;
}

/**
 * Floats of the buffers an SA-adapter needs: what the forward saves (y, qkv, attention output,
 * residual sum: 6 N L R; softmax: N H L L) and the backward's scratch (5 N L R).
 */
export function saAdapterSizes(d: SaAdapterDims): { saved: number; scratch: number } {
  return { saved: 6 * d.n * d.l * d.r + d.n * d.h * d.l * d.l, scratch: 5 * d.n * d.l * d.r };
}

/** Arguments of {@link saAdapterForward}. */
export interface SaAdapterForwardArgs extends SaAdapterDims {
  /** Output (N,L,C). */
  out: Float32Array;
  /** Receives what the backward needs ({@link saAdapterSizes}().saved floats). */
  saved: Float32Array;
  /** Input (N,L,C). */
  m: Float32Array;
  params: SaAdapterParams;
}

/** Arguments of {@link saAdapterBackward}. */
export interface SaAdapterBackwardArgs extends SaAdapterDims {
  /** Input gradient (N,L,C), overwritten; omit when nothing before the adapter is trained. */
  dm?: Float32Array | null;
  /** Parameter gradients, accumulated (+=); named dwd, dbd, ... in errors. */
  grads: SaAdapterParams;
  /** Output gradient (N,L,C). */
  dout: Float32Array;
  /** The forward's input (N,L,C). */
  m: Float32Array;
  /** The forward's weights (biases are not needed). */
  params: Pick<SaAdapterParams, 'wd' | 'win' | 'wo' | 'wu'>;
  /** What the forward saved. */
  saved: Float32Array;
  /** Clobbered work space ({@link saAdapterSizes}().scratch floats); allocated when omitted. */
  scratch?: Float32Array;
}

/** out = SA(m), saving the intermediates for the backward. */
export function saAdapterForward(a: SaAdapterForwardArgs): void {
  const p = a.params;
  addon().saAdapterForward({
    out: a.out, saved: a.saved, m: a.m, wd: p.wd, bd: p.bd, win: p.win, bin: p.bin, wo: p.wo, bo: p.bo, wu: p.wu, bu: p.bu,
    n: a.n, l: a.l, c: a.c, r: a.r, h: a.h,
  });
}

/** dm (when given) and the accumulated parameter gradients from dout. */
export function saAdapterBackward(a: SaAdapterBackwardArgs): void {
  const g = a.grads;
  const p = a.params;
  const scratch = a.scratch ?? new Float32Array(saAdapterSizes(a).scratch);
  addon().saAdapterBackward({
    dm: a.dm ?? null, dwd: g.wd, dbd: g.bd, dwin: g.win, dbin: g.bin, dwo: g.wo, dbo: g.bo, dwu: g.wu, dbu: g.bu,
    scratch, dout: a.dout, m: a.m, wd: p.wd, win: p.win, wo: p.wo, wu: p.wu, saved: a.saved,
    n: a.n, l: a.l, c: a.c, r: a.r, h: a.h,
  });
}
