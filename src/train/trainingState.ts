/**
 * What a run leaves in its output folder to be resumed exactly: `last.safetensors` holds the
 * adapters, the optimiser's moments (`optimizer.m.NAME`, `optimizer.v.NAME`) and, as metadata,
 * the trainer's position and history — one file, written atomically, so a crash while saving
 * leaves the previous one whole. `best.safetensors` holds just the adapters of the best epoch
 * (what `posapl-eval --checkpoint` and `loadModel({ checkpoint })` take).
 */
import * as fs from 'fs';
import * as path from 'path';
import { posaplError } from '../errors';
import { loadSafetensorsMetadata, loadStateDict, saveStateDict, toFloat32 } from '../io';
import { TensorEntry } from '../io/dtypes';
import { PosaplModel } from '../posapl/model';

/** The trainer's position and record, saved with every `last` checkpoint. */
export interface RunState {
  /** Epoch to run next (0-based) and the step within it to start from. */
  epoch: number;
  stepInEpoch: number;
  /** Optimiser steps taken so far (the schedule's t). */
  globalStep: number;
  totalSteps: number;
  /** Settings the run was started with; a resume must use the same. */
  settings: Record<string, unknown>;
  before: Record<string, number> | null;
  best: Record<string, number> | null;
  bestEpoch: number;
  epochs: { epoch: number; test: Record<string, number>; val?: Record<string, number> }[];
}

const STATE_KEY = 'posapl_run_state';

export function lastPath(dir: string): string {
  return path.join(dir, 'last.safetensors');
}

export function bestPath(dir: string): string {
  return path.join(dir, 'best.safetensors');
}

/** Writes `last` with adapters, optimiser moments and the run state. */
export async function saveLast(dir: string, model: PosaplModel, state: RunState): Promise<void> {
  const entries = new Map<string, TensorEntry>();
  for (const p of model.params.trainable()) entries.set(p.spec.name, { dtype: 'float32', shape: [...p.spec.shape], data: p.data });
  const opt = model.optimizerState();
  if (opt) {
    for (const p of model.params.trainable()) {
      const shape = [...p.spec.shape];
      entries.set(`optimizer.m.${p.spec.name}`, { dtype: 'float32', shape, data: opt.m.get(p.spec.name) as Float32Array });
      entries.set(`optimizer.v.${p.spec.name}`, { dtype: 'float32', shape, data: opt.v.get(p.spec.name) as Float32Array });
    }
  }
  const metadata = { format: 'pt', [STATE_KEY]: JSON.stringify({ ...state, optimizerStep: opt?.step ?? 0 }) };
  await saveStateDict(lastPath(dir), entries, { format: 'safetensors', metadata });
}

/** Restores adapters and optimiser from `last` into the model; returns the run state. */
export async function loadLast(dir: string, model: PosaplModel): Promise<RunState> {
  const file = lastPath(dir);
  if (!fs.existsSync(file)) {
    throw posaplError('POSAPL_IO', `${file}: no checkpoint to resume from (a run writes it after its first epoch or on Ctrl-C)`);
  }
  const sd = await loadStateDict(file);
  const rawState = (await loadSafetensorsMetadata(file))[STATE_KEY];
  if (!rawState) throw posaplError('POSAPL_FORMAT', `${file}: not a posapl-train checkpoint (no run state in its metadata)`);
  let state: RunState & { optimizerStep: number };
  try {
    state = JSON.parse(rawState);
  } catch (cause) {
    throw posaplError('POSAPL_FORMAT', `${file}: the run state in its metadata is not valid JSON`, cause);
  }
  const m = new Map<string, Float32Array>();
  const v = new Map<string, Float32Array>();
  for (const p of model.params.trainable()) {
    const entry = sd.get(p.spec.name);
    if (!entry || entry.data.length !== p.data.length) {
      throw posaplError('POSAPL_WEIGHTS', `${file}: ${p.spec.name} is missing or does not fit this model configuration`);
    }
    p.data.set(toFloat32(entry));
    const mi = sd.get(`optimizer.m.${p.spec.name}`);
    const vi = sd.get(`optimizer.v.${p.spec.name}`);
    if (mi && vi) {
      m.set(p.spec.name, toFloat32(mi));
      v.set(p.spec.name, toFloat32(vi));
    }
  }
  if (state.optimizerStep > 0) model.setOptimizerState({ step: state.optimizerStep, m, v });
  return state;
}

/** Writes the adapters of the best epoch. */
export async function saveBest(dir: string, model: PosaplModel): Promise<void> {
  await model.save(bestPath(dir), { adaptersOnly: true, format: 'safetensors' });
}
