/**
 * Every parameter of a POSAPL model by its state-dict name (spec section 10, POSAPL layout:
 * text tower under `text.`), with shape, whether it trains, and how open_clip / the authors
 * initialise it. The single source of names and shapes for the model, checkpoints and tests.
 */
import { ModelConfig, sideFusionTaps } from '../clip/config';

/** How a tensor starts when no weights are loaded (open_clip's and torch's defaults). */
export type Init =
  | { kind: 'normal'; std: number }
  | { kind: 'uniform'; bound: number }
  | { kind: 'constant'; value: number };

export interface ParameterSpec {
  name: string;
  shape: number[];
  /** Trainable exactly when the name contains `adapter` (spec section 5). */
  trainable: boolean;
  init: Init;
  /** Second names of the same tensor (the per-block copies of the adapters, spec section 10). */
  aliases: string[];
}

const zero: Init = { kind: 'constant', value: 0 };
const one: Init = { kind: 'constant', value: 1 };
const normal = (std: number): Init => ({ kind: 'normal', std });
const uniform = (bound: number): Init => ({ kind: 'uniform', bound });

class SpecList {
  readonly specs: ParameterSpec[] = [];
  add(name: string, shape: number[], init: Init, aliases: string[] = []): void {
    this.specs.push({ name, shape, trainable: name.includes('adapter'), init, aliases });
  }
  /** torch nn.Linear(inF, outF): kaiming-uniform weight and bias, bound 1/sqrt(inF); or zeros. */
  linear(prefix: string, inF: number, outF: number, zeroInit = false, aliases: string[] = []): void {
    const b = 1 / Math.sqrt(inF);
    this.add(`${prefix}.weight`, [outF, inF], zeroInit ? zero : uniform(b), aliases.map((a) => `${a}.weight`));
    this.add(`${prefix}.bias`, [outF], zeroInit ? zero : uniform(b), aliases.map((a) => `${a}.bias`));
  }
  layerNorm(prefix: string, width: number): void {
    this.add(`${prefix}.weight`, [width], one);
    this.add(`${prefix}.bias`, [width], zero);
  }
  /** torch nn.MultiheadAttention(width): xavier-uniform in_proj, zero biases, Linear out_proj. */
  attention(prefix: string, width: number, inStd: number | null, outStd: number | null, aliases: string[] = []): void {
    const xavier = Math.sqrt(6 / (width + 3 * width));
    const al = (s: string) => aliases.map((a) => `${a}.${s}`);
    this.add(`${prefix}.in_proj_weight`, [3 * width, width], inStd === null ? uniform(xavier) : normal(inStd), al('in_proj_weight'));
    this.add(`${prefix}.in_proj_bias`, [3 * width], zero, al('in_proj_bias'));
    this.add(`${prefix}.out_proj.weight`, [width, width], outStd === null ? uniform(1 / Math.sqrt(width)) : normal(outStd), al('out_proj.weight'));
    this.add(`${prefix}.out_proj.bias`, [width], zero, al('out_proj.bias'));
  }
  /** The SA-adapter (spec section 2): l1 down, msa, l2 up (zero-init). */
  saAdapter(prefix: string, width: number, down: number, alias: string): void {
    this.linear(`${prefix}.l1`, width, down, false, [`${alias}.l1`]);
    this.linear(`${prefix}.l2`, down, width, true, [`${alias}.l2`]);
    this.attention(`${prefix}.msa`, down, null, null, [`${alias}.msa`]);
  }
  /** Linear -> ReLU -> Linear (zero-init second layer): POS connector and per-layer POS adapters. */
  mlpAdapter(prefix: string, width: number, hidden: number, aliases: string[] = []): void {
    this.linear(`${prefix}.l1`, width, hidden, false, aliases.map((a) => `${a}.l1`));
    this.linear(`${prefix}.l2`, hidden, width, true, aliases.map((a) => `${a}.l2`));
  }
  /** Side Fusion linears adapter_1..4; vision's adapter_4 sits after the mean (index 1). */
  sideFusion(prefix: string, width: number, vision: boolean): void {
    for (const k of [1, 2, 3]) this.linear(`${prefix}.adapter_${k}.0`, width, width);
    this.linear(`${prefix}.adapter_4.${vision ? 1 : 0}`, width, width, true);
  }
}

/** The parameter list of a model in registration order (trainable adapters first, as torch lists them). */
export function parameterSpecs(config: ModelConfig): ParameterSpec[] {
  const { vision_cfg: v, text_cfg: t, posapl: f, embed_dim: embed } = config;
  const s = new SpecList();
  const vt = 'visual.transformer.resblocks';
  const tt = 'text.transformer.resblocks';
  if (f.sa_image) for (let l = 0; l < v.layers; l++) s.saAdapter(`adapter_img.${l}`, v.width, f.down_dim, `${vt}.${l}.adapter`);
  if (f.sa_text) for (let l = 0; l < t.layers; l++) s.saAdapter(`adapter_text.${l}`, t.width, f.down_dim, `${tt}.${l}.adapter`);
  if (f.pos && f.pos_side) {
    for (let l = 0; l < t.layers; l++) s.mlpAdapter(`adapter_pos.${l}`, t.width, f.down_dim_pos, [`${tt}.${l}.adapter2`]);
  }

  // Vision tower (open_clip ViT: default torch init except the scaled embeddings).
  const vs = v.width ** -0.5;
  const grid = v.image_size / v.patch_size;
  s.add('visual.class_embedding', [v.width], normal(vs));
  s.add('visual.positional_embedding', [grid * grid + 1, v.width], normal(vs));
  s.add('visual.proj', [v.width, embed], normal(vs));
  s.add('visual.conv1.weight', [v.width, 3, v.patch_size, v.patch_size], uniform(1 / Math.sqrt(3 * v.patch_size * v.patch_size)));
  s.layerNorm('visual.ln_pre', v.width);
  for (let l = 0; l < v.layers; l++) block(s, `${vt}.${l}`, v.width, null);
  s.layerNorm('visual.ln_post', v.width);
  if (f.side_fusion_image && sideFusionTaps(v.layers).length) s.sideFusion('visual.adapter', v.width, true);

  // Text tower (open_clip's init_parameters).
  s.add('text.positional_embedding', [t.context_length, t.width], normal(0.01));
  s.add('text.text_projection', [t.width, embed], normal(t.width ** -0.5));
  s.add('text.token_embedding.weight', [t.vocab_size, t.width], normal(0.02));
  const proj = t.width ** -0.5 * (2 * t.layers) ** -0.5;
  for (let l = 0; l < t.layers; l++) block(s, `${tt}.${l}`, t.width, { attn: t.width ** -0.5, proj, fc: (2 * t.width) ** -0.5 });
  s.layerNorm('text.ln_final', t.width);
  if (f.side_fusion_text && sideFusionTaps(t.layers).length) s.sideFusion('text.adapter', t.width, false);
  if (f.pos) s.mlpAdapter('text.adapter_mlp', t.width, t.width);

  s.add('logit_scale', [], { kind: 'constant', value: Math.log(1 / 0.07) });
  return s.specs;
}

function block(s: SpecList, prefix: string, width: number, std: { attn: number; proj: number; fc: number } | null): void {
  s.layerNorm(`${prefix}.ln_1`, width);
  s.attention(`${prefix}.attn`, width, std ? std.attn : null, std ? std.proj : null);
  s.layerNorm(`${prefix}.ln_2`, width);
  const fc = `${prefix}.mlp.c_fc`;
  const pr = `${prefix}.mlp.c_proj`;
  if (std) {
    s.add(`${fc}.weight`, [4 * width, width], normal(std.fc));
    s.add(`${fc}.bias`, [4 * width], uniform(1 / Math.sqrt(width)));
    s.add(`${pr}.weight`, [width, 4 * width], normal(std.proj));
    s.add(`${pr}.bias`, [width], uniform(1 / Math.sqrt(4 * width)));
  } else {
    s.linear(fc, width, 4 * width);
    s.linear(pr, 4 * width, width);
  }
}
