/**
 * posapl-train and posapl-eval as real processes on the RSITMD annotation files with generated
 * stand-in images and a small CLIP-shaped backbone written as an open_clip PyTorch file:
 * train 2 epochs, an interrupted run resumed to the same result, evaluation of the best
 * checkpoint, and clear errors for bad input.
 */
import { spawn, spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { saveStateDict } from '../../src/io';
import { TensorEntry } from '../../src/io/dtypes';
import { nativeInfo } from '../../src/native/addon';
import { loadModel, openClipName } from '../../src/posapl/loadModel';

const ROOT = path.resolve(__dirname, '../..');
const TRAIN_BIN = path.join(ROOT, 'lib/cli/posapl-train.js');
const EVAL_BIN = path.join(ROOT, 'lib/cli/posapl-eval.js');
const SHARED = path.resolve(ROOT, '../shared');
const VOCAB = path.join(SHARED, 'vocab/bpe_simple_vocab_16e6.txt.gz');

const CONFIG = {
  embed_dim: 16,
  vision_cfg: { image_size: 32, patch_size: 8, width: 16, layers: 7, head_width: 8 },
  text_cfg: { context_length: 77, vocab_size: 49408, width: 16, heads: 2, layers: 7 },
  posapl: { down_dim: 8, sa_heads: 2, pos_side: true, down_dim_pos: 8, side_fusion: 'end-add' },
};

let dir: string;
const at = (...p: string[]) => path.join(dir, ...p);

function run(bin: string, args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000 });
}

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

function trainArgs(out: string, extra: string[] = []): string[] {
  return [
    '--config', at('config.json'), '--weights', at('weights', 'open_clip_pytorch_model.bin'), '--tokenizer', VOCAB,
    '--train', at('train.json'), '--test', at('test.json'), '--images', at('images'),
    '--epochs', '2', '--batch-size', '6', '--micro-batch', '4', '--lr', '0.01', '--workers', '1', '--out', out, '--json', ...extra,
  ];
}

beforeAll(async () => {
  for (const bin of [TRAIN_BIN, EVAL_BIN]) if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: build with "npm run build:ts"`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-train-e2e-'));
  // The first RSITMD pairs and test images, with stand-in TIFF images of their names.
  const train = JSON.parse(fs.readFileSync(path.join(SHARED, 'data/rsitmd/train.json'), 'utf8')).slice(0, 36);
  const test = JSON.parse(fs.readFileSync(path.join(SHARED, 'data/rsitmd/test.json'), 'utf8')).slice(0, 6);
  fs.writeFileSync(at('train.json'), JSON.stringify(train));
  fs.writeFileSync(at('test.json'), JSON.stringify(test));
  fs.writeFileSync(at('config.json'), JSON.stringify(CONFIG));
  const names = [...new Set([...train, ...test].map((e: { image: string }) => e.image))];
  fs.mkdirSync(at('images'), { recursive: true });
  for (const name of names) fs.mkdirSync(path.dirname(at('images', name)), { recursive: true });
  await Promise.all(names.map((name, i) => {
    const raw = Buffer.alloc(40 * 40 * 3);
    for (let p = 0; p < raw.length; p++) raw[p] = (p * (i + 7) + (p % 3) * 50 * i) & 255;
    return sharp(raw, { raw: { width: 40, height: 40, channels: 3 } }).tiff().toFile(at('images', name));
  }));
  // A random backbone in open_clip's layout, written as a real PyTorch zip file.
  const model = await loadModel({ config: CONFIG as never, seed: 11 });
  const backbone = new Map<string, TensorEntry>();
  for (const p of model.params.list) {
    if (!p.spec.trainable) backbone.set(openClipName(p.spec.name), { dtype: 'float32', shape: [...p.spec.shape], data: p.data });
  }
  fs.mkdirSync(at('weights'));
  await saveStateDict(at('weights', 'open_clip_pytorch_model.bin'), backbone, { format: 'torch' });
}, 120_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// The uninterrupted run's result, which the resumed run and posapl-eval must reproduce.
let full: Record<string, unknown>;

describe('posapl-train', () => {
  it('trains 2 epochs and writes checkpoints, a JSON-lines log and report.html', () => {
    const r = run(TRAIN_BIN, trainArgs(at('run-full')));
    expect(r.stderr).not.toMatch(/Error:/);
    expect(r.status).toBe(0);
    full = lastJson(r.stdout);
    expect(Object.keys(full)).toEqual(expect.arrayContaining(['before', 'best', 'best_epoch', 'final', 'checkpoint']));
    expect(Object.keys(full.final as object)).toEqual(['txt_r1', 'txt_r5', 'txt_r10', 'img_r1', 'img_r5', 'img_r10', 'r_mean']);
    for (const f of ['best.safetensors', 'last.safetensors', 'report.html', 'log.jsonl']) expect(fs.existsSync(at('run-full', f))).toBe(true);
    const events = fs.readFileSync(at('run-full', 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type === 'step')).toHaveLength(12); // 36 pairs / 6 per batch x 2 epochs
    expect(events.filter((e) => e.type === 'eval')).toHaveLength(3); // before + 2 epochs
    const html = fs.readFileSync(at('run-full', 'report.html'), 'utf8');
    expect(html).toMatch(/<svg/);
    expect(html).toMatch(/data:image\/jpeg;base64,/);
  });

  it('resumes an interrupted run (Ctrl-C) to exactly the same result', async () => {
    const out = at('run-resumed');
    const child = spawn(process.execPath, [TRAIN_BIN, ...trainArgs(out)], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Interrupt once the first step is logged.
    const log = path.join(out, 'log.jsonl');
    for (let i = 0; i < 600 && !(fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('"type":"step"')); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toMatch(/continue with --resume/);
    expect(code).toBe(130);
    const resumed = run(TRAIN_BIN, trainArgs(out, ['--resume', out]));
    expect(resumed.status).toBe(0);
    const result = lastJson(resumed.stdout);
    expect(result.final).toEqual(full.final);
    expect(result.best).toEqual(full.best);
    const steps = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'step');
    expect(steps.map((e) => e.global_step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('refuses to resume with other settings', () => {
    const r = run(TRAIN_BIN, [...trainArgs(at('run-full')).map((a) => (a === '0.01' ? '0.02' : a)), '--resume', at('run-full')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/lr = 0.01, not 0.02/);
  });
});

describe('posapl-eval', () => {
  it('evaluates the best checkpoint to the metrics training reported', () => {
    const r = run(EVAL_BIN, [
      '--config', at('config.json'), '--weights', at('weights', 'open_clip_pytorch_model.bin'), '--tokenizer', VOCAB,
      '--checkpoint', at('run-full', 'best.safetensors'), '--test', at('test.json'), '--images', at('images'), '--json',
      '--report', at('eval-report.html'),
    ]);
    expect(r.status).toBe(0);
    expect(lastJson(r.stdout)).toEqual(full.best);
    expect(fs.existsSync(at('eval-report.html'))).toBe(true);
  });
});

describe('--precision', () => {
  it('evaluates in bf16 (or says it fell back to fp32) and refuses an unknown precision by name', () => {
    const args = [
      '--config', at('config.json'), '--weights', at('weights', 'open_clip_pytorch_model.bin'), '--tokenizer', VOCAB,
      '--checkpoint', at('run-full', 'best.safetensors'), '--test', at('test.json'), '--images', at('images'), '--json',
    ];
    const bf16 = run(EVAL_BIN, [...args, '--precision', 'bf16', '--report', at('eval-bf16.html')]);
    expect(bf16.status).toBe(0);
    const metrics = lastJson(bf16.stdout);
    expect(Object.keys(metrics).sort()).toEqual(Object.keys(full.best as object).sort());
    for (const v of Object.values(metrics)) expect(v).toBeGreaterThanOrEqual(0);
    const report = fs.readFileSync(at('eval-bf16.html'), 'utf8');
    if (nativeInfo().bf16) {
      expect(bf16.stderr).not.toMatch(/AMX/);
      expect(report).toMatch(/bf16/);
    } else {
      expect(bf16.stderr).toMatch(/no AMX-BF16, running fp32/);
    }
    const bad = run(EVAL_BIN, [...args, '--precision', 'fp16']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--precision must be one of fp32, bf16/);
  });
});

describe('bad input', () => {
  it('names a missing image, or skips and counts it with --skip-missing', () => {
    // A training image: the evaluation before training passes, the first epoch meets it.
    const victim = (JSON.parse(fs.readFileSync(at('train.json'), 'utf8'))[0] as { image: string }).image;
    fs.renameSync(at('images', victim), at('moved.tif'));
    try {
      const r = run(TRAIN_BIN, trainArgs(at('run-missing'), ['--epochs', '1']));
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(victim);
      const skipped = run(TRAIN_BIN, trainArgs(at('run-skip'), ['--epochs', '1', '--skip-missing']));
      expect(skipped.status).toBe(0);
      expect(lastJson(skipped.stdout).skipped_images).toBeGreaterThanOrEqual(1);
    } finally {
      fs.renameSync(at('moved.tif'), at('images', victim));
    }
  });

  it('gives the position of malformed JSON and names a missing weights file', () => {
    fs.writeFileSync(at('broken.json'), '[{"caption": "a", "image": "x.tif",\n  "image_id": 1}\n  oops]');
    const r = run(TRAIN_BIN, trainArgs(at('run-broken')).map((a) => (a === at('train.json') ? at('broken.json') : a)));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/broken\.json:3:3/);
    const w = run(TRAIN_BIN, trainArgs(at('run-w')).map((a) => (a.endsWith('open_clip_pytorch_model.bin') ? at('nope.bin') : a)));
    expect(w.status).toBe(1);
    expect(w.stderr).toMatch(/--weights .*nope\.bin: no such file/);
    const u = run(TRAIN_BIN, ['--epochs', 'ten', '--train', 'x']);
    expect(u.status).toBe(2);
    expect(u.stderr).toMatch(/--epochs must be a non-negative integer but received 'ten'/);
  });
});
