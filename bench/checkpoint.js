#!/usr/bin/env node
/*
 * Checkpoint loading benchmark: a ~600 MB open_clip ViT-B/32-shaped float32 torch checkpoint
 * (made with torch by tools/reference/gen_checkpoints.py when missing), loaded by loadStateDict
 * in a fresh process each time; reports wall time and peak RSS (process.resourceUsage().maxRSS).
 * Also times saving it as safetensors and loading that, and torch.load for reference when a
 * python3 with torch is at hand.
 *
 *   npm run build:ts && node bench/checkpoint.js [checkpoint.pt]
 *   (POSAPL_BENCH_CHECKPOINT or the argument picks the file; PYTHON the interpreter with torch)
 */
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const lib = path.join(root, 'lib', 'io', 'index.js');

async function child(mode, file, out) {
  const io = require(lib);
  const start = process.hrtime.bigint();
  let tensors = 0;
  let bytes = 0;
  if (mode !== 'baseline') {
    const stateDict = await io.loadStateDict(file);
    for (const entry of stateDict.values()) {
      tensors++;
      bytes += entry.data.byteLength;
    }
    if (mode === 'convert') await io.saveStateDict(out, stateDict, { format: 'safetensors' });
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(JSON.stringify({ seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024, tensors, bytes }));
}

function measure(mode, file, out) {
  const r = spawnSync(process.execPath, [__filename, '--child', mode, file, out || ''], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${mode} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function pythonWithTorch() {
  for (const python of [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean)) {
    const r = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return python;
  }
  return undefined;
}

function torchLoad(python, file) {
  const script = [
    'import json, resource, sys, time, torch',
    'start = time.perf_counter()',
    'sd = torch.load(sys.argv[1], map_location="cpu", weights_only=True)',
    'seconds = time.perf_counter() - start',
    'print(json.dumps({"seconds": seconds, "maxRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,',
    '                  "tensors": len(sd), "bytes": sum(t.numel() * t.element_size() for t in sd.values())}))',
  ].join('\n');
  const r = spawnSync(python, ['-c', script, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`torch.load failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

function row(label, m) {
  const mib = (m.bytes / 2 ** 20).toFixed(0);
  return `${label.padEnd(34)} ${m.seconds.toFixed(3).padStart(8)} s ${m.maxRssMiB.toFixed(0).padStart(7)} MiB  (${m.tensors} tensors, ${mib} MiB)`;
}

function main() {
  if (!fs.existsSync(lib)) {
    console.error('lib/io is missing: run `npm run build:ts` first');
    process.exit(1);
  }
  const file = path.resolve(process.argv[2] || process.env.POSAPL_BENCH_CHECKPOINT || path.join(os.tmpdir(), 'posapl-bench', 'vit-b-32.pt'));
  const python = pythonWithTorch();
  if (!fs.existsSync(file)) {
    if (!python) {
      console.error(`${file} is missing and no python3 with torch can make it (set PYTHON)`);
      process.exit(1);
    }
    const r = spawnSync(python, [path.join(root, 'tools', 'reference', 'gen_checkpoints.py'), '--vit-b-32', file], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(1);
  }
  const safetensorsFile = file.replace(/(\.[^./]*)?$/, '.safetensors');
  console.log(`checkpoint: ${file} (${(fs.statSync(file).size / 2 ** 20).toFixed(0)} MiB), node ${process.version}, ${os.cpus().length} CPUs`);
  console.log(row('node baseline (require lib/io)', measure('baseline', file)));
  console.log(row('loadStateDict(.pt)', measure('load', file)));
  console.log(row('loadStateDict(.pt) again', measure('load', file)));
  const convert = measure('convert', file, safetensorsFile);
  console.log(row('load .pt + save .safetensors', convert));
  console.log(row('loadStateDict(.safetensors)', measure('load', safetensorsFile)));
  if (python) console.log(row('torch.load(weights_only=True)', torchLoad(python, file)));
  else console.log('torch.load: skipped (no python3 with torch; set PYTHON)');
}

if (process.argv[2] === '--child') {
  child(process.argv[3], process.argv[4], process.argv[5]).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main();
}
