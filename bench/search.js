#!/usr/bin/env node
// npm run bench:search [-- --precision bf16 --index-size 100000 --exact-sizes 100000,1000000
//                         --hnsw-size 100000 --build-images 128 --queries 40 --json]
// The retrieval goals of issue 14 at ViT-B/32 size (rsitmd config, random weights: the work is
// the same as with trained ones):
// - query latency on a synthetic index (random unit embeddings written as a real index folder):
//   text (tokenize + POS-tag + encode + search) and image (encode + search, pixels already decoded);
// - exact search per query (embedding -> top 10) at each --exact-sizes, fp32 and bf16 GEMM;
// - HNSW (usearch, when installed) recall@10 against exact search on clustered vectors, and its latency;
// - index build throughput (posapl-index's work: hash, decode, encode, commit) on real JPEG files
//   beside the model's plain encodeImages throughput and decode+encode throughput;
// - index size on disk (float16 embeddings + file metadata).
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { option: opt, flag } = require('./command-line');
const { seededUniform } = require('./seeded-random');

const root = path.resolve(__dirname, '..');
const lib = require(path.join(root, 'lib'));
const { writeIndex } = require(path.join(root, 'lib/search/indexStore'));

const precision = opt('precision', 'bf16');
const indexSize = Number(opt('index-size', '100000'));
const exactSizes = opt('exact-sizes', '100000,1000000').split(',').map(Number);
const hnswSize = Number(opt('hnsw-size', '100000'));
const buildImages = Number(opt('build-images', '128'));
const queries = Number(opt('queries', '40'));
const json = flag('json');
const DIM = 512;
const K = 10;

const CAPTIONS = [
  'a river beside a road', 'many green trees are around a square', 'several buildings near a parking lot',
  'a bridge over the river with cars', 'an airport with two planes on the runway', 'a baseball field next to a pond',
  'farmland divided into rectangular fields', 'a port with many boats', 'a white church in a dense residential area',
  'a playground surrounded by trees', 'some storage tanks near the factory', 'a stadium with a green lawn',
];

function log(text) {
  if (!json) process.stderr.write(`${text}\n`);
}

function unitRows(n, seed) {
  const u = seededUniform(seed);
  const out = new Float32Array(n * DIM);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < DIM; j++) {
      // A sum of uniforms: close enough to Gaussian for directions on the sphere.
      const v = u() + u() + u() - 1.5;
      out[i * DIM + j] = v;
      s += v * v;
    }
    const scale = 1 / Math.sqrt(s);
    for (let j = 0; j < DIM; j++) out[i * DIM + j] *= scale;
  }
  return out;
}

/**
 * Rows in clusters, as embeddings of an archive are (scenes of a kind lie together): `n` rows
 * around n/50 random centres at cosine ~0.8, or with `spread` 1.5 queries at cosine ~0.55 from
 * one (a text query lies farther from its images than they lie from each other). Uniformly
 * random directions would leave no nearest neighbours to find: in 512 dimensions every pair is
 * at cosine 0 +- 0.04, a worst case no index is built for.
 */
function clusteredRows(n, seed, centres, spread = 0.75) {
  const u = seededUniform(seed);
  const centreRows = unitRows(centres, 7);
  const out = new Float32Array(n * DIM);
  const sigma = spread / Math.sqrt(DIM) / Math.sqrt(0.25); // three uniforms - 1.5 have variance 0.25
  for (let i = 0; i < n; i++) {
    const c = Math.floor(u() * centres);
    let s = 0;
    for (let j = 0; j < DIM; j++) {
      const v = centreRows[c * DIM + j] + sigma * (u() + u() + u() - 1.5);
      out[i * DIM + j] = v;
      s += v * v;
    }
    const scale = 1 / Math.sqrt(s);
    for (let j = 0; j < DIM; j++) out[i * DIM + j] *= scale;
  }
  return out;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function timeEach(n, fn) {
  await fn(0); // warm-up
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return { p50_ms: percentile(ms, 0.5), p90_ms: percentile(ms, 0.9), runs: n };
}

function dirBytes(dir) {
  return fs.readdirSync(dir).reduce((s, n) => s + fs.statSync(path.join(dir, n)).size, 0);
}

function tokenizerPath() {
  const shared = path.resolve(root, '../shared/vocab/bpe_simple_vocab_16e6.txt.gz');
  return process.env.POSAPL_TOKENIZER || (fs.existsSync(shared) ? shared : 'byte-level');
}

async function main() {
  const results = { precision, threads: os.cpus().length };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-bench-search-'));
  try {
    const tokenizer = tokenizerPath();
    log(`loading ViT-B/32 (rsitmd config, random weights, ${precision}), tokenizer ${tokenizer} ...`);
    const model = await lib.loadRetrievalModel({ config: 'rsitmd', random: true, seed: 0, tokenizer, precision });
    results.model_precision = model.model.precision;

    // 1. A synthetic index of indexSize images as a real index folder, then query latency.
    log(`writing a synthetic ${indexSize}-image index ...`);
    const dir = path.join(work, 'index');
    fs.mkdirSync(dir);
    const files = Array.from({ length: indexSize }, (_, i) => {
      const p = `archive/${String(Math.floor(i / 1000)).padStart(4, '0')}/scene_${String(i).padStart(7, '0')}.jpg`;
      return { path: p, abs: path.join('/data', p), size: 20000 + (i % 5000), mtimeMs: 1.7e12 + i, sha256: crypto.createHash('sha256').update(p).digest('hex') };
    });
    await writeIndex(dir, { generation: 1, model: model.record, dtype: 'float16', dim: DIM, files, embeddings: unitRows(indexSize, 1) });
    const embeddingsBytes = fs.statSync(path.join(dir, 'embeddings-1.safetensors')).size;
    results.index_size = { images: indexSize, total_mb: dirBytes(dir) / 1e6, embeddings_mb: embeddingsBytes / 1e6, metadata_mb: (dirBytes(dir) - embeddingsBytes) / 1e6 };
    let t0 = Date.now();
    const index = await lib.RetrievalIndex.open(dir, { model });
    results.index_size.open_s = (Date.now() - t0) / 1000;
    const pixels = new Float32Array(3 * 224 * 224);
    const u = seededUniform(5);
    for (let i = 0; i < pixels.length; i++) pixels[i] = u() * 4 - 2;
    results.query = { images: indexSize };
    // Without AMX-BF16 the bf16 search runs fp32: measured once.
    const searchPrecisions = lib.nativeInfo().bf16 ? ['fp32', 'bf16'] : ['fp32'];
    for (const searchPrecision of searchPrecisions) {
      const idx = await lib.RetrievalIndex.open(dir, { model, searchPrecision });
      idx.searchEmbedding(new Float32Array(DIM).fill(1 / Math.sqrt(DIM)), K); // packs bf16 rows once
      log(`query latency, ${indexSize} images, exact ${searchPrecision} search ...`);
      results.query[`text_${searchPrecision}_search`] = await timeEach(queries, (i) => idx.searchText(CAPTIONS[i % CAPTIONS.length], K));
      results.query[`image_${searchPrecision}_search`] = await timeEach(queries, () => idx.searchImage(pixels, K));
    }
    results.query.text_encoding_only = await timeEach(queries, (i) => lib.encodeTextQuery(model.model, model.tokenizer, CAPTIONS[i % CAPTIONS.length]));
    results.query.image_encoding_only = await timeEach(queries, () => model.model.encodeImages(pixels, 1));
    index.close();

    // 2. Exact search per query, embedding -> top 10.
    results.exact = [];
    const probes = unitRows(queries, 2);
    for (const n of exactSizes) {
      log(`exact search over ${n} vectors ...`);
      const rows = unitRows(n, 3);
      for (const p of searchPrecisions) {
        const search = new lib.ExactSearch(rows, n, DIM, p);
        t0 = Date.now();
        search.search(probes.subarray(0, DIM), 1, K);
        const firstMs = Date.now() - t0;
        const timing = await timeEach(queries, (i) => search.search(probes.subarray((i % queries) * DIM, (i % queries + 1) * DIM), 1, K));
        results.exact.push({ vectors: n, precision: search.precision, ...timing, first_query_ms: firstMs });
      }
    }

    // 3. HNSW recall@10 against exact search.
    if (lib.usearchAvailable() && hnswSize > 0) {
      log(`HNSW over ${hnswSize} vectors (building) ...`);
      const centres = Math.max(1, Math.round(hnswSize / 50));
      const rows = clusteredRows(hnswSize, 4, centres);
      const hnswQueries = clusteredRows(queries, 8, centres, 1.5);
      const exact = new lib.ExactSearch(rows, hnswSize, DIM, 'fp32').search(hnswQueries, queries, K);
      results.hnsw = [];
      // One graph (built once, saved), searched with growing candidate lists (ef).
      t0 = Date.now();
      const usearch = require('usearch');
      const config = (ef) => ({ dimensions: DIM, metric: 'ip', quantization: 'f32', connectivity: 16, expansion_add: 128, expansion_search: ef, multi: false });
      const graph = new usearch.Index(config(64));
      const keys = new BigUint64Array(hnswSize);
      for (let i = 0; i < hnswSize; i++) keys[i] = BigInt(i);
      graph.add(keys, rows, 0);
      const buildS = (Date.now() - t0) / 1000;
      const graphFile = path.join(work, 'graph.usearch');
      graph.save(graphFile);
      for (const ef of [64, 128, 256, 512]) {
        const loaded = new usearch.Index(config(ef));
        loaded.load(graphFile);
        const one = (q) => loaded.search(hnswQueries.subarray(q * DIM, (q + 1) * DIM), K, 1);
        let hits = 0;
        for (let q = 0; q < queries; q++) {
          const truth = new Set(exact[q].map((s) => s.index));
          for (const key of one(q).keys) if (truth.has(Number(key))) hits++;
        }
        const timing = await timeEach(queries, (i) => one(i % queries));
        results.hnsw.push({ vectors: hnswSize, connectivity: 16, expansion_add: 128, expansion_search: ef, build_s: buildS, recall_at_10: hits / (queries * K), ...timing });
      }
    } else {
      results.hnsw = lib.usearchAvailable() ? 'not measured (--hnsw-size 0)' : 'usearch not installed (optional dependency)';
    }

    // 4. Build throughput on real JPEG files (256x256, the size of RSITMD's images).
    if (buildImages > 0) await measureBuild(results, work, model);
    model.model.dispose();
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  if (json) {
    console.log(JSON.stringify(results));
    return;
  }
  print(results);
}

async function measureBuild(results, work, model) {
  const u = seededUniform(9);
  let t0;
  {
    log(`writing ${buildImages} JPEG files ...`);
    const sharp = require('sharp');
    const photos = path.join(work, 'photos');
    fs.mkdirSync(photos);
    for (let i = 0; i < buildImages; i++) {
      const raw = Buffer.alloc(256 * 256 * 3);
      const g = seededUniform(100 + i);
      for (let p = 0; p < raw.length; p++) raw[p] = ((p % 768) * (i + 1) + g() * 64) & 255;
      await sharp(raw, { raw: { width: 256, height: 256, channels: 3 } }).jpeg({ quality: 90 }).toFile(path.join(photos, `p${String(i).padStart(5, '0')}.jpg`));
    }
    const batch = 32;
    const enc = new Float32Array(batch * 3 * 224 * 224);
    for (let i = 0; i < enc.length; i++) enc[i] = u() * 4 - 2;
    model.model.encodeImages(enc, batch); // warm-up
    t0 = Date.now();
    const rounds = Math.max(1, Math.round(buildImages / batch));
    for (let r = 0; r < rounds; r++) model.model.encodeImages(enc, batch);
    const encodeOnly = (rounds * batch) / ((Date.now() - t0) / 1000);
    // Decode + encode: the image pipeline feeding encodeImages, next batch decoded during the encode.
    const names = fs.readdirSync(photos).map((n) => path.join(photos, n));
    const pipeline = new lib.ImagePipeline({ root: '/', imageSize: 224 });
    t0 = Date.now();
    let next = pipeline.load(names.slice(0, batch), 'test', names.slice(0, batch).map(() => 0));
    for (let b = 0; b < names.length; b += batch) {
      const loaded = await next;
      const following = names.slice(b + batch, b + 2 * batch);
      next = following.length ? pipeline.load(following, 'test', following.map(() => 0)) : null;
      model.model.encodeImages(loaded.pixels, Math.min(batch, names.length - b));
    }
    const decodeEncode = names.length / ((Date.now() - t0) / 1000);
    await pipeline.close();
    const built = await lib.RetrievalIndex.create(path.join(work, 'built'), model);
    t0 = Date.now();
    await built.add(photos, { batchSize: batch });
    const indexRate = names.length / ((Date.now() - t0) / 1000);
    results.build = {
      images: names.length, batch, encode_images_per_s: encodeOnly, decode_and_encode_images_per_s: decodeEncode, index_images_per_s: indexRate,
      index_vs_encode: indexRate / encodeOnly, index_vs_decode_and_encode: indexRate / decodeEncode,
    };
  }
}

function print(r) {
  const f = (v, d = 1) => (typeof v === 'number' ? v.toFixed(d) : String(v));
  console.log(`posapl-native search benchmark (ViT-B/32 rsitmd, model ${r.model_precision}${r.model_precision !== r.precision ? ` (${r.precision} asked: this CPU has no AMX-BF16)` : ''}, ${r.threads} cores)`);
  console.log(`\nindex of ${r.index_size.images} images: ${f(r.index_size.total_mb)} MB (embeddings ${f(r.index_size.embeddings_mb)} MB float16, metadata ${f(r.index_size.metadata_mb)} MB), opened in ${f(r.index_size.open_s, 2)} s`);
  console.log('\nquery latency (p50 / p90 ms), top 10:');
  for (const [k, v] of Object.entries(r.query)) if (typeof v === 'object') console.log(`  ${k.padEnd(24)} ${f(v.p50_ms)} / ${f(v.p90_ms)}`);
  console.log('\nexact search per query (embedding -> top 10), p50 / p90 ms:');
  for (const e of r.exact) console.log(`  ${String(e.vectors).padStart(8)} vectors ${e.precision}  ${f(e.p50_ms)} / ${f(e.p90_ms)} (first query ${e.first_query_ms} ms)`);
  console.log('\nHNSW (usearch) against exact:');
  if (typeof r.hnsw === 'string') console.log(`  ${r.hnsw}`);
  else for (const h of r.hnsw) console.log(`  ${h.vectors} vectors, M ${h.connectivity}, ef_add ${h.expansion_add}, ef_search ${h.expansion_search}: recall@10 ${f(h.recall_at_10, 3)}, p50 ${f(h.p50_ms, 2)} ms, build ${f(h.build_s)} s`);
  const b = r.build;
  if (b) console.log(`\nbuild, ${b.images} JPEG files 256x256, batch ${b.batch} (images/s): encodeImages alone ${f(b.encode_images_per_s)}, decode+encode ${f(b.decode_and_encode_images_per_s)}, posapl index add ${f(b.index_images_per_s)} (${f(100 * b.index_vs_encode, 0)}% of encode alone, ${f(100 * b.index_vs_decode_and_encode, 0)}% of decode+encode)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
