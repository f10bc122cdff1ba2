// One posapl-native training step at ViT-B/32 size, run in its own process so that its peak RSS
// is its own. Used by bench/train.js; prints one JSON line (with --profile, the per-op times of
// the last timed step too).
'use strict';
const path = require('path');
const { loadModel, startProfile, stopProfile } = require(path.resolve(__dirname, '..', 'lib'));

async function main() {
  const [config, batch, steps, microBatch, precision, profile] = process.argv.slice(2);
  const n = Number(batch);
  const model = await loadModel({ random: true, config, seed: 0, precision: precision || 'fp32' });
  const L = model.config.text_cfg.context_length;
  const S = model.config.vision_cfg.image_size;
  const pixels = new Float32Array(n * 3 * S * S).map(() => Math.random() * 2 - 1);
  const ids = new Int32Array(n * L).map(() => 1 + Math.floor(Math.random() * 49000));
  for (let i = 0; i < n; i++) ids[i * L + 20] = 49407;
  const imageIds = Int32Array.from({ length: n }, (_, i) => i >> 1);
  const b = { pixels, ids, posIds: ids, imageIds, n, microBatch: microBatch ? Number(microBatch) : undefined };
  const step = () => {
    model.zeroGradients();
    model.lossAndGradients(b);
    model.step(1e-3);
  };
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
