/**
 * posapl-train and posapl-eval as real processes on the RSITMD annotation files with generated
 * stand-in images and a small CLIP-shaped backbone written as an open_clip PyTorch file:
 * train 2 epochs, an interrupted run (Ctrl-C, SIGTERM) resumed to the same result, a run
 * extended and one started from a checkpoint, a folder that is locked or holds a run,
 * evaluation of the best checkpoint, and clear errors for bad input.
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

/** Waits until the run in `out` has logged a step. */
async function firstStep(out: string): Promise<void> {
  const log = path.join(out, 'log.jsonl');
  for (let i = 0; i < 1200 && !(fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('"type":"step"')); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

function logEvents(out: string): Array<Record<string, unknown>> {
  return fs.readFileSync(path.join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

/** A copy of a finished run's folder, to change without touching the original. */
function copyRun(from: string, to: string): string {
  fs.cpSync(from, to, { recursive: true });
  return to;
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
  const model = await loadModel({ random: true, config: CONFIG as never, seed: 11 });
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
    // Without a terminal, a progress line every step here (a tenth of a 6-step epoch), epochs numbered from 0.
    const progress = r.stderr.split('\n').filter((l) => /^epoch \d\/\d step/.test(l)).map((l) => l.split(' loss')[0]);
    expect(progress).toEqual([0, 1].flatMap((e) => Array.from({ length: 6 }, (_, k) => `epoch ${e}/1 step ${k + 1}/6`)));
    expect(r.stderr).toMatch(/^epoch 1 \(of 0-1\): test mR/m);
    expect(full.best_epoch).toBe(logEvents(at('run-full')).filter((e) => e.type === 'eval' && e.split === 'test' && (e.metrics as { r_mean: number }).r_mean === (full.best as { r_mean: number }).r_mean)[0].epoch);
    expect(html).toContain(full.best_epoch === -1 ? 'before training' : `best (epoch ${full.best_epoch})`);
    expect(JSON.parse(fs.readFileSync(at('run-full', 'run.json'), 'utf8')).options).toMatchObject({ epochs: 2, lr: 0.01, train: at('train.json') });
  });

  it('resumes an interrupted run (Ctrl-C) to exactly the same result', async () => {
    const out = at('run-resumed');
    const child = spawn(process.execPath, [TRAIN_BIN, ...trainArgs(out)], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Interrupt once the first step is logged.
    const log = path.join(out, 'log.jsonl');
    await firstStep(out);
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

  it('saves on SIGTERM, and --resume DIR alone continues with the run\'s own settings to the same result', async () => {
    const out = at('run-term');
    const child = spawn(process.execPath, [TRAIN_BIN, ...trainArgs(out)], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    await firstStep(out);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toMatch(/SIGTERM: finishing this step, then saving/);
    expect(stderr).toMatch(/continue with --resume/);
    expect(code).toBe(143);
    expect(fs.existsSync(path.join(out, 'last.safetensors'))).toBe(true);
    const resumed = run(TRAIN_BIN, ['--resume', out, '--json']);
    expect(resumed.stderr).not.toMatch(/Error/);
    expect(resumed.status).toBe(0);
    expect(lastJson(resumed.stdout).final).toEqual(full.final);
    expect(logEvents(out).filter((e) => e.type === 'step').map((e) => e.global_step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('extends a finished run with --resume --epochs, re-planning the cosine schedule from where it stands', () => {
    const out = copyRun(at('run-full'), at('run-extend'));
    const r = run(TRAIN_BIN, ['--resume', out, '--epochs', '3', '--json']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/--epochs 3: the run was planned for 2; the cosine schedule is re-planned over 18 steps from step 12 on/);
    const log = logEvents(out);
    expect(log.filter((e) => e.type === 'replan')).toEqual([expect.objectContaining({ epochs_from: 2, epochs_to: 3, total_steps_from: 12, total_steps_to: 18, at_step: 12 })]);
    const steps = log.filter((e) => e.type === 'step');
    expect(steps.map((e) => e.global_step)).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
    // The first 12 steps as planned for 2 epochs; the next 6 on the cosine over 18 steps.
    steps.forEach((e, t) => expect(e.lr).toBeCloseTo(0.01 * (1 + Math.cos((Math.PI * t) / (t < 12 ? 12 : 18))) / 2, 12));
    expect(log.filter((e) => e.type === 'eval' && e.split === 'test').map((e) => e.epoch)).toEqual([-1, 0, 1, 2]);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')).options.epochs).toBe(3);
    // Fewer epochs than the run has trained cannot be resumed.
    const shorter = run(TRAIN_BIN, ['--resume', out, '--epochs', '1']);
    expect(shorter.status).toBe(2);
    expect(shorter.stderr).toMatch(/already trained 3 epoch\(s\), so --epochs 1/);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')).options.epochs).toBe(3);
  });

  it('refuses to resume a run whose data file changed', () => {
    const out = copyRun(at('run-full'), at('run-changed'));
    const train = fs.readFileSync(at('train.json'), 'utf8');
    fs.writeFileSync(at('train-copy.json'), train);
    const settings = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'));
    settings.options.train = at('train-copy.json');
    fs.writeFileSync(path.join(out, 'run.json'), JSON.stringify(settings));
    fs.writeFileSync(at('train-copy.json'), JSON.stringify(JSON.parse(train).reverse()));
    const r = run(TRAIN_BIN, ['--resume', out, '--epochs', '3']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--train .*train-copy\.json has changed since the run started/);
    expect(logEvents(out).filter((e) => e.type === 'step')).toHaveLength(12);
  });

  it('starts a new run from trained adapters with --init, and reports val metrics', () => {
    const r = run(TRAIN_BIN, trainArgs(at('run-init'), ['--init', at('run-full', 'best.safetensors'), '--epochs', '1', '--val', at('test.json')]));
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const result = lastJson(r.stdout);
    // Before training, the model is the earlier run's best.
    expect(result.before).toEqual(full.best);
    // The val split is the test file here, so its metrics equal the test metrics.
    expect(result.val_final).toEqual(result.final);
    expect(result.val_best).toEqual(result.best_epoch === -1 ? null : result.best);
    const html = fs.readFileSync(at('run-init', 'report.html'), 'utf8');
    expect(html).toMatch(/val final/);
    expect(html).toContain(at('run-full', 'best.safetensors'));
  });

  it('refuses to resume with other settings', () => {
    const r = run(TRAIN_BIN, [...trainArgs(at('run-full')).map((a) => (a === '0.01' ? '0.02' : a)), '--resume', at('run-full')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/lr = 0.01, not 0.02/);
  });
});

describe('the output folder', () => {
  it('refuses a folder that holds a run unless --overwrite, and an --out that is a file, before loading anything', () => {
    const before = fs.readFileSync(at('run-full', 'log.jsonl'), 'utf8');
    const r = run(TRAIN_BIN, trainArgs(at('run-full')));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--out .*run-full already holds files .*; continue it with --resume .*run-full, choose another --out, or pass --overwrite/);
    expect(fs.readFileSync(at('run-full', 'log.jsonl'), 'utf8')).toBe(before);
    fs.writeFileSync(at('a-file'), 'mine');
    const file = run(TRAIN_BIN, trainArgs(at('a-file')));
    expect(file.status).toBe(2);
    expect(file.stderr).toMatch(/--out .*a-file is a file, not a folder/);
    expect(fs.readFileSync(at('a-file'), 'utf8')).toBe('mine');
    const out = copyRun(at('run-full'), at('run-overwritten'));
    const again = run(TRAIN_BIN, trainArgs(out, ['--overwrite', '--epochs', '1']));
    expect(again.status).toBe(0);
    expect(logEvents(out).filter((e) => e.type === 'step')).toHaveLength(6);
  });

  it('lets one run at a time write a folder: a second fails at once naming the first one\'s pid', async () => {
    const out = at('run-locked');
    const first = spawn(process.execPath, [TRAIN_BIN, ...trainArgs(out, ['--epochs', '1'])], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    first.stdout.on('data', (d) => (stdout += d));
    await firstStep(out);
    // Paused, so that it surely holds the folder while the others try.
    first.kill('SIGSTOP');
    const second = run(TRAIN_BIN, trainArgs(out, ['--epochs', '1', '--overwrite']));
    const resumed = run(TRAIN_BIN, ['--resume', out]);
    first.kill('SIGCONT');
    const code = await new Promise<number | null>((resolve) => first.on('close', resolve));
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`--out .*run-locked is in use by another posapl-train \\(pid ${first.pid}\\)`));
    expect(resumed.status).toBe(1);
    expect(resumed.stderr).toMatch(new RegExp(`pid ${first.pid}`));
    expect(code).toBe(0);
    expect(lastJson(stdout).final).toBeDefined();
    expect(logEvents(out).filter((e) => e.type === 'step').map((e) => e.global_step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(fs.existsSync(path.join(out, '.posapl-train.lock'))).toBe(false);
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

  const evalArgs = (extra: string[]) => [
    '--config', at('config.json'), '--weights', at('weights', 'open_clip_pytorch_model.bin'), '--tokenizer', VOCAB,
    '--checkpoint', at('run-full', 'best.safetensors'), '--test', at('test.json'), '--images', at('images'), '--json', ...extra,
  ];

  it('never writes --report over an input, nor over a file it did not write unless --force', () => {
    const checkpoint = fs.readFileSync(at('run-full', 'best.safetensors'));
    const onInput = run(EVAL_BIN, evalArgs(['--report', at('run-full', 'best.safetensors'), '--force']));
    expect(onInput.status).toBe(2);
    expect(onInput.stderr).toMatch(/--report .*best\.safetensors is the --checkpoint input; refusing to overwrite it/);
    expect(fs.readFileSync(at('run-full', 'best.safetensors')).equals(checkpoint)).toBe(true);
    fs.writeFileSync(at('notes.html'), '<p>my notes</p>');
    const other = run(EVAL_BIN, evalArgs(['--report', at('notes.html')]));
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/notes\.html exists and is not a report posapl-native wrote; refusing to overwrite it \(pass --force/);
    expect(fs.readFileSync(at('notes.html'), 'utf8')).toBe('<p>my notes</p>');
    const forced = run(EVAL_BIN, evalArgs(['--report', at('notes.html'), '--force']));
    expect(forced.status).toBe(0);
    expect(fs.readFileSync(at('notes.html'), 'utf8')).toMatch(/<meta name='generator' content='posapl-native'>/);
    // A report it wrote is replaced without asking.
    expect(run(EVAL_BIN, evalArgs(['--report', at('eval-report.html')])).status).toBe(0);
  });

  it('counts unreadable images with --skip-missing and warns once about captions the tagger cannot read', () => {
    const test = JSON.parse(fs.readFileSync(at('test.json'), 'utf8'));
    test[1].caption[0] = '一些绿色的树木在广场周围';
    test[2].caption[1] = 'дорога у реки';
    fs.writeFileSync(at('test-odd.json'), JSON.stringify(test));
    const victim = test[0].image as string;
    fs.renameSync(at('images', victim), at('moved-eval.tif'));
    try {
      const stopped = run(EVAL_BIN, evalArgs(['--test', at('test-odd.json')]));
      expect(stopped.status).toBe(1);
      expect(stopped.stderr).toMatch(new RegExp(`1 image\\(s\\) cannot be read: ${victim.replace(/[.]/g, '\\.')} \\(no such file\\); fix them, or pass --skip-missing`));
      const r = run(EVAL_BIN, evalArgs(['--test', at('test-odd.json'), '--skip-missing']));
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`warning: --skip-missing: 1 image\\(s\\) could not be read and were embedded blank: ${victim.replace(/[.]/g, '\\.')}`));
      expect(r.stderr.match(/2 caption\(s\) without POS words in the file are in a script the English POS tagger cannot read/g)).toHaveLength(1);
    } finally {
      fs.renameSync(at('moved-eval.tif'), at('images', victim));
    }
  });

  it('reads --config once, with messages naming the file, line and field', () => {
    const missing = run(EVAL_BIN, evalArgs(['--config', 'nope.json']));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^posapl-eval: --config must be 'rsitmd', 'rsicd' or a JSON file, but nope\.json is neither\n$/);
    const typo = run(EVAL_BIN, evalArgs(['--config', 'rsitmdx']));
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/but rsitmdx is neither/);
    fs.writeFileSync(at('config-broken.json'), '{\n  "embed_dim": 16,\n  "vision_cfg" {}\n}');
    const broken = run(EVAL_BIN, evalArgs(['--config', at('config-broken.json')]));
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/^posapl-eval: --config .*config-broken\.json:3:16: malformed JSON/);
    fs.writeFileSync(at('config-bad.json'), JSON.stringify({ ...CONFIG, text_cfg: { ...CONFIG.text_cfg, heads: 0 } }));
    const bad = run(EVAL_BIN, evalArgs(['--config', at('config-bad.json')]));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^posapl-eval: --config .*config-bad\.json: Expected positive integer for text_cfg\.heads but received 0\n$/);
    fs.writeFileSync(at('config-extra.json'), JSON.stringify({ ...CONFIG, emb_dim: 3, posapl: { ...CONFIG.posapl, down_dimm: 4 } }));
    const extra = run(EVAL_BIN, evalArgs(['--config', at('config-extra.json')]));
    expect(extra.status).toBe(0);
    expect(extra.stderr).toMatch(/warning: --config .*config-extra\.json: ignoring unknown keys emb_dim, posapl\.down_dimm/);
    for (const r of [missing, typo, broken, bad]) expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('shows its progress on a terminal', () => {
    // util-linux `script` gives the command a pseudo-terminal.
    const command = [process.execPath, EVAL_BIN, ...evalArgs([])].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', cwd: dir });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\r\x1b\[Kposapl-eval: evaluating test: images 6\/6/);
    expect(r.stdout).toMatch(/posapl-eval: evaluating test: texts 30\/30/);
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
    expect(bad.stderr).toMatch(/--precision must be one of fp32, tf32, bf16/);
  });

  it('says that tf32 runs on CUDA only and evaluates in fp32 on the CPU, with the same metrics', () => {
    const args = [
      '--config', at('config.json'), '--weights', at('weights', 'open_clip_pytorch_model.bin'), '--tokenizer', VOCAB,
      '--checkpoint', at('run-full', 'best.safetensors'), '--test', at('test.json'), '--images', at('images'), '--json',
    ];
    const tf32 = run(EVAL_BIN, [...args, '--precision', 'tf32']);
    expect(tf32.status).toBe(0);
    expect(tf32.stderr).toMatch(/--precision tf32: TF32 runs on CUDA only, running fp32/);
    expect(lastJson(tf32.stdout)).toEqual(lastJson(run(EVAL_BIN, args).stdout));
  });
});

describe('--device cuda', () => {
  it('fails at once with POSAPL_NO_CUDA and the reason, before any work', () => {
    const r = run(TRAIN_BIN, trainArgs(at('run-cuda'), ['--device', 'cuda']));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/device "cuda": (no NVIDIA driver|.*needs the CUDA build|no CUDA GPU|the NVIDIA driver supports)/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(fs.existsSync(at('run-cuda', 'last.safetensors'))).toBe(false);
  });
});

describe('bad input', () => {
  it('names a missing image before any work, or skips and counts it with --skip-missing', () => {
    const victim = (JSON.parse(fs.readFileSync(at('train.json'), 'utf8'))[0] as { image: string }).image;
    fs.renameSync(at('images', victim), at('moved.tif'));
    try {
      const r = run(TRAIN_BIN, trainArgs(at('run-missing'), ['--epochs', '1']));
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`1 image(s) cannot be read: ${victim} (no such file)`);
      expect(fs.existsSync(at('run-missing'))).toBe(false); // stopped before the folder, the model or an evaluation
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
    expect(u.stderr).toMatch(/--epochs must be a positive integer but received 'ten'/);
  });

  it('refuses --batch-size 0 and a negative --lr as usage errors', () => {
    const zero = run(TRAIN_BIN, trainArgs(at('run-zero'), ['--batch-size', '0']));
    expect(zero.status).toBe(2);
    expect(zero.stderr).toBe("posapl-train: --batch-size must be a positive integer but received '0'\n");
    const lr = run(TRAIN_BIN, trainArgs(at('run-lr'), ['--lr', '-1']));
    expect(lr.status).toBe(2);
    expect(lr.stderr).toBe("posapl-train: --lr must be a positive number but received '-1'\n");
    expect(fs.existsSync(at('run-zero'))).toBe(false);
  });

  it('names the file and entry of a blank caption, and an empty split', () => {
    const train = JSON.parse(fs.readFileSync(at('train.json'), 'utf8'));
    train[3].caption = '  ,  ';
    fs.writeFileSync(at('train-blank.json'), JSON.stringify(train));
    const blank = run(TRAIN_BIN, trainArgs(at('run-blank')).map((a) => (a === at('train.json') ? at('train-blank.json') : a)));
    expect(blank.status).toBe(1);
    expect(blank.stderr).toMatch(/train-blank\.json: entry 3: "caption" "  ,  " is empty after cleaning/);
    fs.writeFileSync(at('test-empty.json'), '[]');
    const empty = run(TRAIN_BIN, trainArgs(at('run-empty')).map((a) => (a === at('test.json') ? at('test-empty.json') : a)));
    expect(empty.status).toBe(1);
    expect(empty.stderr).toMatch(/test-empty\.json: no entries \(an empty JSON array\)/);
  });
});
