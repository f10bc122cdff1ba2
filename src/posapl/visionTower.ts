/**
 * The vision tower (spec sections 1 and 4): ViT stem, frozen blocks with SA-adapters, ln_post on
 * the class token, + Side Fusion over the taps, @ proj. Output: unnormalised (N, embed_dim).
 */
import { ModelConfig, sideFusionTaps } from '../clip/config';
import { BackwardBuffers } from '../nn/backwardBuffers';
import { BlockActivations, ResidualBlock } from '../nn/residualBlock';
import { gatherRows, scatterRows } from '../nn/rows';
import { TokenBuffers } from '../nn/tokenBuffers';
import { axpy } from '../ops/elementwise';
import { gemm } from '../ops/gemm';
import { layerNormBackward, layerNormForward } from '../ops/layernorm';
import { patchEmbed } from '../ops/patchEmbed';
import { SaAdapter } from './adapters';
import { Parameters } from './parameters';
import { SideFusion } from './sideFusion';

/** What a forward keeps: everything the backward needs in training, scratch in inference. */
export class VisionActivations {
  readonly tokens: TokenBuffers;
  readonly blocks: BlockActivations[];
  readonly cls: Float32Array; // (N,C) class token of x_L
  readonly lnMean: Float32Array; // (N)
  readonly lnRstd: Float32Array; // (N)
  readonly pooled: Float32Array; // (N,C) ln_post(cls) + Side Fusion
  readonly s4: Float32Array; // (N,C) Side Fusion output
  readonly sideSaved: Float32Array | null;
  private backwardBuffers: BackwardBuffers | null = null;

  constructor(private readonly tower: VisionTower, readonly n: number, readonly training: boolean) {
    this.tokens = new TokenBuffers(tower.blocks.length, tower.taps, n * tower.tokens * tower.width, training);
    // Inference runs every block through one set of scratch buffers.
    this.blocks = (training ? tower.blocks : tower.blocks.slice(0, 1)).map((b) => new BlockActivations(b, n, training));
    this.cls = new Float32Array(n * tower.width);
    this.lnMean = new Float32Array(n);
    this.lnRstd = new Float32Array(n);
    this.pooled = new Float32Array(n * tower.width);
    this.s4 = new Float32Array(n * tower.width);
    this.sideSaved = tower.side ? new Float32Array(tower.side.savedSize(n, tower.tokens)) : null;
  }

  block(l: number): BlockActivations {
    return this.training ? this.blocks[l] : this.blocks[0];
  }

  /** The backward's buffers, made on the first backward and reused after. */
  grads(): BackwardBuffers {
    const t = this.tower;
    this.backwardBuffers ??= new BackwardBuffers(t.blocks[0], this.n, t.side ? t.taps.length : 0, this.n * t.tokens * t.width, false);
    return this.backwardBuffers;
  }
}

export class VisionTower {
  readonly width: number;
  /** Tokens per image: the class token and G*G patches. */
  readonly tokens: number;
  readonly blocks: ResidualBlock[];
  readonly side: SideFusion | null;
  /** Blocks whose outputs Side Fusion taps. */
  readonly taps: number[];
  private readonly embed: number;

  constructor(private readonly params: Parameters, private readonly config: ModelConfig) {
    const v = config.vision_cfg;
    const f = config.posapl;
    this.width = v.width;
    this.embed = config.embed_dim;
    const grid = v.image_size / v.patch_size;
    this.tokens = 1 + grid * grid;
    this.blocks = [];
    for (let l = 0; l < v.layers; l++) {
      const sa = f.sa_image ? new SaAdapter(params, `adapter_img.${l}`, this.tokens, f.sa_heads) : null;
      this.blocks.push(new ResidualBlock(params, `visual.transformer.resblocks.${l}`, v.width, v.width / v.head_width, this.tokens, false, sa, null));
    }
    this.taps = f.side_fusion_image ? sideFusionTaps(v.layers) : [];
    this.side = this.taps.length ? new SideFusion(params, 'visual.adapter', true, f.side_fusion === 'chained') : null;
  }

  /** emb (N,E) = the tower on normalised pixels (N,3,S,S). */
  forward(emb: Float32Array, pixels: Float32Array, n: number, a: VisionActivations): void {
    const v = this.config.vision_cfg;
    const p = this.params;
    const T = this.tokens;
    const C = this.width;
    const stem = a.tokens.stemScratch();
    patchEmbed({
      out: stem, pixels, weight: p.data('visual.conv1.weight'), classEmbedding: p.data('visual.class_embedding'),
      positional: p.data('visual.positional_embedding'), n, imageSize: v.image_size, patchSize: v.patch_size, width: C,
    });
    layerNormForward({ out: a.tokens.input(), x: stem, weight: p.data('visual.ln_pre.weight'), bias: p.data('visual.ln_pre.bias'), n: n * T, c: C });
    for (let l = 0; l < this.blocks.length; l++) {
      this.blocks[l].forward(a.tokens.output(l), a.tokens.inputOf(l), n, a.block(l), null);
    }
    gatherRows(a.cls, a.tokens.output(this.blocks.length - 1), new Int32Array(n), n, T, C);
    layerNormForward({ out: a.pooled, x: a.cls, weight: p.data('visual.ln_post.weight'), bias: p.data('visual.ln_post.bias'), n, c: C, mean: a.lnMean, rstd: a.lnRstd });
    if (this.side && a.sideSaved) {
      this.side.forward(a.s4, a.sideSaved, this.taps.map((l) => a.tokens.output(l)), n, T);
      axpy(a.pooled, a.s4, 1, n * C);
    }
    gemm({ c: emb, a: a.pooled, b: p.data('visual.proj'), m: n, n: this.embed, k: C });
  }

  /** Backward of a training {@link forward} from demb (N,E); adapter gradients accumulate. */
  backward(demb: Float32Array, n: number, a: VisionActivations): void {
    const p = this.params;
    const T = this.tokens;
    const C = this.width;
    const RC = n * T * C;
    const dpooled = new Float32Array(n * C);
    gemm({ c: dpooled, a: demb, b: p.data('visual.proj'), m: n, n: C, k: this.embed, transB: true });
    const g = a.grads();
    const tapGrads = new Map<number, Float32Array>();
    if (this.side && a.sideSaved) {
      this.side.backward(g.dTaps, dpooled, this.taps.map((l) => a.tokens.output(l)), a.sideSaved, n, T);
      this.taps.forEach((l, k) => tapGrads.set(l, g.dTaps[k]));
    }
    const dcls = new Float32Array(n * C);
    layerNormBackward({ dx: dcls, dout: dpooled, x: a.cls, weight: p.data('visual.ln_post.weight'), mean: a.lnMean, rstd: a.lnRstd, n, c: C });
    let { dy, dx } = g;
    dy.fill(0);
    scatterRows(dy, dcls, new Int32Array(n), n, T, C);
    for (let l = this.blocks.length - 1; l >= 0; l--) {
      const tap = tapGrads.get(l);
      if (tap) axpy(dy, tap, 1, RC);
      // Nothing below block 0 trains, so its input gradient is never needed.
      this.blocks[l].backward(l === 0 ? null : dx, dy, a.tokens.inputOf(l), null, null, n, a.block(l), g.scratch);
      [dy, dx] = [dx, dy];
    }
  }
}
