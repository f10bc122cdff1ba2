/**
 * LayerNorm and attention against PyTorch 1.13 (fixtures from tools/reference/gen_layers.py):
 * outputs, saved statistics / probabilities and gradients, all within rtol 1e-5 and atol 1e-6.
 */
import { attentionBackward, attentionForward } from '../../src/ops/attention';
import { layerNormBackward, layerNormForward } from '../../src/ops/layernorm';
import { loadFixture } from '../helpers/fixtures';
import { expectClose } from '../helpers/numeric';

const RTOL = 1e-5;
const ATOL = 1e-6;

describe.each(['layernorm_small', 'layernorm_wide'])('LayerNorm parity: %s', (name) => {
  const f = loadFixture(name);
  const n = f.meta.n as number, c = f.meta.c as number;
  const x = f.f32('x'), weight = f.f32('weight'), bias = f.f32('bias');
  const out = new Float32Array(n * c), mean = new Float32Array(n), rstd = new Float32Array(n);
  layerNormForward({ out, mean, rstd, x, weight, bias, n, c });

  it('forward: out, mean, rstd', () => {
    expectClose(out, f.f32('out'), RTOL, ATOL, 'out');
    expectClose(mean, f.f32('mean'), RTOL, ATOL, 'mean');
    expectClose(rstd, f.f32('rstd'), RTOL, ATOL, 'rstd');
  });

  it('backward: dx, dweight, dbias', () => {
    const dx = new Float32Array(n * c), dweight = new Float32Array(c), dbias = new Float32Array(c);
    layerNormBackward({ dx, dweight, dbias, dout: f.f32('dout'), x, weight, mean, rstd, n, c });
    expectClose(dx, f.f32('dx'), RTOL, ATOL, 'dx');
    expectClose(dweight, f.f32('dweight'), RTOL, ATOL, 'dweight');
    expectClose(dbias, f.f32('dbias'), RTOL, ATOL, 'dbias');
  });
});

describe.each(['attention_small', 'attention_small_causal', 'attention_adapter_text', 'attention_text_causal'])(
  'attention parity: %s',
  (name) => {
    const f = loadFixture(name);
    const dims = {
      b: f.meta.b as number, l: f.meta.l as number, h: f.meta.h as number, d: f.meta.d as number,
      causal: f.meta.causal as boolean,
    };
    const qkv = f.f32('qkv');
    const out = new Float32Array(f.f32('out').length);
    const probs = new Float32Array(dims.b * dims.h * dims.l * dims.l);
    attentionForward({ out, probs, qkv, ...dims });

    it('forward: out (and probs where stored)', () => {
      expectClose(out, f.f32('out'), RTOL, ATOL, 'out');
      if (f.tensors.probs) expectClose(probs, f.f32('probs'), RTOL, ATOL, 'probs');
    });

    it('backward: dqkv', () => {
      const dqkv = new Float32Array(qkv.length);
      attentionBackward({ dqkv, dout: f.f32('dout'), qkv, probs, ...dims });
      expectClose(dqkv, f.f32('dqkv'), RTOL, ATOL, 'dqkv');
    });
  },
);
