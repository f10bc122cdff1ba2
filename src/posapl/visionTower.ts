/**
 * The vision tower (spec sections 1 and 4): ViT stem, frozen blocks with SA-adapters, ln_post on
 * the class token, + Side Fusion over the taps, @ proj. Output: unnormalised (N, embed_dim).
 */
import { Arena, Carver, carveArena } from '../backend/arena';
import { Backend } from '../backend/backend';
import { Tensor } from '../backend/tensor';
import { ModelConfig, sideFusionTaps } from '../clip/config';
import { BackwardBuffers } from '../nn/backwardBuffers';
import { BlockActivations, ResidualBlock } from '../nn/residualBlock';
import { TokenBuffers } from '../nn/tokenBuffers';
import { SaAdapter } from './adapters';
import { openClipBlockWeights } from './blockWeights';
import { Parameters } from './parameters';
import { SideFusion } from './sideFusion';

/**
 * Everything a forward (and, in training, its backward) works in, carved from one allocation:
 * what the backward needs in training, scratch in inference.
 */
export class VisionActivations {
  readonly tokens: TokenBuffers;
  readonly blocks: BlockActivations[];
  readonly clsIndex: Tensor; // (N) int32 zeros: the class token's position
  readonly cls: Tensor; // (N,C) class token of x_L
  readonly lnMean: Tensor; // (N)
  readonly lnRstd: Tensor; // (N)
  readonly pooled: Tensor; // (N,C) ln_post(cls) + Side Fusion
  readonly s4: Tensor; // (N,C) Side Fusion output
  readonly sideSaved: Tensor | null;
  /** (N,E) where a re-run forward (gradient caching) writes the embeddings it does not need. */
  readonly embScratch: Tensor;
  /** Training only: the backward's buffers. */
  readonly grads: (BackwardBuffers & { dpooled: Tensor; dcls: Tensor; side: Tensor | null }) | null;

  /** Made by {@link VisionActivations.create}, which runs this twice: to measure, then to carve. */
  private constructor(carve: Carver, tower: VisionTower, readonly n: number, readonly training: boolean) {
    const C = tower.width;
    this.tokens = new TokenBuffers(carve, tower.blocks.length, tower.taps, n * tower.tokens * C, training);
    // Inference runs every block through one set of scratch buffers.
    this.blocks = (training ? tower.blocks : tower.blocks.slice(0, 1)).map((b) => new BlockActivations(carve, b, n, training));
    this.clsIndex = carve.i32(n);
    this.cls = carve.f32(n, C);
    this.lnMean = carve.f32(n);
    this.lnRstd = carve.f32(n);
    this.pooled = carve.f32(n, C);
    this.s4 = carve.f32(n, C);
    this.sideSaved = tower.side ? carve.f32(tower.side.savedSize(n, tower.tokens)) : null;
    this.embScratch = carve.f32(n, tower.embed);
    const buffers = training ? new BackwardBuffers(carve, tower.blocks[0], n, tower.side ? tower.taps.length : 0, n * tower.tokens * C, false) : null;
    this.grads = buffers && Object.assign(buffers, {
      dpooled: carve.f32(n, C),
      dcls: carve.f32(n, C),
      side: tower.side ? carve.f32(tower.side.scratchSize(n, tower.tokens)) : null,
    });
  }

  /** The activations of `tower` at n images in one backend allocation. */
  static create(backend: Backend, tower: VisionTower, n: number, training: boolean): Arena<VisionActivations> {
    return carveArena(backend, (carve) => new VisionActivations(carve, tower, n, training));
  }

  block(l: number): BlockActivations {
    return this.training ? this.blocks[l] : this.blocks[0];
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
  readonly embed: number;

  constructor(private readonly backend: Backend, private readonly params: Parameters, private readonly config: ModelConfig) {
    const v = config.vision_cfg;
    const f = config.posapl;
    this.width = v.width;
    this.embed = config.embed_dim;
    const grid = v.image_size / v.patch_size;
    this.tokens = 1 + grid * grid;
    this.blocks = [];
    for (let l = 0; l < v.layers; l++) {
      const sa = f.sa_image ? new SaAdapter(backend, params, `adapter_img.${l}`, this.tokens, f.sa_heads) : null;
      const weights = openClipBlockWeights(params, `visual.transformer.resblocks.${l}`);
      this.blocks.push(new ResidualBlock(backend, weights, v.width, v.width / v.head_width, this.tokens, false, sa, null));
    }
    this.taps = f.side_fusion_image ? sideFusionTaps(v.layers) : [];
    this.side = this.taps.length ? new SideFusion(backend, params, 'visual.adapter', true, f.side_fusion === 'chained') : null;
  }

  /** emb (N,E) = the tower on normalised pixels (N,3,S,S). */
  forward(emb: Tensor, pixels: Tensor, n: number, a: VisionActivations): void {
    const be = this.backend;
    const v = this.config.vision_cfg;
    const p = this.params;
    const T = this.tokens;
    const C = this.width;
    const stem = a.tokens.stemScratch();
    be.patchEmbed({
      out: stem, pixels, weight: p.value('visual.conv1.weight'), classEmbedding: p.value('visual.class_embedding'),
      positional: p.value('visual.positional_embedding'), n, imageSize: v.image_size, patchSize: v.patch_size, width: C,
    });
    be.layerNormForward({ out: a.tokens.input(), x: stem, weight: p.value('visual.ln_pre.weight'), bias: p.value('visual.ln_pre.bias'), n: n * T, c: C });
    for (let l = 0; l < this.blocks.length; l++) {
      this.blocks[l].forward(a.tokens.output(l), a.tokens.inputOf(l), n, a.block(l), null);
    }
    be.gatherRows(a.cls, a.tokens.output(this.blocks.length - 1), a.clsIndex, n, T, C);
    be.layerNormForward({ out: a.pooled, x: a.cls, weight: p.value('visual.ln_post.weight'), bias: p.value('visual.ln_post.bias'), n, c: C, mean: a.lnMean, rstd: a.lnRstd });
    if (this.side && a.sideSaved) {
      this.side.forward(a.s4, a.sideSaved, this.taps.map((l) => a.tokens.output(l)), n, T);
      be.axpy(a.pooled, a.s4, 1, n * C);
    }
    be.gemm({ c: emb, a: a.pooled, b: p.value('visual.proj'), m: n, n: this.embed, k: C });
  }

  /** Backward of a training {@link forward} from demb (N,E); adapter gradients accumulate. */
  backward(demb: Tensor, n: number, a: VisionActivations): void {
    const be = this.backend;
    const p = this.params;
    const T = this.tokens;
    const C = this.width;
    const RC = n * T * C;
    const g = a.grads;
    if (!g) throw new Error('VisionTower.backward needs training activations');
    be.gemm({ c: g.dpooled, a: demb, b: p.value('visual.proj'), m: n, n: C, k: this.embed, transB: true });
    const tapGrads = new Map<number, Tensor>();
    if (this.side && a.sideSaved && g.side) {
      this.side.backward(g.dTaps, g.dpooled, this.taps.map((l) => a.tokens.output(l)), a.sideSaved, n, T, g.side);
      this.taps.forEach((l, k) => tapGrads.set(l, g.dTaps[k]));
    }
    be.layerNormBackward({ dx: g.dcls, dout: g.dpooled, x: a.cls, weight: p.value('visual.ln_post.weight'), mean: a.lnMean, rstd: a.lnRstd, n, c: C });
    let { dy, dx } = g;
    be.scatterRows(dy, g.dcls, a.clsIndex, n, T, C);
    for (let l = this.blocks.length - 1; l >= 0; l--) {
      const tap = tapGrads.get(l);
      if (tap) be.axpy(dy, tap, 1, RC);
      // Nothing below block 0 trains, so its input gradient is never needed.
      this.blocks[l].backward(l === 0 ? null : dx, dy, a.tokens.inputOf(l), null, null, n, a.block(l), g.scratch);
      [dy, dx] = [dx, dy];
    }
  }
}
