import { adamw } from '../../src/ops/adamw';
import { retrievalLosses } from '../../src/ops/losses';
import { loadFixture } from '../helpers/fixtures';
import { expectClose } from '../helpers/numeric';

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

// PyTorch computes in float32 throughout; the native op sums in double. Losses agree to ~1e-6
// relative; gradients to 1e-4 relative or 1e-5 of their largest entry.
describe.each(['losses_small', 'losses_gamma3', 'losses_n64'])('retrievalLosses vs PyTorch autograd (%s)', (name) => {
  const fx = loadFixture(name);
  const meta = fx.meta as Record<string, number>;
  const n = meta.n, e = meta.e;
  const common = {
    image: fx.f32('image'), text: fx.f32('text'), imageIds: fx.i32('image_ids'), n, e,
    logitScale: meta.logit_scale, margin: meta.margin, gamma: meta.gamma,
  };

  it('gives both loss values and the gradients of the weighted sum', () => {
    const dImage = new Float32Array(n * e), dText = new Float32Array(n * e);
    const got = retrievalLosses({
      ...common, contrastiveWeight: meta.contrastive_weight, tripletWeight: meta.triplet_weight, dImage, dText,
    });
    expect(Math.abs(got.contrastive - meta.contrastive)).toBeLessThanOrEqual(2e-6 * meta.contrastive);
    expect(meta.triplet).toBeGreaterThan(0);
    expect(Math.abs(got.triplet - meta.triplet)).toBeLessThanOrEqual(2e-5 * meta.triplet);
    const wantImage = fx.f32('d_image'), wantText = fx.f32('d_text');
    expectClose(dImage, wantImage, 1e-4, 1e-5 * maxAbs(wantImage), 'dImage');
    expectClose(dText, wantText, 1e-4, 1e-5 * maxAbs(wantText), 'dText');
  });

  it('gives the contrastive-only gradients with the triplet weight at 0', () => {
    const dImage = new Float32Array(n * e), dText = new Float32Array(n * e);
    retrievalLosses({ ...common, contrastiveWeight: 1, tripletWeight: 0, dImage, dText });
    const wantImage = fx.f32('d_image_contrastive'), wantText = fx.f32('d_text_contrastive');
    expectClose(dImage, wantImage, 1e-4, 1e-5 * maxAbs(wantImage), 'dImage');
    expectClose(dText, wantText, 1e-4, 1e-5 * maxAbs(wantText), 'dText');
  });
});

describe('adamw vs transformers AdamW written in torch', () => {
  it('matches parameters and moments after several scheduled steps', () => {
    const fx = loadFixture('adamw_hf');
    const meta = fx.meta as { tensors: number; steps: number; lrs: number[]; beta1: number; beta2: number; eps: number; weight_decay: number };
    const ks = Array.from({ length: meta.tensors }, (_, k) => k);
    const params = ks.map((k) => fx.f32(`param${k}_initial`).slice());
    const expAvg = params.map((p) => new Float32Array(p.length));
    const expAvgSq = params.map((p) => new Float32Array(p.length));
    for (let t = 1; t <= meta.steps; t++) {
      adamw({
        params, expAvg, expAvgSq, grads: ks.map((k) => fx.f32(`grad${k}_step${t}`)), lr: meta.lrs[t - 1],
        beta1: meta.beta1, beta2: meta.beta2, eps: meta.eps, weightDecay: meta.weight_decay, step: t,
      });
    }
    // Torch's vectorised add_(alpha) fuses a multiply-add where our loop rounds twice, so moments
    // that cancel to small values differ by ~1e-7 of their tensor's scale.
    for (const k of ks) {
      const want = { param: fx.f32(`param${k}_final`), m: fx.f32(`exp_avg${k}_final`), v: fx.f32(`exp_avg_sq${k}_final`) };
      expectClose(params[k], want.param, 1e-6, 1e-6 * maxAbs(want.param), `param${k}`);
      expectClose(expAvg[k], want.m, 1e-6, 1e-6 * maxAbs(want.m), `expAvg${k}`);
      expectClose(expAvgSq[k], want.v, 1e-6, 1e-6 * maxAbs(want.v), `expAvgSq${k}`);
    }
  });
});
