#!/usr/bin/env node
// Decoded + augmented images per second per core: 256x256 RGB TIFFs (the size RSITMD ships) to
// the 224x224 train transform (RandomResizedCrop, flip, RandAugment, normalise) and the test
// transform (resize, normalise). Measured on the calling thread (one core: images per CPU
// second, since sharp may use helper threads) and through ImagePipeline on every core (wall
// clock, and per CPU second of the whole process, which stays meaningful on a busy machine).
// Run after `npm run compile`:
//
//   node bench/images.js [--images N] [--json]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const sharp = require('sharp');
const { decodeImage, trainTransform, testTransform, ImagePipeline } = require('../lib/data');
const { sampleSeed } = require('../lib/train/sampling');
const { SeededRandom } = require('../lib/seededRandom');

const args = process.argv.slice(2);
const json = args.includes('--json');
const count = Number(args[args.indexOf('--images') + 1]) || 200;
const SIZE = 224, SIDE = 256;

// Aerial-looking content: smooth fields, a grid of roofs, noise. Uncompressed, as RSITMD's TIFFs.
function scene(seed) {
  const data = Buffer.alloc(SIDE * SIDE * 3);
  const random = new SeededRandom(seed);
  const noise = () => random.integer(0, 16);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const roof = (x >> 5) % 2 === (y >> 5) % 2 && (x & 31) > 6 && (y & 31) > 6;
      const i = (y * SIDE + x) * 3;
      data[i] = roof ? 190 : 70 + ((x + seed * 7) % 60) + noise();
      data[i + 1] = roof ? 180 : 100 + ((y * 3) % 50) + noise();
      data[i + 2] = roof ? 170 : 60 + noise();
    }
  }
  return data;
}

function cpuSeconds(start) {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
}

async function timed(fn) {
  const cpu = process.cpuUsage();
  const wall = process.hrtime.bigint();
  await fn();
  return { wall: Number(process.hrtime.bigint() - wall) / 1e9, cpu: cpuSeconds(cpu) };
}

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-bench-images-'));
  const files = [];
  for (let k = 0; k < count; k++) {
    const file = path.join(dir, `scene_${k}.tif`);
    await sharp(scene(k), { raw: { width: SIDE, height: SIDE, channels: 3 } }).tiff({ compression: 'none' }).toFile(file);
    files.push(file);
  }
  const seeds = files.map((_, k) => sampleSeed(2024, 0, k));
  const results = {};
  try {
    // Warm up the addon, sharp and the page cache.
    for (const f of files.slice(0, 8)) trainTransform(await decodeImage(f), SIZE, 1);

    const images = [];
    const decode = await timed(async () => {
      for (const f of files) images.push(await decodeImage(f));
    });
    const train = await timed(async () => {
      images.forEach((img, k) => trainTransform(img, SIZE, seeds[k]));
    });
    const test = await timed(async () => {
      images.forEach((img) => testTransform(img, SIZE));
    });
    const perCpu = (t) => count / t.cpu;
    results.oneThread = {
      decodePerCpuSecond: perCpu(decode),
      trainTransformPerCpuSecond: perCpu(train),
      testTransformPerCpuSecond: perCpu(test),
      decodeAndTrainPerCpuSecond: count / (decode.cpu + train.cpu),
      decodeAndTestPerCpuSecond: count / (decode.cpu + test.cpu),
    };

    const workers = os.cpus().length;
    const pipeline = new ImagePipeline({ root: dir, imageSize: SIZE, workers });
    const names = files.map((f) => path.basename(f));
    await pipeline.load(names.slice(0, workers * 2), 'train', seeds.slice(0, workers * 2));
    const batches = (mode) => async () => {
      for (let k = 0; k < count; k += 64) await pipeline.load(names.slice(k, k + 64), mode, seeds.slice(k, k + 64));
    };
    const ptrain = await timed(batches('train'));
    const ptest = await timed(batches('test'));
    await pipeline.close();
    // With the decoded cache (posapl-train's default): the first epoch decodes, later ones do not.
    const cached = new ImagePipeline({ root: dir, imageSize: SIZE, workers, decodedCacheBytes: 2 ** 31 });
    const cachedBatches = () => async () => {
      for (let k = 0; k < count; k += 64) await cached.load(names.slice(k, k + 64), 'train', seeds.slice(k, k + 64));
    };
    await cachedBatches()();
    const ctrain = await timed(cachedBatches());
    await cached.close();
    // process.cpuUsage counts every thread of the process: the workers, sharp's and the main one.
    results.pipeline = {
      workers,
      trainPerSecond: count / ptrain.wall,
      trainPerSecondPerCore: count / ptrain.wall / workers,
      trainPerCpuSecond: count / ptrain.cpu,
      testPerSecond: count / ptest.wall,
      testPerSecondPerCore: count / ptest.wall / workers,
      testPerCpuSecond: count / ptest.cpu,
      trainCachedPerSecond: count / ctrain.wall,
      trainCachedPerSecondPerCore: count / ctrain.wall / workers,
      trainCachedPerCpuSecond: count / ctrain.cpu,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  if (json) {
    console.log(JSON.stringify({ images: count, size: SIZE, source: SIDE, ...results }));
    return;
  }
  const r = results.oneThread, p = results.pipeline;
  const f = (v) => v.toFixed(0).padStart(6);
  console.log(`${count} ${SIDE}x${SIDE} uncompressed RGB TIFFs -> ${SIZE}x${SIZE}, ${os.cpus()[0].model}`);
  console.log('one thread, images per CPU second:');
  console.log(`  decode (sharp)               ${f(r.decodePerCpuSecond)}`);
  console.log(`  train transform              ${f(r.trainTransformPerCpuSecond)}`);
  console.log(`  test transform               ${f(r.testTransformPerCpuSecond)}`);
  console.log(`  decode + train transform     ${f(r.decodeAndTrainPerCpuSecond)}`);
  console.log(`  decode + test transform      ${f(r.decodeAndTestPerCpuSecond)}`);
  console.log(`ImagePipeline, ${p.workers} workers: images per second (per core), per CPU second of the process:`);
  const line = (name, wall, core, cpu) => console.log(`  ${name.padEnd(29)}${f(wall)} (${core.toFixed(0)}), ${cpu.toFixed(0)}`);
  line('train', p.trainPerSecond, p.trainPerSecondPerCore, p.trainPerCpuSecond);
  line('test', p.testPerSecond, p.testPerSecondPerCore, p.testPerCpuSecond);
  line('train, decoded cache (epoch 2)', p.trainCachedPerSecond, p.trainCachedPerSecondPerCore, p.trainCachedPerCpuSecond);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
