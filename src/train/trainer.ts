/**
 * The training loop of spec section 5: shuffled batches with drop_last, the loss and gradients
 * (gradient caching below the batch size), HF AdamW with the per-step cosine schedule,
 * evaluation before training and after each epoch, best epoch by mR, `last`/`best` checkpoints,
 * an exact resume (or one with more or fewer epochs, the schedule re-planned), a clean stop on
 * request (Ctrl-C, SIGTERM) and a stop on a non-finite loss. Epochs are numbered from 0 everywhere,
 * as the authors print them.
 */
import * as fs from 'fs';
import * as path from 'path';
import { posaplError } from '../errors';
import { PosaplModel } from '../posapl/model';
import { Progress } from './progress';
import { epochOrder, sampleInt, sampleSeed } from './sampling';
import { cosineLearningRate } from './schedule';
import { bestPath, lastPath, loadLast, RunState, saveBest, saveLast } from './trainingState';

/** Retrieval metrics with the authors' keys (txt_r1 ... r_mean). */
export type Metrics = Record<string, number>;

/** Training pairs, tokenized once. */
export interface TrainData {
  /** Image file of each pair, relative to the image root. */
  images: string[];
  /** Image id of each pair, remapped to 0..K-1 in first-seen order as the authors do. */
  imageIds: Int32Array;
  /** Caption ids and POS ids (n, context). */
  ids: Int32Array;
  posIds: Int32Array;
  /** Whether each pair has POS words; pairs without are replaced by a random pair (spec section 6). */
  hasPos: Uint8Array;
  context: number;
}

/** Loads (n,3,S,S) pixels for image files; rows of unreadable files listed in `missing` when skipping. */
export interface PixelSource {
  load(paths: string[], mode: 'train' | 'test', seeds: number[]): Promise<{ pixels: Float32Array; missing: number[] }>;
}

/** A held-out split and how to score the model on it. */
export interface EvalSplit {
  name: 'test' | 'val';
  evaluate(model: PosaplModel): Promise<Metrics>;
}

export interface TrainerOptions {
  model: PosaplModel;
  pixels: PixelSource;
  train: TrainData;
  test: EvalSplit;
  val?: EvalSplit;
  epochs: number;
  batchSize: number;
  microBatch: number;
  lr: number;
  seed: number;
  outDir: string;
  /**
   * Continue from outDir's `last` checkpoint. With other `epochs` than the run was started with,
   * the cosine schedule is re-planned over the new total from the current step on (logged as a
   * `replan` event); only with unchanged epochs does the result equal an uninterrupted run.
   */
  resume?: boolean;
  progress?: Progress;
  /** Set `requested` (e.g. on SIGINT) to finish the current step, save and stop. */
  stop?: { requested: boolean };
  /** Called once the run is accepted (a resume checked, the schedule planned), before any work. */
  onStarted?: () => Promise<void>;
}

export interface TrainResult {
  before: Metrics;
  best: Metrics;
  /** 0-based; -1 when no epoch beat the zero-shot model. */
  bestEpoch: number;
  final: Metrics | null;
  /** Validation metrics at the best epoch (null when the best is before training or there is no val split). */
  bestVal: Metrics | null;
  /** Validation metrics after the last epoch (null without a val split or epoch). */
  finalVal: Metrics | null;
  /** The best epoch's adapters. */
  checkpoint: string;
  interrupted: boolean;
  /** Training pairs skipped because their image could not be read (--skip-missing). */
  skippedImages: number;
}

/** One line of the JSON-lines log. */
export type LogEvent = Record<string, unknown> & { type: string };

export class Trainer {
  private readonly logFile: string;
  private readonly progress: Progress;

  constructor(private readonly o: TrainerOptions) {
    this.logFile = path.join(o.outDir, 'log.jsonl');
    this.progress = o.progress ?? new Progress(process.stderr, false);
    const n = o.train.imageIds.length;
    if (!Number.isInteger(o.batchSize) || o.batchSize < 1) {
      throw posaplError('POSAPL_USAGE', `--batch-size must be a positive integer but received ${o.batchSize}`);
    }
    if (o.batchSize > n) {
      throw posaplError('POSAPL_USAGE', `--batch-size ${o.batchSize} is larger than the ${n} training pairs (drop_last would leave no batch)`);
    }
  }

  async run(): Promise<TrainResult> {
    const o = this.o;
    fs.mkdirSync(o.outDir, { recursive: true });
    const stepsPerEpoch = Math.floor(o.train.imageIds.length / o.batchSize);
    const totalSteps = o.epochs * stepsPerEpoch;
    const settings = { epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, seed: o.seed, pairs: o.train.imageIds.length, precision: o.model.precision };
    const state: RunState = o.resume ? await this.resume(settings) : {
      epoch: 0, stepInEpoch: 0, globalStep: 0, totalSteps, settings, before: null, best: null, bestEpoch: -1, epochs: [],
    };
    if (state.totalSteps !== totalSteps) this.replan(state, settings, totalSteps);
    await o.onStarted?.();
    if (!o.resume) {
      fs.writeFileSync(this.logFile, '');
      this.log({ type: 'start', settings, total_steps: totalSteps, steps_per_epoch: stepsPerEpoch });
    }
    if (!state.before) {
      state.before = await o.test.evaluate(o.model);
      state.best = state.before;
      this.log({ type: 'eval', epoch: -1, split: 'test', metrics: state.before });
      // As the authors do, the zero-shot result is the best until an epoch beats it.
      await saveBest(o.outDir, o.model);
      this.progress.line(`before training: test mR ${state.before.r_mean}`);
    }
    let skippedImages = 0;
    let interrupted = false;
    let final: Metrics | null = state.epochs.length ? state.epochs[state.epochs.length - 1].test : null;
    const started = Date.now();
    const startStep = state.globalStep;

    for (let epoch = state.epoch; epoch < o.epochs && !interrupted; epoch++) {
      const order = epochOrder(o.train.imageIds.length, o.seed, epoch);
      const first = epoch === state.epoch ? state.stepInEpoch : 0;
      // Prefetch: the next batch decodes in the pipeline's workers while this one computes.
      let next = first < stepsPerEpoch ? this.loadBatch(order, epoch, first) : null;
      for (let step = first; step < stepsPerEpoch; step++) {
        const batch = await (next as ReturnType<Trainer['loadBatch']>);
        next = step + 1 < stepsPerEpoch ? this.loadBatch(order, epoch, step + 1) : null;
        skippedImages += batch.skipped;
        if (batch.inputs.n < 2) {
          // Contrastive and triplet losses need at least two readable pairs.
          this.log({ type: 'skipped_step', epoch, step, readable: batch.inputs.n });
          continue;
        }
        const t0 = Date.now();
        o.model.zeroGradients();
        const losses = o.model.lossAndGradients({ ...batch.inputs, microBatch: o.microBatch });
        if (!Number.isFinite(losses.contrastive) || !Number.isFinite(losses.triplet)) {
          next?.catch(() => undefined);
          throw posaplError(
            'POSAPL_NONFINITE',
            `non-finite loss at epoch ${epoch} step ${step} (contrastive ${losses.contrastive}, triplet ${losses.triplet}); ` +
              `stopped without updating the model; the last good checkpoint is ${fs.existsSync(lastPath(o.outDir)) ? lastPath(o.outDir) : 'not written yet'}. ` +
              'Try a lower --lr.',
          );
        }
        const lr = cosineLearningRate(o.lr, state.globalStep, totalSteps);
        o.model.step(lr);
        state.globalStep += 1;
        const seconds = (Date.now() - t0) / 1000;
        const rate = batch.inputs.n / Math.max(seconds, 1e-9);
        this.log({
          type: 'step', epoch, step, global_step: state.globalStep, contrastive: losses.contrastive, triplet: losses.triplet,
          loss: losses.contrastive + losses.triplet, lr, samples_per_s: rate, seconds,
        });
        const done = state.globalStep - startStep;
        this.progress.update({
          epoch, epochs: o.epochs, step: step + 1, steps: stepsPerEpoch, loss: losses.contrastive + losses.triplet,
          samplesPerSecond: rate, eta: ((Date.now() - started) / 1000 / done) * (totalSteps - state.globalStep),
        });
        if (o.stop?.requested && step + 1 < stepsPerEpoch) {
          next?.catch(() => undefined);
          state.epoch = epoch;
          state.stepInEpoch = step + 1;
          await saveLast(o.outDir, o.model, state);
          this.log({ type: 'interrupted', global_step: state.globalStep });
          this.progress.line(`interrupted: saved ${lastPath(o.outDir)}; continue with --resume ${o.outDir}`);
          interrupted = true;
          break;
        }
      }
      if (interrupted) break;
      const test = await o.test.evaluate(o.model);
      const record: RunState['epochs'][number] = { epoch, test };
      this.log({ type: 'eval', epoch, split: 'test', metrics: test });
      if (o.val) {
        record.val = await o.val.evaluate(o.model);
        this.log({ type: 'eval', epoch, split: 'val', metrics: record.val });
      }
      state.epochs.push(record);
      final = test;
      // The authors keep the best epoch by test mR, starting from the zero-shot result.
      if (test.r_mean > (state.best?.r_mean ?? -Infinity)) {
        state.best = test;
        state.bestEpoch = epoch;
        await saveBest(o.outDir, o.model);
      }
      state.epoch = epoch + 1;
      state.stepInEpoch = 0;
      await saveLast(o.outDir, o.model, state);
      this.progress.line(`epoch ${epoch} (of 0-${o.epochs - 1}): test mR ${test.r_mean}${o.val ? `, val mR ${record.val?.r_mean}` : ''} (best ${state.best?.r_mean}${state.bestEpoch < 0 ? ', before training' : `, epoch ${state.bestEpoch}`})`);
      if (o.stop?.requested && epoch + 1 < o.epochs) {
        this.log({ type: 'interrupted', global_step: state.globalStep });
        this.progress.line(`interrupted: saved ${lastPath(o.outDir)}; continue with --resume ${o.outDir}`);
        interrupted = true;
      }
    }
    const last = state.epochs[state.epochs.length - 1];
    return {
      before: state.before, best: state.best ?? state.before, bestEpoch: state.bestEpoch, final,
      bestVal: state.epochs.find((e) => e.epoch === state.bestEpoch)?.val ?? null, finalVal: last?.val ?? null,
      checkpoint: bestPath(o.outDir), interrupted, skippedImages,
    };
  }

  /** A resumed run with other epochs: the schedule's total changes from the current step on. */
  private replan(state: RunState, settings: Record<string, unknown>, totalSteps: number): void {
    const o = this.o;
    const wasEpochs = state.settings.epochs as number;
    const done = state.epoch + (state.stepInEpoch > 0 ? 1 : 0);
    if (o.epochs < done) {
      throw posaplError('POSAPL_USAGE', `--resume ${o.outDir}: the run has already trained ${done} epoch(s), so --epochs ${o.epochs} would end it before where it stands`);
    }
    this.log({ type: 'replan', epochs_from: wasEpochs, epochs_to: o.epochs, total_steps_from: state.totalSteps, total_steps_to: totalSteps, at_step: state.globalStep });
    this.progress.line(
      `--epochs ${o.epochs}: the run was planned for ${wasEpochs}; the cosine schedule is re-planned over ${totalSteps} steps from step ${state.globalStep} on ` +
        `(the result differs from a run started with ${o.epochs} epochs)`,
    );
    state.totalSteps = totalSteps;
    state.settings = settings;
  }

  /** Reads `last`, checks the settings match, and keeps the log up to the saved step. */
  private async resume(settings: Record<string, unknown>): Promise<RunState> {
    const state = await loadLast(this.o.outDir, this.o.model);
    for (const [k, v] of Object.entries(settings)) {
      if (k === 'epochs') continue; // a changed total re-plans the schedule (see replan)
      // Runs saved before the bf16 mode existed ran fp32.
      const was = k === 'precision' ? (state.settings[k] ?? 'fp32') : state.settings[k];
      if (was !== v) {
        throw posaplError('POSAPL_USAGE', `--resume ${this.o.outDir}: the run was started with ${k} = ${JSON.stringify(was)}, not ${JSON.stringify(v)}`);
      }
    }
    // Steps logged after the checkpoint are run again: drop them from the log.
    if (fs.existsSync(this.logFile)) {
      const kept = fs.readFileSync(this.logFile, 'utf8').split('\n').filter((line) => {
        if (!line) return false;
        const e = JSON.parse(line) as LogEvent;
        if (e.type === 'step') return (e.global_step as number) <= state.globalStep;
        if (e.type === 'eval') return (e.epoch as number) < state.epoch;
        if (e.type === 'replan') return (e.at_step as number) <= state.globalStep;
        return e.type === 'start';
      });
      fs.writeFileSync(this.logFile, kept.map((l) => `${l}\n`).join(''));
    }
    this.log({ type: 'resume', global_step: state.globalStep, epoch: state.epoch, step: state.stepInEpoch });
    return state;
  }

  /** The batch at `step` of `epoch`: pixels (augmented in the pipeline's workers), ids, POS ids, image ids. */
  private async loadBatch(order: Int32Array, epoch: number, step: number) {
    const { train, batchSize, seed } = this.o;
    const rows: number[] = [];
    for (let k = 0; k < batchSize; k++) {
      const position = step * batchSize + k;
      let index = order[position];
      // A pair without POS words is replaced by a random pair, as the authors' dataset does.
      for (let salt = 1; !train.hasPos[index]; salt++) index = sampleInt(train.hasPos.length, seed, epoch, position, salt);
      rows.push(index);
    }
    const seeds = rows.map((_, k) => sampleSeed(seed, epoch, step * batchSize + k));
    const { pixels, missing } = await this.o.pixels.load(rows.map((i) => train.images[i]), 'train', seeds);
    const keep = rows.map((_, k) => k).filter((k) => !missing.includes(k));
    const n = keep.length;
    const L = train.context;
    const px = pixels.length / rows.length;
    const pick = <T extends Float32Array | Int32Array>(src: T, width: number, from: (k: number) => number, make: (len: number) => T) => {
      const out = make(n * width);
      keep.forEach((k, j) => out.set(src.subarray(from(k) * width, (from(k) + 1) * width), j * width));
      return out;
    };
    return {
      skipped: missing.length,
      inputs: {
        pixels: missing.length ? pick(pixels, px, (k) => k, (len) => new Float32Array(len)) : pixels,
        ids: pick(train.ids, L, (k) => rows[k], (len) => new Int32Array(len)),
        posIds: pick(train.posIds, L, (k) => rows[k], (len) => new Int32Array(len)),
        imageIds: Int32Array.from(keep, (k) => train.imageIds[rows[k]]),
        n,
      },
    };
  }

  private log(event: LogEvent): void {
    fs.appendFileSync(this.logFile, `${JSON.stringify({ ...event, time: new Date().toISOString() })}\n`);
  }
}
