/**
 * The text tower (spec sections 1, 3 and 4): token + positional embedding, + the POS connector's
 * output p, causal frozen blocks with SA-adapters (and per-layer POS adapters on p, RSICD),
 * ln_final, + Side Fusion per token, the EOT row (argmax of the ids) @ text_projection.
 * Only EOT rows leave the blocks: ln_final and Side Fusion mix no tokens, so they run on those rows.
 */
import { ModelConfig, sideFusionTaps } from '../clip/config';
import { BackwardBuffers } from '../nn/backwardBuffers';
import { BlockActivations, ResidualBlock } from '../nn/residualBlock';
import { gatherRows, scatterAddRows, scatterRows } from '../nn/rows';
import { TokenBuffers } from '../nn/tokenBuffers';
import { axpy } from '../ops/elementwise';
import { embeddingForward } from '../ops/embedding';
import { gemm } from '../ops/gemm';
import { layerNormBackward, layerNormForward } from '../ops/layernorm';
import { MlpAdapter, SaAdapter } from './adapters';
import { Parameters } from './parameters';
import { SideFusion } from './sideFusion';

/** What a forward keeps: everything the backward needs in training, scratch in inference. */
export class TextActivations {
  readonly tokens: TokenBuffers;
  readonly blocks: BlockActivations[];
  readonly eot: Int32Array; // (N) position of each EOT token
  readonly p: Float32Array | null; // (N,L,C) the POS stream
  readonly p0: Float32Array | null; // (N,L,C) its embedding, the connector's input
  readonly connectorSaved: Float32Array | null;
  readonly eotRows: Float32Array; // (N,C) x_L at the EOT tokens
  readonly tapRows: Float32Array[]; // 4 x (N,C) the taps at the EOT tokens
  readonly lnMean: Float32Array;
  readonly lnRstd: Float32Array;
  readonly pooled: Float32Array; // (N,C) ln_final + Side Fusion
  readonly s4: Float32Array;
  readonly sideSaved: Float32Array | null;
  /** Whether this forward ran the POS stream (POS on and pos ids given). */
  usedPos = false;
  private backwardBuffers: BackwardBuffers | null = null;

  constructor(private readonly tower: TextTower, readonly n: number, readonly training: boolean) {
    const C = tower.width;
    const size = n * tower.tokens * C;
    this.tokens = new TokenBuffers(tower.blocks.length, tower.taps, size, training);
    this.blocks = (training ? tower.blocks : tower.blocks.slice(0, 1)).map((b) => new BlockActivations(b, n, training));
    this.eot = new Int32Array(n);
    this.p = tower.connector ? new Float32Array(size) : null;
    this.p0 = tower.connector ? new Float32Array(size) : null;
    this.connectorSaved = tower.connector ? new Float32Array(tower.connector.savedSize(n)) : null;
    this.eotRows = new Float32Array(n * C);
    this.tapRows = tower.taps.map(() => new Float32Array(n * C));
    this.lnMean = new Float32Array(n);
    this.lnRstd = new Float32Array(n);
    this.pooled = new Float32Array(n * C);
    this.s4 = new Float32Array(n * C);
    this.sideSaved = tower.side ? new Float32Array(tower.side.savedSize(n, 1)) : null;
  }

  block(l: number): BlockActivations {
    return this.training ? this.blocks[l] : this.blocks[0];
  }

  /** The backward's buffers, made on the first backward and reused after. */
  grads(): BackwardBuffers {
    const t = this.tower;
    this.backwardBuffers ??= new BackwardBuffers(t.blocks[0], this.n, t.side ? t.taps.length : 0, this.n * t.width, this.p !== null);
    return this.backwardBuffers;
  }
}

export class TextTower {
  readonly width: number;
  /** Context length: every position runs (the SA-adapters see padding too, spec section 2). */
  readonly tokens: number;
  readonly blocks: ResidualBlock[];
  readonly connector: MlpAdapter | null;
  readonly side: SideFusion | null;
  readonly taps: number[];
  private readonly embed: number;

  constructor(private readonly params: Parameters, private readonly config: ModelConfig) {
    const t = config.text_cfg;
    const f = config.posapl;
    this.width = t.width;
    this.tokens = t.context_length;
    this.embed = config.embed_dim;
    this.blocks = [];
    for (let l = 0; l < t.layers; l++) {
      const sa = f.sa_text ? new SaAdapter(params, `adapter_text.${l}`, this.tokens, f.sa_heads) : null;
      const posSide = f.pos && f.pos_side ? new MlpAdapter(params, `adapter_pos.${l}`, this.tokens) : null;
      this.blocks.push(new ResidualBlock(params, `text.transformer.resblocks.${l}`, t.width, t.heads, this.tokens, true, sa, posSide));
    }
    this.connector = f.pos ? new MlpAdapter(params, 'text.adapter_mlp', this.tokens) : null;
    this.taps = f.side_fusion_text ? sideFusionTaps(t.layers) : [];
    this.side = this.taps.length ? new SideFusion(params, 'text.adapter', false, f.side_fusion === 'chained') : null;
  }

  /** emb (N,E) = the tower on ids (N,L), with the POS stream from posIds (N,L) when given. */
  forward(emb: Float32Array, ids: Int32Array, posIds: Int32Array | null, n: number, a: TextActivations): void {
    const t = this.config.text_cfg;
    const p = this.params;
    const L = this.tokens;
    const C = this.width;
    const table = p.data('text.token_embedding.weight');
    const positional = p.data('text.positional_embedding');
    const x0 = a.tokens.input();
    embeddingForward({ out: x0, ids, table, n, l: L, c: C, vocab: t.vocab_size, positional });
    a.usedPos = this.connector !== null && posIds !== null;
    if (this.connector && posIds && a.p && a.p0 && a.connectorSaved) {
      embeddingForward({ out: a.p0, ids: posIds, table, n, l: L, c: C, vocab: t.vocab_size, positional });
      this.connector.forward(a.p, a.connectorSaved, a.p0, n);
      axpy(x0, a.p, 1, n * L * C);
    }
    for (let l = 0; l < this.blocks.length; l++) {
      this.blocks[l].forward(a.tokens.output(l), a.tokens.inputOf(l), n, a.block(l), a.usedPos ? a.p : null);
    }
    eotPositions(a.eot, ids, n, L);
    gatherRows(a.eotRows, a.tokens.output(this.blocks.length - 1), a.eot, n, L, C);
    layerNormForward({ out: a.pooled, x: a.eotRows, weight: p.data('text.ln_final.weight'), bias: p.data('text.ln_final.bias'), n, c: C, mean: a.lnMean, rstd: a.lnRstd });
    if (this.side && a.sideSaved) {
      this.taps.forEach((l, k) => gatherRows(a.tapRows[k], a.tokens.output(l), a.eot, n, L, C));
      this.side.forward(a.s4, a.sideSaved, a.tapRows, n, 1);
      axpy(a.pooled, a.s4, 1, n * C);
    }
    gemm({ c: emb, a: a.pooled, b: p.data('text.text_projection'), m: n, n: this.embed, k: C });
  }

  /** Backward of a training {@link forward} from demb (N,E); adapter gradients accumulate. */
  backward(demb: Float32Array, n: number, a: TextActivations): void {
    const p = this.params;
    const L = this.tokens;
    const C = this.width;
    const RC = n * L * C;
    const dpooled = new Float32Array(n * C);
    gemm({ c: dpooled, a: demb, b: p.data('text.text_projection'), m: n, n: C, k: this.embed, transB: true });
    const g = a.grads();
    const tapGrads = new Map<number, Float32Array>();
    if (this.side && a.sideSaved) {
      this.side.backward(g.dTaps, dpooled, a.tapRows, a.sideSaved, n, 1);
      this.taps.forEach((l, k) => tapGrads.set(l, g.dTaps[k]));
    }
    const deot = new Float32Array(n * C);
    layerNormBackward({ dx: deot, dout: dpooled, x: a.eotRows, weight: p.data('text.ln_final.weight'), mean: a.lnMean, rstd: a.lnRstd, n, c: C });
    let { dy, dx } = g;
    dy.fill(0);
    scatterRows(dy, deot, a.eot, n, L, C);
    // The POS stream's gradient: every per-layer POS adapter's input gradient plus x_0's.
    const dp = a.usedPos ? g.dp : null;
    dp?.fill(0);
    for (let l = this.blocks.length - 1; l >= 0; l--) {
      const tap = tapGrads.get(l);
      if (tap) scatterAddRows(dy, tap, a.eot, n, L, C);
      // Below block 0 only the POS connector trains: x_0's gradient is needed just for it.
      const wantDx = l > 0 || dp !== null;
      this.blocks[l].backward(wantDx ? dx : null, dy, a.tokens.inputOf(l), a.usedPos ? a.p : null, dp, n, a.block(l), g.scratch);
      [dy, dx] = [dx, dy];
    }
    if (this.connector && dp && a.p0 && a.connectorSaved) {
      axpy(dp, dy, 1, RC); // x_0 = embedding + p: dy now holds dx_0
      this.connector.backward(null, dp, a.p0, a.connectorSaved, n, false);
    }
  }
}

/** Position of the EOT token in each sequence: the argmax of its ids (first on ties, as torch). */
export function eotPositions(out: Int32Array, ids: Int32Array, n: number, L: number): void {
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < L; j++) if (ids[i * L + j] > ids[i * L + best]) best = j;
    out[i] = best;
  }
}
