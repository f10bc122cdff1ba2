#!/usr/bin/env node
// GFLOPS of posapl's GEMM at the ViT-B/32 shapes of a 32-sample micro-batch, beside OpenBLAS
// (cblas_sgemm through bench/openblas_gemm.c) in the same run, on the same shapes and threads.
//
//   npm run bench:kernels [-- --json] [-- --threads N] [-- --seconds S] [-- --rounds R]
//
// Each Linear y = x W^T (rows R, W (out,in)) gives three products, named MxKxN:
//   forward  nt  (R x in)(in x out)      dX = dY W   nn  (R x out)(out x in)
//   dW = dY^T X  tn  (out x R)(R x in)
// Each shape is timed in R rounds that alternate posapl and OpenBLAS, each side a warm-up call
// and then repetitions for >= S seconds; the best time counts. Alternating gives both sides the
// same chances on a machine shared with other work.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { option, flag, peerEnv } = require('./command-line');

const json = flag('json');
const threads = Number(option('threads', process.env.POSAPL_THREADS || '2'));
const seconds = Number(option('seconds', '0.2'));
const rounds = Number(option('rounds', '2'));
if (!(threads >= 1) || !(seconds > 0) || !(rounds >= 1)) {
  console.error('usage: node bench/kernels.js [--json] [--threads N] [--seconds S] [--rounds R]');
  process.exit(1);
}
// The pool reads POSAPL_THREADS when the addon first runs a kernel.
process.env.POSAPL_THREADS = String(threads);
const { gemm } = require('../lib/ops');
const { SeededRandom } = require('../lib/seededRandom');
const { nativeInfo } = require('../lib/native/addon');

// ViT-B/32 vision tower (50 tokens x 32 images) and text tower (77 tokens x 32 captions).
const LAYERS = [
  { rows: 1600, in: 768, out: 2304 }, // attention in-projection
  { rows: 1600, in: 768, out: 3072 }, // MLP up
  { rows: 1600, in: 3072, out: 768 }, // MLP down
  { rows: 2464, in: 512, out: 1536 },
  { rows: 2464, in: 512, out: 2048 },
  { rows: 2464, in: 2048, out: 512 },
];
const SHAPES = LAYERS.flatMap(({ rows, in: d, out }) => [
  { m: rows, k: d, n: out, trans: 'nt' },
  { m: rows, k: out, n: d, trans: 'nn' },
  { m: out, k: rows, n: d, trans: 'tn' },
]);

function filled(n, seed) {
  const a = new Float32Array(n);
  const random = new SeededRandom(seed);
  for (let i = 0; i < n; i++) a[i] = random.random() - 0.5;
  return a;
}

function bestTime(run) {
  run();
  let best = Infinity;
  let spent = 0;
  for (let rep = 0; rep < 50 && (rep < 3 || spent < seconds); rep++) {
    const t0 = process.hrtime.bigint();
    run();
    const dt = Number(process.hrtime.bigint() - t0) * 1e-9;
    spent += dt;
    best = Math.min(best, dt);
  }
  return best;
}

function posaplOperands({ m, k, n, trans }) {
  return {
    c: new Float32Array(m * n), a: filled(m * k, 1), b: filled(k * n, 2), m, n, k,
    transA: trans[0] === 't', transB: trans[1] === 't',
  };
}

function posaplGflops(args) {
  const { m, n, k } = args;
  return (2 * m * n * k) / bestTime(() => gemm(args)) * 1e-9;
}

// ---- OpenBLAS ----------------------------------------------------------------------------

function tryCompile(out) {
  const source = path.join(__dirname, 'openblas_gemm.c');
  return spawnSync('gcc', ['-O2', '-o', out, source, '-lopenblas'], { encoding: 'utf8' });
}

// Builds the helper in a temporary folder, installing Debian's libopenblas-dev when missing.
// Returns the executable, or null with the reason printed.
function buildOpenblasHelper() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-bench-'));
  const exe = path.join(dir, 'openblas_gemm');
  let r = tryCompile(exe);
  if (r.status !== 0) {
    console.error('bench: cblas.h / libopenblas not found, installing libopenblas-dev with apt-get');
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    const command = root ? ['apt-get'] : ['sudo', '-n', 'apt-get'];
    const apt = (...a) => spawnSync(command[0], [...command.slice(1), ...a],
      { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (apt('install', '-y', 'libopenblas-dev').status !== 0) {
      apt('update');
      apt('install', '-y', 'libopenblas-dev');
    }
    r = tryCompile(exe);
  }
  if (r.status !== 0) {
    console.error(`bench: could not build bench/openblas_gemm.c, OpenBLAS column left empty:\n${r.stderr || r.error}`);
    return null;
  }
  return exe;
}

function openblasGflops(exe, { m, k, n, trans }) {
  if (exe === null) return null;
  const env = peerEnv({ OPENBLAS_NUM_THREADS: String(threads) });
  const r = spawnSync(exe, [m, k, n, trans, seconds].map(String), { env, encoding: 'utf8' });
  const value = Number(r.stdout);
  if (r.status !== 0 || !Number.isFinite(value)) {
    console.error(`bench: openblas_gemm ${m} ${k} ${n} ${trans} failed: ${r.stderr || r.error}`);
    return null;
  }
  return value;
}

// ---- run -----------------------------------------------------------------------------------

function main() {
  const exe = buildOpenblasHelper();
  const info = nativeInfo();
  const round = (x) => (x === null ? null : Math.round(x * 100) / 100);
  console.log(`GFLOPS: posapl ${info.isa} with ${info.threads} threads, OpenBLAS with ${threads} threads`);
  const line = (shape, trans, ...numbers) => console.log(
    `${shape.padEnd(16)} ${trans.padEnd(5)} ${numbers.map((x, i) => x.padStart(i === 2 ? 6 : 9)).join(' ')}`);
  line('shape MxKxN', 'trans', 'posapl', 'openblas', 'ratio');
  const rows = [];
  for (const s of SHAPES) {
    const operands = posaplOperands(s);
    let gflops = 0;
    let openblas = null;
    for (let pass = 0; pass < rounds; pass++) {
      gflops = Math.max(gflops, posaplGflops(operands));
      const o = openblasGflops(exe, s);
      if (o !== null) openblas = Math.max(openblas ?? 0, o);
    }
    const ratio = openblas === null ? null : gflops / openblas;
    const shape = `${s.m}x${s.k}x${s.n}`;
    rows.push({ shape, trans: s.trans, gflops: round(gflops), openblas_gflops: round(openblas), ratio: round(ratio) });
    const fmt = (x, d) => (x === null ? '-' : x.toFixed(d));
    line(shape, s.trans, fmt(gflops, 1), fmt(openblas, 1), fmt(ratio, 2));
  }
  if (exe !== null) fs.rmSync(path.dirname(exe), { recursive: true, force: true });
  const ratios = rows.map((r) => r.ratio).filter((r) => r !== null);
  if (ratios.length > 0) {
    const geomean = Math.exp(ratios.reduce((sum, r) => sum + Math.log(r), 0) / ratios.length);
    console.log(`ratio: min ${Math.min(...ratios).toFixed(2)}, geometric mean ${geomean.toFixed(2)}`);
  }
  if (json) console.log(JSON.stringify({ gemm: rows }));
}

main();
