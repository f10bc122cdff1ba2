/**
 * The op harness's case table: every op of BackendOps at small odd shapes (vector tails, partial
 * tiles, several blocks and threads) and at the model's shapes (ViT-B/32 and the text tower:
 * 12x64 heads at L 50, 8x64 causal at L 77, the SA-adapter's 8x16). `opCases()` is what the tests
 * run; `perfCases()` the same builders at batch 32, which `npm run bench:ops` times.
 */
import type { Backend } from '../backend/backend';
import type { Activation } from '../ops/gemm';
import { SeededRandom } from '../seededRandom';
import { Expected, HostValues, OpCase, TensorSpec, Tensors, bytesOf, integers, sizeOf, uniform } from './opCase';
import * as ref from './references';

type Specs = Record<string, TensorSpec>;
type F = Float64Array;

const input = (shape: readonly number[], init?: TensorSpec['init']): TensorSpec => ({ shape, role: 'in', init });
const output = (shape: readonly number[]): TensorSpec => ({ shape, role: 'out' });
const accumulated = (shape: readonly number[], init?: TensorSpec['init']): TensorSpec => ({ shape, role: 'acc', init });
const work = (size: number): TensorSpec => ({ shape: [size], role: 'work' });

/** A case whose tensors are `specs` plus the backend's own saved/scratch buffers. */
function opCase(c: Omit<OpCase, 'tensors' | 'bytes'> & { specs: Specs; work?: (b: Backend) => Specs; bytes?: number }): OpCase {
  const { specs, work: workSpecs, bytes, ...rest } = c;
  return { ...rest, tensors: (b) => ({ ...specs, ...(workSpecs?.(b) ?? {}) }), bytes: bytes ?? bytesOf(specs) };
}

// ---- gemm and its companions ------------------------------------------------------------------

export interface GemmShape extends ref.GemmDims {
  bias?: boolean;
  activation?: Activation;
  pre?: boolean;
  /** c = act(x) for x evenly over [-sweep, sweep] (k 1, op(A) 1): the activation alone, densely. */
  sweep?: number;
}

export function gemmCase(s: GemmShape, model = false): OpCase {
  const { m, n, k, transA = false, transB = false, alpha = 1, beta = 0, activation = 'none' } = s;
  const sweep = s.sweep;
  const specs: Specs = {
    a: input(transA ? [k, m] : [m, k], sweep ? (_r, size) => new Float32Array(size).fill(1) : undefined),
    b: input(transB ? [n, k] : [k, n], sweep ? (_r, size) => Float32Array.from({ length: size }, (_, i) => -sweep + (2 * sweep * i) / Math.max(1, size - 1)) : undefined),
    c: beta !== 0 ? accumulated([m, n]) : output([m, n]),
  };
  if (s.bias) specs.bias = input([n]);
  if (s.pre) specs.pre = output([m, n]);
  const variant = [
    `${transA ? 't' : 'n'}${transB ? 't' : 'n'}`, alpha !== 1 ? `alpha ${alpha}` : '', beta !== 0 ? `beta ${beta}` : '',
    s.bias ? 'bias' : '', activation !== 'none' ? activation : '', s.pre ? 'pre' : '', sweep ? `sweep ${sweep}` : '',
  ].filter(Boolean).join(' ');
  return opCase({
    name: `gemm ${m}x${n}x${k} ${variant}`, op: 'gemm', precision: 'fp32', model, specs,
    run: (b, t) => b.gemm({ c: t.c, a: t.a, b: t.b, m, n, k, transA, transB, alpha, beta, activation, bias: t.bias ?? null, pre: t.pre ?? null }),
    reference: (h) => {
      const r = ref.gemmRef({ a: h.a, b: h.b, c: h.c, bias: h.bias, m, n, k, transA, transB, alpha, beta, activation });
      return s.pre ? { c: r.c, pre: r.pre } : ({ c: r.c } as Expected);
    },
    // The same GEMM on absolute values (for a sweep, |x| itself: its products are exact).
    scale: (h) => {
      const abs = (x?: ArrayLike<number>) => x && Float64Array.from(x, (v) => Math.abs(v));
      const { pre } = ref.gemmRef({ a: abs(h.a)!, b: abs(h.b)!, c: abs(h.c), bias: abs(h.bias), m, n, k, transA, transB, alpha: Math.abs(alpha), beta: Math.abs(beta) });
      return { c: pre, pre };
    },
    // fp32 accumulation in any order: (4 + sqrt(K)) ulp-ish of the scale; a sweep computes only
    // the activation (GELU's vectorised erf within ~2 ulp).
    tolerance: sweep ? 2e-6 : (4 + Math.sqrt(k)) * 1e-6,
    flops: 2 * m * n * k,
  });
}

export interface Bf16Shape {
  m: number;
  n: number;
  k: number;
  /** The packed operand is a torch Linear weight (n,k). */
  trans: boolean;
  beta?: number;
  bias?: boolean;
  activation?: Activation;
  aActivation?: Activation;
  residual?: boolean;
  pre?: boolean;
}

/** gemmBf16 against a weight packed by bf16Pack (op 'bf16Pack' tests the packing through it). */
export function gemmBf16Case(s: Bf16Shape, op: 'gemmBf16' | 'bf16Pack' = 'gemmBf16', model = false): OpCase {
  const { m, n, k, trans, beta = 0, activation = 'none', aActivation = 'none' } = s;
  const specs: Specs = { a: input([m, k]), w: input(trans ? [n, k] : [k, n]), c: beta !== 0 ? accumulated([m, n]) : output([m, n]) };
  if (s.bias) specs.bias = input([n]);
  if (s.residual) specs.residual = input([m, n]);
  if (s.pre) specs.pre = output([m, n]);
  const variant = [trans ? 'packed W^T' : 'packed W', beta ? `beta ${beta}` : '', s.bias ? 'bias' : '', s.residual ? 'residual' : '',
    aActivation !== 'none' ? `${aActivation}(A)` : '', activation !== 'none' ? activation : '', s.pre ? 'pre' : ''].filter(Boolean).join(' ');
  return opCase({
    name: `${op} ${m}x${n}x${k} ${variant}`, op, requires: ['bf16Pack', 'gemmBf16'], precision: 'bf16', model, specs,
    setup: (b, t) => {
      t.packed = b.bf16Pack(t.w, k, n, trans);
    },
    run: (b, t) => {
      if (op === 'bf16Pack') {
        b.free(t.packed);
        t.packed = b.bf16Pack(t.w, k, n, trans);
      }
      b.gemmBf16({ c: t.c, a: t.a, packed: t.packed, m, n, k, beta, activation, aActivation, bias: t.bias ?? null, residual: t.residual ?? null, pre: t.pre ?? null });
    },
    reference: (h) => {
      // The kernel's operands are bf16(aActivation(A)) and bf16(B); it accumulates in fp32.
      const a = h.a.map((v) => ref.roundBf16(ref.activate(Math.fround(v), aActivation)));
      const w = h.w.map((v) => ref.roundBf16(v));
      const r = ref.gemmRef({ a, b: w, c: h.c, bias: h.bias, m, n, k, transB: trans, beta, activation: 'none' });
      if (h.residual) for (let i = 0; i < m * n; i++) r.pre[i] += h.residual[i];
      const c = r.pre.map((v) => ref.activate(v, activation));
      return s.pre ? { c, pre: r.pre } : ({ c } as Expected);
    },
    flops: 2 * m * n * k,
  });
}

export function biasGradCase(m: number, n: number, accumulate: boolean): OpCase {
  const specs: Specs = { dy: input([m, n]), db: accumulate ? accumulated([n]) : output([n]), bias: { shape: [n], role: 'ghost' } };
  return opCase({
    name: `biasGrad ${m}x${n}${accumulate ? ' accumulate' : ''}`, op: 'biasGrad', precision: 'fp32', specs,
    run: (b, t) => b.biasGrad(t.db, t.dy, m, n, accumulate),
    reference: (h) => {
      const sums = ref.columnSums(h.dy, m, n);
      return { db: accumulate ? ref.add(sums, h.db) : sums };
    },
    // The forward: out (m,n) = bias broadcast over the rows (+ anything without bias).
    grad: { loss: (h) => ref.dot(ref.columnSums(h.dy, m, n), h.bias), wrt: { db: 'bias' } },
    flops: m * n,
  });
}

export function activationBackwardCase(n: number, activation: Activation, spread = 6): OpCase {
  const specs: Specs = { pre: input([n], uniform(-spread, spread)), dy: input([n]), dx: output([n]) };
  return opCase({
    name: `activationBackward ${n} ${activation}`, op: 'activationBackward', precision: 'fp32', specs,
    run: (b, t) => b.activationBackward(t.dx, t.dy, t.pre, n, activation),
    reference: (h) => ({ dx: Float64Array.from(h.pre, (x, i) => h.dy[i] * ref.activateGrad(x, activation)) }),
    grad: { loss: (h) => ref.dot(h.pre.map((x) => ref.activate(x, activation)), h.dy), wrt: { dx: 'pre' } },
    flops: 20 * n,
  });
}

// ---- normalisations ------------------------------------------------------------------------

export function layerNormForwardCase(n: number, c: number, saveStats = true, model = false): OpCase {
  const specs: Specs = { x: input([n, c], uniform(-2, 3)), weight: input([c]), bias: input([c]), out: output([n, c]) };
  if (saveStats) Object.assign(specs, { mean: output([n]), rstd: output([n]) });
  return opCase({
    name: `layerNormForward ${n}x${c}${saveStats ? '' : ' inference'}`, op: 'layerNormForward', precision: 'fp32', model, specs,
    run: (b, t) => b.layerNormForward({ out: t.out, x: t.x, weight: t.weight, bias: t.bias, n, c, mean: t.mean ?? null, rstd: t.rstd ?? null }),
    reference: (h) => {
      const r = ref.layerNormRef(h.x, h.weight, h.bias, n, c);
      return saveStats ? r : { out: r.out };
    },
    flops: 8 * n * c,
  });
}

export function layerNormBackwardCase(n: number, c: number, trainWeights = true, model = false): OpCase {
  const specs: Specs = { x: input([n, c], uniform(-2, 3)), weight: input([c]), bias: input([c]), dout: input([n, c]), dx: output([n, c]) };
  if (trainWeights) Object.assign(specs, { dweight: accumulated([c]), dbias: accumulated([c]) });
  return opCase({
    name: `layerNormBackward ${n}x${c}${trainWeights ? '' : ' frozen'}`, op: 'layerNormBackward', requires: ['layerNormForward'],
    precision: 'fp32', model, specs, work: () => ({ y: work(n * c), mean: work(n), rstd: work(n) }),
    setup: (b, t) => b.layerNormForward({ out: t.y, mean: t.mean, rstd: t.rstd, x: t.x, weight: t.weight, bias: t.bias, n, c }),
    run: (b, t) => b.layerNormBackward({ dx: t.dx, dout: t.dout, x: t.x, weight: t.weight, mean: t.mean, rstd: t.rstd, n, c, dweight: t.dweight ?? null, dbias: t.dbias ?? null }),
    grad: {
      loss: (h) => ref.dot(ref.layerNormRef(h.x, h.weight, h.bias, n, c).out, h.dout),
      wrt: trainWeights ? { dx: 'x', dweight: 'weight', dbias: 'bias' } : { dx: 'x' },
    },
    flops: 10 * n * c,
  });
}

export function l2NormCases(n: number, c: number): OpCase[] {
  const fwd: Specs = { x: input([n, c]), out: output([n, c]) };
  const bwd: Specs = { x: input([n, c]), dout: input([n, c]), dx: output([n, c]) };
  return [
    opCase({
      name: `l2NormForward ${n}x${c}`, op: 'l2NormForward', precision: 'fp32', specs: fwd,
      run: (b, t) => b.l2NormForward(t.out, t.x, n, c),
      reference: (h) => ({ out: ref.l2NormRef(h.x, n, c) }),
      flops: 3 * n * c,
    }),
    opCase({
      name: `l2NormBackward ${n}x${c}`, op: 'l2NormBackward', precision: 'fp32', specs: bwd,
      run: (b, t) => b.l2NormBackward(t.dx, t.dout, t.x, n, c),
      grad: { loss: (h) => ref.dot(ref.l2NormRef(h.x, n, c), h.dout), wrt: { dx: 'x' } },
      flops: 6 * n * c,
    }),
  ];
}

// ---- attention ------------------------------------------------------------------------------

export interface AttentionShape { b: number; l: number; h: number; d: number; causal: boolean }

const attentionName = (s: AttentionShape) => `${s.b}x${s.l} ${s.h}x${s.d}${s.causal ? ' causal' : ''}`;
// QK^T and PV: 2 GEMMs of l x l x d per head (half of each when causal).
const attentionFlops = (s: AttentionShape) => (s.causal ? 0.5 : 1) * 4 * s.b * s.h * s.l * s.l * s.d;

export function attentionForwardCase(s: AttentionShape, saveProbs = true, model = false, scale = 1.5): OpCase {
  const { b: B, l: L, h: H, d: D, causal } = s;
  const specs: Specs = { qkv: input([B, L, 3, H, D], uniform(-scale, scale)), out: output([B, L, H * D]) };
  if (saveProbs) specs.probs = output([B, H, L, L]);
  return opCase({
    name: `attentionForward ${attentionName(s)}${saveProbs ? '' : ' inference'}${scale !== 1.5 ? ` scale ${scale}` : ''}`,
    op: 'attentionForward', precision: 'fp32', model, specs,
    run: (be, t) => be.attentionForward({ out: t.out, qkv: t.qkv, b: B, l: L, h: H, d: D, causal, probs: t.probs ?? null }),
    reference: (h) => {
      const r = ref.attentionRef(h.qkv, B, L, H, D, causal);
      return saveProbs ? r : { out: r.out };
    },
    flops: attentionFlops(s),
  });
}

export function attentionBackwardCase(s: AttentionShape, model = false, scale = 1.5): OpCase {
  const { b: B, l: L, h: H, d: D, causal } = s;
  const specs: Specs = { qkv: input([B, L, 3, H, D], uniform(-scale, scale)), dout: input([B, L, H * D]), dqkv: output([B, L, 3, H, D]) };
  return opCase({
    name: `attentionBackward ${attentionName(s)}${scale !== 1.5 ? ` scale ${scale}` : ''}`, op: 'attentionBackward', requires: ['attentionForward'], precision: 'fp32', model, specs,
    work: () => ({ out: work(B * L * H * D), probs: work(B * H * L * L) }),
    setup: (be, t) => be.attentionForward({ out: t.out, probs: t.probs, qkv: t.qkv, b: B, l: L, h: H, d: D, causal }),
    run: (be, t) => be.attentionBackward({ dqkv: t.dqkv, dout: t.dout, qkv: t.qkv, probs: t.probs, b: B, l: L, h: H, d: D, causal }),
    grad: { loss: (h) => ref.dot(ref.attentionRef(h.qkv, B, L, H, D, causal).out, h.dout), wrt: { dqkv: 'qkv' } },
    flops: 2 * attentionFlops(s),
  });
}

// ---- elementwise and data movement ----------------------------------------------------------

export function elementwiseCases(n: number): OpCase[] {
  const alpha = -0.75;
  return [
    opCase({
      name: `axpy ${n}`, op: 'axpy', precision: 'fp32', specs: { y: accumulated([n]), x: input([n]) },
      run: (b, t) => b.axpy(t.y, t.x, alpha, n),
      reference: (h) => ({ y: Float64Array.from(h.y, (y, i) => y + alpha * h.x[i]) }),
      flops: 2 * n,
    }),
    opCase({
      name: `add ${n}`, op: 'add', precision: 'fp32', specs: { a: input([n]), b: input([n]), out: output([n]) },
      run: (b, t) => b.add(t.out, t.a, t.b, n),
      reference: (h) => ({ out: ref.add(h.a, h.b) }),
      flops: n,
    }),
    opCase({
      name: `copy ${n}`, op: 'copy', precision: 'fp32', specs: { src: input([n]), dst: output([n]) },
      run: (b, t) => b.copy(t.dst, t.src),
      reference: (h) => ({ dst: h.src }),
      flops: 0,
    }),
    opCase({
      name: `fill ${n}`, op: 'fill', precision: 'fp32', specs: { t: output([n]) },
      run: (b, t) => b.fill(t.t, 0.375),
      reference: () => ({ t: new Float64Array(n).fill(0.375) }),
      flops: 0,
    }),
  ];
}

/** argmaxRows over small ids (ties: the first wins), then the row moves indexed by a row each. */
export function rowCases(n: number, l: number, c: number): OpCase[] {
  const ids: TensorSpec = { shape: [n, l], dtype: 'i32', role: 'in', init: integers(0, 5) };
  const idx: TensorSpec = { shape: [n], dtype: 'i32', role: 'in', init: integers(0, l) };
  const at = (h: HostValues, i: number) => (i * l + h.index[i]) * c;
  return [
    opCase({
      name: `argmaxRows ${n}x${l}`, op: 'argmaxRows', precision: 'fp32', specs: { x: ids, out: { shape: [n], dtype: 'i32', role: 'out' } },
      run: (b, t) => b.argmaxRows(t.out, t.x, n, l),
      reference: (h) => ({
        out: Float64Array.from({ length: n }, (_, i) => {
          let best = 0;
          for (let j = 1; j < l; j++) if (h.x[i * l + j] > h.x[i * l + best]) best = j;
          return best;
        }),
      }),
      flops: 0,
    }),
    opCase({
      name: `gatherRows ${n}x${l}x${c}`, op: 'gatherRows', precision: 'fp32', specs: { x: input([n, l, c]), index: idx, out: output([n, c]) },
      run: (b, t) => b.gatherRows(t.out, t.x, t.index, n, l, c),
      reference: (h) => ({ out: Float64Array.from({ length: n * c }, (_, e) => h.x[at(h, Math.floor(e / c)) + (e % c)]) }),
      flops: 0,
      bytes: 4 * (2 * n * c + n), // only the indexed rows of x are read
    }),
    opCase({
      name: `scatterRows ${n}x${l}x${c}`, op: 'scatterRows', precision: 'fp32', specs: { rows: input([n, c]), index: idx, dx: output([n, l, c]) },
      run: (b, t) => b.scatterRows(t.dx, t.rows, t.index, n, l, c),
      reference: (h) => {
        const dx = new Float64Array(n * l * c);
        for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) dx[at(h, i) + k] = h.rows[i * c + k];
        return { dx };
      },
      flops: 0,
    }),
    opCase({
      name: `scatterAddRows ${n}x${l}x${c}`, op: 'scatterAddRows', precision: 'fp32', specs: { rows: input([n, c]), index: idx, dx: accumulated([n, l, c]) },
      run: (b, t) => b.scatterAddRows(t.dx, t.rows, t.index, n, l, c),
      reference: (h) => {
        const dx = Float64Array.from(h.dx);
        for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) dx[at(h, i) + k] += h.rows[i * c + k];
        return { dx };
      },
      flops: n * c,
      bytes: 4 * (3 * n * c + n), // only the indexed rows of dx are read and written
    }),
  ];
}

// ---- the fused adapters --------------------------------------------------------------------

const SA_KEYS = ['wd', 'bd', 'win', 'bin', 'wo', 'bo', 'wu', 'bu'] as const;

function saParamSpecs(d: ref.SaDims, role: 'in' | 'acc', prefix = ''): Specs {
  const shapes: Record<(typeof SA_KEYS)[number], number[]> = {
    wd: [d.r, d.c], bd: [d.r], win: [3 * d.r, d.r], bin: [3 * d.r], wo: [d.r, d.r], bo: [d.r], wu: [d.c, d.r], bu: [d.c],
  };
  return Object.fromEntries(SA_KEYS.map((k) => [prefix + k, { shape: shapes[k], role, init: uniform(-0.3, 0.3) }]));
}

const pick = <K extends string>(t: Tensors, keys: readonly K[], prefix = '') =>
  Object.fromEntries(keys.map((k) => [k, t[prefix + k]])) as Record<K, Tensors[string]>;

const saFlops = (d: ref.SaDims) => {
  const rows = d.n * d.l;
  return 2 * rows * (2 * d.c * d.r + 4 * d.r * d.r) + 4 * d.n * d.l * d.l * d.r;
};

export function saAdapterCases(d: ref.SaDims, model = false): OpCase[] {
  const name = `${d.n}x${d.l}x${d.c} r${d.r} h${d.h}`;
  const tokens = [d.n, d.l, d.c];
  const fwd: Specs = { m: input(tokens), ...saParamSpecs(d, 'in'), out: output(tokens) };
  const bwd: Specs = { m: input(tokens), ...saParamSpecs(d, 'in'), dout: input(tokens), dm: output(tokens), ...saParamSpecs(d, 'acc', 'd') };
  const forward = (h: HostValues) => ref.saAdapterNaive(h.m, pick(h as never, SA_KEYS) as never, d);
  return [
    opCase({
      name: `saAdapterForward ${name}`, op: 'saAdapterForward', precision: 'fp32', model, specs: fwd,
      work: (b) => ({ saved: work(b.saAdapterSizes(d).saved) }),
      run: (b, t) => b.saAdapterForward({ ...d, out: t.out, saved: t.saved, m: t.m, params: pick(t, SA_KEYS) }),
      reference: (h) => ({ out: forward(h) }),
      flops: saFlops(d),
    }),
    opCase({
      name: `saAdapterBackward ${name}`, op: 'saAdapterBackward', requires: ['saAdapterForward'], precision: 'fp32', model, specs: bwd,
      work: (b) => ({ saved: work(b.saAdapterSizes(d).saved), scratch: work(b.saAdapterSizes(d).scratch), y: work(sizeOf(tokens)) }),
      setup: (b, t) => b.saAdapterForward({ ...d, out: t.y, saved: t.saved, m: t.m, params: pick(t, SA_KEYS) }),
      run: (b, t) => b.saAdapterBackward({
        ...d, dm: t.dm, grads: pick(t, SA_KEYS, 'd'), dout: t.dout, m: t.m, params: pick(t, ['wd', 'win', 'wo', 'wu']), saved: t.saved, scratch: t.scratch,
      }),
      grad: { loss: (h) => ref.dot(forward(h), h.dout), wrt: { dm: 'm', ...Object.fromEntries(SA_KEYS.map((k) => [`d${k}`, k])) } },
      flops: 2 * saFlops(d),
    }),
  ];
}

const MLP_KEYS = ['w1', 'b1', 'w2', 'b2'] as const;

export function mlpAdapterCases(d: ref.MlpDims, model = false): OpCase[] {
  const name = `${d.rows}x${d.c} r${d.r} out${d.cout}`;
  const params = (role: 'in' | 'acc', prefix = ''): Specs => ({
    [prefix + 'w1']: { shape: [d.r, d.c], role }, [prefix + 'b1']: { shape: [d.r], role },
    [prefix + 'w2']: { shape: [d.cout, d.r], role, init: uniform(-0.5, 0.5) }, [prefix + 'b2']: { shape: [d.cout], role },
  });
  const forward = (h: HostValues) => ref.mlpAdapterNaive(h.x, pick(h as never, MLP_KEYS) as never, d);
  const flops = 2 * d.rows * d.r * (d.c + d.cout);
  return [
    opCase({
      name: `mlpAdapterForward ${name}`, op: 'mlpAdapterForward', precision: 'fp32', model,
      specs: { x: input([d.rows, d.c]), ...params('in'), out: output([d.rows, d.cout]) },
      work: (b) => ({ saved: work(b.mlpAdapterSizes(d).saved) }),
      run: (b, t) => b.mlpAdapterForward({ ...d, out: t.out, saved: t.saved, x: t.x, params: pick(t, MLP_KEYS) }),
      reference: (h) => ({ out: forward(h) }),
      flops,
    }),
    opCase({
      name: `mlpAdapterBackward ${name}`, op: 'mlpAdapterBackward', requires: ['mlpAdapterForward'], precision: 'fp32', model,
      specs: { x: input([d.rows, d.c]), ...params('in'), dout: input([d.rows, d.cout]), dx: output([d.rows, d.c]), ...params('acc', 'd') },
      work: (b) => ({ saved: work(b.mlpAdapterSizes(d).saved), scratch: work(b.mlpAdapterSizes(d).scratch), y: work(d.rows * d.cout) }),
      setup: (b, t) => b.mlpAdapterForward({ ...d, out: t.y, saved: t.saved, x: t.x, params: pick(t, MLP_KEYS) }),
      run: (b, t) => b.mlpAdapterBackward({ ...d, dx: t.dx, grads: pick(t, MLP_KEYS, 'd'), dout: t.dout, x: t.x, params: pick(t, ['w1', 'w2']), saved: t.saved, scratch: t.scratch }),
      grad: { loss: (h) => ref.dot(forward(h), h.dout), wrt: { dx: 'x', dw1: 'w1', db1: 'b1', dw2: 'w2', db2: 'b2' } },
      flops: 2 * flops,
    }),
  ];
}

const SF_KEYS = ['w1', 'b1', 'w2', 'b2', 'w3', 'b3', 'w4', 'b4'] as const;

export function sideFusionCases(d: ref.SideDims, model = false): OpCase[] {
  const name = `${d.n}x${d.l}x${d.c} ${d.chained ? 'chained' : 'end-add'} ${d.mean ? 'mean' : 'per token'}`;
  const tokens = [d.n, d.l, d.c];
  const s4 = d.mean ? [d.n, d.c] : tokens;
  const params = (role: 'in' | 'acc', prefix = ''): Specs =>
    Object.fromEntries(SF_KEYS.map((k) => [prefix + k, { shape: k.startsWith('w') ? [d.c, d.c] : [d.c], role, init: uniform(-0.3, 0.3) }]));
  const taps: Specs = { f1: input(tokens), f2: input(tokens), f3: input(tokens) };
  if (d.chained) taps.f4 = input(tokens);
  const forward = (h: HostValues) =>
    ref.sideFusionNaive({ f1: h.f1, f2: h.f2, f3: h.f3, f4: h.f4 ?? new Float64Array(sizeOf(tokens)) }, pick(h as never, SF_KEYS) as never, d);
  const tapTensors = (t: Tensors) => ({ f1: t.f1, f2: t.f2, f3: t.f3, f4: t.f4 ?? null });
  const flops = 2 * (d.mean ? 3 * d.n * d.l + d.n : 4 * d.n * d.l) * d.c * d.c;
  const dtaps: Specs = { df1: output(tokens), df2: output(tokens), df3: output(tokens) };
  if (d.chained) dtaps.df4 = output(tokens);
  return [
    opCase({
      name: `sideFusionForward ${name}`, op: 'sideFusionForward', precision: 'fp32', model,
      specs: { ...taps, ...params('in'), s4: output(s4) },
      work: (b) => ({ saved: work(b.sideFusionSizes(d).saved) }),
      run: (b, t) => b.sideFusionForward({ ...d, s4: t.s4, saved: t.saved, taps: tapTensors(t), params: pick(t, SF_KEYS) }),
      reference: (h) => ({ s4: forward(h) }),
      flops,
    }),
    opCase({
      name: `sideFusionBackward ${name}`, op: 'sideFusionBackward', requires: ['sideFusionForward'], precision: 'fp32', model,
      specs: { ...taps, ...params('in'), ds4: input(s4), ...dtaps, ...params('acc', 'd') },
      work: (b) => ({ saved: work(b.sideFusionSizes(d).saved), scratch: work(b.sideFusionSizes(d).scratch), y: work(sizeOf(s4)) }),
      setup: (b, t) => b.sideFusionForward({ ...d, s4: t.y, saved: t.saved, taps: tapTensors(t), params: pick(t, SF_KEYS) }),
      run: (b, t) => b.sideFusionBackward({
        ...d, dtaps: { df1: t.df1, df2: t.df2, df3: t.df3, df4: t.df4 ?? null }, grads: pick(t, SF_KEYS, 'd'), ds4: t.ds4,
        taps: tapTensors(t), params: pick(t, ['w1', 'w2', 'w3', 'w4']), saved: t.saved, scratch: t.scratch,
      }),
      grad: {
        loss: (h) => ref.dot(forward(h), h.ds4),
        wrt: {
          df1: 'f1', df2: 'f2', df3: 'f3', ...(d.chained ? { df4: 'f4' } : {}),
          ...Object.fromEntries(SF_KEYS.map((k) => [`d${k}`, k])),
        },
      },
      flops: 2 * flops,
    }),
  ];
}

// ---- stems, losses, the optimiser ----------------------------------------------------------

export function patchEmbedCase(d: ref.PatchEmbedDims, model = false): OpCase {
  const g = d.imageSize / d.patchSize;
  const tokens = 1 + g * g;
  return opCase({
    name: `patchEmbed ${d.n}x3x${d.imageSize}^2 patch ${d.patchSize} width ${d.width}`, op: 'patchEmbed', precision: 'fp32', model,
    specs: {
      pixels: input([d.n, 3, d.imageSize, d.imageSize], uniform(-2, 2)), weight: input([d.width, 3, d.patchSize, d.patchSize], uniform(-0.1, 0.1)),
      classEmbedding: input([d.width]), positional: input([tokens, d.width]), out: output([d.n, tokens, d.width]),
    },
    run: (b, t) => b.patchEmbed({ ...d, out: t.out, pixels: t.pixels, weight: t.weight, classEmbedding: t.classEmbedding, positional: t.positional }),
    reference: (h) => ({ out: ref.patchEmbedRef(h.pixels, h.weight, h.classEmbedding, h.positional, d) }),
    flops: 2 * d.n * g * g * d.width * 3 * d.patchSize * d.patchSize,
  });
}

export function embeddingCase(n: number, l: number, c: number, vocab: number, positional: boolean, model = false): OpCase {
  const specs: Specs = {
    // Both ends of the id range appear: the first id of each row is 0 or vocab - 1.
    ids: { shape: [n, l], dtype: 'i32', role: 'in', init: (r, size) => Int32Array.from({ length: size }, (_, i) => (i % l === 0 ? (i / l) % 2 === 0 ? 0 : vocab - 1 : r.integer(0, vocab))) },
    table: input([vocab, c]), out: output([n, l, c]),
  };
  if (positional) specs.positional = input([l, c]);
  return opCase({
    name: `embeddingForward ${n}x${l}x${c} vocab ${vocab}${positional ? ' positional' : ''}`, op: 'embeddingForward', precision: 'fp32', model, specs,
    run: (b, t) => b.embeddingForward({ out: t.out, ids: t.ids, table: t.table, n, l, c, vocab, positional: t.positional ?? null }),
    reference: (h) => ({ out: ref.embeddingRef(h.ids, h.table, h.positional ?? null, n, l, c) }),
    flops: positional ? n * l * c : 0,
  });
}

export interface LossShape {
  n: number;
  e: number;
  /** Distinct image ids among the n pairs (fewer than n: pairs share images). */
  images: number;
  margin?: number;
  gamma?: number;
  contrastiveWeight?: number;
  tripletWeight?: number;
}

/** Unit rows, texts near their images so that some but not all triplet margins are violated. */
function embeddings(n: number, e: number, near: boolean): TensorSpec['init'] {
  return (r) => {
    const x = new Float32Array(n * e);
    const base = new SeededRandom(7);
    for (let i = 0; i < n * e; i++) x[i] = base.uniform(-1, 1) + (near ? r.uniform(-0.6, 0.6) : 0);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < e; k++) s += x[i * e + k] ** 2;
      for (let k = 0; k < e; k++) x[i * e + k] /= Math.sqrt(s);
    }
    return x;
  };
}

export function retrievalLossesCase(s: LossShape, model = false): OpCase {
  const { n, e } = s;
  const o: ref.RetrievalLossOptions = {
    logitScale: Math.fround(Math.log(100)), margin: s.margin ?? 0.1, gamma: s.gamma ?? 2,
    contrastiveWeight: s.contrastiveWeight ?? 1, tripletWeight: s.tripletWeight ?? 1,
  };
  const options = Object.entries(s).filter(([k]) => !['n', 'e', 'images'].includes(k)).map(([k, v]) => `${k} ${v}`).join(' ');
  return opCase({
    name: `retrievalLosses ${n}x${e} images ${s.images}${options ? ' ' + options : ''}`, op: 'retrievalLosses', precision: 'fp32', model,
    specs: {
      image: input([n, e], embeddings(n, e, false)), text: input([n, e], embeddings(n, e, true)),
      imageIds: { shape: [n], dtype: 'i32', role: 'in', init: (r, size) => Int32Array.from({ length: size }, (_, i) => (i < s.images ? i : r.integer(0, s.images))) },
      dImage: output([n, e]), dText: output([n, e]),
    },
    run: (b, t) => ({ ...b.retrievalLosses({ ...o, image: t.image, text: t.text, imageIds: t.imageIds, n, e, dImage: t.dImage, dText: t.dText }) }),
    reference: (h) => ref.retrievalLossesRef(h.image, h.text, h.imageIds, n, e, o),
    grad: { loss: (h) => ref.retrievalLossesRef(h.image, h.text, h.imageIds, n, e, o).total, wrt: { dImage: 'image', dText: 'text' } },
    flops: 4 * n * n * e,
    // Each hinge is margin + S_ij - S_ii, whose fp32 rounding (~1e-7) is large against the small
    // hinges; one hinge missing still moves the sum by a few percent.
    tolerance: 2e-4,
  });
}

export function adamwCase(sizes: number[], step: number, weightDecay = 0.01, model = false): OpCase {
  const h = { lr: 1e-3, step, beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay };
  const specs: Specs = {};
  sizes.forEach((n, k) => {
    specs[`p${k}`] = accumulated([n]);
    specs[`g${k}`] = input([n], uniform(-(10 ** (k - 2)), 10 ** (k - 2)));
    specs[`m${k}`] = accumulated([n], uniform(-1e-3, 1e-3));
    specs[`v${k}`] = accumulated([n], uniform(0, 1e-5));
  });
  const list = (t: Tensors, x: string) => sizes.map((_, k) => t[`${x}${k}`]);
  return opCase({
    name: `adamw ${sizes.join('+')} step ${step}${weightDecay ? '' : ' no decay'}`, op: 'adamw', precision: 'fp32', model, specs,
    run: (b, t) => b.adamw({ ...h, params: list(t, 'p'), grads: list(t, 'g'), expAvg: list(t, 'm'), expAvgSq: list(t, 'v') }),
    reference: (hv) => {
      const out: Record<string, F> = {};
      sizes.forEach((_, k) => {
        const r = ref.adamwRef(hv[`p${k}`], hv[`g${k}`], hv[`m${k}`], hv[`v${k}`], h);
        Object.assign(out, { [`p${k}`]: r.p, [`m${k}`]: r.m, [`v${k}`]: r.v });
      });
      return out;
    },
    flops: 12 * sizes.reduce((a, b) => a + b, 0),
  });
}

// ---- the tables ----------------------------------------------------------------------------

// GEMM shapes chosen to hit every edge of the blocking on every path: single elements, partial
// register tiles in M and N (14x32, 6x16 and 4x8 tiles), K in several blocks (K > 1024, 512 and
// 256 on AVX-512, AVX2 and scalar), M in several A blocks (500 rows at K 1100), N in several B
// blocks per thread (4200 columns at K 1024, with 2+ threads), and work enough to be split.
const GEMM_SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 37, 5], [3, 100, 1], [17, 33, 65], [14, 32, 16], [15, 33, 300], [29, 65, 520],
  [700, 40, 30], [500, 40, 1100], [2, 4200, 1024], [64, 64, 64], [300, 200, 150],
];
// Epilogue variants, cycled over shapes and transposes so each shape meets several.
const GEMM_VARIANTS: Array<Partial<GemmShape>> = [
  {},
  { beta: 1, bias: true },
  { alpha: 0.5, beta: 0.75, bias: true, activation: 'relu', pre: true },
  { alpha: -1.5, bias: true, activation: 'gelu', pre: true },
  { beta: 1, activation: 'gelu' },
  { alpha: 2, activation: 'relu' },
];

function gemmCases(): OpCase[] {
  const cases: OpCase[] = [];
  let v = 0;
  for (const [m, n, k] of GEMM_SHAPES) {
    for (const [transA, transB] of [[false, false], [false, true], [true, false], [true, true]]) {
      cases.push(gemmCase({ m, n, k, transA, transB, ...GEMM_VARIANTS[v++ % GEMM_VARIANTS.length] }));
    }
  }
  // Every activation with pre, against beta 0 and 1, on one shape with edges in M, N and K.
  for (const activation of ['none', 'relu', 'gelu'] as const) {
    for (const beta of [0, 1]) cases.push(gemmCase({ m: 31, n: 47, k: 290, transB: true, bias: true, activation, beta, pre: true }));
  }
  // The activations alone over a dense range: GELU's vectorised erf against the float64 one.
  for (const activation of ['relu', 'gelu'] as const) cases.push(gemmCase({ m: 1, n: 20001, k: 1, sweep: 10, activation, pre: true }));
  return cases;
}

// The model's attention shapes: ViT-B/32 (12 heads of 64 over 50 tokens), the text tower (8 of 64,
// 77 tokens, causal), the SA-adapter (8 of 16 over 50 tokens), and small odd ones (vector tails).
const ATTENTION_SHAPES: AttentionShape[] = [
  { b: 2, l: 7, h: 2, d: 4, causal: false }, { b: 2, l: 7, h: 2, d: 4, causal: true }, { b: 1, l: 9, h: 3, d: 5, causal: true },
  { b: 2, l: 13, h: 3, d: 20, causal: true }, { b: 1, l: 50, h: 12, d: 64, causal: false }, { b: 1, l: 77, h: 8, d: 64, causal: true },
  { b: 2, l: 50, h: 8, d: 16, causal: false },
];

/** Every case the tests run (TEST and GRAD modes), on small and model-head shapes. */
export function opCases(): OpCase[] {
  return [
    ...gemmCases(),
    gemmBf16Case({ m: 37, n: 70, k: 45, trans: true, bias: true, activation: 'gelu', pre: true }),
    gemmBf16Case({ m: 20, n: 33, k: 64, trans: false, beta: 1, residual: true, aActivation: 'gelu' }),
    gemmBf16Case({ m: 37, n: 70, k: 45, trans: true }, 'bf16Pack'),
    gemmBf16Case({ m: 5, n: 40, k: 33, trans: false }, 'bf16Pack'),
    biasGradCase(257, 45, false), biasGradCase(257, 45, true), biasGradCase(1, 7, false),
    ...(['none', 'relu', 'gelu'] as const).flatMap((a) => [activationBackwardCase(1201, a), activationBackwardCase(17, a)]),
    layerNormForwardCase(5, 37), layerNormForwardCase(3, 768, false), layerNormForwardCase(50, 768),
    layerNormBackwardCase(5, 37), layerNormBackwardCase(4, 17, false), layerNormBackwardCase(3, 512),
    ...ATTENTION_SHAPES.flatMap((s) => [attentionForwardCase(s), attentionBackwardCase(s)]),
    attentionForwardCase({ b: 1, l: 50, h: 12, d: 64, causal: false }, false),
    // |q.k|/sqrt(D) up to ~1e3: exp would overflow without the max shift.
    attentionForwardCase({ b: 1, l: 6, h: 2, d: 8, causal: false }, true, false, 40),
    attentionBackwardCase({ b: 1, l: 6, h: 2, d: 8, causal: false }, false, 40),
    ...elementwiseCases(1), ...elementwiseCases(70001),
    ...saAdapterCases({ n: 2, l: 7, c: 24, r: 16, h: 4 }), ...saAdapterCases({ n: 1, l: 50, c: 40, r: 128, h: 8 }),
    ...mlpAdapterCases({ rows: 7, c: 24, r: 13, cout: 24 }), ...mlpAdapterCases({ rows: 3, c: 512, r: 128, cout: 512 }),
    ...[true, false].flatMap((chained) => [true, false].flatMap((mean) => sideFusionCases({ n: 2, l: 5, c: 20, chained, mean }))),
    ...sideFusionCases({ n: 2, l: 1, c: 37, chained: true, mean: false }),
    patchEmbedCase({ n: 2, imageSize: 12, patchSize: 4, width: 10 }), patchEmbedCase({ n: 1, imageSize: 64, patchSize: 32, width: 768 }),
    embeddingCase(3, 5, 6, 11, true), embeddingCase(2, 77, 512, 1000, false),
    ...l2NormCases(7, 37), ...l2NormCases(1, 512),
    retrievalLossesCase({ n: 9, e: 16, images: 6 }),
    retrievalLossesCase({ n: 12, e: 32, images: 12, margin: 0.2, gamma: 1.5, contrastiveWeight: 0.5, tripletWeight: 2 }),
    retrievalLossesCase({ n: 8, e: 8, images: 3, tripletWeight: 0 }),
    adamwCase([1, 7, 1000, 40000, 33], 1), adamwCase([5, 300], 7, 0),
    ...rowCases(3, 9, 5), ...rowCases(4, 77, 512),
  ];
}

/**
 * Model-sized cases at batch 32 (ViT-B/32 at 224: 50 tokens of 768; the text tower: 77 of 512),
 * the shapes of one training step, for PERF mode.
 */
export function perfCases(): OpCase[] {
  const B = 32;
  const vis = B * 50;
  const txt = B * 77;
  const cases = [
    gemmCase({ m: vis, n: 2304, k: 768, transB: true, bias: true }, true), // qkv projection
    gemmCase({ m: vis, n: 3072, k: 768, transB: true, bias: true, activation: 'gelu', pre: true }, true), // MLP up
    gemmCase({ m: vis, n: 768, k: 3072, transB: true, bias: true }, true), // MLP down
    gemmCase({ m: vis, n: 768, k: 3072 }, true), // dX = dY W
    gemmCase({ m: 3072, n: 768, k: vis, transA: true, beta: 1 }, true), // dW += dY^T X
    gemmCase({ m: txt, n: 1536, k: 512, transB: true, bias: true }, true),
    gemmBf16Case({ m: vis, n: 3072, k: 768, trans: true, bias: true, activation: 'gelu' }, 'gemmBf16', true),
    biasGradCase(vis, 3072, true),
    activationBackwardCase(vis * 3072, 'gelu'),
    layerNormForwardCase(vis, 768, true, true), layerNormBackwardCase(vis, 768, true, true),
    attentionForwardCase({ b: B, l: 50, h: 12, d: 64, causal: false }, true, true),
    attentionBackwardCase({ b: B, l: 50, h: 12, d: 64, causal: false }, true),
    attentionForwardCase({ b: B, l: 77, h: 8, d: 64, causal: true }, true, true),
    attentionBackwardCase({ b: B, l: 77, h: 8, d: 64, causal: true }, true),
    ...elementwiseCases(vis * 768),
    ...saAdapterCases({ n: B, l: 50, c: 768, r: 128, h: 8 }, true),
    ...mlpAdapterCases({ rows: txt, c: 512, r: 128, cout: 512 }, true),
    ...sideFusionCases({ n: B, l: 50, c: 768, chained: true, mean: true }, true),
    ...sideFusionCases({ n: B, l: 1, c: 512, chained: false, mean: false }, true),
    patchEmbedCase({ n: B, imageSize: 224, patchSize: 32, width: 768 }, true),
    embeddingCase(B, 77, 512, 49408, true, true),
    ...l2NormCases(B, 512),
    retrievalLossesCase({ n: B, e: 512, images: 24 }, true),
    adamwCase([768 * 128, 128, 128 * 768, 768, 3 * 128 * 128], 10, 0.01, true),
    ...rowCases(B, 77, 512),
  ];
  return cases.map((c) => ({ ...c, model: true }));
}
