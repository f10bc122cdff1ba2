/** Hands a residual block its weights from the store, by their open_clip names under `prefix`. */
import { LinearWeights } from '../nn/parameter';
import { BlockWeights } from '../nn/residualBlock';
import { Parameters } from './parameters';

/** The weights of open_clip's `prefix` (e.g. visual.transformer.resblocks.3). */
export function openClipBlockWeights(params: Parameters, prefix: string): BlockWeights {
  const norm = (name: string) => ({ weight: params.get(`${name}.weight`), bias: params.get(`${name}.bias`) });
  const linear = (weight: string, bias: string): LinearWeights => ({ weight: params.get(weight), bias: params.get(bias) });
  return {
    ln1: norm(`${prefix}.ln_1`),
    ln2: norm(`${prefix}.ln_2`),
    inProj: linear(`${prefix}.attn.in_proj_weight`, `${prefix}.attn.in_proj_bias`),
    outProj: linear(`${prefix}.attn.out_proj.weight`, `${prefix}.attn.out_proj.bias`),
    fc: linear(`${prefix}.mlp.c_fc.weight`, `${prefix}.mlp.c_fc.bias`),
    proj: linear(`${prefix}.mlp.c_proj.weight`, `${prefix}.mlp.c_proj.bias`),
  };
}
