#!/usr/bin/env node
// GFLOPS of the bf16 GEMM (AMX, packed frozen weight, A rounded on the fly) beside posapl's
// fp32 GEMM, at the frozen Linears of a ViT-B/32 step with 32 samples: forward y = x W^T and
// input gradient dx = dy W. Both run in this process, alternating, best of the rounds.
//
//   npm run bench:bf16 [-- --json] [-- --seconds S] [-- --rounds R]
'use strict';
const path = require('path');
const { ops, nativeInfo } = require(path.resolve(__dirname, '..', 'lib'));
const { option: opt, flag } = require('./command-line');

const seconds = Number(opt('seconds', '0.3'));
const rounds = Number(opt('rounds', '2'));
const json = flag('json');
if (!nativeInfo().bf16) {
  console.error('bench/bf16.js: this CPU (or OS) has no AMX-BF16; nothing to measure');
  process.exit(1);
}

const LAYERS = [
  { name: 'vision in_proj', rows: 1600, in: 768, out: 2304 },
  { name: 'vision out_proj', rows: 1600, in: 768, out: 768 },
  { name: 'vision c_fc', rows: 1600, in: 768, out: 3072 },
  { name: 'vision c_proj', rows: 1600, in: 3072, out: 768 },
  { name: 'text in_proj', rows: 2464, in: 512, out: 1536 },
  { name: 'text out_proj', rows: 2464, in: 512, out: 512 },
  { name: 'text c_fc', rows: 2464, in: 512, out: 2048 },
  { name: 'text c_proj', rows: 2464, in: 2048, out: 512 },
];

function timeBest(fn) {
  fn();
  let best = Infinity;
  const t0 = process.hrtime.bigint();
  let reps = 0;
  do {
    const s = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - s) / 1e9);
    reps++;
  } while (Number(process.hrtime.bigint() - t0) / 1e9 < seconds || reps < 3);
  return best;
}

const random = (n) => new Float32Array(n).map(() => Math.random() - 0.5);
const rows = [];
for (const L of LAYERS) {
  const w = random(L.out * L.in);
  for (const dir of ['forward', 'dx']) {
    const [m, k, n] = dir === 'forward' ? [L.rows, L.in, L.out] : [L.rows, L.out, L.in];
    const a = random(m * k);
    const c = new Float32Array(m * n);
    const packed = ops.bf16Pack(w, k, n, dir === 'forward');
    const f32 = () => ops.gemm({ c, a, b: w, m, n, k, transB: dir === 'forward' });
    const b16 = () => ops.gemmBf16({ c, a, packed, m, n, k });
    let t32 = Infinity, t16 = Infinity;
    for (let r = 0; r < rounds; r++) {
      t32 = Math.min(t32, timeBest(f32));
      t16 = Math.min(t16, timeBest(b16));
    }
    const flop = 2 * m * n * k;
    rows.push({ layer: L.name, dir, m, n, k, fp32_gflops: flop / t32 / 1e9, bf16_gflops: flop / t16 / 1e9, speedup: t32 / t16 });
  }
}
console.log(`bf16 (AMX) against fp32 GEMM, ${nativeInfo().threads} threads`);
console.log('layer            dir       MxNxK             fp32 GFLOPS  bf16 GFLOPS  speed-up');
for (const r of rows) {
  console.log(`${r.layer.padEnd(16)} ${r.dir.padEnd(8)} ${`${r.m}x${r.n}x${r.k}`.padEnd(17)} ${r.fp32_gflops.toFixed(0).padStart(11)} ${r.bf16_gflops.toFixed(0).padStart(12)} ${r.speedup.toFixed(2).padStart(8)}x`);
}
if (json) console.log(JSON.stringify({ bf16: rows }));
