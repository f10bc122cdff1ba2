/**
 * A steady-state training step allocates nothing: every activation, saved tensor, gradient buffer
 * and scratch comes from the arenas made on the first steps. Counted two ways over steps 3-5: the
 * backend's own allocations, and every typed array JavaScript constructs (the globals replaced
 * by counting proxies, so an allocation hidden in an op wrapper shows too). Also: dispose() gives
 * every byte back to the backend.
 */
import { CpuBackend } from '../../src/backend/cpu';
import { ModelConfigInput } from '../../src/clip/config';
import { LoadModelOptions, loadModel } from '../../src/posapl/loadModel';
import { PosaplModel } from '../../src/posapl/model';
import { randomArray, rng } from '../helpers/numeric';

const SMALL: ModelConfigInput = {
  embed_dim: 12,
  vision_cfg: { image_size: 32, patch_size: 8, width: 16, layers: 7, head_width: 8 },
  text_cfg: { context_length: 10, vocab_size: 50, width: 16, heads: 2, layers: 7 },
  posapl: { down_dim: 8, sa_heads: 2, pos_side: true, down_dim_pos: 8, side_fusion: 'chained' },
};
const N = 5;

function batch(microBatch?: number) {
  const r = rng(11);
  const ids = new Int32Array(N * 10);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < 4 + i; j++) ids[i * 10 + j] = 1 + Math.floor(r() * 46);
    ids[i * 10 + 4 + i] = 49;
  }
  return { pixels: randomArray(N * 3 * 32 * 32, 12), ids, posIds: ids.slice(), imageIds: new Int32Array([0, 0, 1, 2, 3]), n: N, microBatch };
}

// `random` is spelled out for loaders that require it; older ones ignore it.
const options = { config: SMALL, seed: 2, random: true } as LoadModelOptions;

/** Typed arrays constructed by JavaScript while `run` runs. */
function countTypedArrays(run: () => void): { arrays: number; bytes: number } {
  const counted = { arrays: 0, bytes: 0 };
  const kinds = ['Float32Array', 'Int32Array', 'Uint16Array'] as const;
  const originals = kinds.map((k) => globalThis[k]);
  kinds.forEach((k, i) => {
    (globalThis as Record<string, unknown>)[k] = new Proxy(originals[i], {
      construct(target, args) {
        const a = Reflect.construct(target, args) as Float32Array;
        counted.arrays += 1;
        counted.bytes += a.byteLength;
        return a;
      },
    });
  });
  try {
    run();
  } finally {
    kinds.forEach((k, i) => ((globalThis as Record<string, unknown>)[k] = originals[i]));
  }
  return counted;
}

function step(model: PosaplModel, b: ReturnType<typeof batch>): void {
  model.zeroGradients();
  model.lossAndGradients(b);
  model.step(1e-3);
}

it('counts the typed arrays other modules construct', () => {
  expect(countTypedArrays(() => randomArray(4, 1))).toEqual({ arrays: 1, bytes: 16 });
});

// bf16 packs W for the input gradient on the first backward: after that, nothing either.
const bf16 = new CpuBackend().supportsOp('gemmBf16');
const cases: [string, number | undefined, 'fp32' | 'bf16'][] = [
  ['one pass', undefined, 'fp32'],
  ['gradient caching over uneven micro-batches', 2, 'fp32'],
  ...(bf16 ? ([['bf16, gradient caching', 2, 'bf16']] as [string, number, 'bf16'][]) : []),
];

describe.each(cases)('a steady-state training step (%s)', (_, microBatch, precision) => {
  it('allocates nothing on the backend nor in JavaScript', async () => {
    const model = await loadModel({ ...options, precision });
    expect(model.precision).toBe(precision);
    const b = batch(microBatch);
    step(model, b);
    step(model, b);
    const before = { ...model.backend.allocations };
    expect(before.count).toBeGreaterThan(0);
    const js = countTypedArrays(() => {
      for (let i = 0; i < 3; i++) step(model, b);
    });
    expect(model.backend.allocations).toEqual(before);
    expect(js).toEqual({ arrays: 0, bytes: 0 });
    // The check above can fail: a step with a new batch size makes its arenas.
    const other = { ...batch(microBatch), n: 3, pixels: b.pixels.slice(0, 3 * 3 * 32 * 32), ids: b.ids.slice(0, 30), posIds: b.posIds.slice(0, 30), imageIds: b.imageIds.slice(0, 3) };
    step(model, other);
    expect(model.backend.allocations.count).toBeGreaterThan(before.count);
  });
});

it("loadModel({ device: 'cpu' }) runs on the CPU backend, parameters included", async () => {
  const model = await loadModel({ ...options, device: 'cpu' });
  expect(model.backend).toBeInstanceOf(CpuBackend);
  expect(model.params.list.every((p) => p.value.device === 'cpu' && (p.grad === null) === !p.spec.trainable)).toBe(true);
});

describe('dispose', () => {
  it('gives every buffer back to the backend and keeps the embeddings it returned', async () => {
    const model = await loadModel(options);
    const b = batch(2);
    step(model, b);
    const images = model.encodeImages(b.pixels, N);
    const copy = images.slice();
    expect(model.backend.allocations.liveBytes).toBeGreaterThan(0);
    model.dispose();
    expect(model.backend.allocations.liveBytes).toBe(0);
    expect(images).toEqual(copy);
    expect(() => model.encodeImages(b.pixels, N)).toThrow(expect.objectContaining({ code: 'POSAPL_DISPOSED' }));
  });
});
