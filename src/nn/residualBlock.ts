/**
 * One residual attention block of open_clip's transformer, frozen, with POSAPL's two insertions
 * (spec section 1):
 *   x1 = x + out_proj(attention(in_proj(LN1(x))))  (+ PosSide(p) on the text tower, RSICD)
 *   m  = c_proj(GELU(c_fc(LN2(x1))));  m += SA(m)
 *   y  = x1 + m
 * Tokens are laid out (N, L, C): rows = N*L.
 */
import { attentionBackward, attentionForward } from '../ops/attention';
import { activationBackward } from '../ops/gemm';
import { add, axpy } from '../ops/elementwise';
import { layerNormBackward, layerNormForward } from '../ops/layernorm';
import { Parameters } from '../posapl/parameters';
import { Linear, Precision } from './linear';

/** An adapter that maps token rows (N,L,width) to (N,L,width) with saved state (SA-adapter, POS side). */
export interface TokenAdapter {
  /** Floats of state one forward keeps for the backward at n sequences. */
  savedSize(n: number): number;
  /** out (N,L,C) = adapter(x); `saved` receives the backward's state. */
  forward(out: Float32Array, saved: Float32Array, x: Float32Array, n: number): void;
  /** dx (N,L,C) (+)= input gradient (when dx given); parameter gradients accumulate. */
  backward(dx: Float32Array | null, dout: Float32Array, x: Float32Array, saved: Float32Array, n: number, accumulateDx: boolean): void;
}

/** What one block keeps between forward and backward (or reuses as scratch in inference). */
export class BlockActivations {
  readonly h1: Float32Array; // (R,C) LN1 output
  readonly mean1: Float32Array; // (R)
  readonly rstd1: Float32Array; // (R)
  readonly qkv: Float32Array; // (R,3C)
  readonly probs: Float32Array | null; // (N,H,L,L), training only
  readonly att: Float32Array; // (R,C)
  readonly x1: Float32Array; // (R,C) after the attention residual (and the POS side)
  readonly posSaved: Float32Array | null;
  readonly posOut: Float32Array | null; // (R,C)
  readonly h2: Float32Array; // (R,C) LN2 output
  readonly mean2: Float32Array;
  readonly rstd2: Float32Array;
  readonly pre: Float32Array; // (R,4C) c_fc output before GELU
  readonly u: Float32Array | null; // (R,4C) after GELU; in bf16 c_proj applies the GELU as it reads pre
  readonly m: Float32Array; // (R,C) MLP output, the SA-adapter's input
  readonly saSaved: Float32Array | null;
  readonly saOut: Float32Array | null; // (R,C)

  constructor(block: ResidualBlock, readonly n: number, training: boolean) {
    const R = n * block.tokens;
    const C = block.width;
    this.h1 = new Float32Array(R * C);
    this.mean1 = new Float32Array(R);
    this.rstd1 = new Float32Array(R);
    this.qkv = new Float32Array(R * 3 * C);
    this.probs = training ? new Float32Array(n * block.heads * block.tokens * block.tokens) : null;
    this.att = new Float32Array(R * C);
    this.x1 = new Float32Array(R * C);
    this.posSaved = block.posSide ? new Float32Array(block.posSide.savedSize(n)) : null;
    this.posOut = block.posSide ? new Float32Array(R * C) : null;
    this.h2 = new Float32Array(R * C);
    this.mean2 = new Float32Array(R);
    this.rstd2 = new Float32Array(R);
    this.pre = new Float32Array(R * 4 * C);
    this.u = block.fusedMlp ? null : new Float32Array(R * 4 * C);
    this.m = new Float32Array(R * C);
    this.saSaved = block.sa ? new Float32Array(block.sa.savedSize(n)) : null;
    this.saOut = block.sa ? new Float32Array(R * C) : null;
  }
}

/** Scratch for one block's backward, shared by all blocks of a tower. */
export class BlockGradScratch {
  readonly dm: Float32Array; // (R,C)
  readonly du: Float32Array; // (R,4C)
  readonly dpre: Float32Array; // (R,4C)
  readonly dh: Float32Array; // (R,C)
  readonly datt: Float32Array; // (R,C)
  readonly dqkv: Float32Array; // (R,3C)

  constructor(block: ResidualBlock, readonly n: number) {
    const R = n * block.tokens;
    const C = block.width;
    this.dm = new Float32Array(R * C);
    this.du = new Float32Array(R * 4 * C);
    this.dpre = new Float32Array(R * 4 * C);
    this.dh = new Float32Array(R * C);
    this.datt = new Float32Array(R * C);
    this.dqkv = new Float32Array(R * 3 * C);
  }
}

export class ResidualBlock {
  private readonly ln1w: Float32Array;
  private readonly ln1b: Float32Array;
  private readonly ln2w: Float32Array;
  private readonly ln2b: Float32Array;
  private readonly inProj: Linear;
  private readonly outProj: Linear;
  private readonly fc: Linear;
  private readonly proj: Linear;

  constructor(
    params: Parameters,
    prefix: string,
    readonly width: number,
    readonly heads: number,
    readonly tokens: number,
    readonly causal: boolean,
    readonly sa: TokenAdapter | null,
    readonly posSide: TokenAdapter | null,
  ) {
    this.ln1w = params.data(`${prefix}.ln_1.weight`);
    this.ln1b = params.data(`${prefix}.ln_1.bias`);
    this.ln2w = params.data(`${prefix}.ln_2.weight`);
    this.ln2b = params.data(`${prefix}.ln_2.bias`);
    this.inProj = new Linear(params.get(`${prefix}.attn.in_proj_weight`), params.get(`${prefix}.attn.in_proj_bias`));
    this.outProj = new Linear(params.get(`${prefix}.attn.out_proj.weight`), params.get(`${prefix}.attn.out_proj.bias`));
    this.fc = new Linear(params.get(`${prefix}.mlp.c_fc.weight`), params.get(`${prefix}.mlp.c_fc.bias`));
    this.proj = new Linear(params.get(`${prefix}.mlp.c_proj.weight`), params.get(`${prefix}.mlp.c_proj.bias`));
  }

  /** Whether the MLP's GELU is applied as c_proj reads its input (bf16), so its output is never stored. */
  get fusedMlp(): boolean {
    return this.fc.bf16 && this.proj.bf16;
  }

  /** Switches the frozen Linears between fp32 and packed bf16 products. */
  setPrecision(precision: Precision): void {
    for (const linear of [this.inProj, this.outProj, this.fc, this.proj]) linear.setPrecision(precision);
  }

  /** y (N,L,C) = block(x); `p` is the POS stream (N,L,C) for the per-layer POS adapter. */
  forward(y: Float32Array, x: Float32Array, n: number, a: BlockActivations, p: Float32Array | null): void {
    const R = n * this.tokens;
    const C = this.width;
    const training = a.probs !== null;
    layerNormForward({ out: a.h1, x, weight: this.ln1w, bias: this.ln1b, n: R, c: C, mean: a.mean1, rstd: a.rstd1 });
    this.inProj.forward(a.qkv, a.h1, R);
    attentionForward({ out: a.att, qkv: a.qkv, b: n, l: this.tokens, h: this.heads, d: C / this.heads, causal: this.causal, probs: a.probs });
    if (this.outProj.bf16) {
      this.outProj.forward(a.x1, a.att, R, { residual: x });
    } else {
      a.x1.set(x);
      this.outProj.forward(a.x1, a.att, R, { accumulate: true });
    }
    if (this.posSide && p && a.posSaved && a.posOut) {
      this.posSide.forward(a.posOut, a.posSaved, p, n);
      axpy(a.x1, a.posOut, 1, R * C);
    }
    layerNormForward({ out: a.h2, x: a.x1, weight: this.ln2w, bias: this.ln2b, n: R, c: C, mean: a.mean2, rstd: a.rstd2 });
    if (a.u) {
      this.fc.forward(a.u, a.h2, R, { activation: 'gelu', pre: training ? a.pre : undefined });
      this.proj.forward(a.m, a.u, R);
    } else {
      this.fc.forward(a.pre, a.h2, R);
      this.proj.forward(a.m, a.pre, R, { inputActivation: 'gelu' });
    }
    add(y, a.x1, a.m, R * C);
    if (this.sa && a.saSaved && a.saOut) {
      this.sa.forward(a.saOut, a.saSaved, a.m, n);
      axpy(y, a.saOut, 1, R * C);
    }
  }

  /**
   * Backward of {@link forward} from dy (N,L,C). dx receives the input gradient when given
   * (null skips that work, e.g. below the first trainable layer); dp (N,L,C) accumulates the POS
   * stream's gradient. Adapter parameter gradients accumulate; frozen weights get none.
   */
  backward(dx: Float32Array | null, dy: Float32Array, x: Float32Array, p: Float32Array | null, dp: Float32Array | null, n: number, a: BlockActivations, s: BlockGradScratch): void {
    const R = n * this.tokens;
    const C = this.width;
    // Without an input gradient or a POS side adapter to feed (vision block 0), only the
    // SA-adapter's parameter gradients are wanted: the MLP's backward would have no reader.
    const below = dx !== null || (this.posSide !== null && p !== null && dp !== null);
    if (!below) {
      if (this.sa && a.saSaved) this.sa.backward(null, dy, a.m, a.saSaved, n, true);
      return;
    }
    // y = x1 + m + SA(m): dm = dy + SA'(dy)
    s.dm.set(dy);
    if (this.sa && a.saSaved) this.sa.backward(s.dm, dy, a.m, a.saSaved, n, true);
    // m = c_proj(GELU(pre)), pre = c_fc(h2)
    this.proj.backwardInput(s.du, s.dm, R);
    activationBackward(s.dpre, s.du, a.pre, R * 4 * C, 'gelu');
    this.fc.backwardInput(s.dh, s.dpre, R);
    // dx1 = dy + LN2'(dh); kept in dm's place to spare a buffer
    const dx1 = s.dm;
    layerNormBackward({ dx: dx1, dout: s.dh, x: a.x1, weight: this.ln2w, mean: a.mean2, rstd: a.rstd2, n: R, c: C });
    axpy(dx1, dy, 1, R * C);
    if (this.posSide && p && dp && a.posSaved) this.posSide.backward(dp, dx1, p, a.posSaved, n, true);
    if (!dx) {
      // Nothing below needs a gradient (x1 = x + attention(x) holds no trainable tensor).
      return;
    }
    this.outProj.backwardInput(s.datt, dx1, R);
    attentionBackward({ dqkv: s.dqkv, dout: s.datt, qkv: a.qkv, probs: a.probs as Float32Array, b: n, l: this.tokens, h: this.heads, d: C / this.heads, causal: this.causal });
    this.inProj.backwardInput(s.dh, s.dqkv, R);
    layerNormBackward({ dx, dout: s.dh, x, weight: this.ln1w, mean: a.mean1, rstd: a.rstd1, n: R, c: C });
    axpy(dx, dx1, 1, R * C);
  }
}
