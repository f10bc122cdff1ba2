#!/usr/bin/env node
// The one GPU check of the CUDA backend (issue 13): plain Node, no jest, nothing from node_modules
// but node-gyp-build (the CPU addon's loader). Run it on a GPU host through scripts/gpu-check.sh.
//   0. every case of the op harness (src/opHarness) on CUDA: TEST against float64 references, GRAD
//      against finite differences, and against the CPU backend on fresh random inputs;
//   1. every op of the model, CUDA against the CPU backend on identical inputs (dual backend),
//      tiny and ViT-B/32 models, both flag sets (rsitmd: chained Side Fusion; rsicd: per-layer POS
//      adapters, end-add), fp32 and tf32;
//   2. the model on CUDA against the CPU path, run independently: embeddings, losses, gradients,
//      parameters after one AdamW step;
//   3. timings: training step at batch 32 and 256, encoding at batch 256, peak device memory, and
//      PyTorch eager (tools/reference/bench_step_cuda.py) in the same run;
//   4. a short table last; everything in OUT/gpu-check-<sections>.json (OUT = $OUT or ./gpu-check-out).
// Options: --sections harness,ops,model,timing,torch (default all)  --steps N (timing repeats, default 6)
//          --timing-config rsitmd|rsicd|tiny-rsitmd|tiny-rsicd  --batches 32,256
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const lib = path.join(root, 'lib');
const { CpuBackend, CudaBackend } = require(path.join(lib, 'backend'));
const { PosaplModel } = require(path.join(lib, 'posapl', 'model'));
const { resolveConfig, PRESETS } = require(path.join(lib, 'clip', 'config'));
const { DEMO_CONFIG } = require(path.join(lib, 'demo', 'config'));
const { SeededRandom } = require(path.join(lib, 'seededRandom'));
const { DualBackend, relativeError } = require('./gpu/dual-backend');

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const sections = new Set(option('sections', 'harness,ops,model,timing,torch').split(','));
const steps = Number(option('steps', '6'));
// The timed model and batches (a tiny model and small batches smoke-test the script itself).
const timingConfig = option('timing-config', 'rsitmd');
const batches = option('batches', '32,256').split(',').map(Number);
const out = process.env.OUT || path.join(root, 'gpu-check-out');
fs.mkdirSync(out, { recursive: true });
const results = { started: new Date().toISOString(), sections: [...sections] };
const save = () => fs.writeFileSync(path.join(out, `gpu-check-${[...sections].join('-')}.json`), JSON.stringify(results, null, 1));
const log = (...a) => console.log(...a);
const failures = [];

// Tolerances of issue 13 (norm-wise relative).
const TOL = { fp32: 1e-5, tf32: 1e-3 };

const TINY_RSITMD = DEMO_CONFIG;
const TINY_RSICD = { ...DEMO_CONFIG, posapl: { ...PRESETS.rsicd.posapl, down_dim: 16, sa_heads: 2, down_dim_pos: 16 } };
const CONFIGS = { 'tiny-rsitmd': TINY_RSITMD, 'tiny-rsicd': TINY_RSICD, 'vitb32-rsitmd': 'rsitmd', 'vitb32-rsicd': 'rsicd' };

/** A seeded batch: pixels in [-1,1], ids with SOT/EOT like the tokenizer, POS ids, paired image ids. */
function makeBatch(config, n, seed) {
  const r = new SeededRandom(seed);
  const L = config.text_cfg.context_length;
  const S = config.vision_cfg.image_size;
  const V = config.text_cfg.vocab_size;
  const pixels = new Float32Array(n * 3 * S * S).map(() => r.uniform(-1, 1));
  const ids = new Int32Array(n * L);
  const posIds = new Int32Array(n * L);
  for (let i = 0; i < n; i++) {
    const len = r.integer(2, L - 1);
    ids[i * L] = V - 2;
    posIds[i * L] = V - 2;
    for (let j = 1; j < len; j++) { ids[i * L + j] = r.integer(1, V - 3); posIds[i * L + j] = r.integer(1, V - 3); }
    ids[i * L + len] = V - 1;
    posIds[i * L + len] = V - 1;
  }
  const imageIds = Int32Array.from({ length: n }, (_, i) => i >> 1);
  return { pixels, ids, posIds, imageIds, n };
}

function modelOn(backend, config, seed = 1) {
  const model = new PosaplModel(resolveConfig(config), backend);
  model.params.initialise(seed);
  // The zero-initialised up projections would hide the adapters' paths from the check.
  const r = new SeededRandom(seed + 100);
  for (const p of model.params.trainable()) {
    const host = backend.toHost(p.value).slice();
    if (host.every((x) => x === 0)) {
      for (let i = 0; i < host.length; i++) host[i] = r.normal() * 0.02;
      model.params.write(p, host);
    }
  }
  return model;
}

function trainingStep(model, batch) {
  model.zeroGradients();
  const losses = model.lossAndGradients(batch);
  model.step(1e-3);
  return losses;
}

function sectionOps() {
  log('== ops: CUDA against the CPU backend, op by op on identical inputs');
  results.ops = [];
  for (const [name, config, n] of [['tiny-rsitmd', TINY_RSITMD, 6], ['tiny-rsicd', TINY_RSICD, 6], ['vitb32-rsitmd', 'rsitmd', 2], ['vitb32-rsicd', 'rsicd', 2]]) {
    for (const mode of ['fp32', 'tf32']) {
      if (mode === 'tf32' && name.startsWith('vitb32')) continue;
      const t0 = Date.now();
      const cuda = new CudaBackend();
      cuda.setMathMode(mode);
      const dual = new DualBackend(new CpuBackend(), cuda, TOL[mode]);
      const model = modelOn(dual, config);
      const batch = makeBatch(model.config, n, 7);
      model.encodeImages(batch.pixels, n);
      model.encodeTexts(batch.ids, batch.posIds, n);
      trainingStep(model, batch);
      trainingStep(model, { ...batch, microBatch: Math.max(1, n >> 1) });
      cuda.synchronize();
      const perOp = dual.perOp();
      for (const r of perOp) {
        results.ops.push({ model: name, mode, ...r });
        if (!r.ok) failures.push(`op ${r.op} (${name}, ${mode}): ${r.error.toExponential(2)} at ${r.worstArg}`);
      }
      const bad = perOp.filter((r) => !r.ok);
      const nearZero = perOp.filter((r) => r.nearZero);
      log(`  ${name} ${mode}: ${perOp.length} ops, ${bad.length} over ${TOL[mode]}` +
        `${bad.length ? `: ${bad.map((r) => `${r.op}=${r.error.toExponential(2)}(${r.worstArg})`).join(' ')}` : ''}` +
        `${nearZero.length ? `; passed on a near-zero reference (RMS <= 1e-6): ${nearZero.map((r) => `${r.op}(${r.worstArg} rel ${r.error.toExponential(1)}, rms ${r.diffRms.toExponential(1)} of ${r.refRms.toExponential(1)})`).join(' ')}` : ''} (${Date.now() - t0} ms)`);
      model.dispose();
      save();
    }
  }
}

/**
 * The op harness (src/opHarness, the cases `npm test` runs on every CPU ISA) on CUDA: TEST
 * (against float64 references) and GRAD (against finite differences) on the CUDA backend, and
 * every case on CUDA against the CPU backend from the same fresh random inputs (outputs poisoned
 * with NaN first: an unwritten element fails), in fp32 and, for the cases TF32 changes, in tf32.
 */
function sectionHarness() {
  log('== harness: every op case on CUDA (TEST, GRAD, and against the CPU backend)');
  const harness = require(path.join(lib, 'opHarness'));
  const seed = 1 + Math.floor(Math.random() * 2 ** 30); // fresh inputs each run (recorded)
  results.harness = { seed, cases: [] };
  const cpu = new CpuBackend();
  const cuda = new CudaBackend();
  const cases = harness.opCases();
  const tally = { test: [0, 0], grad: [0, 0], compare: [0, 0], tf32: [0, 0], skipped: 0 };
  const count = (k, ok) => { tally[k][ok ? 0 : 1] += 1; };
  for (const c of cases) {
    const row = { name: c.name, op: c.op, precision: c.precision };
    try {
      cuda.setMathMode('fp32');
      const missing = harness.unsupported(cuda, c);
      if (missing) { row.skipped = missing; tally.skipped += 1; results.harness.cases.push(row); continue; }
      // Backward cases have no TEST check (they are GRAD's and the comparison's).
      const t = harness.testCase(cuda, c, seed);
      if (!t.skipped) { row.test = summarize(t); count('test', t.ok); }
      if (c.grad) { const g = harness.gradCase(cuda, c, seed); row.grad = summarize(g); count('grad', g.ok); }
      // (bf16Pack's cases read the packing back through gemmBf16: layouts are each backend's own.)
      const k = harness.compareBackends(c, cpu, cuda, { seed: seed + 1, tolerance: { fp32: TOL.fp32, bf16: 1e-2 } });
      if (k.skipped) row.compareSkipped = k.skipped;
      else { row.compare = summarize(k); count('compare', k.ok); }
      if (c.precision === 'fp32' && TF32_OPS.has(c.op)) {
        cuda.setMathMode('tf32');
        const k32 = harness.compareBackends(c, cpu, cuda, { seed: seed + 2, tolerance: { fp32: TOL.tf32 } });
        row.tf32 = summarize(k32); count('tf32', k32.ok);
      }
    } catch (e) {
      row.error = `${e.code || ''} ${e.message}`;
      count('test', false);
    }
    const bad = ['test', 'grad', 'compare', 'tf32'].filter((k) => row[k] && !row[k].ok);
    if (bad.length || row.error) {
      failures.push(`harness ${c.name}: ${row.error || bad.map((k) => `${k} ${row[k].worst}`).join('; ')}`);
      log(`  FAIL ${c.name}: ${row.error || bad.map((k) => `${k} ${row[k].worst} ${row[k].problems.join(' ')}`).join('; ')}`);
    }
    results.harness.cases.push(row);
  }
  cuda.setMathMode('fp32');
  results.harness.tally = tally;
  log(`  ${cases.length} cases (seed ${seed}): TEST ${tally.test[0]} ok / ${tally.test[1]} failed, GRAD ${tally.grad[0]}/${tally.grad[1]}, ` +
    `against CPU fp32 ${tally.compare[0]}/${tally.compare[1]}, tf32 ${tally.tf32[0]}/${tally.tf32[1]}, skipped ${tally.skipped}`);
  // PERF mode on CUDA: the model-sized cases of one batch-32 step, each op synchronised.
  results.harness.perf = [];
  for (const c of harness.perfCases()) {
    try {
      const p = harness.perfCase(cuda, c, { seed, repeats: 20, sync: () => cuda.synchronize() });
      results.harness.perf.push(p);
    } catch (e) {
      results.harness.perf.push({ name: c.name, op: c.op, error: `${e.code || ''} ${e.message}` });
    }
  }
  log('  PERF (CUDA, batch-32 shapes): ' + results.harness.perf.filter((p) => !p.error && !p.skipped)
    .map((p) => `${p.name} ${(p.ms * 1e3).toFixed(0)} us (${p.gflops.toFixed(0)} GFLOP/s, ${p.gbytesPerSecond.toFixed(0)} GB/s)`).join('; '));
  cuda.freeAll();
  save();
}

// The ops whose products TF32 changes (the adapters and the losses stay exact fp32 under it).
const TF32_OPS = new Set(['gemm', 'patchEmbed']);

/** A case report in brief: ok, the worst check, problems. */
function summarize(r) {
  const worst = r.checks.reduce((w, k) => (!w || k.normError > w.normError ? k : w), null);
  return { ok: r.ok, worst: worst ? `${worst.output} ${worst.normError.toExponential(2)} (max ${worst.maxError.toExponential(2)}, tol ${worst.tolerance})` : '', problems: r.problems };
}

function worstOf(mapA, mapB) {
  let worst = 0, at = '';
  for (const [k, a] of mapA) {
    const e = relativeError(a, mapB.get(k));
    if (e > worst) { worst = e; at = k; }
  }
  return { worst, at };
}

function sectionModel() {
  log('== model: CUDA against CPU, run independently (fp32)');
  results.model = [];
  for (const [name, config] of Object.entries(CONFIGS)) {
    const n = name.startsWith('tiny') ? 8 : 8;
    const t0 = Date.now();
    const cpu = modelOn(new CpuBackend(), config);
    const gpu = modelOn(new CudaBackend(), config);
    const batch = makeBatch(cpu.config, n, 11);
    const img = relativeError(cpu.encodeImages(batch.pixels, n), gpu.encodeImages(batch.pixels, n));
    const txt = relativeError(cpu.encodeTexts(batch.ids, batch.posIds, n), gpu.encodeTexts(batch.ids, batch.posIds, n));
    cpu.zeroGradients(); gpu.zeroGradients();
    const lc = cpu.lossAndGradients(batch), lg = gpu.lossAndGradients(batch);
    const loss = Math.max(Math.abs(lc.contrastive - lg.contrastive) / Math.abs(lc.contrastive), Math.abs(lc.triplet - lg.triplet) / Math.max(Math.abs(lc.triplet), 1e-30));
    const grads = worstOf(cpu.gradients(), gpu.gradients());
    cpu.step(1e-3); gpu.step(1e-3);
    const host = (m) => new Map([...m.stateDict()].filter(([k]) => m.params.get(k).spec.trainable).map(([k, v]) => [k, v.data]));
    const after = worstOf(host(cpu), host(gpu));
    const row = { model: name, n, images: img, texts: txt, losses: loss, gradients: grads.worst, worstGradient: grads.at, paramsAfterStep: after.worst, ms: Date.now() - t0 };
    // AdamW's first step moves each element by about lr * sign(g): where a gradient is rounding
    // noise its sign may differ, so the parameters after a step are held to the gradients' 1e-3.
    row.ok = img <= 1e-4 && txt <= 1e-4 && loss <= 1e-4 && grads.worst <= 1e-3 && after.worst <= 1e-3;
    if (!row.ok) failures.push(`model ${name}: ${JSON.stringify(row)}`);
    results.model.push(row);
    log(`  ${name}: images ${img.toExponential(2)} texts ${txt.toExponential(2)} losses ${loss.toExponential(2)} ` +
      `gradients ${grads.worst.toExponential(2)} (${grads.at}) after step ${after.worst.toExponential(2)} ${row.ok ? 'ok' : 'FAIL'} (${row.ms} ms)`);
    // bf16: the frozen backbone's products in bf16 on CUDA against the CPU's fp32 embeddings.
    gpu.setPrecision('bf16');
    const cos = (a, b, e) => {
      let worst = 1;
      for (let i = 0; i < n; i++) {
        let ab = 0, aa = 0, bb = 0;
        for (let j = 0; j < e; j++) { const x = a[i * e + j], y = b[i * e + j]; ab += x * y; aa += x * x; bb += y * y; }
        worst = Math.min(worst, ab / Math.sqrt(aa * bb));
      }
      return worst;
    };
    const E = cpu.config.embed_dim;
    row.bf16Precision = gpu.precision;
    row.bf16ImageCosine = cos(cpu.encodeImages(batch.pixels, n), gpu.encodeImages(batch.pixels, n), E);
    row.bf16TextCosine = cos(cpu.encodeTexts(batch.ids, batch.posIds, n), gpu.encodeTexts(batch.ids, batch.posIds, n), E);
    const bf16ok = gpu.precision === 'bf16' && row.bf16ImageCosine >= 0.999 && row.bf16TextCosine >= 0.999;
    if (!bf16ok) failures.push(`model ${name} bf16: precision ${gpu.precision}, cosine images ${row.bf16ImageCosine}, texts ${row.bf16TextCosine}`);
    log(`  ${name} bf16 (${gpu.precision}): worst cosine images ${row.bf16ImageCosine.toFixed(6)} texts ${row.bf16TextCosine.toFixed(6)} ${bf16ok ? 'ok' : 'FAIL'}`);
    cpu.dispose(); gpu.dispose();
    save();
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Runs `f` once, then `steps` times between synchronisations; the median seconds. */
function timed(backend, f) {
  f();
  backend.synchronize();
  const ts = [];
  for (let i = 0; i < steps; i++) {
    const t0 = process.hrtime.bigint();
    f();
    backend.synchronize();
    ts.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { median: median(ts), all: ts };
}

// The CUDA addon's functions that are not ops (left out of the per-op profile).
const NOT_OPS = new Set(['synchronize', 'deviceMemory', 'cudaProbe', 'info', 'setIsa', 'setMathMode', 'deviceAlloc', 'deviceFree']);

/**
 * Where one step's time goes: every op of the CUDA addon followed by a synchronisation, its wall
 * time (launch, host work and device time) summed per op. The sum exceeds a normal step, which
 * overlaps host and device.
 */
function profileStep(backend, step) {
  const native = backend.addon;
  const original = {};
  const totals = {};
  for (const name of Object.keys(native)) {
    if (typeof native[name] !== 'function' || NOT_OPS.has(name)) continue;
    original[name] = native[name];
    native[name] = (...args) => {
      const t0 = process.hrtime.bigint();
      const r = original[name](...args);
      original.synchronize ? original.synchronize() : native.synchronize();
      const t = totals[name] ?? (totals[name] = { op: name, calls: 0, ms: 0 });
      t.calls += 1;
      t.ms += Number(process.hrtime.bigint() - t0) / 1e6;
      return r;
    };
  }
  try {
    backend.synchronize();
    const t0 = process.hrtime.bigint();
    step();
    backend.synchronize();
    return { totalMs: Number(process.hrtime.bigint() - t0) / 1e6, ops: Object.values(totals).sort((a, b) => b.ms - a.ms) };
  } finally {
    for (const [name, f] of Object.entries(original)) native[name] = f;
  }
}

function sectionTiming() {
  log(`== timing: CUDA backend (${timingConfig}, random weights; a fresh model per precision)`);
  results.timing = { step: [], encode: [], profile: [] };
  // model.setPrecision: tf32 runs the frozen backbone's products on TF32 tensor cores; bf16 runs
  // them in bf16 (fp32 accumulation) and its other fp32 products in TF32; both keep the adapters
  // and the losses in exact fp32 (cuda_common.cuh).
  for (const mode of ['fp32', 'tf32', 'bf16']) {
    const backend = new CudaBackend();
    const model = modelOn(backend, CONFIGS[`vitb32-${timingConfig}`] ?? CONFIGS[timingConfig]);
    model.setPrecision(mode);
    const largest = Math.max(...batches);
    for (const n of batches) {
      const batch = makeBatch(model.config, n, 3);
      backend.synchronize();
      backend.addon.deviceMemory({ resetPeak: true });
      const t = timed(backend, () => trainingStep(model, batch));
      const mem = backend.addon.deviceMemory({ resetPeak: false });
      const row = { mode, precision: model.precision, batch: n, seconds: t.median, all: t.all, peakBytes: mem.peakBytes };
      results.timing.step.push(row);
      log(`  step ${mode} batch ${n}: ${(row.seconds * 1e3).toFixed(1)} ms (peak ${(mem.peakBytes / 2 ** 30).toFixed(2)} GiB)`);
      if (n === largest && mode !== 'fp32') {
        const p = profileStep(backend, () => trainingStep(model, batch));
        results.timing.profile.push({ mode, batch: n, ...p });
        log(`  profile ${mode} batch ${n} (every op synchronised: ${p.totalMs.toFixed(1)} ms): ` +
          p.ops.slice(0, 10).map((o) => `${o.op} ${o.ms.toFixed(1)} ms/${o.calls}`).join(', '));
      }
      save();
    }
    const n = largest;
    const batch = makeBatch(model.config, n, 5);
    backend.addon.deviceMemory({ resetPeak: true });
    const img = timed(backend, () => model.encodeImages(batch.pixels, n)).median;
    const txt = timed(backend, () => model.encodeTexts(batch.ids, batch.posIds, n)).median;
    const mem = backend.addon.deviceMemory({ resetPeak: false });
    results.timing.encode.push({ mode, batch: n, imagesPerS: n / img, captionsPerS: n / txt, peakBytes: mem.peakBytes });
    log(`  encode ${mode} batch ${n}: ${(n / img).toFixed(0)} images/s, ${(n / txt).toFixed(0)} captions/s`);
    save();
    model.dispose();
  }
}

function sectionTorch() {
  log('== timing: PyTorch eager (tools/reference/bench_step_cuda.py)');
  const r = spawnSync('python3', [path.join(root, 'tools', 'reference', 'bench_step_cuda.py'), '--steps', String(steps)], { encoding: 'utf8', timeout: 240000 });
  if (r.status !== 0) {
    results.torch = { error: (r.stderr || '').slice(-2000) || `exit ${r.status} ${r.signal || ''}` };
    log(`  torch failed: ${results.torch.error.slice(-400)}`);
  } else {
    results.torch = JSON.parse(r.stdout.trim().split('\n').pop());
    for (const s of results.torch.step) log(`  torch step ${s.precision} batch ${s.batch}: ${(s.seconds * 1e3).toFixed(1)} ms (peak ${(s.peak_bytes / 2 ** 30).toFixed(2)} GiB)`);
    for (const e of results.torch.encode) log(`  torch encode ${e.precision} batch ${e.batch}: ${e.images_per_s.toFixed(0)} images/s, ${e.captions_per_s.toFixed(0)} captions/s`);
  }
  save();
}

function table() {
  log('\n== summary');
  const probe = results.probe;
  log(`device ${probe.device} (cc ${probe.computeCapability}, driver ${probe.driverVersion}, runtime ${probe.runtimeVersion})`);
  if (results.ops) {
    const worst = {};
    for (const r of results.ops) {
      const k = `${r.op}/${r.mode}`;
      if (!worst[k] || r.error > worst[k].error) worst[k] = r;
    }
    log('op                   fp32 worst   tf32 worst');
    const ops = [...new Set(results.ops.map((r) => r.op))].sort();
    for (const op of ops) log(`${op.padEnd(20)} ${(worst[`${op}/fp32`]?.error ?? NaN).toExponential(2).padStart(10)}   ${(worst[`${op}/tf32`]?.error ?? NaN).toExponential(2).padStart(10)}`);
  }
  if (results.timing) {
    const torchStep = (p, n) => results.torch?.step?.find((s) => s.precision === p && s.batch === n);
    log('step         ours ms   torch ms   speed-up   ours GiB  torch GiB');
    for (const s of results.timing.step) {
      const t = torchStep(s.mode, s.batch);
      log(`${s.mode} b${String(s.batch).padEnd(5)} ${(s.seconds * 1e3).toFixed(1).padStart(9)} ${t ? (t.seconds * 1e3).toFixed(1).padStart(10) : '         -'} ${t ? (t.seconds / s.seconds).toFixed(2).padStart(9) + 'x' : '         -'} ${(s.peakBytes / 2 ** 30).toFixed(2).padStart(9)} ${t ? (t.peak_bytes / 2 ** 30).toFixed(2).padStart(10) : '         -'}`);
    }
    for (const e of results.timing.encode) log(`encode ${e.mode} b${e.batch}: ${e.imagesPerS.toFixed(0)} images/s, ${e.captionsPerS.toFixed(0)} captions/s`);
  }
  log(failures.length ? `FAILED ${failures.length}:\n  ${failures.slice(0, 30).join('\n  ')}` : 'all checks passed');
}

function main() {
  const { cudaAddon } = require(path.join(lib, 'native', 'cudaAddon'));
  const probe = cudaAddon().cudaProbe();
  results.probe = probe;
  log(`CUDA: ${probe.device}, ${(probe.memoryBytes / 2 ** 30).toFixed(0)} GiB, cc ${probe.computeCapability}`);
  save();
  const run = (name, f) => {
    if (!sections.has(name)) return;
    try {
      f();
    } catch (e) {
      failures.push(`${name}: ${e.code || ''} ${e.stack || e}`);
      log(`  ${name} threw: ${e.code || ''} ${e.stack || e}`);
      results[`${name}Error`] = String(e.stack || e);
      save();
    }
  };
  run('harness', sectionHarness);
  run('ops', sectionOps);
  run('model', sectionModel);
  run('timing', sectionTiming);
  run('torch', sectionTorch);
  results.failures = failures;
  results.finished = new Date().toISOString();
  save();
  table();
  process.exitCode = failures.length ? 1 : 0;
}

main();
