#!/usr/bin/env node
// npm run bench:train [-- --batch 32[,128,...] --steps 2 --micro-batch N --configs rsitmd,rsicd
//                        --precision fp32[,bf16] --torch-max-batch 128 --profile --no-torch --json]
// Seconds per ViT-B/32 training step and peak RSS of posapl-native beside PyTorch (Debian's
// torch 1.13 running tools/reference/posapl_model.py in fp32, OpenBLAS kernels not capped),
// measured in one run on the same shapes, each in its own process. Batches above the
// micro-batch use gradient caching on our side; PyTorch runs the whole batch at once (it has no
// gradient caching), and only up to --torch-max-batch, beyond which it would not fit in memory.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');
const { option: opt, flag, peerEnv } = require('./command-line');

const root = path.resolve(__dirname, '..');
const batches = opt('batch', '32').split(',').map(Number);
const steps = Number(opt('steps', '2'));
const microBatch = opt('micro-batch', '');
const configs = opt('configs', 'rsitmd,rsicd').split(',');
const json = flag('json');
const profile = flag('profile');
const withTorch = !flag('no-torch');
const torchMaxBatch = Number(opt('torch-max-batch', '128'));
const precisions = opt('precision', 'fp32').split(',');
const python = process.env.POSAPL_PYTHON || '/usr/bin/python3';

function runJson(cmd, args, env) {
  const r = spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return { error: (r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ') };
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const torchEnv = peerEnv();

const rows = [];
for (const config of configs) {
  for (const batch of batches) {
    const mb = microBatch && Number(microBatch) < batch ? microBatch : '';
    const runTorch = withTorch && batch <= torchMaxBatch;
    const torch = !runTorch ? { error: 'not run' } : runJson(python, [path.join(root, 'tools/reference/bench_step.py'), '--config', config, '--batch', String(batch), '--steps', String(steps)], torchEnv);
    for (const precision of precisions) {
      const ours = runJson(process.execPath, [path.join(__dirname, 'train-step.js'), config, String(batch), String(steps), mb, precision, profile ? 'profile' : ''], process.env);
      rows.push({
        config, batch, micro_batch: mb ? Number(mb) : batch, precision: ours.precision ?? precision,
        posapl_s: ours.seconds_per_step, posapl_rss_mb: ours.peak_rss_mb,
        torch_s: torch.seconds_per_step, torch_rss_mb: torch.peak_rss_mb,
        speedup: torch.seconds_per_step / ours.seconds_per_step,
        error: ours.error || (runTorch ? torch.error : undefined),
        profile: ours.profile, profile_step_ms: ours.profile_step_ms,
      });
    }
  }
}

const f = (v, d = 2) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '-');
console.log(`ViT-B/32 training step (${steps} timed steps after a warm-up); PyTorch in fp32`);
console.log('config   batch  micro  precision  posapl s/step  RSS MB   torch s/step  RSS MB   speed-up');
for (const r of rows) {
  console.log(`${r.config.padEnd(8)} ${String(r.batch).padStart(5)} ${String(r.micro_batch).padStart(6)}  ${r.precision.padEnd(9)} ${f(r.posapl_s).padStart(13)} ${f(r.posapl_rss_mb, 0).padStart(7)} ${f(r.torch_s).padStart(13)} ${f(r.torch_rss_mb, 0).padStart(7)} ${f(r.speedup).padStart(9)}x${r.error ? `  (${r.error})` : ''}`);
}
if (profile) for (const r of rows) if (r.profile) printProfile(r);
if (json) console.log(JSON.stringify({ train: rows.map(({ profile: _p, ...r }) => (profile ? { ...r, profile: _p } : r)) }));

// Native functions grouped by what they compute; whatever is left of the step is JavaScript.
function category(op) {
  if (op.startsWith('gemmBf16')) return 'GEMM bf16 (frozen Linears, fwd + dx)';
  if (op.startsWith('gemm nt')) return 'GEMM forward (x W^T)';
  if (op.startsWith('gemm nn')) return 'GEMM input gradient (dy W)';
  if (op.startsWith('gemm')) return 'GEMM weight gradient';
  if (op === 'biasGrad' || op === 'activationBackward') return 'bias / GELU backward';
  if (op.startsWith('attention')) return 'attention';
  if (op.startsWith('layerNorm')) return 'LayerNorm';
  if (op.startsWith('saAdapter')) return 'SA-adapter';
  if (op.startsWith('mlpAdapter')) return 'MLP adapters (POS)';
  if (op.startsWith('sideFusion') || op.startsWith('tokenMean') || op.startsWith('broadcastAdd')) return 'Side Fusion';
  if (op === 'retrievalLosses' || op.startsWith('l2Norm')) return 'losses + L2 norm';
  if (op === 'adamw') return 'AdamW';
  if (op === 'patchEmbed' || op === 'embeddingForward') return 'embeddings';
  if (op === 'axpy' || op === 'add') return 'residual adds';
  return 'other native';
}

function printProfile(r) {
  const groups = new Map();
  let nativeMs = 0;
  for (const { op, calls, ms } of r.profile) {
    const g = groups.get(category(op)) ?? { ms: 0, calls: 0 };
    g.ms += ms;
    g.calls += calls;
    groups.set(category(op), g);
    nativeMs += ms;
  }
  groups.set('JavaScript (allocation, copies, glue)', { ms: r.profile_step_ms - nativeMs, calls: 0 });
  console.log(`\nProfile of one ${r.config} step, batch ${r.batch}, ${r.precision} (${f(r.profile_step_ms / 1000)} s):`);
  console.log('part                                       ms   share  calls');
  for (const [name, g] of [...groups.entries()].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(`${name.padEnd(38)} ${f(g.ms, 0).padStart(7)} ${f((100 * g.ms) / r.profile_step_ms, 1).padStart(6)}% ${String(g.calls || '').padStart(6)}`);
  }
}
