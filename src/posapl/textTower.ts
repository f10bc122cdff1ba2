/**
 * The text tower (spec sections 1, 3 and 4): token + positional embedding, + the POS connector's
 * output p, causal frozen blocks with SA-adapters (and per-layer POS adapters on p, RSICD),
 * ln_final, + Side Fusion per token, the EOT row (argmax of the ids) @ text_projection.
 * Only EOT rows leave the blocks: ln_final and Side Fusion mix no tokens, so they run on those rows.
 */
import { Arena, Carver, carveArena } from '../backend/arena';
import { Backend } from '../backend/backend';
import { Tensor } from '../backend/tensor';
import { ModelConfig, sideFusionTaps } from '../clip/config';
import { BackwardBuffers } from '../nn/backwardBuffers';
import { BlockActivations, ResidualBlock } from '../nn/residualBlock';
import { TokenBuffers } from '../nn/tokenBuffers';
import { MlpAdapter, SaAdapter } from './adapters';
import { openClipBlockWeights } from './blockWeights';
import { Parameters } from './parameters';
import { SideFusion } from './sideFusion';

/**
 * Everything a forward (and, in training, its backward) works in, carved from one allocation:
 * what the backward needs in training, scratch in inference.
 */
export class TextActivations {
  readonly tokens: TokenBuffers;
  readonly blocks: BlockActivations[];
  readonly eot: Tensor; // (N) int32 position of each EOT token
  readonly p: Tensor | null; // (N,L,C) the POS stream
  readonly p0: Tensor | null; // (N,L,C) its embedding, the connector's input
  readonly connectorSaved: Tensor | null;
  readonly eotRows: Tensor; // (N,C) x_L at the EOT tokens
  readonly tapRows: Tensor[]; // 4 x (N,C) the taps at the EOT tokens
  readonly lnMean: Tensor;
  readonly lnRstd: Tensor;
  readonly pooled: Tensor; // (N,C) ln_final + Side Fusion
  readonly s4: Tensor;
  readonly sideSaved: Tensor | null;
  /** (N,E) where a re-run forward (gradient caching) writes the embeddings it does not need. */
  readonly embScratch: Tensor;
  /** Training only: the backward's buffers. */
  readonly grads: (BackwardBuffers & { dpooled: Tensor; deot: Tensor; side: Tensor | null; connector: Tensor | null }) | null;
  /** Whether this forward ran the POS stream (POS on and pos ids given). */
  usedPos = false;

  /** Made by {@link TextActivations.create}, which runs this twice: to measure, then to carve. */
  private constructor(carve: Carver, tower: TextTower, readonly n: number, readonly training: boolean) {
    const C = tower.width;
    const size = n * tower.tokens * C;
    this.tokens = new TokenBuffers(carve, tower.blocks.length, tower.taps, size, training);
    this.blocks = (training ? tower.blocks : tower.blocks.slice(0, 1)).map((b) => new BlockActivations(carve, b, n, training));
    this.eot = carve.i32(n);
    this.p = tower.connector ? carve.f32(size) : null;
    this.p0 = tower.connector ? carve.f32(size) : null;
    this.connectorSaved = tower.connector ? carve.f32(tower.connector.savedSize(n)) : null;
    this.eotRows = carve.f32(n, C);
    this.tapRows = tower.taps.map(() => carve.f32(n, C));
    this.lnMean = carve.f32(n);
    this.lnRstd = carve.f32(n);
    this.pooled = carve.f32(n, C);
    this.s4 = carve.f32(n, C);
    this.sideSaved = tower.side ? carve.f32(tower.side.savedSize(n, 1)) : null;
    this.embScratch = carve.f32(n, tower.embed);
    const buffers = training ? new BackwardBuffers(carve, tower.blocks[0], n, tower.side ? tower.taps.length : 0, n * C, tower.connector !== null) : null;
    this.grads = buffers && Object.assign(buffers, {
      dpooled: carve.f32(n, C),
      deot: carve.f32(n, C),
      side: tower.side ? carve.f32(tower.side.scratchSize(n, 1)) : null,
      connector: tower.connector ? carve.f32(tower.connector.scratchSize(n)) : null,
    });
  }

  /** The activations of `tower` at n captions in one backend allocation. */
  static create(backend: Backend, tower: TextTower, n: number, training: boolean): Arena<TextActivations> {
    return carveArena(backend, (carve) => new TextActivations(carve, tower, n, training));
  }

  block(l: number): BlockActivations {
    return this.training ? this.blocks[l] : this.blocks[0];
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
  readonly embed: number;

  constructor(private readonly backend: Backend, private readonly params: Parameters, private readonly config: ModelConfig) {
    const t = config.text_cfg;
    const f = config.posapl;
    this.width = t.width;
    this.tokens = t.context_length;
    this.embed = config.embed_dim;
    this.blocks = [];
    for (let l = 0; l < t.layers; l++) {
      const sa = f.sa_text ? new SaAdapter(backend, params, `adapter_text.${l}`, this.tokens, f.sa_heads) : null;
      const posSide = f.pos && f.pos_side ? new MlpAdapter(backend, params, `adapter_pos.${l}`, this.tokens) : null;
      const weights = openClipBlockWeights(params, `text.transformer.resblocks.${l}`);
      this.blocks.push(new ResidualBlock(backend, weights, t.width, t.heads, this.tokens, true, sa, posSide));
    }
    this.connector = f.pos ? new MlpAdapter(backend, params, 'text.adapter_mlp', this.tokens) : null;
    this.taps = f.side_fusion_text ? sideFusionTaps(t.layers) : [];
    this.side = this.taps.length ? new SideFusion(backend, params, 'text.adapter', false, f.side_fusion === 'chained') : null;
  }

  /** emb (N,E) = the tower on ids (N,L), with the POS stream from posIds (N,L) when given. */
  forward(emb: Tensor, ids: Tensor, posIds: Tensor | null, n: number, a: TextActivations): void {
    const be = this.backend;
    const t = this.config.text_cfg;
    const p = this.params;
    const L = this.tokens;
    const C = this.width;
    const table = p.value('text.token_embedding.weight');
    const positional = p.value('text.positional_embedding');
    const x0 = a.tokens.input();
    be.embeddingForward({ out: x0, ids, table, n, l: L, c: C, vocab: t.vocab_size, positional });
    a.usedPos = this.connector !== null && posIds !== null;
    if (this.connector && posIds && a.p && a.p0 && a.connectorSaved) {
      be.embeddingForward({ out: a.p0, ids: posIds, table, n, l: L, c: C, vocab: t.vocab_size, positional });
      this.connector.forward(a.p, a.connectorSaved, a.p0, n);
      be.axpy(x0, a.p, 1, n * L * C);
    }
    for (let l = 0; l < this.blocks.length; l++) {
      this.blocks[l].forward(a.tokens.output(l), a.tokens.inputOf(l), n, a.block(l), a.usedPos ? a.p : null);
    }
    // The EOT token is the argmax of the ids (the first on ties, as torch).
    be.argmaxRows(a.eot, ids, n, L);
    be.gatherRows(a.eotRows, a.tokens.output(this.blocks.length - 1), a.eot, n, L, C);
    be.layerNormForward({ out: a.pooled, x: a.eotRows, weight: p.value('text.ln_final.weight'), bias: p.value('text.ln_final.bias'), n, c: C, mean: a.lnMean, rstd: a.lnRstd });
    if (this.side && a.sideSaved) {
      this.taps.forEach((l, k) => be.gatherRows(a.tapRows[k], a.tokens.output(l), a.eot, n, L, C));
      this.side.forward(a.s4, a.sideSaved, a.tapRows, n, 1);
      be.axpy(a.pooled, a.s4, 1, n * C);
    }
    be.gemm({ c: emb, a: a.pooled, b: p.value('text.text_projection'), m: n, n: this.embed, k: C });
  }

  /** Backward of a training {@link forward} from demb (N,E); adapter gradients accumulate. */
  backward(demb: Tensor, n: number, a: TextActivations): void {
    const be = this.backend;
    const p = this.params;
    const L = this.tokens;
    const C = this.width;
    const RC = n * L * C;
    const g = a.grads;
    if (!g) throw new Error('TextTower.backward needs training activations');
    be.gemm({ c: g.dpooled, a: demb, b: p.value('text.text_projection'), m: n, n: C, k: this.embed, transB: true });
    const tapGrads = new Map<number, Tensor>();
    if (this.side && a.sideSaved && g.side) {
      this.side.backward(g.dTaps, g.dpooled, a.tapRows, a.sideSaved, n, 1, g.side);
      this.taps.forEach((l, k) => tapGrads.set(l, g.dTaps[k]));
    }
    be.layerNormBackward({ dx: g.deot, dout: g.dpooled, x: a.eotRows, weight: p.value('text.ln_final.weight'), mean: a.lnMean, rstd: a.lnRstd, n, c: C });
    let { dy, dx } = g;
    be.scatterRows(dy, g.deot, a.eot, n, L, C);
    // The POS stream's gradient: every per-layer POS adapter's input gradient plus x_0's.
    const dp = a.usedPos ? g.dp : null;
    if (dp) be.fill(dp, 0);
    for (let l = this.blocks.length - 1; l >= 0; l--) {
      const tap = tapGrads.get(l);
      if (tap) be.scatterAddRows(dy, tap, a.eot, n, L, C);
      // Below block 0 only the POS connector trains: x_0's gradient is needed just for it.
      const wantDx = l > 0 || dp !== null;
      this.blocks[l].backward(wantDx ? dx : null, dy, a.tokens.inputOf(l), a.usedPos ? a.p : null, dp, n, a.block(l), g.scratch);
      [dy, dx] = [dx, dy];
    }
    if (this.connector && dp && a.p0 && a.connectorSaved && g.connector) {
      be.axpy(dp, dy, 1, RC); // x_0 = embedding + p: dy now holds dx_0
      this.connector.backward(null, dp, a.p0, a.connectorSaved, n, g.connector);
    }
  }
}
