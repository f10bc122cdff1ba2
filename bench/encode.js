#!/usr/bin/env node
// npm run bench:encode [-- --config rsitmd --batches 1,8,32,64 --precision fp32|bf16 --min-seconds 2
//                         --torch-threads 1,2 --no-torch --json]
// Images/s and captions/s of ViT-B/32 POSAPL encoding: posapl-native beside onnxruntime-node (the
// reference model exported to ONNX with the same weights) and PyTorch eager (Debian's torch 1.13),
// measured in one run on the same inputs, each runtime in its own process. The embeddings of the
// largest batch are compared so the table compares the same computation.
//
// onnxruntime-node is a benchmark-only peer: installed on first use into bench/peers, never by
// `npm ci` of the package. Weights, ONNX files and inputs are generated once under bench/.cache/.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { option: opt, flag, peerEnv } = require('./command-line');
const { SeededRandom } = require('../lib/seededRandom');

const root = path.resolve(__dirname, '..');
const config = opt('config', 'rsitmd');
const batches = opt('batches', '1,8,32,64').split(',').map(Number);
const precision = opt('precision', 'fp32');
const minSeconds = Number(opt('min-seconds', '2'));
const torchThreads = opt('torch-threads', '1,2');
const withTorch = !flag('no-torch');
const json = flag('json');
const python = process.env.POSAPL_PYTHON || '/usr/bin/python3';
const maxBatch = Math.max(...batches);
// fp32 must agree with onnxruntime to this cosine; bf16 rounds weights and activations, so its
// cosine is printed, not held to it.
const MIN_COSINE_FP32 = 0.9999;
const CONTEXT = 77;
const SIZE = 224;
const EMBED = 512;

if (!['rsitmd', 'rsicd'].includes(config)) fail(`--config must be rsitmd or rsicd, not ${config}`);
if (!['fp32', 'bf16'].includes(precision)) fail(`--precision must be fp32 or bf16, not ${precision}`);
if (batches.some((b) => !Number.isInteger(b) || b < 1)) fail(`--batches must be positive integers: ${opt('batches')}`);

const childEnv = peerEnv();

const cache = path.join(__dirname, '.cache', 'encode');
const files = {
  weights: path.join(cache, `${config}-weights.bin`),
  image: path.join(cache, `${config}-image.onnx`),
  text: path.join(cache, `${config}-text.onnx`),
  inputs: path.join(cache, `inputs-${maxBatch}.bin`),
  embeddings: (runner) => path.join(cache, `embeddings-${runner}.bin`),
};

function fail(message) {
  console.error(`bench:encode: ${message}`);
  process.exit(1);
}

function run(cmd, args, what, env = childEnv) {
  const r = spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    const tail = (r.stderr || r.stdout || r.error?.message || '').trim().split('\n').slice(-5).join('\n  ');
    fail(`${what} failed:\n  ${tail}`);
  }
  return r.stdout;
}

const runJson = (cmd, args, what) => JSON.parse(run(cmd, args, what).trim().split('\n').pop());
const mtime = (f) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : 0);

function preparePeer() {
  const pkg = path.join(__dirname, 'peers', 'node_modules', 'onnxruntime-node', 'package.json');
  const wanted = require('./peers/package.json').dependencies['onnxruntime-node'];
  if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).version === wanted) return;
  console.error(`installing onnxruntime-node ${wanted} into bench/peers (benchmark only) ...`);
  // Its postinstall would download CUDA binaries; the CPU ones are in the registry tarball.
  run('npm', ['install', '--prefix', path.join(__dirname, 'peers'), '--no-audit', '--no-fund', '--no-package-lock'],
    'npm install of the benchmark peers', { ...childEnv, ONNXRUNTIME_NODE_INSTALL: 'skip' });
}

function prepareModelFiles() {
  fs.mkdirSync(cache, { recursive: true });
  if (!fs.existsSync(files.weights)) {
    console.error(`writing ${path.relative(root, files.weights)} with posapl-native ...`);
    run(process.execPath, [path.join(__dirname, 'encode-runner.js'), 'weights', config, files.weights], 'writing the weights');
  }
  const sources = ['tools/reference/export_onnx.py', 'tools/reference/posapl_model.py'].map((f) => path.join(root, f));
  const newest = Math.max(mtime(files.weights), ...sources.map(mtime));
  if (mtime(files.image) < newest || mtime(files.text) < newest) {
    console.error(`exporting ${config} to ONNX with PyTorch ...`);
    run(python, [path.join(root, 'tools/reference/export_onnx.py'), '--config', config, '--weights', files.weights, '--out-dir', cache], 'the ONNX export');
  }
}

/** Seeded inputs of maxBatch samples: normal pixels; SOT, random words, EOT, zero padding. */
function prepareInputs() {
  if (fs.existsSync(files.inputs)) return;
  const random = new SeededRandom(2024);
  const uniform = () => random.random();
  const np = maxBatch * 3 * SIZE * SIZE;
  const nt = maxBatch * CONTEXT;
  const buf = new ArrayBuffer((np + 2 * nt) * 4);
  const pixels = new Float32Array(buf, 0, np);
  for (let i = 0; i < np; i++) pixels[i] = Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  for (const ids of [new Int32Array(buf, np * 4, nt), new Int32Array(buf, (np + nt) * 4, nt)]) {
    for (let s = 0; s < maxBatch; s++) {
      const row = ids.subarray(s * CONTEXT, (s + 1) * CONTEXT);
      const length = 8 + Math.floor(uniform() * 40);
      row[0] = 49406;
      for (let j = 1; j < length; j++) row[j] = 1 + Math.floor(uniform() * 49000);
      row[length] = 49407;
    }
  }
  fs.writeFileSync(files.inputs, new Uint8Array(buf));
}

function readEmbeddings(runner) {
  const b = fs.readFileSync(files.embeddings(runner));
  const all = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  return { image: all.subarray(0, maxBatch * EMBED), text: all.subarray(maxBatch * EMBED) };
}

/** Smallest cosine similarity between matching rows (embeddings are L2-normalised, but not assumed so). */
function minCosine(a, b) {
  let min = Infinity;
  for (let i = 0; i < a.length / EMBED; i++) {
    let ab = 0, aa = 0, bb = 0;
    for (let j = i * EMBED; j < (i + 1) * EMBED; j++) {
      ab += a[j] * b[j];
      aa += a[j] * a[j];
      bb += b[j] * b[j];
    }
    min = Math.min(min, ab / Math.sqrt(aa * bb));
  }
  return min;
}

preparePeer();
prepareModelFiles();
prepareInputs();

const spec = {
  config, precision, batches, minSeconds, maxBatch, inputs: files.inputs, weights: files.weights,
  onnx: { image: files.image, text: files.text },
};
const runner = path.join(__dirname, 'encode-runner.js');
const results = {};
for (const name of ['posapl', 'onnx']) {
  console.error(`timing ${name} ...`);
  results[name] = runJson(process.execPath, [runner, name, JSON.stringify({ ...spec, embeddings: files.embeddings(name) })], name);
}
if (withTorch) {
  console.error('timing torch ...');
  results.torch = runJson(python, [
    path.join(root, 'tools/reference/bench_encode.py'), '--config', config, '--weights', files.weights,
    '--inputs', files.inputs, '--max-batch', String(maxBatch), '--batches', batches.join(','),
    '--threads', torchThreads, '--min-seconds', String(minSeconds), '--embeddings', files.embeddings('torch'),
  ], 'torch');
}

const emb = Object.fromEntries(Object.keys(results).map((name) => [name, readEmbeddings(name)]));
const cosine = {
  posapl_onnx: { image: minCosine(emb.posapl.image, emb.onnx.image), text: minCosine(emb.posapl.text, emb.onnx.text) },
};
if (withTorch) cosine.torch_onnx = { image: minCosine(emb.torch.image, emb.onnx.image), text: minCosine(emb.torch.text, emb.onnx.text) };
const agree = Math.min(cosine.posapl_onnx.image, cosine.posapl_onnx.text) >= MIN_COSINE_FP32;

const rows = batches.map((batch, i) => {
  const o = results.posapl.rows[i], x = results.onnx.rows[i], t = results.torch?.rows[i];
  return {
    batch,
    posapl_images_per_s: o.images_per_s, onnx_images_per_s: x.images_per_s, torch_images_per_s: t?.images_per_s,
    images_ratio: o.images_per_s / x.images_per_s,
    posapl_captions_per_s: o.captions_per_s, onnx_captions_per_s: x.captions_per_s, torch_captions_per_s: t?.captions_per_s,
    captions_ratio: o.captions_per_s / x.captions_per_s,
    torch_threads: t ? { image: t.image_threads, text: t.text_threads } : undefined,
  };
});
const rss = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.peak_rss_mb]));

const f = (v, d = 1) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '-');
const ort = require('./peers/node_modules/onnxruntime-node/package.json').version;
const ran = results.posapl.precision && results.posapl.precision !== precision ? ` (ran ${results.posapl.precision}: no AMX-BF16 here)` : '';
console.log(`ViT-B/32 ${config} encoding, posapl-native ${precision}${ran} vs onnxruntime-node ${ort} (CPU, fp32)` +
  `${withTorch ? ` vs PyTorch ${results.torch.torch} eager (best of ${torchThreads} threads)` : ''}, >= ${minSeconds} s per cell`);
console.log('batch | images/s: posapl    onnx   torch  ours/onnx | captions/s: posapl    onnx   torch  ours/onnx');
for (const r of rows) {
  console.log(`${String(r.batch).padStart(5)} | ${f(r.posapl_images_per_s).padStart(16)} ${f(r.onnx_images_per_s).padStart(7)} ${f(r.torch_images_per_s).padStart(7)} ${f(r.images_ratio, 2).padStart(9)}x |` +
    ` ${f(r.posapl_captions_per_s).padStart(18)} ${f(r.onnx_captions_per_s).padStart(7)} ${f(r.torch_captions_per_s).padStart(7)} ${f(r.captions_ratio, 2).padStart(9)}x`);
}
console.log(`peak RSS MB: posapl ${f(rss.posapl, 0)}, onnx ${f(rss.onnx, 0)}${withTorch ? `, torch ${f(rss.torch, 0)}` : ''}`);
console.log(`min cosine over ${maxBatch} samples: posapl/onnx image ${cosine.posapl_onnx.image.toFixed(6)} text ${cosine.posapl_onnx.text.toFixed(6)}` +
  (withTorch ? `; torch/onnx image ${cosine.torch_onnx.image.toFixed(6)} text ${cosine.torch_onnx.text.toFixed(6)}` : '') +
  (precision === 'fp32' ? (agree ? `  (>= ${MIN_COSINE_FP32}: same computation)` : `  FAIL: below ${MIN_COSINE_FP32}`) : ''));
if (json) {
  console.log(JSON.stringify({ encode: { config, precision, posapl_precision: results.posapl.precision, onnxruntime: ort, torch: results.torch?.torch, rows, peak_rss_mb: rss, min_cosine: cosine } }));
}
if (precision === 'fp32' && !agree) process.exitCode = 1;
