/**
 * RetrievalIndex: a folder of image embeddings made by one POSAPL model, kept in step with the
 * image files (incremental adds, removals, resumable builds), searched by text, by image or by
 * an indexed image, exactly on the project's GEMM or approximately through usearch's HNSW.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ImagePipeline, LoadedImages } from '../data/imagePipeline';
import { posaplError } from '../errors';
import { Precision } from '../nn/linear';
import { ExactSearch, SearchPrecision } from './exactSearch';
import { fileDigest } from './fileDigest';
import { HnswOptions, HnswSearch } from './hnswSearch';
import { listImageFolder } from './imageFiles';
import { IndexContents, IndexedFile, isIndex, MANIFEST, readIndex, removeStaleFiles, StorageDtype, writeIndex } from './indexStore';
import { lockIndex } from './indexLock';
import { checkSameModel, loadRecordedModel, ModelRecord, RetrievalModel } from './modelRecord';
import { encodeImageQuery, encodeTextQuery } from './queryEncoding';
import { Scored } from './topK';

/** One search result. */
export interface SearchResult {
  /** 1 for the best. */
  rank: number;
  /** The image's path as given when it was added. */
  path: string;
  /** Cosine similarity of the query and the image. */
  score: number;
}

/** Options of {@link RetrievalIndex.create}. */
export interface CreateIndexOptions {
  /** Storage of the embeddings on disk: 'float16' (default, half the size) or 'float32'. */
  dtype?: StorageDtype;
}

/** Options of {@link RetrievalIndex.open}. */
export interface OpenIndexOptions {
  /** The model to encode with; refused (POSAPL_MODEL_MISMATCH) unless it is the index's. Default: reloaded from the index's record when first needed. */
  model?: RetrievalModel;
  /** Precision of a model reloaded from the record (default: the recorded one). */
  precision?: Precision;
  /** Arithmetic of the exact search (default 'fp32'). */
  searchPrecision?: SearchPrecision;
  /** Search an HNSW graph (usearch, optional dependency) instead of exactly. */
  approximate?: boolean | HnswOptions;
}

/** Options of {@link RetrievalIndex.add}. */
export interface AddOptions {
  /** Fail with POSAPL_IMAGE on an unreadable file instead of skipping it. */
  strict?: boolean;
  /** Image decoding threads (default: the number of cores). */
  workers?: number;
  /** Images per encode call (default 32). */
  batchSize?: number;
  /** Commit what is encoded at least this often, so an interrupted build resumes there (default 30000 ms). */
  commitIntervalMs?: number;
  onProgress?: (progress: AddProgress) => void;
  /** Aborting stops after the current batch, commits and resolves with `interrupted`. */
  signal?: AbortSignal;
}

/** Progress of an {@link RetrievalIndex.add}. */
export interface AddProgress {
  done: number;
  total: number;
  imagesPerSecond: number;
  /** Seconds left (NaN before the first batch). */
  eta: number;
}

/** What an {@link RetrievalIndex.add} did. */
export interface AddReport {
  added: number;
  /** Files whose content changed, re-encoded. */
  updated: number;
  unchanged: number;
  removed: number;
  /** Paths that could not be read (missing or not an image). */
  skipped: string[];
  interrupted: boolean;
}

interface Pending {
  file: IndexedFile;
}

/** An index folder opened for searching and updating. */
export class RetrievalIndex {
  private files: IndexedFile[];
  private vectors: Float32Array;
  private rowOf = new Map<string, number>();
  private generation: number;
  private searcher: ExactSearch | HnswSearch | null = null;
  private model: RetrievalModel | null;
  private ownsModel = false;

  private constructor(readonly dir: string, private contents: IndexContents, model: RetrievalModel | undefined, private readonly options: OpenIndexOptions) {
    this.model = model ?? null;
    this.files = contents.files;
    this.vectors = contents.embeddings;
    this.generation = contents.generation;
    this.reindexRows();
  }

  /**
   * Creates an empty index in `dir` (absent or empty) for `model`. Refuses (POSAPL_EXISTS) a
   * folder that already holds an index or anything else.
   */
  static async create(dir: string, model: RetrievalModel, options: CreateIndexOptions = {}): Promise<RetrievalIndex> {
    if (typeof dir !== 'string' || dir === '') throw posaplError('POSAPL_TYPE', `Expected a folder path for dir but received ${JSON.stringify(dir)}`);
    if (!model || !model.record || !model.model) throw posaplError('POSAPL_TYPE', 'Expected a RetrievalModel (from loadRetrievalModel) for model');
    const dtype = options.dtype ?? 'float16';
    if (dtype !== 'float16' && dtype !== 'float32') throw posaplError('POSAPL_TYPE', `Expected 'float16' or 'float32' for dtype but received ${JSON.stringify(dtype)}`);
    if (isIndex(dir)) throw posaplError('POSAPL_EXISTS', `${dir}: already holds an index (open it to update it)`);
    fs.mkdirSync(dir, { recursive: true });
    const others = fs.readdirSync(dir).filter((n) => n !== 'lock');
    if (others.length) throw posaplError('POSAPL_EXISTS', `${dir}: not empty (${others.slice(0, 3).join(', ')}${others.length > 3 ? ', ...' : ''}); an index needs a folder of its own`);
    const dim = model.record.config.embed_dim;
    const contents: IndexContents = { generation: 1, model: model.record, dtype, dim, files: [], embeddings: new Float32Array(0) };
    const lock = lockIndex(dir);
    try {
      if (isIndex(dir)) throw posaplError('POSAPL_EXISTS', `${dir}: already holds an index (created meanwhile by another process)`);
      await writeIndex(dir, contents);
    } finally {
      lock.release();
    }
    return new RetrievalIndex(dir, contents, model, {});
  }

  /** Opens the index in `dir` (POSAPL_NOT_AN_INDEX when there is none; POSAPL_INDEX when damaged). */
  static async open(dir: string, options: OpenIndexOptions = {}): Promise<RetrievalIndex> {
    if (typeof dir !== 'string' || dir === '') throw posaplError('POSAPL_TYPE', `Expected a folder path for dir but received ${JSON.stringify(dir)}`);
    const contents = await readIndex(dir);
    if (options.model) checkSameModel(contents.model, options.model.record, dir);
    return new RetrievalIndex(dir, contents, options.model, options);
  }

  /** The model record the index was built with. */
  get modelRecord(): ModelRecord {
    return this.contents.model;
  }

  /** Number of indexed images. */
  get size(): number {
    return this.files.length;
  }

  /** The indexed files, in row order. */
  get entries(): readonly IndexedFile[] {
    return this.files;
  }

  /** Embedding width. */
  get dim(): number {
    return this.contents.dim;
  }

  /** The L2-normalised embeddings (size, dim), row i for entries[i]. */
  get embeddings(): Float32Array {
    return this.vectors.subarray(0, this.files.length * this.dim);
  }

  /** The model the queries are encoded with (reloaded from the index's record the first time). */
  async retrievalModel(): Promise<RetrievalModel> {
    if (!this.model) {
      this.model = await loadRecordedModel(this.contents.model, this.options.precision);
      this.ownsModel = true;
    }
    return this.model;
  }

  /**
   * Adds images: a folder (recursively; indexed files under it that are gone are dropped), or
   * a list of paths. Only new or changed files (by size and mtime, then content digest) are
   * encoded; progress is committed at intervals, so a build that is interrupted resumes there.
   */
  async add(target: string | readonly string[], options: AddOptions = {}): Promise<AddReport> {
    const folder = typeof target === 'string' && fs.statSync(target, { throwIfNoEntry: false })?.isDirectory() ? target : null;
    if (!folder && typeof target !== 'string' && !(Array.isArray(target) && target.every((p) => typeof p === 'string'))) {
      throw posaplError('POSAPL_TYPE', 'Expected a folder, a file path or an array of file paths for target');
    }
    const candidates = folder ? listImageFolder(folder) : typeof target === 'string' ? [target] : [...target];
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw posaplError('POSAPL_TYPE', `Expected a positive integer for batchSize but received ${batchSize}`);
    const lock = lockIndex(this.dir);
    try {
      await this.reloadIfChanged();
      const { model } = await this.retrievalModel();
      const report: AddReport = { added: 0, updated: 0, unchanged: 0, removed: 0, skipped: [], interrupted: false };
      let dirty = false;
      const seen = new Set<string>();
      const pending: Pending[] = [];
      const drop = new Set<string>();
      for (const given of candidates) {
        const abs = path.resolve(given);
        if (seen.has(abs)) continue;
        seen.add(abs);
        const stat = fs.statSync(abs, { throwIfNoEntry: false });
        const row = this.rowOf.get(abs);
        if (!stat || !stat.isFile()) {
          if (row !== undefined) drop.add(abs);
          else this.skip(report, given, options.strict, stat ? 'not a file' : 'no such file');
          continue;
        }
        const existing = row === undefined ? undefined : this.files[row];
        if (existing && existing.size === stat.size && existing.mtimeMs === stat.mtimeMs) {
          report.unchanged++;
          continue;
        }
        const sha256 = await fileDigest(abs);
        if (existing && existing.sha256 === sha256) {
          this.files[row as number] = { ...existing, size: stat.size, mtimeMs: stat.mtimeMs };
          report.unchanged++;
          dirty = true;
          continue;
        }
        pending.push({ file: { path: given, abs, size: stat.size, mtimeMs: stat.mtimeMs, sha256 } });
      }
      if (folder) {
        const under = path.resolve(folder) + path.sep;
        for (const f of this.files) if (f.abs.startsWith(under) && !seen.has(f.abs)) drop.add(f.abs);
      }
      if (drop.size) {
        report.removed += this.removeRows(drop);
        dirty = true;
      }
      if (pending.length && (await this.encodePending(model, pending, report, options, dirty))) dirty = true;
      if (dirty) await this.commit();
      return report;
    } finally {
      lock.release();
    }
  }

  /** Drops the given paths (as given, or any path to the same file); resolves with how many were indexed. */
  async remove(paths: readonly string[]): Promise<number> {
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) throw posaplError('POSAPL_TYPE', 'Expected an array of paths for paths');
    const lock = lockIndex(this.dir);
    try {
      await this.reloadIfChanged();
      const byGiven = new Map(this.files.map((f) => [f.path, f.abs]));
      const drop = new Set(paths.map((p) => byGiven.get(p) ?? path.resolve(p)).filter((abs) => this.rowOf.has(abs)));
      const removed = this.removeRows(drop);
      if (removed) await this.commit();
      return removed;
    } finally {
      lock.release();
    }
  }

  /** The `k` indexed images nearest to an L2-normalised (dim) embedding. */
  searchEmbedding(embedding: Float32Array, k = 10): SearchResult[] {
    if (!(embedding instanceof Float32Array) || embedding.length !== this.dim) {
      throw posaplError('POSAPL_SHAPE', `Expected a Float32Array of ${this.dim} values for embedding but received ${embedding instanceof Float32Array ? embedding.length : typeof embedding}`);
    }
    if (!Number.isInteger(k) || k < 1) throw posaplError('POSAPL_TYPE', `Expected a positive integer for k but received ${k}`);
    return this.toResults(this.search().search(embedding, 1, k)[0]);
  }

  /** The `k` images that best match a text query. */
  async searchText(query: string, k = 10): Promise<SearchResult[]> {
    const { model, tokenizer } = await this.retrievalModel();
    return this.searchEmbedding(encodeTextQuery(model, tokenizer, query), k);
  }

  /** The `k` images most like an image: a file path, or normalised (3, S, S) test-transform pixels. */
  async searchImage(image: string | Float32Array, k = 10): Promise<SearchResult[]> {
    const { model } = await this.retrievalModel();
    return this.searchEmbedding(await encodeImageQuery(model, image), k);
  }

  /** The `k` images most like an indexed one (by its stored embedding), given by its path as indexed. */
  searchSimilar(indexedPath: string, k = 10): SearchResult[] {
    const row = this.files.findIndex((f) => f.path === indexedPath);
    if (row < 0) throw posaplError('POSAPL_NOT_FOUND', `${indexedPath}: not in the index ${this.dir}`);
    return this.searchEmbedding(this.vectors.slice(row * this.dim, (row + 1) * this.dim), k);
  }

  /** The indexed file with this path as indexed, if any. */
  entry(indexedPath: string): IndexedFile | undefined {
    return this.files.find((f) => f.path === indexedPath);
  }

  /** Frees the model this index loaded itself (a model passed to open or create stays the caller's). */
  close(): void {
    if (this.ownsModel) this.model?.model.dispose();
    this.model = null;
    this.ownsModel = false;
  }

  private skip(report: AddReport, given: string, strict: boolean | undefined, reason: string): void {
    if (strict) throw posaplError('POSAPL_IMAGE', `cannot read image ${given}: ${reason} (without --strict it is skipped)`);
    report.skipped.push(given);
  }

  /** Encodes `pending` batch by batch, committing at intervals; resolves with whether uncommitted changes remain. */
  private async encodePending(model: RetrievalModel['model'], pending: Pending[], report: AddReport, options: AddOptions, dirtyBefore: boolean): Promise<boolean> {
    const batchSize = options.batchSize ?? 32;
    const interval = options.commitIntervalMs ?? 30_000;
    const pipeline = new ImagePipeline({ root: path.parse(process.cwd()).root, imageSize: model.config.vision_cfg.image_size, workers: options.workers, skipMissing: true });
    const started = Date.now();
    let lastCommit = started;
    let done = 0;
    let dirty = dirtyBefore;
    const batches: Pending[][] = [];
    for (let i = 0; i < pending.length; i += batchSize) batches.push(pending.slice(i, i + batchSize));
    const load = (b: Pending[]) => pipeline.load(b.map((p) => p.file.abs), 'test', b.map(() => 0));
    try {
      let next: Promise<LoadedImages> | null = load(batches[0]);
      for (let b = 0; b < batches.length; b++) {
        const batch = batches[b];
        const loaded: LoadedImages = await (next as Promise<LoadedImages>);
        next = b + 1 < batches.length ? load(batches[b + 1]) : null;
        // Unreadable files are kept out of the encode; a changed file that became unreadable is dropped.
        const missing = new Set(loaded.missing);
        const unreadable = batch.filter((_, i) => missing.has(i));
        if (unreadable.length && options.strict) {
          next?.catch(() => undefined);
          if (dirty) await this.commit();
          throw posaplError('POSAPL_IMAGE', `cannot read image ${unreadable[0].file.path} (without --strict it is skipped)`);
        }
        for (const u of unreadable) {
          report.skipped.push(u.file.path);
          if (this.rowOf.has(u.file.abs)) {
            this.removeRows(new Set([u.file.abs]));
            dirty = true;
          }
        }
        const embeddings = model.encodeImages(loaded.pixels, batch.length);
        batch.forEach((p, i) => {
          if (missing.has(i)) return;
          if (this.rowOf.has(p.file.abs)) report.updated++;
          else report.added++;
          this.upsert(p.file, embeddings.subarray(i * this.dim, (i + 1) * this.dim));
        });
        dirty = true;
        done += batch.length;
        const seconds = (Date.now() - started) / 1000;
        const rate = done / Math.max(seconds, 1e-9);
        options.onProgress?.({ done, total: pending.length, imagesPerSecond: rate, eta: (pending.length - done) / rate });
        if (options.signal?.aborted && b + 1 < batches.length) {
          next?.catch(() => undefined);
          report.interrupted = true;
          break;
        }
        if (Date.now() - lastCommit >= interval && b + 1 < batches.length) {
          await this.commit();
          dirty = false;
          lastCommit = Date.now();
        }
      }
      return dirty;
    } finally {
      await pipeline.close();
    }
  }

  private upsert(file: IndexedFile, embedding: Float32Array): void {
    let row = this.rowOf.get(file.abs);
    if (row === undefined) {
      row = this.files.length;
      this.files.push(file);
      this.rowOf.set(file.abs, row);
      const needed = this.files.length * this.dim;
      if (this.vectors.length < needed) {
        const grown = new Float32Array(Math.max(needed, Math.ceil(this.vectors.length * 1.5), 64 * this.dim));
        grown.set(this.vectors);
        this.vectors = grown;
      }
    } else {
      this.files[row] = file;
    }
    this.vectors.set(embedding, row * this.dim);
    this.searcher = null;
  }

  private removeRows(drop: ReadonlySet<string>): number {
    let kept = 0;
    const before = this.files.length;
    const files: IndexedFile[] = [];
    for (let r = 0; r < before; r++) {
      const f = this.files[r];
      if (drop.has(f.abs)) continue;
      if (kept !== r) this.vectors.copyWithin(kept * this.dim, r * this.dim, (r + 1) * this.dim);
      files.push(f);
      kept++;
    }
    this.files = files;
    this.reindexRows();
    this.searcher = null;
    return before - kept;
  }

  private reindexRows(): void {
    this.rowOf = new Map(this.files.map((f, i) => [f.abs, i]));
  }

  private async commit(): Promise<void> {
    const contents: IndexContents = {
      ...this.contents, generation: this.generation + 1, files: [...this.files], embeddings: this.vectors.subarray(0, this.files.length * this.dim),
    };
    await writeIndex(this.dir, contents);
    this.contents = contents;
    this.generation = contents.generation;
  }

  /** Another process may have committed since this one read the index (the caller holds the lock). */
  private async reloadIfChanged(): Promise<void> {
    let committed: number | undefined;
    try {
      committed = JSON.parse(fs.readFileSync(path.join(this.dir, MANIFEST), 'utf8')).generation;
    } catch {
      committed = undefined;
    }
    if (committed !== this.generation) {
      const contents = await readIndex(this.dir);
      this.contents = contents;
      this.files = contents.files;
      this.vectors = contents.embeddings;
      this.generation = contents.generation;
      this.reindexRows();
      this.searcher = null;
    }
    // Temporaries and generations left by a writer that died before finishing.
    removeStaleFiles(this.dir, this.generation);
  }

  private search(): ExactSearch | HnswSearch {
    if (!this.searcher) {
      const n = this.files.length;
      const approximate = this.options.approximate;
      this.searcher = approximate
        ? new HnswSearch(this.vectors, n, this.dim, typeof approximate === 'object' ? approximate : {})
        : new ExactSearch(this.vectors, n, this.dim, this.options.searchPrecision ?? 'fp32');
    }
    return this.searcher;
  }

  private toResults(found: Scored[]): SearchResult[] {
    return found.map((s, i) => ({ rank: i + 1, path: this.files[s.index].path, score: s.score }));
  }
}
