// One side of bench/encode.js in its own process, so that its peak RSS is its own:
//   node bench/encode-runner.js weights CONFIG FILE      writes the shared weights (random adapters)
//   node bench/encode-runner.js posapl|onnx SPEC_JSON    times encoding, prints one JSON line
// SPEC_JSON: {config, precision, batches, minSeconds, inputs, maxBatch, embeddings, weights, onnx: {image, text}}.
'use strict';
const fs = require('fs');
const path = require('path');
const { SeededRandom } = require('../lib/seededRandom');

const root = path.resolve(__dirname, '..');
const CONTEXT = 77;
const SIZE = 224;
const EMBED = 512;

/** The bench inputs file: pixels (B,3,224,224) f32, ids (B,77) i32, posIds (B,77) i32. */
function readInputs(file, maxBatch) {
  const buf = fs.readFileSync(file);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength).slice(); // aligned copy
  const np = maxBatch * 3 * SIZE * SIZE;
  const nt = maxBatch * CONTEXT;
  return {
    pixels: new Float32Array(bytes.buffer, 0, np),
    ids: new Int32Array(bytes.buffer, np * 4, nt),
    posIds: new Int32Array(bytes.buffer, (np + nt) * 4, nt),
  };
}

/**
 * Calls run() once to warm up, then times it until minSeconds have passed (at least twice).
 * Returns samples per second and the last result.
 */
async function throughput(run, n, minSeconds) {
  let out = await run();
  let calls = 0;
  const t0 = process.hrtime.bigint();
  let seconds = 0;
  while (calls < 2 || (seconds < minSeconds && calls < 50)) {
    out = await run();
    calls += 1;
    seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  return { perSecond: (n * calls) / seconds, out };
}

async function posaplEncoders(spec) {
  const { loadModel } = require(path.join(root, 'lib'));
  const model = await loadModel({ config: spec.config, checkpoint: spec.weights, precision: spec.precision });
  const S = SIZE * SIZE * 3;
  return {
    // bf16 falls back to fp32 on CPUs without AMX-BF16: the table says which one ran.
    precision: model.precision,
    images: (inputs, n) => model.encodeImages(inputs.pixels.subarray(0, n * S), n),
    texts: (inputs, n) => model.encodeTexts(inputs.ids.subarray(0, n * CONTEXT), inputs.posIds.subarray(0, n * CONTEXT), n),
  };
}

async function onnxEncoders(spec, inputs) {
  const ort = require(path.join(__dirname, 'peers', 'node_modules', 'onnxruntime-node'));
  const options = { graphOptimizationLevel: 'all' }; // onnxruntime's default threads: one per core
  const image = await ort.InferenceSession.create(spec.onnx.image, options);
  const text = await ort.InferenceSession.create(spec.onnx.text, options);
  // The exported graph takes int64 ids, as torch does; conversion happens once, outside the timing.
  const ids = BigInt64Array.from(inputs.ids, BigInt);
  const posIds = BigInt64Array.from(inputs.posIds, BigInt);
  const S = SIZE * SIZE * 3;
  return {
    images: async (inputs, n) => {
      const r = await image.run({ pixels: new ort.Tensor('float32', inputs.pixels.subarray(0, n * S), [n, 3, SIZE, SIZE]) });
      return r.embedding.data;
    },
    texts: async (inputs, n) => {
      const r = await text.run({
        ids: new ort.Tensor('int64', ids.subarray(0, n * CONTEXT), [n, CONTEXT]),
        pos_ids: new ort.Tensor('int64', posIds.subarray(0, n * CONTEXT), [n, CONTEXT]),
      });
      return r.embedding.data;
    },
  };
}

async function bench(kind, spec) {
  const inputs = readInputs(spec.inputs, spec.maxBatch);
  const enc = kind === 'posapl' ? await posaplEncoders(spec) : await onnxEncoders(spec, inputs);
  const rows = [];
  let largest = null;
  for (const n of spec.batches) {
    const img = await throughput(() => enc.images(inputs, n), n, spec.minSeconds);
    const txt = await throughput(() => enc.texts(inputs, n), n, spec.minSeconds);
    rows.push({ batch: n, images_per_s: img.perSecond, captions_per_s: txt.perSecond });
    if (n === spec.maxBatch) largest = { image: img.out, text: txt.out };
  }
  // The embeddings of the largest batch, for bench/encode.js to compare the runtimes.
  const out = new Float32Array(2 * spec.maxBatch * EMBED);
  out.set(largest.image, 0);
  out.set(largest.text, spec.maxBatch * EMBED);
  fs.writeFileSync(spec.embeddings, out);
  return { rows, precision: enc.precision, peak_rss_mb: process.resourceUsage().maxRSS / 1024 };
}

/** Backbone from the seed as loadModel initialises it, adapters random and non-zero (every path counts). */
async function writeWeights(config, file) {
  const { loadModel } = require(path.join(root, 'lib'));
  const model = await loadModel({ random: true, config, seed: 0 });
  const random = new SeededRandom(12345);
  const uniform = () => random.random();
  for (const p of model.params.trainable()) {
    // The scale of trained adapters: fan-in scaled matrices, small vectors.
    const shape = p.spec.shape;
    const scale = shape.length === 2 ? Math.sqrt(3 / shape[shape.length - 1]) : 0.02 * Math.sqrt(3);
    for (let i = 0; i < p.data.length; i++) p.data[i] = (uniform() * 2 - 1) * scale;
  }
  await model.save(file, { format: 'torch' });
}

async function main() {
  const [kind, a, b] = process.argv.slice(2);
  if (kind === 'weights') return writeWeights(a, b);
  if (kind !== 'posapl' && kind !== 'onnx') throw new Error(`unknown runner ${kind}`);
  console.log(JSON.stringify(await bench(kind, JSON.parse(a))));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
