// A ViT-B/32-sized training step on seeded synthetic inputs (random backbone), shared by the
// benchmarks that time or count a step: the same model and batch everywhere.
'use strict';
const path = require('path');
const { loadModel } = require(path.resolve(__dirname, '..', 'lib'));
const { SeededRandom } = require(path.resolve(__dirname, '..', 'lib', 'seededRandom'));

/** { model, step } where step() runs zeroGradients, lossAndGradients and one AdamW step. */
async function syntheticTrainingStep({ config = 'rsitmd', batch = 32, microBatch, precision = 'fp32' }) {
  const n = Number(batch);
  const model = await loadModel({ random: true, config, seed: 0, precision });
  const L = model.config.text_cfg.context_length;
  const S = model.config.vision_cfg.image_size;
  const random = new SeededRandom(2024);
  const pixels = new Float32Array(n * 3 * S * S).map(() => random.uniform(-1, 1));
  const ids = new Int32Array(n * L).map(() => random.integer(1, 49001));
  for (let i = 0; i < n; i++) ids[i * L + 20] = 49407; // the end-of-text token
  const imageIds = Int32Array.from({ length: n }, (_, i) => i >> 1);
  const inputs = { pixels, ids, posIds: ids, imageIds, n, microBatch: microBatch ? Number(microBatch) : undefined };
  const step = () => {
    model.zeroGradients();
    model.lossAndGradients(inputs);
    model.step(1e-3);
  };
  return { model, step };
}

module.exports = { syntheticTrainingStep };
