/**
 * loadModel: a POSAPL model from a preset or config, with open_clip backbone weights and/or a
 * POSAPL checkpoint (spec section 10), or initialised from a seed as open_clip and the authors do.
 */
import { ModelConfig, ModelConfigInput, resolveConfig } from '../clip/config';
import { posaplError } from '../errors';
import { createBackend } from '../backend';
import { loadStateDict, toFloat32 } from '../io';
import { Precision } from '../nn/linear';
import { PosaplModel } from './model';
import { numel } from './parameters';

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** A preset ('rsitmd', 'rsicd') or a configuration in open_clip's JSON shape plus `posapl`. */
  config: 'rsitmd' | 'rsicd' | ModelConfig | ModelConfigInput;
  /** open_clip backbone weights (`open_clip_pytorch_model.bin` or `.safetensors`); required unless `random`. */
  weights?: string;
  /**
   * true: no backbone weights, a backbone initialised from `seed` (tests, the demo). Must be said
   * explicitly, so that a forgotten `weights` never silently gives a random model.
   */
  random?: boolean;
  /** A POSAPL checkpoint in the authors' layout (with or without `model.`), full or adapters only. */
  checkpoint?: string;
  /** The backend the model runs on: 'cpu', or 'cuda' (the CUDA addon of `npm run build:cuda`; POSAPL_NO_CUDA says why where it cannot run). */
  device?: 'cpu' | 'cuda';
  /** Seed of the initialisation of whatever no file provides (default 0). */
  seed?: number;
  /**
   * 'fp32' (default); 'tf32': the frozen backbone's products on TF32 tensor cores (CUDA; fp32 on
   * the CPU); 'bf16': those products in bf16 with fp32 accumulation (AMX on the CPU, tensor cores on
   * CUDA; fp32 on a CPU without AMX-BF16). Adapters, gradients, losses and AdamW stay fp32
   * (model.precision tells which runs).
   */
  precision?: Precision;
}

/** Builds a model and fills it from the given files; every name and shape is checked. */
export async function loadModel(opts: LoadModelOptions): Promise<PosaplModel> {
  if (typeof opts !== 'object' || opts === null) {
    throw posaplError('POSAPL_TYPE', `Expected an options object for loadModel but received ${String(opts)}`);
  }
  const device = opts.device ?? 'cpu';
  if (device !== 'cpu' && device !== 'cuda') {
    throw posaplError('POSAPL_TYPE', `Expected 'cpu' or 'cuda' for device but received ${JSON.stringify(device)}`);
  }
  const backend = createBackend(device);
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed)) throw posaplError('POSAPL_TYPE', `Expected integer for seed but received ${String(seed)}`);
  for (const key of ['weights', 'checkpoint'] as const) {
    if (opts[key] !== undefined && typeof opts[key] !== 'string') {
      throw posaplError('POSAPL_TYPE', `Expected a file path for ${key} but received ${String(opts[key])}`);
    }
  }
  if (opts.random !== undefined && typeof opts.random !== 'boolean') {
    throw posaplError('POSAPL_TYPE', `Expected boolean for random but received ${String(opts.random)}`);
  }
  const precision = opts.precision ?? 'fp32';
  if (precision !== 'fp32' && precision !== 'tf32' && precision !== 'bf16') {
    throw posaplError('POSAPL_TYPE', `Expected 'fp32', 'tf32' or 'bf16' for precision but received ${JSON.stringify(precision)}`);
  }
  if (!opts.weights && !opts.random && !opts.checkpoint) throw noBackbone('no weights given');
  if (opts.weights && opts.random) throw posaplError('POSAPL_ARGS', 'loadModel: weights and random: true exclude each other');
  const model = new PosaplModel(resolveConfig(opts.config), backend);
  model.params.initialise(seed);
  if (opts.weights) await loadBackbone(model, opts.weights);
  if (opts.checkpoint) {
    const filled = await loadCheckpoint(model, opts.checkpoint);
    // Without weights, only a full checkpoint (backbone included) or an explicit random: true will do.
    if (!opts.weights && !opts.random && model.params.list.some((p) => !p.spec.trainable && !filled.has(p.spec.name))) {
      throw noBackbone(`${opts.checkpoint} holds no backbone (adapters only) and no weights were given`);
    }
  }
  // Packed after the weights are final.
  if (precision !== 'fp32') model.setPrecision(precision);
  return model;
}

function noBackbone(what: string): Error {
  return posaplError('POSAPL_ARGS', `loadModel: ${what}: pass weights (open_clip backbone weights), or random: true for a backbone initialised from seed`);
}

/** open_clip keeps the text tower at the top level; POSAPL keeps it under `text.`. */
export function openClipName(posaplName: string): string {
  return posaplName.startsWith('text.') ? posaplName.slice('text.'.length) : posaplName;
}

async function loadBackbone(model: PosaplModel, file: string): Promise<void> {
  const sd = await loadStateDict(file);
  // A file in the POSAPL layout (text tower under `text.`) is accepted too.
  const posaplLayout = [...sd.keys()].some((k) => k.startsWith('text.'));
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const p of model.params.list) {
    if (p.spec.trainable) continue;
    const key = posaplLayout ? p.spec.name : openClipName(p.spec.name);
    const entry = sd.get(key);
    if (!entry) {
      missing.push(key);
      continue;
    }
    if (!sameShape(entry.shape, p.spec.shape)) {
      mismatched.push(`${key}: file ${JSON.stringify(entry.shape)}, model ${JSON.stringify(p.spec.shape)}`);
      continue;
    }
    model.params.write(p, toFloat32(entry));
  }
  report(file, 'backbone weights', missing, mismatched, []);
}

/** Fills the model from a checkpoint; returns the names of the tensors it provided. */
async function loadCheckpoint(model: PosaplModel, file: string): Promise<Set<string>> {
  const sd = await loadStateDict(file);
  const unexpected: string[] = [];
  const mismatched: string[] = [];
  const filled = new Set<string>();
  for (const [key, entry] of sd) {
    if (!model.params.has(key)) {
      unexpected.push(key);
      continue;
    }
    const p = model.params.get(key);
    if (!sameShape(entry.shape, p.spec.shape)) {
      mismatched.push(`${key}: file ${JSON.stringify(entry.shape)}, model ${JSON.stringify(p.spec.shape)}`);
      continue;
    }
    model.params.write(p, toFloat32(entry));
    filled.add(p.spec.name);
  }
  // Adapters-only checkpoints are fine; a checkpoint must still provide every trainable tensor.
  const missing = model.params.trainable().map((p) => p.spec.name).filter((n) => !filled.has(n));
  report(file, 'checkpoint', missing, mismatched, unexpected);
  return filled;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]) && numel(a) === numel(b);
}

function report(file: string, what: string, missing: string[], mismatched: string[], unexpected: string[]): void {
  if (!missing.length && !mismatched.length && !unexpected.length) return;
  const list = (title: string, names: string[]) =>
    names.length ? `\n  ${title} (${names.length}): ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', ...' : ''}` : '';
  throw posaplError(
    'POSAPL_WEIGHTS',
    `${file}: the ${what} do not fit this model configuration` +
      list('missing', missing) + list('shape mismatches', mismatched) + list('unexpected', unexpected),
  );
}
