#!/usr/bin/env node
// Captions per second of ClipTokenizer.encode on all RSITMD training captions (../shared), first
// with an empty piece cache (a fresh tokenizer, as a training run starts), then warm; also
// cleanCaption + tagPos. Run after `npm run build:ts`:
//
//   node bench/tokenizer.js [--json]
'use strict';
const fs = require('fs');
const path = require('path');
const { ClipTokenizer, cleanCaption, tagPos } = require('../lib/text');

const shared = path.resolve(__dirname, '..', '..', 'shared');
const trainFile = path.join(shared, 'data', 'rsitmd', 'train.json');
const vocabFile = path.join(shared, 'vocab', 'bpe_simple_vocab_16e6.txt.gz');
if (!fs.existsSync(trainFile) || !fs.existsSync(vocabFile)) {
  console.error(`bench/tokenizer.js reads ${trainFile} and ${vocabFile}: put the shared folder beside the repository`);
  process.exit(1);
}

function seconds(fn) {
  const start = process.hrtime.bigint();
  const value = fn();
  return [Number(process.hrtime.bigint() - start) / 1e9, value];
}

(async () => {
  const captions = JSON.parse(fs.readFileSync(trainFile, 'utf8')).map((e) => e.caption);
  const loadStart = process.hrtime.bigint();
  const tok = await ClipTokenizer.fromFile(vocabFile);
  const load = Number(process.hrtime.bigint() - loadStart) / 1e9;
  const [cold, ids] = seconds(() => tok.encode(captions));
  const [warm] = seconds(() => tok.encode(captions));
  const [pos] = seconds(() => captions.map((c) => tagPos(cleanCaption(c))));
  const result = {
    captions: captions.length,
    vocabLoadSeconds: load,
    encodeColdSeconds: cold,
    encodeColdCaptionsPerSecond: captions.length / cold,
    encodeWarmCaptionsPerSecond: captions.length / warm,
    tagPosCaptionsPerSecond: captions.length / pos,
    ids: ids.length,
  };
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(`RSITMD train: ${result.captions} captions`);
  console.log(`vocabulary load        ${(load * 1000).toFixed(0)} ms`);
  console.log(`encode, cold cache     ${(cold * 1000).toFixed(0)} ms  ${Math.round(result.encodeColdCaptionsPerSecond)} captions/s`);
  console.log(`encode, warm cache     ${(warm * 1000).toFixed(0)} ms  ${Math.round(result.encodeWarmCaptionsPerSecond)} captions/s`);
  console.log(`cleanCaption + tagPos  ${(pos * 1000).toFixed(0)} ms  ${Math.round(result.tagPosCaptionsPerSecond)} captions/s`);
})();
