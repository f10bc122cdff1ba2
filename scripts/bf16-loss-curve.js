#!/usr/bin/env node
// The bf16 mode's training check at ViT-B/32 size: the same short run (random backbone, fixed
// synthetic batches cycled, HF AdamW with the cosine schedule) in fp32 and in bf16, step by step,
// printing both loss curves and how far apart they are.
//
//   node scripts/bf16-loss-curve.js [--config rsitmd] [--batches 4] [--epochs 5] [--batch 32] [--lr 1e-3]
'use strict';
const path = require('path');
const { loadModel } = require(path.resolve(__dirname, '..', 'lib'));
const { option: opt } = require(path.resolve(__dirname, '..', 'bench', 'command-line'));
const { SeededRandom } = require(path.resolve(__dirname, '..', 'lib', 'seededRandom'));

const config = opt('config', 'rsitmd');
const batches = Number(opt('batches', '4'));
const epochs = Number(opt('epochs', '5'));
const n = Number(opt('batch', '32'));
const lr = Number(opt('lr', '1e-3'));

function makeBatch(b) {
  const random = new SeededRandom(1000 + b);
  const r = () => random.random();
  const pixels = new Float32Array(n * 3 * 224 * 224);
  for (let i = 0; i < pixels.length; i++) pixels[i] = r() * 4 - 2;
  const ids = new Int32Array(n * 77);
  const posIds = new Int32Array(n * 77);
  for (let i = 0; i < n; i++) {
    const len = 8 + Math.floor(r() * 20);
    ids[i * 77] = 49406;
    posIds[i * 77] = 49406;
    for (let j = 1; j < len; j++) {
      ids[i * 77 + j] = 1 + Math.floor(r() * 49000);
      posIds[i * 77 + j] = 1 + Math.floor(r() * 400);
    }
    ids[i * 77 + len] = 49407;
    posIds[i * 77 + len] = 49407;
  }
  // Five captions per image, as in RSITMD.
  const imageIds = Int32Array.from({ length: n }, (_, i) => Math.floor(i / 5));
  return { pixels, ids, posIds, imageIds, n };
}

async function curve(precision, data) {
  const model = await loadModel({ random: true, config, seed: 3, precision });
  if (model.precision !== precision) throw new Error(`precision ${precision} is not available on this CPU`);
  const losses = [];
  const total = epochs * data.length;
  for (let step = 0; step < total; step++) {
    model.zeroGradients();
    const l = model.lossAndGradients(data[step % data.length]);
    losses.push(l.contrastive + l.triplet);
    model.step((lr * (1 + Math.cos((Math.PI * step) / total))) / 2);
  }
  model.dispose();
  return losses;
}

async function main() {
  const data = Array.from({ length: batches }, (_, b) => makeBatch(b));
  const fp32 = await curve('fp32', data);
  const bf16 = await curve('bf16', data);
  console.log(`ViT-B/32 ${config}, batch ${n}, ${batches} batches x ${epochs} epochs, lr ${lr}: loss (contrastive + triplet)`);
  console.log('step      fp32      bf16   rel. diff');
  let worst = 0;
  fp32.forEach((a, i) => {
    const d = Math.abs(bf16[i] - a) / a;
    worst = Math.max(worst, d);
    console.log(`${String(i + 1).padStart(4)} ${a.toFixed(5).padStart(9)} ${bf16[i].toFixed(5).padStart(9)} ${d.toExponential(2).padStart(11)}`);
  });
  const drop = (c) => (c[0] - c[c.length - 1]) / c[0];
  console.log(`largest relative difference ${worst.toExponential(2)}; loss fell by ${(100 * drop(fp32)).toFixed(1)}% (fp32) and ${(100 * drop(bf16)).toFixed(1)}% (bf16)`);
  console.log(JSON.stringify({ fp32, bf16, worst }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
