#!/usr/bin/env node
/**
 * Proves the built-in demo's settings before the real trainer exists: generates the demo
 * dataset, decodes it with sharp, evaluates retrieval (spec section 8) of the untrained model,
 * trains the adapters (spec section 5: AdamW, per-step cosine, shuffled, drop_last) with a
 * stand-in for spec section 7's training transform (RandomResizedCrop, flip, RandAugment),
 * evaluates again and prints timings.
 *
 *   npx tsc -p tsconfig.json && node scripts/demo-tune.js [--epochs 3] [--lr 3e-3] [--batch 64]
 *     [--train-images N] [--test-images N] [--no-aug] [--seed S] [--model-seed S] [--config '{"vision_cfg":{...}}']
 *     [--json]
 *
 * The whole run (generation, decoding, both evaluations, training) must stay well under
 * three minutes on two cores with mR after >= 3x mR before.
 */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const sharp = require('sharp');
const lib = path.join(__dirname, '..', 'lib');
const { generateDemoDataset } = require(path.join(lib, 'demo/dataset'));
const { DEMO_CONFIG, DEMO_TRAINING } = require(path.join(lib, 'demo/config'));
const { loadModel } = require(path.join(lib, 'posapl/loadModel'));
const { ClipTokenizer } = require(path.join(lib, 'text/clipTokenizer'));
const { cleanCaption } = require(path.join(lib, 'text/cleanCaption'));
const { GaussianRandom } = require(path.join(lib, 'posapl/parameters'));

const MEAN = [0.48145466, 0.4578275, 0.40821073];
const STD = [0.26862954, 0.26130258, 0.27577711];

function parseArgs(argv) {
  const o = { ...DEMO_TRAINING, aug: true, json: false, config: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--epochs') o.epochs = Number(next());
    else if (a === '--lr') o.lr = Number(next());
    else if (a === '--batch') o.batchSize = o.microBatch = Number(next());
    else if (a === '--train-images') o.trainImages = Number(next());
    else if (a === '--test-images') o.testImages = Number(next());
    else if (a === '--image-size') o.imageSize = Number(next());
    else if (a === '--seed') o.seed = Number(next());
    else if (a === '--model-seed') o.modelSeed = Number(next());
    else if (a === '--no-aug') o.aug = false;
    else if (a === '--json') o.json = true;
    else if (a === '--config') o.config = JSON.parse(next());
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

function mergeConfig(base, over) {
  const out = structuredClone(base);
  for (const [k, v] of Object.entries(over)) out[k] = v && typeof v === 'object' ? { ...out[k], ...v } : v;
  return out;
}

/** Decodes to (size,size,3) bytes at the file's own size. */
async function decode(file) {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Bilinear sample of a crop (x0,y0,w,h) of img into out (S,S,3) bytes, optionally flipped. */
function cropInto(out, img, x0, y0, w, h, S, flip) {
  const { data, width, height } = img;
  for (let oy = 0; oy < S; oy++) {
    const sy = Math.min(height - 1, Math.max(0, y0 + ((oy + 0.5) * h) / S - 0.5));
    const y1 = Math.floor(sy), fy = sy - y1, y2 = Math.min(height - 1, y1 + 1);
    for (let ox = 0; ox < S; ox++) {
      const tx = flip ? S - 1 - ox : ox;
      const sx = Math.min(width - 1, Math.max(0, x0 + ((tx + 0.5) * w) / S - 0.5));
      const x1 = Math.floor(sx), fx = sx - x1, x2 = Math.min(width - 1, x1 + 1);
      for (let c = 0; c < 3; c++) {
        out[(oy * S + ox) * 3 + c] = (1 - fy) * ((1 - fx) * data[(y1 * width + x1) * 3 + c] + fx * data[(y1 * width + x2) * 3 + c]) +
          fy * ((1 - fx) * data[(y2 * width + x1) * 3 + c] + fx * data[(y2 * width + x2) * 3 + c]);
      }
    }
  }
}

/** out (x,y) = img at the inverse affine map (a b c; d e f) of (x,y), bilinear, fill 128 outside. */
function affine(img, S, [a, b, c, d, e, f]) {
  const out = new Uint8ClampedArray(img.length).fill(128);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const sx = a * x + b * y + c, sy = d * x + e * y + f;
      const x1 = Math.floor(sx), y1 = Math.floor(sy);
      if (x1 < 0 || y1 < 0 || x1 + 1 >= S || y1 + 1 >= S) continue;
      const fx = sx - x1, fy = sy - y1;
      for (let ch = 0; ch < 3; ch++) {
        const at = (xx, yy) => img[(yy * S + xx) * 3 + ch];
        out[(y * S + x) * 3 + ch] = (1 - fy) * ((1 - fx) * at(x1, y1) + fx * at(x1 + 1, y1)) + fy * ((1 - fx) * at(x1, y1 + 1) + fx * at(x1 + 1, y1 + 1));
      }
    }
  }
  return out;
}

const M = 7 / 10;
const ENHANCE = 0.1 + 1.8 * M;
/** The RandAugment subset of spec section 7 (ALBEF's RandomAugment), on (S,S,3) bytes. */
const OPS = {
  identity: (img) => img,
  autoContrast: (img) => {
    const out = new Uint8ClampedArray(img.length);
    for (let ch = 0; ch < 3; ch++) {
      let lo = 255, hi = 0;
      for (let i = ch; i < img.length; i += 3) { lo = Math.min(lo, img[i]); hi = Math.max(hi, img[i]); }
      for (let i = ch; i < img.length; i += 3) out[i] = hi > lo ? ((img[i] - lo) * 255) / (hi - lo) : img[i];
    }
    return out;
  },
  equalize: (img) => {
    const out = new Uint8ClampedArray(img.length);
    for (let ch = 0; ch < 3; ch++) {
      const h = new Array(256).fill(0);
      for (let i = ch; i < img.length; i += 3) h[img[i]]++;
      const last = h.reduce((l, v, k) => (v ? k : l), 0);
      const step = Math.floor((img.length / 3 - h[last]) / 255);
      const lut = new Array(256);
      let n = Math.floor(step / 2);
      for (let k = 0; k < 256; k++) { lut[k] = step ? Math.min(255, Math.floor(n / step)) : k; n += h[k]; }
      for (let i = ch; i < img.length; i += 3) out[i] = lut[img[i]];
    }
    return out;
  },
  brightness: (img) => img.map((v) => v * ENHANCE),
  sharpness: (img, S) => {
    const out = new Uint8ClampedArray(img);
    for (let y = 1; y < S - 1; y++) for (let x = 1; x < S - 1; x++) for (let ch = 0; ch < 3; ch++) {
      let sum = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) sum += img[((y + dy) * S + x + dx) * 3 + ch] * (dx || dy ? 1 : 5);
      const smooth = sum / 13;
      out[(y * S + x) * 3 + ch] = smooth + ENHANCE * (img[(y * S + x) * 3 + ch] - smooth);
    }
    return out;
  },
  shearX: (img, S, sign) => affine(img, S, [1, sign * 0.3 * M, 0, 0, 1, 0]),
  shearY: (img, S, sign) => affine(img, S, [1, 0, 0, sign * 0.3 * M, 1, 0]),
  translateX: (img, S, sign) => affine(img, S, [1, 0, -sign * 10 * M, 0, 1, 0]),
  translateY: (img, S, sign) => affine(img, S, [1, 0, 0, 0, 1, -sign * 10 * M]),
  rotate: (img, S, sign) => {
    const t = (sign * 30 * M * Math.PI) / 180, c = (S - 1) / 2, cos = Math.cos(t), sin = Math.sin(t);
    return affine(img, S, [cos, -sin, c - cos * c + sin * c, sin, cos, c - sin * c - cos * c]);
  },
};
const OP_NAMES = Object.keys(OPS);

/**
 * A stand-in for spec section 7's training transform: RandomResizedCrop(scale 0.5-1, ratio
 * 3/4-4/3), horizontal flip, RandAugment(N=2, M=7, each drawn op with p=0.5), normalisation.
 */
function augmentInto(out, offset, img, S, random) {
  const area = img.width * img.height;
  let w = img.width, h = img.height, x0 = 0, y0 = 0;
  for (let t = 0; t < 10; t++) {
    const target = area * (0.5 + 0.5 * random.uniform());
    const ratio = Math.exp(Math.log(3 / 4) + (Math.log(4 / 3) - Math.log(3 / 4)) * random.uniform());
    const cw = Math.round(Math.sqrt(target * ratio)), ch = Math.round(Math.sqrt(target / ratio));
    if (cw <= img.width && ch <= img.height) {
      w = cw; h = ch;
      x0 = Math.floor(random.uniform() * (img.width - w + 1));
      y0 = Math.floor(random.uniform() * (img.height - h + 1));
      break;
    }
  }
  let rgb = new Uint8ClampedArray(S * S * 3);
  cropInto(rgb, img, x0, y0, w, h, S, random.uniform() < 0.5);
  for (let k = 0; k < 2; k++) {
    const op = OP_NAMES[Math.floor(random.uniform() * OP_NAMES.length)];
    if (random.uniform() < 0.5) rgb = OPS[op](rgb, S, random.uniform() < 0.5 ? -1 : 1);
  }
  normaliseInto(out, offset, rgb, S);
}

/** (S,S,3) bytes -> (3,S,S) CLIP-normalised floats at out[offset]. */
function normaliseInto(out, offset, rgb, S) {
  for (let p = 0; p < S * S; p++) for (let c = 0; c < 3; c++) out[offset + c * S * S + p] = (rgb[p * 3 + c] / 255 - MEAN[c]) / STD[c];
}

/** Spec section 8: R@1/5/10 both ways and their mean. sims (nImg, nTxt); txtImage[j] = image of caption j. */
function recall(sims, nImg, nTxt, txtImage) {
  const captionsOf = Array.from({ length: nImg }, () => []);
  txtImage.forEach((i, j) => captionsOf[i].push(j));
  const txtRanks = new Float64Array(nImg), imgRanks = new Float64Array(nTxt);
  for (let i = 0; i < nImg; i++) {
    let best = Infinity;
    for (const j of captionsOf[i]) {
      const s = sims[i * nTxt + j];
      let r = 0;
      for (let k = 0; k < nTxt; k++) if (sims[i * nTxt + k] > s) r++;
      best = Math.min(best, r);
    }
    txtRanks[i] = best;
  }
  for (let j = 0; j < nTxt; j++) {
    const s = sims[txtImage[j] * nTxt + j];
    let r = 0;
    for (let i = 0; i < nImg; i++) if (sims[i * nTxt + j] > s) r++;
    imgRanks[j] = r;
  }
  const at = (ranks, k) => (100 * ranks.filter((r) => r < k).length) / ranks.length;
  const m = { txt_r1: at(txtRanks, 1), txt_r5: at(txtRanks, 5), txt_r10: at(txtRanks, 10), img_r1: at(imgRanks, 1), img_r5: at(imgRanks, 5), img_r10: at(imgRanks, 10) };
  m.r_mean = (m.txt_r1 + m.txt_r5 + m.txt_r10 + m.img_r1 + m.img_r5 + m.img_r10) / 6;
  return m;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const config = mergeConfig(DEMO_CONFIG, o.config);
  const S = config.vision_cfg.image_size;
  const L = config.text_cfg.context_length;
  const t0 = Date.now();
  const lap = (() => { let last = t0; return () => { const now = Date.now(); const d = (now - last) / 1000; last = now; return d; }; })();
  const timings = {};
  const log = (...a) => { if (!o.json) console.log(...a); };

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-demo-'));
  const files = await generateDemoDataset(dir, { trainImages: o.trainImages, testImages: o.testImages, imageSize: o.imageSize, seed: o.seed });
  timings.generate = lap();
  const train = JSON.parse(fs.readFileSync(files.train, 'utf8'));
  const test = JSON.parse(fs.readFileSync(files.test, 'utf8'));

  // Images: test resized to S (cubic) and normalised; train decoded once, augmented per sample.
  const testPixels = new Float32Array(test.length * 3 * S * S);
  await Promise.all(test.map(async (e, i) => {
    const data = await sharp(path.join(files.images, e.image)).removeAlpha().resize(S, S, { kernel: 'cubic', fit: 'fill' }).raw().toBuffer();
    normaliseInto(testPixels, i * 3 * S * S, data, S);
  }));
  const trainImages = [...new Set(train.map((e) => e.image))];
  const decoded = new Map(await Promise.all(trainImages.map(async (f) => [f, await decode(path.join(files.images, f))])));
  timings.decode = lap();

  // Text: cleaned captions and POS words joined by spaces, byte-level ids (spec section 6).
  const tokenizer = ClipTokenizer.byteLevel();
  const testCaptions = test.flatMap((e) => e.caption);
  const testPos = test.flatMap((e) => e.pos.map((p) => p.join(' ')));
  const txtImage = test.flatMap((e, i) => e.caption.map(() => i));
  const testIds = tokenizer.encode(testCaptions.map((c) => cleanCaption(c)), L);
  const testPosIds = tokenizer.encode(testPos, L);
  const trainIds = tokenizer.encode(train.map((e) => cleanCaption(e.caption)), L);
  const trainPosIds = tokenizer.encode(train.map((e) => e.pos.join(' ')), L);
  timings.tokenize = lap();

  const model = await loadModel({ random: true, config, seed: o.modelSeed ?? o.seed });
  const evaluate = () => {
    const img = model.encodeImages(testPixels, test.length);
    const txt = model.encodeTexts(testIds, config.posapl.pos ? testPosIds : null, testCaptions.length);
    const E = config.embed_dim;
    const sims = new Float32Array(test.length * testCaptions.length);
    for (let i = 0; i < test.length; i++) {
      for (let j = 0; j < testCaptions.length; j++) {
        let s = 0;
        for (let k = 0; k < E; k++) s += img[i * E + k] * txt[j * E + k];
        sims[i * testCaptions.length + j] = s;
      }
    }
    return recall(sims, test.length, testCaptions.length, txtImage);
  };
  const before = evaluate();
  timings.evalBefore = lap();
  log(`before: mR ${before.r_mean.toFixed(2)}  ${JSON.stringify(before)}`);

  const B = o.batchSize;
  const stepsPerEpoch = Math.floor(train.length / B);
  const total = o.epochs * stepsPerEpoch;
  const pixels = new Float32Array(B * 3 * S * S);
  const ids = new Int32Array(B * L), posIds = new Int32Array(B * L), imageIds = new Int32Array(B);
  const epochs = [];
  let t = 0;
  let trainTime = 0, evalTime = 0;
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    const random = new GaussianRandom(o.seed * 1000 + epoch);
    const order = Array.from(train.keys());
    for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(random.uniform() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
    let lossSum = 0;
    const te = Date.now();
    for (let s = 0; s < stepsPerEpoch; s++, t++) {
      for (let b = 0; b < B; b++) {
        const k = order[s * B + b];
        const img = decoded.get(train[k].image);
        if (o.aug) augmentInto(pixels, b * 3 * S * S, img, S, random);
        else {
          const rgb = new Uint8ClampedArray(S * S * 3);
          cropInto(rgb, img, 0, 0, img.width, img.height, S, false);
          normaliseInto(pixels, b * 3 * S * S, rgb, S);
        }
        ids.set(trainIds.subarray(k * L, (k + 1) * L), b * L);
        posIds.set(trainPosIds.subarray(k * L, (k + 1) * L), b * L);
        imageIds[b] = train[k].image_id;
      }
      model.zeroGradients();
      const loss = model.lossAndGradients({ pixels, ids, posIds: config.posapl.pos ? posIds : null, imageIds, n: B, microBatch: o.microBatch });
      lossSum += loss.contrastive + loss.triplet;
      model.step((o.lr * (1 + Math.cos((Math.PI * t) / total))) / 2);
    }
    trainTime += (Date.now() - te) / 1000;
    const tv = Date.now();
    const m = evaluate();
    evalTime += (Date.now() - tv) / 1000;
    epochs.push({ epoch: epoch + 1, loss: lossSum / stepsPerEpoch, r_mean: m.r_mean });
    log(`epoch ${epoch + 1}: loss ${(lossSum / stepsPerEpoch).toFixed(3)}  mR ${m.r_mean.toFixed(2)}  (${((Date.now() - te) / 1000).toFixed(1)} s)`);
  }
  lap();
  timings.train = trainTime;
  timings.evalEpochs = evalTime;
  const after = epochs.length ? evaluate() : before;
  const best = epochs.reduce((a, e) => (e.r_mean > a ? e.r_mean : a), -1);
  timings.total = (Date.now() - t0) / 1000;
  fs.rmSync(dir, { recursive: true, force: true });
  const result = { before, after, best_r_mean: best, ratio: after.r_mean / before.r_mean, epochs, timings, settings: { ...o, config } };
  if (o.json) console.log(JSON.stringify(result));
  else {
    log(`after:  mR ${after.r_mean.toFixed(2)}  ${JSON.stringify(after)}`);
    log(`ratio ${(after.r_mean / before.r_mean).toFixed(2)}x  timings (s) ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Number(v.toFixed(2))])))}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
