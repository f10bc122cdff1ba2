// One posapl-native training step at ViT-B/32 size, run in its own process so that its peak RSS
// is its own. Used by bench/train.js; prints one JSON line (with --profile, the per-op times of
// the last timed step too).
'use strict';
const path = require('path');
const { startProfile, stopProfile } = require(path.resolve(__dirname, '..', 'lib'));
const { syntheticTrainingStep } = require('./synthetic-step');

async function main() {
  const [config, batch, steps, microBatch, precision, profile] = process.argv.slice(2);
  const { model, step } = await syntheticTrainingStep({ config, batch, microBatch, precision: precision || 'fp32' });
  step(); // warm-up: buffers allocated, pages touched
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < Number(steps); i++) step();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9 / Number(steps);
  const result = { seconds_per_step: seconds, peak_rss_mb: process.resourceUsage().maxRSS / 1024, precision: model.precision };
  if (profile === 'profile') {
    startProfile();
    const p0 = process.hrtime.bigint();
    step();
    result.profile_step_ms = Number(process.hrtime.bigint() - p0) / 1e6;
    result.profile = stopProfile();
  }
  console.log(JSON.stringify(result));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
