/**
 * One residual attention block of open_clip's transformer, frozen, with POSAPL's two insertions
 * (spec section 1):
 *   x1 = x + out_proj(attention(in_proj(LN1(x))))  (+ PosSide(p) on the text tower, RSICD)
 *   m  = c_proj(GELU(c_fc(LN2(x1))));  m += SA(m)
 *   y  = x1 + m
 * Tokens are laid out (N, L, C): rows = N*L.
 */
import { Carver } from '../backend/arena';
import { Backend } from '../backend/backend';
import { Tensor } from '../backend/tensor';
import { Linear, Precision } from './linear';
import { LinearWeights, Parameter } from './parameter';

/** A block's frozen weights, in open_clip's roles. */
export interface BlockWeights {
  ln1: { weight: Parameter; bias: Parameter };
  ln2: { weight: Parameter; bias: Parameter };
  inProj: LinearWeights;
  outProj: LinearWeights;
  fc: LinearWeights;
  proj: LinearWeights;
}

/** An adapter that maps token rows (N,L,width) to (N,L,width) with saved state (SA-adapter, POS side). */
export interface TokenAdapter {
  /** Floats of state one forward keeps for the backward at n sequences. */
  savedSize(n: number): number;
  /** Floats of work space one backward clobbers at n sequences. */
  scratchSize(n: number): number;
  /** out (N,L,C) = adapter(x); `saved` receives the backward's state. */
  forward(out: Tensor, saved: Tensor, x: Tensor, n: number): void;
  /**
   * dx (N,L,C) = input gradient when given (null skips it); parameter gradients accumulate.
   * `scratch` holds at least scratchSize(n) floats.
   */
  backward(dx: Tensor | null, dout: Tensor, x: Tensor, saved: Tensor, n: number, scratch: Tensor): void;
}

/** What one block keeps between forward and backward (or reuses as scratch in inference). */
export class BlockActivations {
  readonly h1: Tensor; // (R,C) LN1 output
  readonly mean1: Tensor; // (R)
  readonly rstd1: Tensor; // (R)
  readonly qkv: Tensor; // (R,3C)
  readonly probs: Tensor | null; // (N,H,L,L), training only
  readonly att: Tensor; // (R,C)
  readonly x1: Tensor; // (R,C) after the attention residual (and the POS side)
  readonly posSaved: Tensor | null;
  readonly posOut: Tensor | null; // (R,C)
  readonly h2: Tensor; // (R,C) LN2 output
  readonly mean2: Tensor;
  readonly rstd2: Tensor;
  readonly pre: Tensor; // (R,4C) c_fc output before GELU
  readonly u: Tensor | null; // (R,4C) after GELU; in bf16 c_proj applies the GELU as it reads pre
  readonly m: Tensor; // (R,C) MLP output, the SA-adapter's input
  readonly saSaved: Tensor | null;
  readonly saOut: Tensor | null; // (R,C)

  constructor(carve: Carver, block: ResidualBlock, readonly n: number, training: boolean) {
    const R = n * block.tokens;
    const C = block.width;
    this.h1 = carve.f32(R, C);
    this.mean1 = carve.f32(R);
    this.rstd1 = carve.f32(R);
    this.qkv = carve.f32(R, 3 * C);
    this.probs = training ? carve.f32(n, block.heads, block.tokens, block.tokens) : null;
    this.att = carve.f32(R, C);
    this.x1 = carve.f32(R, C);
    this.posSaved = block.posSide ? carve.f32(block.posSide.savedSize(n)) : null;
    this.posOut = block.posSide ? carve.f32(R, C) : null;
    this.h2 = carve.f32(R, C);
    this.mean2 = carve.f32(R);
    this.rstd2 = carve.f32(R);
    this.pre = carve.f32(R, 4 * C);
    this.u = block.fusedMlp ? null : carve.f32(R, 4 * C);
    this.m = carve.f32(R, C);
    this.saSaved = block.sa ? carve.f32(block.sa.savedSize(n)) : null;
    this.saOut = block.sa ? carve.f32(R, C) : null;
  }
}

/** Scratch for one block's backward, shared by all blocks of a tower. */
export class BlockGradScratch {
  readonly dm: Tensor; // (R,C)
  readonly du: Tensor; // (R,4C)
  readonly dpre: Tensor; // (R,4C)
  readonly dh: Tensor; // (R,C)
  readonly datt: Tensor; // (R,C)
  readonly dqkv: Tensor; // (R,3C)
  readonly dAdapter: Tensor; // (R,C) an adapter's input gradient before it is added in
  readonly adapterScratch: Tensor; // the adapters' backward work space

  constructor(carve: Carver, block: ResidualBlock, readonly n: number) {
    const R = n * block.tokens;
    const C = block.width;
    this.dm = carve.f32(R, C);
    this.du = carve.f32(R, 4 * C);
    this.dpre = carve.f32(R, 4 * C);
    this.dh = carve.f32(R, C);
    this.datt = carve.f32(R, C);
    this.dqkv = carve.f32(R, 3 * C);
    this.dAdapter = carve.f32(R, C);
    this.adapterScratch = carve.f32(Math.max(block.sa?.scratchSize(n) ?? 0, block.posSide?.scratchSize(n) ?? 0));
  }
}

export class ResidualBlock {
  private readonly inProj: Linear;
  private readonly outProj: Linear;
  private readonly fc: Linear;
  private readonly proj: Linear;

  constructor(
    private readonly backend: Backend,
    private readonly w: BlockWeights,
    readonly width: number,
    readonly heads: number,
    readonly tokens: number,
    readonly causal: boolean,
    readonly sa: TokenAdapter | null,
    readonly posSide: TokenAdapter | null,
  ) {
    this.inProj = new Linear(backend, w.inProj);
    this.outProj = new Linear(backend, w.outProj);
    this.fc = new Linear(backend, w.fc);
    this.proj = new Linear(backend, w.proj);
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
  forward(y: Tensor, x: Tensor, n: number, a: BlockActivations, p: Tensor | null): void {
    const be = this.backend;
    const w = this.w;
    const R = n * this.tokens;
    const C = this.width;
    const training = a.probs !== null;
    be.layerNormForward({ out: a.h1, x, weight: w.ln1.weight.value, bias: w.ln1.bias.value, n: R, c: C, mean: a.mean1, rstd: a.rstd1 });
    this.inProj.forward(a.qkv, a.h1, R);
    be.attentionForward({ out: a.att, qkv: a.qkv, b: n, l: this.tokens, h: this.heads, d: C / this.heads, causal: this.causal, probs: a.probs });
    if (this.outProj.bf16) {
      this.outProj.forward(a.x1, a.att, R, { residual: x });
    } else {
      be.copy(a.x1, x);
      this.outProj.forward(a.x1, a.att, R, { accumulate: true });
    }
    if (this.posSide && p && a.posSaved && a.posOut) {
      this.posSide.forward(a.posOut, a.posSaved, p, n);
      be.axpy(a.x1, a.posOut, 1, R * C);
    }
    be.layerNormForward({ out: a.h2, x: a.x1, weight: w.ln2.weight.value, bias: w.ln2.bias.value, n: R, c: C, mean: a.mean2, rstd: a.rstd2 });
    if (a.u) {
      this.fc.forward(a.u, a.h2, R, { activation: 'gelu', pre: training ? a.pre : undefined });
      this.proj.forward(a.m, a.u, R);
    } else {
      this.fc.forward(a.pre, a.h2, R);
      this.proj.forward(a.m, a.pre, R, { inputActivation: 'gelu' });
    }
    be.add(y, a.x1, a.m, R * C);
    if (this.sa && a.saSaved && a.saOut) {
      this.sa.forward(a.saOut, a.saSaved, a.m, n);
      be.axpy(y, a.saOut, 1, R * C);
    }
  }

  /**
   * Backward of {@link forward} from dy (N,L,C). dx receives the input gradient when given
   * (null skips that work, e.g. below the first trainable layer); dp (N,L,C) accumulates the POS
   * stream's gradient. Adapter parameter gradients accumulate; frozen weights get none.
   */
  backward(dx: Tensor | null, dy: Tensor, x: Tensor, p: Tensor | null, dp: Tensor | null, n: number, a: BlockActivations, s: BlockGradScratch): void {
    const be = this.backend;
    const w = this.w;
    const R = n * this.tokens;
    const C = this.width;
    // Without an input gradient or a POS side adapter to feed (vision block 0), only the
    // SA-adapter's parameter gradients are wanted: the MLP's backward would have no reader.
    const below = dx !== null || (this.posSide !== null && p !== null && dp !== null);
    if (!below) {
      if (this.sa && a.saSaved) this.sa.backward(null, dy, a.m, a.saSaved, n, s.adapterScratch);
      return;
    }
    // y = x1 + m + SA(m): dm = dy + SA'(dy)
    be.copy(s.dm, dy);
    if (this.sa && a.saSaved) {
      this.sa.backward(s.dAdapter, dy, a.m, a.saSaved, n, s.adapterScratch);
      be.axpy(s.dm, s.dAdapter, 1, R * C);
    }
    // m = c_proj(GELU(pre)), pre = c_fc(h2)
    this.proj.backwardInput(s.du, s.dm, R);
    be.activationBackward(s.dpre, s.du, a.pre, R * 4 * C, 'gelu');
    this.fc.backwardInput(s.dh, s.dpre, R);
    // dx1 = dy + LN2'(dh); kept in dm's place to spare a buffer
    const dx1 = s.dm;
    be.layerNormBackward({ dx: dx1, dout: s.dh, x: a.x1, weight: w.ln2.weight.value, mean: a.mean2, rstd: a.rstd2, n: R, c: C });
    be.axpy(dx1, dy, 1, R * C);
    if (this.posSide && p && dp && a.posSaved) {
      this.posSide.backward(s.dAdapter, dx1, p, a.posSaved, n, s.adapterScratch);
      be.axpy(dp, s.dAdapter, 1, R * C);
    }
    if (!dx) {
      // Nothing below needs a gradient (x1 = x + attention(x) holds no trainable tensor).
      return;
    }
    this.outProj.backwardInput(s.datt, dx1, R);
    be.attentionBackward({ dqkv: s.dqkv, dout: s.datt, qkv: a.qkv, probs: a.probs as Tensor, b: n, l: this.tokens, h: this.heads, d: C / this.heads, causal: this.causal });
    this.inProj.backwardInput(s.dh, s.dqkv, R);
    be.layerNormBackward({ dx, dout: s.dh, x, weight: w.ln1.weight.value, mean: a.mean1, rstd: a.rstd1, n: R, c: C });
    be.axpy(dx, dx1, 1, R * C);
  }
}
