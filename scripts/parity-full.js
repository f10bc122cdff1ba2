#!/usr/bin/env node
// npm run parity:full — the model parity check at open_clip ViT-B/32 size, both paper presets.
// Needs Debian's torch (/usr/bin/python3 with python3-torch): the reference generator writes
// random ViT-B/32 weights, inputs and PyTorch's results to a temporary folder (about 1.5 GB),
// then this compares posapl-native with them and prints the figures. Not part of CI.
//
//   npm run parity:full [-- --precision bf16]
// With bf16 the frozen backbone runs on the bf16 kernel: the gate is then issue 8's, each
// embedding within cosine 0.999 of the reference; the other rows are printed for information.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const { loadModel } = require(path.join(root, 'lib'));
const python = process.env.POSAPL_PYTHON || '/usr/bin/python3';
const work = process.env.POSAPL_PARITY_DIR || path.join(os.tmpdir(), 'posapl-parity-full');
const precisionAt = process.argv.indexOf('--precision');
const precision = precisionAt >= 0 ? process.argv[precisionAt + 1] : 'fp32';

function readFixture(file) {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  const tensors = {};
  for (const [k, t] of Object.entries(raw.tensors)) {
    const b = Buffer.from(t.data, 'base64');
    const copy = new Uint8Array(b.length);
    copy.set(b);
    tensors[k] = t.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
  }
  return { meta: raw.meta, tensors };
}

function relativeError(a, b) {
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d) / Math.max(Math.sqrt(n), 1e-30);
}

// Smallest cosine similarity between matching rows (width e) of a and b.
function minCosine(a, b, e) {
  let worst = 1;
  for (let i = 0; i < a.length; i += e) {
    let ab = 0, aa = 0, bb = 0;
    for (let j = i; j < i + e; j++) {
      ab += a[j] * b[j];
      aa += a[j] * a[j];
      bb += b[j] * b[j];
    }
    worst = Math.min(worst, ab / Math.sqrt(aa * bb));
  }
  return worst;
}

async function check(name) {
  const dir = path.join(work, name);
  const { meta, tensors: t } = readFixture(path.join(dir, 'expected.json'));
  const n = t.image_ids.length;
  const model = await loadModel({ config: meta.config, weights: path.join(dir, 'backbone.bin'), checkpoint: path.join(dir, 'adapters.bin'), precision });
  if (model.precision !== precision) throw new Error(`precision ${precision} is not available on this CPU`);
  const batch = { pixels: t.pixels, ids: t.ids, posIds: t.pos_ids, imageIds: t.image_ids, n };
  const images = model.encodeImages(t.pixels, n);
  const texts = model.encodeTexts(t.ids, t.pos_ids, n);
  const e = images.length / n;
  const figures = {
    image_embeddings: relativeError(images, t.image_embeddings),
    text_embeddings: relativeError(texts, t.text_embeddings),
  };
  const cosines = { image: minCosine(images, t.image_embeddings, e), text: minCosine(texts, t.text_embeddings, e) };
  const losses = model.lossAndGradients(batch);
  figures.contrastive = Math.abs(losses.contrastive - t.losses[0]) / t.losses[0];
  figures.triplet = Math.abs(losses.triplet - t.losses[1]) / t.losses[1];
  let worstGrad = ['', 0];
  for (const [key, g] of model.gradients()) {
    const e = relativeError(g, t[`grad.${key}`]);
    if (e > worstGrad[1]) worstGrad = [key, e];
  }
  figures.worst_gradient = worstGrad[1];
  // All trainable gradients as one vector: what the optimiser sees as a whole.
  const grads = [...model.gradients()];
  figures.all_gradients = relativeError(
    Float32Array.from(grads.flatMap(([, g]) => [...g])),
    Float32Array.from(grads.flatMap(([key]) => [...t[`grad.${key}`]])),
  );
  const before = new Map([...model.stateDict()].map(([k, v]) => [k, v.data.slice()]));
  const worstUpdate = (prefix) => {
    let worst = ['', 0];
    for (const [key, v] of model.stateDict()) {
      if (!key.includes('adapter')) continue;
      const start = before.get(key);
      const e = relativeError(v.data.map((x, i) => x - start[i]), t[`${prefix}.${key}`].map((x, i) => x - start[i]));
      if (e > worst[1]) worst = [key, e];
    }
    return worst;
  };
  const where = {};
  for (let s = 0; s < meta.steps; s++) {
    if (s > 0) {
      model.zeroGradients();
      model.lossAndGradients(batch);
    }
    model.step((meta.lr * (1 + Math.cos((Math.PI * s) / meta.total_steps))) / 2);
    if (s === 0) [where.worst_update_after_1_step, figures.worst_update_after_1_step] = worstUpdate('after1');
  }
  [where.worst_update_after_3_steps, figures.worst_update_after_3_steps] = worstUpdate('after');
  // Limits of issue 5. After the first update the runs are compared on the trajectory they
  // take: a ReLU pre-activation within float32 rounding of zero (the Side Fusion linears see
  // ~10^5 of them per step) can fall on either side in any float32 implementation, PyTorch's
  // included, and the runs then part by that token's share of a gradient. The three-step row is
  // printed for information; the gated rows are those of one step. An AdamW step divides by
  // sqrt(v) + 1e-8, so gradients near 1e-8 turn float32 rounding into visible differences:
  // the update is held to 1e-3 or twice PyTorch's own float32 error, whichever is larger.
  const torch32 = meta.torch_float32_error || {};
  const limits = precision === 'bf16' ? {
    // Issue 8's bf16 contract is on the embeddings (cosine >= 0.999, checked below); the rest is information.
    image_embeddings: Infinity, text_embeddings: Infinity, contrastive: Infinity, triplet: Infinity, worst_gradient: Infinity,
    all_gradients: Infinity, worst_update_after_1_step: Infinity, worst_update_after_3_steps: Infinity,
  } : {
    image_embeddings: 1e-4, text_embeddings: 1e-4, contrastive: 1e-4, triplet: 1e-4, worst_gradient: 1e-3, all_gradients: Infinity,
    worst_update_after_1_step: Math.max(1e-3, 2 * (torch32.worst_update_after_1_step || 0)),
    worst_update_after_3_steps: Infinity,
  };
  let ok = precision !== 'bf16' || (cosines.image >= 0.999 && cosines.text >= 0.999);
  console.log(`\n${name} (ViT-B/32, n=${n}, ${precision}): relative error (norm-wise) against the ${meta.dtype} PyTorch reference`);
  console.log(`  smallest cosine to the reference: images ${cosines.image.toFixed(6)}, texts ${cosines.text.toFixed(6)}${precision === 'bf16' ? ` (limit 0.999: ${ok ? 'ok' : 'FAIL'})` : ''}`);
  console.log(`  ${'quantity'.padEnd(28)} posapl    limit     torch float32`);
  for (const [k, v] of Object.entries(figures)) {
    const pass = v < limits[k];
    ok = ok && pass;
    const at = k === 'worst_gradient' ? ` (${worstGrad[0]})` : where[k] ? ` (${where[k]})` : '';
    const theirs = torch32[k] === undefined ? '-' : torch32[k].toExponential(2);
    const limit = Number.isFinite(limits[k]) ? limits[k].toExponential(2) : 'info    ';
    console.log(`  ${k.padEnd(28)} ${v.toExponential(2)}  ${limit}  ${theirs.padEnd(9)} ${pass ? 'ok' : 'FAIL'}${at}`);
  }
  return ok;
}

async function main() {
  if (!process.env.POSAPL_PARITY_DIR) {
    const probe = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
    if (probe.status !== 0) {
      console.error(`parity:full needs PyTorch for ${python} (Debian: apt-get install python3-torch libopenblas0-pthread)`);
      process.exit(1);
    }
    console.log(`writing the ViT-B/32 reference into ${work} ...`);
    const gen = spawnSync(python, [path.join(root, 'tools/reference/gen_model.py'), '--full', work], { stdio: 'inherit' });
    if (gen.status !== 0) process.exit(gen.status || 1);
  }
  let ok = true;
  for (const name of ['rsitmd', 'rsicd']) ok = (await check(name)) && ok;
  process.exit(ok ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
