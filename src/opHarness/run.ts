/**
 * The op harness's modes, on any Backend and only through its interface (alloc, write, toHost,
 * free, supportsOp and the ops):
 * - TEST: a case's outputs against its float64 reference;
 * - GRAD: a backward op's gradients against central finite differences of its float64 forward
 *   (sampled elements, and the whole gradient's projections on a random direction and on the
 *   direction of the gradient first computed, which catches a gradient off by a constant factor);
 * - compareBackends: two backends (CUDA against the CPU, say) on the same fresh random inputs;
 * - PERF: the op's time per call (median of repeats), with its FLOP and byte counts.
 * Every mode poisons the outputs (NaN) and fails a case whose outputs are not all written.
 */
import type { Backend } from '../backend/backend';
import type { Tensor } from '../backend/tensor';
import { SeededRandom, hashSeed } from '../seededRandom';
import { Expected, HostValues, OpCase, Precision, TensorSpec, Tensors, initialValues, sizeOf } from './opCase';

/** Default relative tolerances, norm-wise and of the worst element against the largest, by precision. */
export const TOLERANCE: Record<Precision, number> = { fp32: 2e-5, bf16: 1e-2 };
/** Default relative tolerance of fp32 gradients against finite differences. */
export const GRAD_TOLERANCE = 1e-4;

// Globals looked up once: under jest these loops run in a vm context, where every lookup of a
// global such as Math goes through the context's interceptors and costs more than the work.
const { abs, max, sqrt } = Math;
const { isNaN } = Number;

const INT_POISON = -2147483648;
const FD_STEP = 1e-5;
const FD_SAMPLES = 12;

/** One output's comparison: norm-wise relative error, and the worst element's error relative to the largest value. */
export interface OutputCheck {
  output: string;
  normError: number;
  maxError: number;
  tolerance: number;
  ok: boolean;
  /** The worst element, for the message. */
  detail: string;
}

/** What a mode found for one case. */
export interface CaseReport {
  name: string;
  op: string;
  /** Why the case did not run (the backend does not support its op), or undefined. */
  skipped?: string;
  ok: boolean;
  checks: OutputCheck[];
  /** Outputs left (partly) unwritten, and other failures that are not a tolerance. */
  problems: string[];
}

/** A case's results on one backend: every output and accumulator, copied to the host. */
export interface CaseRun {
  outputs: Record<string, Float32Array | Int32Array>;
  /** The scalar results the op returned. */
  scalars: Record<string, number>;
  /** Outputs with poisoned elements left, as messages. */
  unwritten: string[];
}

function nameHash(name: string): number {
  let h = 0x9e3779b9;
  for (let i = 0; i < name.length; i++) h = hashSeed(h, name.charCodeAt(i));
  return h;
}

type Values = Record<string, Float32Array | Int32Array>;
// The last case's inputs, kept: a test runs one case on several ISAs and thread counts in a row.
let lastInputs: { c: OpCase; seed: number; values: Values } | null = null;

/**
 * The starting values of a case's in, acc and ghost tensors: a function of the seed and the names
 * only (never of the backend). Callers must not change them.
 */
export function caseInputs(c: OpCase, specs: Record<string, TensorSpec>, seed: number): Values {
  if (lastInputs?.c === c && lastInputs.seed === seed) return lastInputs.values;
  const values: Values = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.role !== 'in' && spec.role !== 'acc' && spec.role !== 'ghost') continue;
    values[name] = initialValues(spec, new SeededRandom(hashSeed(seed, nameHash(c.name), nameHash(name))), sizeOf(spec.shape));
  }
  lastInputs = { c, seed, values };
  return values;
}

/** Why a backend cannot run a case, or undefined when it can. */
export function unsupported(b: Backend, c: OpCase): string | undefined {
  const missing = [...new Set([c.op, ...(c.requires ?? [])])].filter((op) => !b.supportsOp(op));
  return missing.length ? `${missing.join(', ')} not supported on this ${b.device} backend` : undefined;
}

interface Placed {
  tensors: Tensors;
  specs: Record<string, TensorSpec>;
}

function place(b: Backend, c: OpCase, seed: number): Placed {
  const specs = c.tensors(b);
  const start = caseInputs(c, specs, seed);
  const tensors: Tensors = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.role === 'ghost') continue;
    const dtype = spec.dtype ?? 'f32';
    const t = b.alloc(spec.shape, dtype);
    const size = sizeOf(spec.shape);
    b.write(t, start[name] ?? (dtype === 'i32' ? new Int32Array(size).fill(INT_POISON) : new Float32Array(size).fill(NaN)));
    tensors[name] = t;
  }
  return { tensors, specs };
}

function release(b: Backend, tensors: Tensors): void {
  for (const t of new Set(Object.values(tensors))) b.free(t);
}

function copyOut(b: Backend, t: Tensor): Float32Array | Int32Array {
  const h = b.toHost(t);
  return h instanceof Int32Array ? h.slice() : new Float32Array(h as Float32Array);
}

/** Runs a case once on a backend from the seed's inputs; returns its outputs on the host. */
export function runCase(b: Backend, c: OpCase, seed: number): CaseRun {
  const { tensors, specs } = place(b, c, seed);
  try {
    c.setup?.(b, tensors);
    const scalars = c.run(b, tensors) ?? {};
    const outputs: CaseRun['outputs'] = {};
    const unwritten: string[] = [];
    for (const [name, spec] of Object.entries(specs)) {
      if (spec.role !== 'out' && spec.role !== 'acc') continue;
      const got = copyOut(b, tensors[name]);
      outputs[name] = got;
      let bad = 0;
      let first = -1;
      for (let i = 0; i < got.length; i++) {
        if (got instanceof Int32Array ? got[i] === INT_POISON : isNaN(got[i])) {
          bad++;
          if (first < 0) first = i;
        }
      }
      if (bad) unwritten.push(`${name}: ${bad} of ${got.length} elements ${spec.role === 'out' ? 'not written' : 'NaN'} (first [${first}])`);
    }
    return { outputs, scalars, unwritten };
  } finally {
    release(b, tensors);
  }
}

function asArray(v: ArrayLike<number> | number): ArrayLike<number> {
  return typeof v === 'number' ? [v] : v;
}

/**
 * Norm-wise relative error of got against want, and the worst element's error against want's
 * largest value, or against its own magnitude in `scale` when given.
 */
export function compareValues(output: string, got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number, scale?: ArrayLike<number>): OutputCheck {
  if (got.length !== want.length) {
    return { output, normError: Infinity, maxError: Infinity, tolerance, ok: false, detail: `length ${got.length}, expected ${want.length}` };
  }
  let diff2 = 0;
  let want2 = 0;
  let largest = 0;
  let worst = 0;
  let at = 0;
  const tiny = 1e-30;
  for (let i = 0; i < got.length; i++) {
    const d = abs(got[i] - want[i]);
    diff2 += d * d;
    want2 += want[i] * want[i];
    largest = max(largest, abs(want[i]));
    const e = scale ? d / max(scale[i], tiny) : d;
    if (!(e <= worst)) {
      worst = isNaN(e) ? Infinity : e;
      at = i;
    }
  }
  const normError = sqrt(diff2) / max(sqrt(want2), tiny);
  const maxError = scale ? worst : worst / max(largest, tiny);
  const ok = normError <= tolerance && maxError <= tolerance;
  return { output, normError, maxError, tolerance, ok, detail: `[${at}] = ${got[at]}, expected ${want[at]}` };
}

function report(b: Backend, c: OpCase, run: (() => { checks: OutputCheck[]; problems: string[] }) | null): CaseReport {
  const skipped = unsupported(b, c);
  if (skipped || !run) return { name: c.name, op: c.op, skipped: skipped ?? 'no check in this mode', ok: true, checks: [], problems: [] };
  const { checks, problems } = run();
  return { name: c.name, op: c.op, ok: problems.length === 0 && checks.every((k) => k.ok), checks, problems };
}

// Expected values depend on the case and the seed only, so they are computed once and shared by
// every backend, ISA and thread count the case runs on.
const expectations = new WeakMap<OpCase, Map<number, { reference?: Expected; scale?: Record<string, ArrayLike<number>>; grad?: GradExpectation }>>();

function expectationsOf(c: OpCase, seed: number) {
  let bySeed = expectations.get(c);
  if (!bySeed) expectations.set(c, (bySeed = new Map()));
  let e = bySeed.get(seed);
  if (!e) bySeed.set(seed, (e = {}));
  return e;
}

/** Host float64 copies of a case's starting values (the reference's and the forward's inputs). */
function hostValues(c: OpCase, b: Backend, seed: number): HostValues {
  const start = caseInputs(c, c.tensors(b), seed);
  const out: HostValues = {};
  for (const [k, v] of Object.entries(start)) out[k] = v instanceof Int32Array ? v.slice() : new Float64Array(v);
  return out;
}

/** TEST mode: every output (and scalar result) against the case's float64 reference. */
export function testCase(b: Backend, c: OpCase, seed = 1): CaseReport {
  return report(b, c, c.reference ? () => {
    const e = expectationsOf(c, seed);
    if (!e.reference) {
      const h = hostValues(c, b, seed);
      e.reference = c.reference!(h);
      e.scale = c.scale?.(h);
    }
    const r = runCase(b, c, seed);
    const tolerance = c.tolerance ?? TOLERANCE[c.precision];
    const checks = Object.entries(e.reference).map(([name, want]) => {
      const got = r.outputs[name] ?? (name in r.scalars ? [r.scalars[name]] : null);
      if (!got) return { output: name, normError: Infinity, maxError: Infinity, tolerance, ok: false, detail: 'not produced' };
      return compareValues(name, got, asArray(want), tolerance, e.scale?.[name]);
    });
    return { checks, problems: r.unwritten };
  } : null);
}

interface GradExpectation {
  /** Per gradient output: the sampled indices and their finite differences, and the directions (with their derivatives). */
  [output: string]: { indices: number[]; fd: number[]; directions: { v: Float64Array; fd: number }[] };
}

/** (L(x + h v) - L(x - h v)) / 2h with x changed in place and restored. */
function directionalDerivative(loss: (h: HostValues) => number, h: HostValues, x: Float64Array, v: Float64Array): { v: Float64Array; fd: number } {
  const saved = new Float64Array(x);
  for (let i = 0; i < x.length; i++) x[i] = saved[i] + FD_STEP * v[i];
  const up = loss(h);
  for (let i = 0; i < x.length; i++) x[i] = saved[i] - FD_STEP * v[i];
  const down = loss(h);
  x.set(saved);
  return { v, fd: (up - down) / (2 * FD_STEP) };
}

function finiteDifferences(c: OpCase, h: HostValues, seed: number): GradExpectation {
  const grad = c.grad!;
  const out: GradExpectation = {};
  for (const [output, wrt] of Object.entries(grad.wrt)) {
    const x = h[wrt];
    if (!(x instanceof Float64Array)) throw new Error(`op harness: ${c.name}: ${wrt} is not a float input`);
    const random = new SeededRandom(hashSeed(seed, nameHash(c.name), nameHash(output), 1));
    const indices = x.length <= FD_SAMPLES ? [...x.keys()] : [...new Set(Array.from({ length: FD_SAMPLES }, (_, i) => (i === 0 ? 0 : i === 1 ? x.length - 1 : random.integer(0, x.length))))];
    const fd = indices.map((i) => {
      const saved = x[i];
      x[i] = saved + FD_STEP;
      const up = grad.loss(h);
      x[i] = saved - FD_STEP;
      const down = grad.loss(h);
      x[i] = saved;
      return (up - down) / (2 * FD_STEP);
    });
    const directions = [directionalDerivative(grad.loss, h, x, Float64Array.from(x, () => random.uniform(-1, 1)))];
    out[output] = { indices, fd, directions };
  }
  return out;
}

/**
 * GRAD mode: each gradient output against central finite differences of the float64 forward
 * (the loss sum(out * dout)): sampled elements (the first, the last and random ones) relative to
 * the gradient's largest element, and the whole gradient's projection on random directions
 * relative to |g| |v|.
 */
export function gradCase(b: Backend, c: OpCase, seed = 1): CaseReport {
  return report(b, c, c.grad ? () => {
    const e = expectationsOf(c, seed);
    e.grad ??= finiteDifferences(c, hostValues(c, b, seed), seed);
    const start = caseInputs(c, c.tensors(b), seed);
    const r = runCase(b, c, seed);
    const tolerance = c.gradTolerance ?? (c.precision === 'fp32' ? GRAD_TOLERANCE : TOLERANCE[c.precision]);
    const checks: OutputCheck[] = [];
    for (const [output, want] of Object.entries(e.grad)) {
      const after = r.outputs[output];
      const before = start[output];
      const g = Float64Array.from(after, (v, i) => (before ? v - before[i] : v));
      const largest = max(...want.fd.map((v) => abs(v)), g.reduce((m, v) => max(m, abs(v)), 0), 1e-30);
      let worst = 0;
      let at = 0;
      want.indices.forEach((i, k) => {
        const d = abs(g[i] - want.fd[k]) / largest;
        if (!(d <= worst)) {
          worst = isNaN(d) ? Infinity : d;
          at = k;
        }
      });
      let projection = 0;
      let projectionAt = '';
      const gNorm = sqrt(g.reduce((s, v) => s + v * v, 0));
      if (want.directions.length === 1 && gNorm > 0) {
        // The direction of this first gradient, for every later run too: a gradient scaled by
        // 1 + e anywhere (or here) is off by e along it.
        const h = hostValues(c, b, seed);
        want.directions.push(directionalDerivative(c.grad!.loss, h, h[c.grad!.wrt[output]] as Float64Array, g.map((v) => v / gNorm)));
      }
      for (const { v, fd } of want.directions) {
        let dot = 0;
        let vNorm = 0;
        for (let i = 0; i < g.length; i++) {
          dot += g[i] * v[i];
          vNorm += v[i] * v[i];
        }
        const d = abs(dot - fd) / max(gNorm * sqrt(vNorm), 1e-30);
        if (!(d <= projection)) {
          projection = isNaN(d) ? Infinity : d;
          projectionAt = `<g, v> = ${dot}, finite difference ${fd}`;
        }
      }
      checks.push({
        output, normError: projection, maxError: worst, tolerance, ok: worst <= tolerance && projection <= tolerance,
        detail: `[${want.indices[at]}] = ${g[want.indices[at]]}, finite difference ${want.fd[at]}; ${projectionAt}`,
      });
    }
    return { checks, problems: r.unwritten };
  } : null);
}

/** Options of {@link compareBackends}. */
export interface CompareOptions {
  seed?: number;
  /** Relative tolerance by precision (defaults: {@link TOLERANCE}). */
  tolerance?: Partial<Record<Precision, number>>;
}

/**
 * Runs a case on two backends from the same fresh random inputs (poisoned outputs on both) and
 * compares every output and scalar result of `test` against `base` (norm-wise relative error and
 * the worst element against the largest), with the tolerance of the case's precision.
 */
export function compareBackends(c: OpCase, base: Backend, test: Backend, options: CompareOptions = {}): CaseReport {
  const seed = options.seed ?? 1;
  const skipped = unsupported(base, c) ?? unsupported(test, c);
  if (skipped) return { name: c.name, op: c.op, skipped, ok: true, checks: [], problems: [] };
  const want = runCase(base, c, seed);
  const got = runCase(test, c, seed);
  const tolerance = c.tolerance ?? options.tolerance?.[c.precision] ?? TOLERANCE[c.precision];
  const checks = [
    ...Object.entries(want.outputs).map(([name, w]) => compareValues(name, got.outputs[name] ?? [], w, tolerance)),
    ...Object.entries(want.scalars).map(([name, w]) => compareValues(name, [got.scalars[name]], [w], tolerance)),
  ];
  const problems = [...want.unwritten.map((p) => `${base.device}: ${p}`), ...got.unwritten.map((p) => `${test.device}: ${p}`)];
  return { name: c.name, op: c.op, ok: problems.length === 0 && checks.every((k) => k.ok), checks, problems };
}

/** Options of {@link perfCase}. */
export interface PerfOptions {
  seed?: number;
  /** Timed calls (after three untimed warm-up calls); default 10. */
  repeats?: number;
  /** Waits for the device to finish (a CUDA stream synchronise); nothing on the CPU. */
  sync?: () => void;
}

/** PERF mode's result for one case. */
export interface PerfResult {
  name: string;
  op: string;
  skipped?: string;
  /** Median milliseconds per call. */
  ms: number;
  gflops: number;
  gbytesPerSecond: number;
}

/** PERF mode: the median time of `repeats` calls of the op (its setup and three warm-up calls untimed). */
export function perfCase(b: Backend, c: OpCase, options: PerfOptions = {}): PerfResult {
  const skipped = unsupported(b, c);
  if (skipped) return { name: c.name, op: c.op, skipped, ms: NaN, gflops: NaN, gbytesPerSecond: NaN };
  const { tensors } = place(b, c, options.seed ?? 1);
  try {
    c.setup?.(b, tensors);
    // Warm-up calls: the ops written in JavaScript (argmaxRows, the row moves) need the JIT.
    for (let i = 0; i < 3; i++) c.run(b, tensors);
    options.sync?.();
    const times: number[] = [];
    for (let i = 0; i < (options.repeats ?? 10); i++) {
      const t0 = process.hrtime.bigint();
      c.run(b, tensors);
      options.sync?.();
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((x, y) => x - y);
    const ms = times[times.length >> 1];
    return { name: c.name, op: c.op, ms, gflops: c.flops / ms / 1e6, gbytesPerSecond: c.bytes / ms / 1e6 };
  } finally {
    release(b, tensors);
  }
}

/** One line per failed check or problem of a report, for test messages. */
export function describeFailures(r: CaseReport): string[] {
  return [
    ...r.problems.map((p) => `${r.name}: ${p}`),
    ...r.checks.filter((k) => !k.ok).map((k) =>
      `${r.name}: ${k.output} norm error ${k.normError.toExponential(2)}, worst ${k.maxError.toExponential(2)} > ${k.tolerance} (${k.detail})`),
  ];
}

/**
 * {@link compareBackends} over a list of cases (by default the whole test table), for a plain-Node
 * check such as a CUDA backend against the CPU one:
 *   const h = require('posapl-native/lib/opHarness');
 *   const failed = h.compareCases(h.opCases(), cpu, cuda).filter((r) => !r.ok);
 */
export function compareCases(cases: OpCase[], base: Backend, test: Backend, options: CompareOptions = {}): CaseReport[] {
  return cases.map((c) => compareBackends(c, base, test, options));
}
