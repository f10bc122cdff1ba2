#!/usr/bin/env node
// Host typed arrays a steady-state training step allocates: every `new Float32Array(...)`,
// `new Int32Array(...)`, `new Uint16Array(...)` made by JavaScript is counted (the globals are
// replaced by counting proxies before the package loads; views made by subarray are not
// allocations and are not counted). Steps 1-2 warm up, steps 3-5 are counted.
// node bench/step-allocations.js [config=rsitmd] [batch=32] [microBatch=] [precision=fp32]
'use strict';
const path = require('path');

const counted = { arrays: 0, bytes: 0 };
for (const name of ['Float32Array', 'Int32Array', 'Uint16Array']) {
  const Original = globalThis[name];
  globalThis[name] = new Proxy(Original, {
    construct(target, args, newTarget) {
      const a = Reflect.construct(target, args, newTarget === globalThis[name] ? target : newTarget);
      counted.arrays += 1;
      counted.bytes += a.byteLength;
      return a;
    },
  });
}
const { syntheticTrainingStep } = require('./synthetic-step');

async function main() {
  const [config = 'rsitmd', batch = '32', microBatch = '', precision = 'fp32'] = process.argv.slice(2);
  const { model, step } = await syntheticTrainingStep({ config, batch, microBatch, precision });
  step();
  step();
  counted.arrays = 0;
  counted.bytes = 0;
  const ru0 = process.resourceUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 3; i++) step();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9 / 3;
  const ru1 = process.resourceUsage();
  console.log(JSON.stringify({
    config, batch: Number(batch), micro_batch: Number(microBatch || batch), precision: model.precision,
    arrays_per_step: counted.arrays / 3, mb_per_step: counted.bytes / 3 / 1e6,
    minor_faults_per_step: (ru1.minorPageFault - ru0.minorPageFault) / 3,
    seconds_per_step: seconds, peak_rss_mb: ru1.maxRSS / 1024,
  }));
}
main().catch((e) => { console.error(e); process.exit(1); });
