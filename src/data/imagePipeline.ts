/**
 * Decoding and augmentation on a pool of worker threads. `load` returns a promise and the work
 * runs off the main thread, so a trainer can ask for the next batch before computing on the
 * current one (prefetch). Each image's random choices come from its own seed, so the pixels do
 * not depend on which worker ran it or when.
 */
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
// sharp must be loaded by the main thread before workers load it (libvips stays resident).
import 'sharp';
import { posaplError, PosaplError, PosaplErrorCode } from '../errors';
import type { ImageResult, ImageTask } from './imageWorker';
import type { RgbImage } from './transforms';

/** Options of {@link ImagePipeline}. */
export interface ImagePipelineOptions {
  /** Folder the dataset's image paths are relative to. */
  root: string;
  /** Side S of the square output (224 for ViT-B/32). */
  imageSize: number;
  /** Worker threads; defaults to the number of cores. */
  workers?: number;
  /** Report unreadable images in `missing` (their pixels zero) instead of rejecting. */
  skipMissing?: boolean;
  /**
   * Bytes of decoded images to keep (default 0: none): each image is decoded once and its RGB
   * bytes reused by later loads (every epoch of a training run), until this much is kept. The
   * files must not change while the pipeline lives.
   */
  decodedCacheBytes?: number;
}

/** What the decoded-image cache holds and how often it served a load. */
export interface DecodedCacheStats {
  images: number;
  bytes: number;
  hits: number;
}

/** The pixels of a batch, and which of its images could not be read. */
export interface LoadedImages {
  /** (n,3,S,S) float32, normalised. */
  pixels: Float32Array;
  /** Indices (ascending) of images that could not be read; only with skipMissing. */
  missing: number[];
}

/** The transform to run: the random train augmentation or the deterministic test resize. */
export type ImageMode = 'train' | 'test';

interface Batch {
  pixels: Float32Array;
  missing: number[];
  remaining: number;
  settled: boolean;
  resolve(value: LoadedImages): void;
  reject(error: Error): void;
}

interface Job {
  task: ImageTask;
  batch: Batch;
  index: number;
}

interface Slot {
  worker: Worker;
  inFlight: number;
}

/** Tasks a worker holds at once: one running and one ready, so it never waits on the main thread. */
const TASKS_PER_WORKER = 2;

// Running from the TypeScript sources (under jest) there is no compiled worker: the worker
// compiles each module as it is required, with the typescript package, then runs the worker file.
const TYPESCRIPT_BOOTSTRAP = `
const { workerData } = require('worker_threads');
const fs = require('fs');
const ts = require(workerData.typescript);
require.extensions['.ts'] = (module, filename) => {
  const output = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(output.outputText, filename);
};
require(workerData.file);
`;

function startWorker(): Worker {
  const file = path.join(__dirname, `imageWorker${path.extname(__filename)}`);
  if (file.endsWith('.ts')) {
    const workerData = { file, typescript: require.resolve('typescript') };
    return new Worker(TYPESCRIPT_BOOTSTRAP, { eval: true, workerData });
  }
  return new Worker(file);
}

function argumentError(message: string): PosaplError {
  return posaplError('POSAPL_TYPE', `posapl: ${message}`);
}

/** Decodes and transforms batches of images on worker threads. Call {@link close} when done. */
export class ImagePipeline {
  readonly root: string;
  readonly imageSize: number;
  readonly workerCount: number;
  readonly skipMissing: boolean;
  private slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<number, Job>();
  private nextId = 0;
  private closed = false;
  /** Set when a worker dies: every later load fails with it. */
  private broken: Error | null = null;
  private readonly cacheLimit: number;
  /** Decoded images by absolute path, first come first kept until cacheLimit bytes. */
  private readonly decoded = new Map<string, RgbImage>();
  private decodedBytes = 0;
  private cacheHits = 0;

  constructor(options: ImagePipelineOptions) {
    if (typeof options.root !== 'string' || options.root.length === 0)
      throw argumentError(`Expected a folder path for root but received ${JSON.stringify(options.root)}`);
    if (!Number.isInteger(options.imageSize) || options.imageSize < 1 || options.imageSize > 8192)
      throw argumentError(`Expected integer in [1, 8192] for imageSize but received ${options.imageSize}`);
    const workers = options.workers ?? os.cpus().length;
    if (!Number.isInteger(workers) || workers < 1 || workers > 256)
      throw argumentError(`Expected integer in [1, 256] for workers but received ${options.workers}`);
    const cacheBytes = options.decodedCacheBytes ?? 0;
    if (!Number.isSafeInteger(cacheBytes) || cacheBytes < 0)
      throw argumentError(`Expected a non-negative integer for decodedCacheBytes but received ${options.decodedCacheBytes}`);
    this.root = options.root;
    this.imageSize = options.imageSize;
    this.workerCount = workers;
    this.skipMissing = options.skipMissing ?? false;
    this.cacheLimit = cacheBytes;
  }

  /** The decoded-image cache: images and bytes kept, and the loads it served. */
  get decodedCache(): DecodedCacheStats {
    return { images: this.decoded.size, bytes: this.decodedBytes, hits: this.cacheHits };
  }

  /**
   * Decodes `paths` (relative to root) and runs the `mode` transform on each, image i with
   * `seeds[i]` (train only: derive it with sampleSeed(seed, epoch, sampleIndex)). Resolves with
   * the (n,3,S,S) pixels in the order of `paths`; rejects with a POSAPL_IMAGE error naming the
   * first file that cannot be read, unless skipMissing.
   */
  load(paths: readonly string[], mode: ImageMode, seeds: readonly number[]): Promise<LoadedImages> {
    if (this.closed) return Promise.reject(posaplError('POSAPL_CLOSED', 'posapl: the image pipeline is closed'));
    if (this.broken) return Promise.reject(this.broken);
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string'))
      return Promise.reject(argumentError('Expected an array of strings for paths'));
    if (mode !== 'train' && mode !== 'test')
      return Promise.reject(argumentError(`Expected 'train' or 'test' for mode but received ${JSON.stringify(mode)}`));
    if (!Array.isArray(seeds) || seeds.length !== paths.length || !seeds.every((s) => Number.isSafeInteger(s)))
      return Promise.reject(argumentError(`Expected ${paths.length} integer seeds for seeds, one per path`));
    const size = this.imageSize, n = paths.length;
    const pixels = new Float32Array(n * 3 * size * size);
    if (n === 0) return Promise.resolve({ pixels, missing: [] });
    return new Promise<LoadedImages>((resolve, reject) => {
      const batch: Batch = { pixels, missing: [], remaining: n, settled: false, resolve, reject };
      paths.forEach((p, index) => {
        const task: ImageTask = { id: this.nextId++, file: path.resolve(this.root, p), mode, seed: seeds[index], size };
        this.queue.push({ task, batch, index });
      });
      this.pump();
    });
  }

  /** Stops the workers; loads still running reject with POSAPL_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = posaplError('POSAPL_CLOSED', 'posapl: the image pipeline was closed during a load');
    for (const job of [...this.queue, ...this.running.values()]) this.settle(job.batch, error);
    this.queue.length = 0;
    this.running.clear();
    const slots = this.slots;
    this.slots = [];
    // A terminating worker does not hold the event loop: without this timer the process can end
    // before the worker's exit is reported, leaving this promise (and the caller's error
    // handling after it) never settled, and the process exiting 0 in silence.
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      await Promise.all(slots.map((s) => s.worker.terminate()));
    } finally {
      clearInterval(keepAlive);
    }
  }

  private pump(): void {
    // A result arriving after close() or a failure must not start a new pool.
    if (this.closed || this.broken) return;
    if (this.slots.length === 0) {
      for (let k = 0; k < this.workerCount; k++) this.slots.push(this.spawn());
    }
    for (const slot of this.slots) {
      while (slot.inFlight < TASKS_PER_WORKER && this.queue.length > 0) {
        const job = this.queue.shift() as Job;
        if (job.batch.settled) continue; // its batch already failed
        this.running.set(job.task.id, job);
        if (slot.inFlight++ === 0) slot.worker.ref();
        const kept = this.decoded.get(job.task.file);
        if (kept) this.cacheHits += 1;
        // A kept image goes to the worker as a copy (postMessage clones it): no decoding.
        slot.worker.postMessage(kept ? { ...job.task, decoded: kept } : { ...job.task, keepDecoded: this.decodedBytes < this.cacheLimit });
      }
    }
  }

  private spawn(): Slot {
    const slot: Slot = { worker: startWorker(), inFlight: 0 };
    // An idle pool must not keep the process alive; a busy one is held by its workers.
    slot.worker.unref();
    slot.worker.on('message', (result: ImageResult) => {
      if (--slot.inFlight === 0) slot.worker.unref();
      this.finish(result);
      this.pump();
    });
    slot.worker.on('error', (e) => this.fail(e));
    slot.worker.on('exit', (code) => {
      if (!this.closed) this.fail(posaplError('POSAPL_INTERNAL', `posapl: an image worker exited with code ${code}`));
    });
    return slot;
  }

  private finish(result: ImageResult): void {
    const job = this.running.get(result.id);
    if (!job) return;
    this.running.delete(result.id);
    const { batch, index } = job;
    if (batch.settled) return;
    if ('pixels' in result) {
      batch.pixels.set(result.pixels, index * result.pixels.length);
      const image = result.decoded;
      if (image && !this.decoded.has(job.task.file) && this.decodedBytes + image.data.byteLength <= this.cacheLimit) {
        this.decoded.set(job.task.file, image);
        this.decodedBytes += image.data.byteLength;
      }
    } else if (this.skipMissing && result.error.code === 'POSAPL_IMAGE') {
      batch.missing.push(index);
    } else {
      this.settle(batch, posaplError(result.error.code as PosaplErrorCode, result.error.message));
      return;
    }
    if (--batch.remaining === 0) {
      batch.settled = true;
      batch.missing.sort((a, b) => a - b);
      batch.resolve({ pixels: batch.pixels, missing: batch.missing });
    }
  }

  private settle(batch: Batch, error: Error): void {
    if (batch.settled) return;
    batch.settled = true;
    batch.reject(error);
  }

  /** A worker failed outside a task (it could not start, or crashed): fail everything. */
  private fail(cause: Error): void {
    if (this.broken || this.closed) return;
    const code = (cause as { code?: unknown }).code;
    this.broken = posaplError(typeof code === 'string' && code.startsWith('POSAPL_') ? (code as PosaplErrorCode) : 'POSAPL_INTERNAL',
      `posapl: an image worker failed: ${cause.message}`, cause);
    for (const job of [...this.queue, ...this.running.values()]) this.settle(job.batch, this.broken);
    this.queue.length = 0;
    this.running.clear();
    const slots = this.slots;
    this.slots = [];
    for (const s of slots) void s.worker.terminate();
  }
}
