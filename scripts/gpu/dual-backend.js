// A Backend that runs every op on the CPU backend and on the CUDA backend side by side and measures,
// op by op, how far CUDA's outputs are from the CPU's. Before each op the CUDA copies of its tensor
// arguments are overwritten with the CPU's values, so each op is judged on identical inputs (no
// error carried from the ops before it): the model supplies realistic shapes and values for every
// op of the table, and the CPU backend stays the truth the model runs on.
'use strict';
const path = require('path');

const lib = path.resolve(__dirname, '..', '..', 'lib');
const { Tensor } = require(path.join(lib, 'backend', 'tensor'));

const OPS = [
  'gemm', 'biasGrad', 'activationBackward', 'layerNormForward', 'layerNormBackward', 'attentionForward',
  'attentionBackward', 'axpy', 'add', 'saAdapterForward', 'saAdapterBackward', 'mlpAdapterForward',
  'mlpAdapterBackward', 'sideFusionForward', 'sideFusionBackward', 'patchEmbed', 'embeddingForward', 'l2NormForward',
  'l2NormBackward', 'retrievalLosses', 'adamw', 'argmaxRows', 'gatherRows', 'scatterRows', 'scatterAddRows', 'copy', 'fill',
];

const isPair = (v) => v instanceof Tensor && v.storage && v.storage.dual === true;

/** Every pair tensor in an argument value, with its path ('params.wd', 'grads[3]'). */
function pairs(v, at, out) {
  if (isPair(v)) out.push([at, v]);
  else if (Array.isArray(v)) v.forEach((x, i) => pairs(x, `${at}[${i}]`, out));
  else if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) for (const [k, x] of Object.entries(v)) pairs(x, at ? `${at}.${k}` : k, out);
  return out;
}

/** The argument value with each pair tensor replaced by its `side` ('cpu' or 'cuda'). */
function side(v, which) {
  if (isPair(v)) return v.storage[which];
  if (Array.isArray(v)) return v.map((x) => side(x, which));
  if (v && typeof v === 'object' && !ArrayBuffer.isView(v) && !(v instanceof Tensor)) {
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = side(x, which);
    return out;
  }
  return v;
}

/** { rel: ||a - b|| / ||a|| (max |a - b| when a is all zero), diffRms, refRms }; NaN in one only: Infinity. */
function compare(a, b) {
  let num = 0, den = 0, max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    if (Number.isNaN(b[i]) !== Number.isNaN(a[i])) return { rel: Infinity, diffRms: Infinity, refRms: 0 };
    num += d * d;
    den += a[i] * a[i];
    max = Math.max(max, Math.abs(d));
  }
  return { rel: den > 0 ? Math.sqrt(num / den) : max, diffRms: Math.sqrt(num / a.length), refRms: Math.sqrt(den / a.length) };
}

/** ||a - b|| / ||a||. */
function relativeError(a, b) {
  return compare(a, b).rel;
}

/**
 * Whether CUDA's output matches within `tol` norm-wise, or, for a reference that is itself
 * rounding noise of O(1) data (the mean of a LayerNorm input that the previous LayerNorm made
 * zero-mean: ~1e-9), within 1e-6 RMS of it.
 */
function within(c, tol) {
  return c.rel <= tol || (c.refRms <= 1e-6 && c.diffRms <= 1e-6);
}

class DualBackend {
  /** `tolerance`: the norm-wise relative error an output may have (1e-5 fp32, 1e-3 tf32). */
  constructor(cpu, cuda, tolerance) {
    this.tolerance = tolerance;
    this.cpu = cpu;
    this.cuda = cuda;
    this.device = 'cpu';
    this.allocations = cpu.allocations;
    /** Worst relative error per op and argument: Map<'op arg', { op, arg, error, calls, elements }>. */
    this.report = new Map();
    this.saAdapterSizes = cpu.saAdapterSizes;
    this.mlpAdapterSizes = cpu.mlpAdapterSizes;
    this.sideFusionSizes = cpu.sideFusionSizes;
    for (const op of OPS) this[op] = (...args) => this.run(op, args);
  }

  pair(cpuT, cudaT) {
    return new Tensor(cpuT.shape, cpuT.dtype, 'cpu', { dual: true, cpu: cpuT, cuda: cudaT });
  }

  alloc(shape, dtype) { return this.pair(this.cpu.alloc(shape, dtype), this.cuda.alloc(shape, dtype)); }
  free(t) { if (isPair(t)) { this.cpu.free(t.storage.cpu); this.cuda.free(t.storage.cuda); } }
  freeAll() { this.cpu.freeAll(); this.cuda.freeAll(); }
  view(t, offset, shape, dtype) {
    return this.pair(this.cpu.view(t.storage.cpu, offset, shape, dtype), this.cuda.view(t.storage.cuda, offset, shape, dtype));
  }
  fromHost(a, shape) { return this.pair(this.cpu.fromHost(a, shape), this.cuda.fromHost(a, shape)); }
  toHost(t) { return this.cpu.toHost(t.storage.cpu); }
  takeHost(t) { const out = this.cpu.toHost(t.storage.cpu).slice(); this.free(t); return out; }
  hostView() { return null; }
  write(t, a) { this.cpu.write(t.storage.cpu, a); this.cuda.write(t.storage.cuda, a); }
  supportsOp(op) { return this.cpu.supportsOp(op) && this.cuda.supportsOp(op); }

  run(op, args) {
    const tensors = pairs(args, '', []);
    // Identical inputs: the CUDA side starts from the CPU's values of every argument.
    for (const [, t] of tensors) if (t.size > 0) this.cuda.write(t.storage.cuda, this.cpu.toHost(t.storage.cpu));
    const want = this.cpu[op](...side(args, 'cpu'));
    const got = this.cuda[op](...side(args, 'cuda'));
    for (const [at, t] of tensors) {
      if (t.size === 0) continue;
      const a = this.cpu.toHost(t.storage.cpu);
      const b = this.cuda.toHost(t.storage.cuda);
      this.note(op, at || 'arg', compare(a, b));
    }
    if (want && typeof want === 'object' && !(want instanceof Tensor)) {
      for (const k of Object.keys(want)) {
        const rel = Math.abs(want[k] - got[k]) / Math.max(Math.abs(want[k]), 1e-30);
        this.note(op, `value ${k}`, { rel, diffRms: Math.abs(want[k] - got[k]), refRms: Math.abs(want[k]) });
      }
    }
    return want;
  }

  /** Keeps, per op and argument, the comparison with the worst relative error and whether all passed. */
  note(op, arg, c) {
    const key = `${op} ${arg}`;
    const r = this.report.get(key) ?? { op, arg, error: 0, diffRms: 0, refRms: 0, calls: 0, ok: true };
    if (c.rel >= r.error) Object.assign(r, { error: c.rel, diffRms: c.diffRms, refRms: c.refRms });
    r.ok = r.ok && within(c, this.tolerance);
    r.calls += 1;
    this.report.set(key, r);
  }

  /** Per op: the worst relative error over its arguments, and whether every comparison passed. */
  perOp() {
    const byOp = new Map();
    for (const r of this.report.values()) {
      const o = byOp.get(r.op) ?? { op: r.op, error: 0, worstArg: '', calls: 0, ok: true, nearZero: false };
      if (r.error >= o.error) Object.assign(o, { error: r.error, worstArg: r.arg, diffRms: r.diffRms, refRms: r.refRms });
      o.ok = o.ok && r.ok;
      o.nearZero = o.nearZero || (r.ok && r.error > this.tolerance);
      o.calls = Math.max(o.calls, r.calls);
      byOp.set(r.op, o);
    }
    return [...byOp.values()].sort((a, b) => a.op.localeCompare(b.op));
  }
}

module.exports = { DualBackend, compare, relativeError, within, OPS };
