/**
 * The fused adapter ops against PyTorch (tools/reference/gen_adapters.py): real torch modules
 * with random non-zero weights, run in float64; forward outputs and every gradient for a random
 * upstream gradient. Tolerance: rtol 1e-4, atol 1e-5 on every element.
 */
import { Fixture, loadFixture } from '../helpers/fixtures';
import { expectClose } from '../helpers/numeric';
import {
  mlpAdapterBackward, mlpAdapterForward, mlpAdapterSizes, saAdapterBackward, saAdapterForward, saAdapterSizes,
  sideFusionBackward, sideFusionForward, sideFusionSizes, SaAdapterParams, SideFusionParams,
} from '../../src/ops';

const RTOL = 1e-4;
const ATOL = 1e-5;

/** Fresh zeroed gradient buffers shaped like the named fixture tensors. */
function zerosLike<K extends string>(fx: Fixture, keys: readonly K[]): Record<K, Float32Array> {
  return Object.fromEntries(keys.map((k) => [k, new Float32Array(fx.f32(k).length)])) as Record<K, Float32Array>;
}

function pick<K extends string>(fx: Fixture, keys: readonly K[]): Record<K, Float32Array> {
  return Object.fromEntries(keys.map((k) => [k, fx.f32(k)])) as Record<K, Float32Array>;
}

function expectGrads(fx: Fixture, grads: Record<string, Float32Array>, label: string): void {
  for (const [k, g] of Object.entries(grads)) expectClose(g, fx.f32(`d${k}`), RTOL, ATOL, `${label} d${k}`);
}

describe('SA-adapter vs torch (nn.Linear, nn.MultiheadAttention)', () => {
  it('matches the output and every gradient', () => {
    const fx = loadFixture('sa_adapter');
    const dims = fx.meta as { n: number; l: number; c: number; r: number; h: number };
    const keys = ['wd', 'bd', 'win', 'bin', 'wo', 'bo', 'wu', 'bu'] as const;
    const params: SaAdapterParams = pick(fx, keys);
    const sizes = saAdapterSizes(dims);
    const out = new Float32Array(fx.f32('out').length);
    const saved = new Float32Array(sizes.saved);
    saAdapterForward({ ...dims, out, saved, m: fx.f32('m'), params });
    expectClose(out, fx.f32('out'), RTOL, ATOL, 'out');

    const dm = new Float32Array(fx.f32('m').length);
    const grads = zerosLike(fx, keys);
    saAdapterBackward({ ...dims, dm, grads, dout: fx.f32('dout'), m: fx.f32('m'), params, saved });
    expectClose(dm, fx.f32('dm'), RTOL, ATOL, 'dm');
    expectGrads(fx, grads, 'SA-adapter');
  });
});

describe('MLP adapter vs torch (Linear, ReLU, Linear)', () => {
  it('matches the output and every gradient', () => {
    const fx = loadFixture('mlp_adapter');
    const dims = fx.meta as { rows: number; c: number; r: number; cout: number };
    const keys = ['w1', 'b1', 'w2', 'b2'] as const;
    const params = pick(fx, keys);
    const out = new Float32Array(fx.f32('out').length);
    const saved = new Float32Array(mlpAdapterSizes(dims).saved);
    mlpAdapterForward({ ...dims, out, saved, x: fx.f32('x'), params });
    expectClose(out, fx.f32('out'), RTOL, ATOL, 'out');

    const dx = new Float32Array(fx.f32('x').length);
    const grads = zerosLike(fx, keys);
    mlpAdapterBackward({ ...dims, dx, grads, dout: fx.f32('dout'), x: fx.f32('x'), params, saved });
    expectClose(dx, fx.f32('dx'), RTOL, ATOL, 'dx');
    expectGrads(fx, grads, 'MLP adapter');
  });
});

describe.each([
  ['side_fusion_vision_chained'],
  ['side_fusion_vision_end_add'],
  ['side_fusion_text_chained'],
  ['side_fusion_text_end_add'],
])('Side Fusion vs torch: %s', (name) => {
  it('matches s4 and every gradient', () => {
    const fx = loadFixture(name);
    const dims = fx.meta as { n: number; l: number; c: number; chained: boolean; mean: boolean };
    const keys = ['w1', 'b1', 'w2', 'b2', 'w3', 'b3', 'w4', 'b4'] as const;
    const params: SideFusionParams = pick(fx, keys);
    const taps = {
      f1: fx.f32('f1'), f2: fx.f32('f2'), f3: fx.f32('f3'), f4: dims.chained ? fx.f32('f4') : null,
    };
    const s4 = new Float32Array(fx.f32('s4').length);
    const saved = new Float32Array(sideFusionSizes(dims).saved);
    sideFusionForward({ ...dims, s4, saved, taps, params });
    expectClose(s4, fx.f32('s4'), RTOL, ATOL, 's4');

    const tapLength = taps.f1.length;
    const dtaps = {
      df1: new Float32Array(tapLength), df2: new Float32Array(tapLength), df3: new Float32Array(tapLength),
      df4: dims.chained ? new Float32Array(tapLength) : null,
    };
    const grads = zerosLike(fx, keys);
    sideFusionBackward({ ...dims, dtaps, grads, ds4: fx.f32('ds4'), taps, params, saved });
    for (const k of ['df1', 'df2', 'df3', ...(dims.chained ? ['df4'] : [])] as const) {
      expectClose(dtaps[k as keyof typeof dtaps] as Float32Array, fx.f32(k), RTOL, ATOL, k);
    }
    expectGrads(fx, grads, name);
  });
});
