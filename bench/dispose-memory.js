#!/usr/bin/env node
// Memory given back by dispose(): 12 cycles of loadModel (ViT-B/32 'rsitmd', random weights),
// encodeImages + encodeTexts of 8 samples, dispose() (the model still referenced, as a caller
// holding it would); RSS after dispose + gc, and again one event-loop turn + gc later.
// node --expose-gc bench/dispose-memory.js [cycles=12]
'use strict';
const path = require('path');
const { loadModel } = require(path.resolve(__dirname, '..', 'lib'));

const mb = (b) => Math.round(b / 1048576);
async function main() {
  const cycles = Number(process.argv[2] ?? 12);
  const gc = globalThis.gc ?? (() => {});
  gc();
  const m0 = process.memoryUsage();
  console.log(`before: rss ${mb(m0.rss)} MB, arrayBuffers ${mb(m0.arrayBuffers)} MB`);
  const rows = [];
  for (let c = 0; c < cycles; c++) {
    const model = await loadModel({ config: 'rsitmd', seed: c, random: true });
    const n = 8;
    const S = model.config.vision_cfg.image_size;
    const L = model.config.text_cfg.context_length;
    const ids = new Int32Array(n * L).map((_, i) => 1 + (i % 300));
    for (let i = 0; i < n; i++) ids[i * L + 9] = 49407;
    model.encodeImages(new Float32Array(n * 3 * S * S).fill(0.1), n);
    model.encodeTexts(ids, ids, n);
    const loaded = process.memoryUsage().rss;
    model.dispose();
    gc();
    const now = process.memoryUsage();
    // Memory a transfer detached is released once the event loop turns.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const m = process.memoryUsage();
    rows.push({ cycle: c + 1, loaded_rss_mb: mb(loaded), disposed_rss_mb: mb(now.rss), next_turn_rss_mb: mb(m.rss), array_buffers_mb: mb(m.arrayBuffers) });
    console.log(`cycle ${c + 1}: loaded rss ${mb(loaded)} MB; after dispose rss ${mb(now.rss)} MB; a turn later rss ${mb(m.rss)} MB, external ${mb(m.external)} MB`);
  }
  console.log(JSON.stringify({ before_rss_mb: mb(m0.rss), cycles: rows }));
}
main().catch((e) => { console.error(e); process.exit(1); });
