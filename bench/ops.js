#!/usr/bin/env node
// Time per call of every backend op at the model's shapes (a 32-sample micro-batch of ViT-B/32
// and the text tower), on each SIMD path this CPU has: the op harness's PERF mode over
// perfCases() (src/opHarness/cases.ts), the same case builders the tests check.
//
//   npm run bench:ops [-- --json] [-- --threads N] [-- --repeats R] [-- --isa avx2,scalar] [-- --filter gemm]
//
// Each case: its inputs from the seeded generator, its setup (the forward a backward needs) once,
// three warm-up calls, then R timed calls; the median counts. GFLOP/s from the case's FLOP count
// (a multiply-add is 2), GB/s from the bytes its inputs and outputs hold (a lower bound on traffic).
'use strict';
const { option, flag } = require('./command-line');
const { CpuBackend } = require('../lib/backend');
const { perfCase, perfCases } = require('../lib/opHarness');
const { addon } = require('../lib/native/addon');

const json = flag('json');
const threads = Number(option('threads', '2'));
const repeats = Number(option('repeats', '5'));
const filter = option('filter', '');
const ORDER = ['avx512', 'avx2', 'scalar'];
const available = ORDER.slice(ORDER.indexOf(addon().info().supportedIsa));
const isas = option('isa', available.join(',')).split(',');
const unknown = isas.filter((isa) => !available.includes(isa));
if (!(threads >= 1 && Number.isInteger(threads)) || !(repeats >= 1 && Number.isInteger(repeats)) || unknown.length) {
  console.error(`usage: node bench/ops.js [--json] [--threads N] [--repeats R] [--isa ${available.join(',')}] [--filter TEXT]` +
    (unknown.length ? `\n  --isa: ${unknown.join(', ')} is not a path this CPU has` : ''));
  process.exit(1);
}

addon().setThreads({ threads });
const backend = new CpuBackend();
const cases = perfCases().filter((c) => c.name.includes(filter));
const results = [];
for (const isa of isas) {
  addon().setIsa({ isa });
  for (const c of cases) results.push({ isa, threads, ...perfCase(backend, c, { repeats }), flops: c.flops, bytes: c.bytes });
}

if (json) {
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} else {
  const rate = (r) => (r.skipped ? '' : r.flops > 0 ? `${r.gflops.toFixed(1)} GFLOP/s` : `${r.gbytesPerSecond.toFixed(1)} GB/s`);
  const rows = results.map((r) => [r.isa, r.name, r.skipped ? 'skipped' : r.ms.toFixed(3), rate(r), r.skipped ?? '']);
  const header = ['isa', 'op and shape', 'median ms', 'rate', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (row) => row.map((v, i) => (i === 2 || i === 3 ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(`posapl ops, ${threads} thread${threads > 1 ? 's' : ''}, median of ${repeats} calls (${addon().info().backend} backend)`);
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}
