import { adamw, AdamWArgs } from '../../src/ops/adamw';
import { randomArray } from '../helpers/numeric';

const f = Math.fround;

interface Hyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  step: number;
}

/**
 * transformers' AdamW step for one tensor, each float32 operation rounded where torch rounds
 * it (Python-float coefficients become float32 scalars; the step size is computed in double).
 */
function referenceStep(p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, h: Hyper): void {
  const stepSize = (h.lr * Math.sqrt(1 - h.beta2 ** h.step)) / (1 - h.beta1 ** h.step);
  for (let i = 0; i < p.length; i++) {
    m[i] = f(f(m[i] * f(h.beta1)) + f(f(1 - h.beta1) * g[i]));
    v[i] = f(f(v[i] * f(h.beta2)) + f(f(f(1 - h.beta2) * g[i]) * g[i]));
    const denom = f(f(Math.sqrt(v[i])) + f(h.eps));
    p[i] = f(p[i] + f(f(f(-stepSize) * m[i]) / denom));
    if (h.weightDecay > 0) p[i] = f(p[i] + f(f(-h.lr * h.weightDecay) * p[i]));
  }
}

describe('adamw', () => {
  it('matches transformers AdamW over several steps and tensors of different sizes', () => {
    // 40000 elements exceed one thread's share, so the flat split crosses tensor boundaries.
    const sizes = [1, 7, 1000, 40000, 33];
    const params = sizes.map((n, k) => randomArray(n, 100 + k));
    const state = {
      params, grads: sizes.map((n) => new Float32Array(n)),
      expAvg: sizes.map((n) => new Float32Array(n)), expAvgSq: sizes.map((n) => new Float32Array(n)),
    };
    const ref = {
      params: params.map((p) => p.slice()), expAvg: sizes.map((n) => new Float32Array(n)),
      expAvgSq: sizes.map((n) => new Float32Array(n)),
    };
    for (let step = 1; step <= 6; step++) {
      // A cosine-like lr that changes every step, gradients of varied magnitude.
      const h = { lr: 1e-3 * (1 + Math.cos((Math.PI * (step - 1)) / 6)) / 2, beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 0.01, step };
      sizes.forEach((n, k) => state.grads[k].set(randomArray(n, 1000 * step + k, 10 ** (k - 2))));
      adamw({ ...state, ...h });
      sizes.forEach((_, k) => referenceStep(ref.params[k], ref.expAvg[k], ref.expAvgSq[k], state.grads[k], h));
    }
    sizes.forEach((_, k) => {
      // The same float32 operations in the same order: equal to the last bit, allowing 1 ulp.
      for (const [got, want] of [[state.params[k], ref.params[k]], [state.expAvg[k], ref.expAvg[k]], [state.expAvgSq[k], ref.expAvgSq[k]]]) {
        for (let i = 0; i < got.length; i++) {
          if (Math.abs(got[i] - want[i]) > 1.2e-7 * Math.abs(want[i])) {
            throw new Error(`tensor ${k} element ${i}: ${got[i]} != ${want[i]}`);
          }
        }
      }
    });
  });

  it('applies the weight decay after the Adam update, on the updated parameter', () => {
    // Step 1 with g = 1: m = 0.1, v = 0.02, step size lr sqrt(0.02)/0.1, the Adam update is
    // -lr * sqrt(0.02)/0.1 * 0.1/(sqrt(0.02)+eps) ~= -lr; then p *= 1 - lr wd.
    const lr = 0.1, wd = 0.5;
    const p = Float32Array.from([2]);
    adamw({ params: [p], grads: [Float32Array.from([1])], expAvg: [new Float32Array(1)], expAvgSq: [new Float32Array(1)], lr, step: 1, weightDecay: wd, eps: 0 });
    expect(p[0]).toBeCloseTo((2 - lr) * (1 - lr * wd), 6); // torch.optim.AdamW would give 2(1 - lr wd) - lr
    const q = Float32Array.from([2]);
    adamw({ params: [q], grads: [Float32Array.from([1])], expAvg: [new Float32Array(1)], expAvgSq: [new Float32Array(1)], lr, step: 1, weightDecay: 0, eps: 0 });
    expect(q[0]).toBeCloseTo(2 - lr, 6);
  });

  it('folds the bias correction into the step size at a later step', () => {
    // Constant g over t steps: m = (1-b1^t) g, v = (1-b2^t) g^2, so the update is exactly -lr
    // at every step whatever t is (eps 0, no decay).
    const p = new Float32Array([0]);
    const m = new Float32Array(1), v = new Float32Array(1), g = Float32Array.from([3]);
    for (let step = 1; step <= 20; step++) adamw({ params: [p], grads: [g], expAvg: [m], expAvgSq: [v], lr: 0.01, step, eps: 0, weightDecay: 0 });
    expect(p[0]).toBeCloseTo(-0.2, 5);
    expect(m[0]).toBeCloseTo((1 - 0.9 ** 20) * 3, 5);
  });

  it('accepts an empty list of tensors', () => {
    expect(() => adamw({ params: [], grads: [], expAvg: [], expAvgSq: [], lr: 1e-3, step: 1 })).not.toThrow();
  });
});

describe('adamw argument errors', () => {
  const base = (): AdamWArgs => ({
    params: [new Float32Array(3), new Float32Array(5)], grads: [new Float32Array(3), new Float32Array(5)],
    expAvg: [new Float32Array(3), new Float32Array(5)], expAvgSq: [new Float32Array(3), new Float32Array(5)],
    lr: 1e-3, step: 1,
  });
  const expectError = (args: AdamWArgs, code: string, name: RegExp) => {
    const before = args.params.map((p) => p.slice());
    let caught: unknown;
    try {
      adamw(args);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeDefined();
    expect((caught as { code?: string }).code).toBe(code);
    expect((caught as Error).message).toMatch(name);
    args.params.forEach((p, k) => expect(Array.from(p)).toEqual(Array.from(before[k]))); // nothing written
  };
  it('rejects wrong kinds', () => {
    expectError({ ...base(), grads: [new Float32Array(3), new Float64Array(5) as unknown as Float32Array] }, 'POSAPL_TYPE', /for grads\[1\] but received Float64Array/);
    expectError({ ...base(), expAvg: new Float32Array(3) as unknown as Float32Array[] }, 'POSAPL_TYPE', /for expAvg/);
    expectError({ ...base(), lr: NaN }, 'POSAPL_TYPE', /for lr/);
  });
  it('rejects wrong lengths and counts', () => {
    expectError({ ...base(), expAvgSq: [new Float32Array(3), new Float32Array(4)] }, 'POSAPL_SHAPE', /length 5 for expAvgSq\[1\]/);
    expectError({ ...base(), grads: [new Float32Array(3)] }, 'POSAPL_SHAPE', /arrays in grads/);
    expectError({ ...base(), params: [], grads: [new Float32Array(3)], expAvg: [new Float32Array(3)], expAvgSq: [new Float32Array(3)] }, 'POSAPL_SHAPE', /equally many/);
    expectError({ ...base(), params: [new Float32Array(0)], grads: [new Float32Array(0)] }, 'POSAPL_SHAPE', /params\[0\]/);
  });
  it('rejects a bad step and out-of-range hyper-parameters', () => {
    expectError({ ...base(), step: 0 }, 'POSAPL_SHAPE', /for step but received 0/);
    expectError({ ...base(), step: 1.5 }, 'POSAPL_SHAPE', /for step/);
    expectError({ ...base(), beta1: 1 }, 'POSAPL_SHAPE', /for beta1/);
    expectError({ ...base(), beta2: -0.1 }, 'POSAPL_SHAPE', /for beta2/);
    expectError({ ...base(), lr: -1 }, 'POSAPL_SHAPE', /for lr/);
    expectError({ ...base(), eps: -1e-8 }, 'POSAPL_SHAPE', /for eps/);
    expectError({ ...base(), weightDecay: -0.01 }, 'POSAPL_SHAPE', /for weightDecay/);
  });
  it('rejects aliasing between the lists', () => {
    const b = base();
    expectError({ ...b, grads: [b.params[0], b.grads[1]] }, 'POSAPL_ALIAS', /params\[0\] not to share memory with grads\[0\]/);
    const shared = new Float32Array(8);
    expectError({ ...b, expAvg: [shared.subarray(0, 3), shared.subarray(2, 7)] }, 'POSAPL_ALIAS', /expAvg\[0\]|expAvg\[1\]/);
  });
});
