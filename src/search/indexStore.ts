/**
 * The on-disk layout of a retrieval index, one folder:
 *   index.json                   the manifest: format, generation, model record, dtype, dim, count
 *   embeddings-<g>.safetensors   tensor `embeddings` (count, dim), float16 (default) or float32
 *   files-<g>.json               per row: path as given, absolute path, size, mtime, sha256
 * The manifest holds the CRC-32 of both data files, so a damaged byte anywhere in them is found.
 * A write puts generation g+1's files beside g's, then renames the manifest over (the commit),
 * then deletes g's files: a reader sees one whole generation or the other, and a crash leaves
 * the last committed one. Every field is checked on reading; a damaged index is a POSAPL_INDEX
 * (or the checkpoint reader's POSAPL_FORMAT) error naming the file and the field.
 */
import * as fs from 'fs';
import * as path from 'path';
import { resolveConfig } from '../clip/config';
import { posaplError } from '../errors';
import { loadStateDict, saveStateDict, toFloat32 } from '../io';
import { crc32 } from '../io/crc32';
import { writeAtomically } from '../io/atomicWrite';
import { toHalfArray } from './float16';
import { ModelRecord, RecordedFile } from './modelRecord';

export const MANIFEST = 'index.json';
const FORMAT = 'posapl-retrieval-index';
const VERSION = 1;

/** How the embeddings are stored on disk (in memory they are always float32). */
export type StorageDtype = 'float16' | 'float32';

/** One indexed image file. */
export interface IndexedFile {
  /** The path as given when it was added (what results show). */
  path: string;
  /** Absolute path (what identifies the file). */
  abs: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** One committed generation of an index. */
export interface IndexContents {
  generation: number;
  model: ModelRecord;
  dtype: StorageDtype;
  dim: number;
  files: IndexedFile[];
  /** (files.length, dim) float32, rows L2-normalised. */
  embeddings: Float32Array;
}

const embeddingsName = (g: number) => `embeddings-${g}.safetensors`;
const filesName = (g: number) => `files-${g}.json`;

function damaged(file: string, message: string): Error {
  return posaplError('POSAPL_INDEX', `${file}: ${message} (the index is damaged; rebuild it with posapl-index)`);
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isDigest = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw posaplError(code === 'ENOENT' ? 'POSAPL_NOT_FOUND' : 'POSAPL_IO', `${file}: cannot read: ${(e as Error).message}`, e);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw damaged(file, `not valid JSON (${(e as Error).message})`);
  }
}

function checkRecordedFile(v: unknown, file: string, field: string): RecordedFile | null {
  if (v === null) return null;
  if (!isObject(v) || typeof v.path !== 'string' || !path.isAbsolute(v.path) || !isDigest(v.sha256)) {
    throw damaged(file, `field ${field} must be null or {path (absolute), sha256 (64 hex digits)}`);
  }
  return { path: v.path, sha256: v.sha256 };
}

function checkModel(v: unknown, file: string): ModelRecord {
  if (!isObject(v)) throw damaged(file, 'field model must be an object');
  let config;
  try {
    config = resolveConfig(v.config as never);
  } catch (e) {
    throw damaged(file, `field model.config: ${(e as Error).message}`);
  }
  const tokenizer = v.tokenizer;
  if (!isObject(tokenizer) || (tokenizer.kind !== 'byte-level' && tokenizer.kind !== 'file')) throw damaged(file, "field model.tokenizer must be {kind: 'byte-level'} or {kind: 'file', path, sha256}");
  if (!Number.isSafeInteger(v.seed)) throw damaged(file, 'field model.seed must be an integer');
  if (v.precision !== 'fp32' && v.precision !== 'tf32' && v.precision !== 'bf16') throw damaged(file, "field model.precision must be 'fp32', 'tf32' or 'bf16'");
  return {
    config,
    weights: checkRecordedFile(v.weights, file, 'model.weights'),
    checkpoint: checkRecordedFile(v.checkpoint, file, 'model.checkpoint'),
    seed: v.seed as number,
    tokenizer: tokenizer.kind === 'byte-level' ? { kind: 'byte-level' } : { kind: 'file', ...(checkRecordedFile(tokenizer, file, 'model.tokenizer') as RecordedFile) },
    precision: v.precision,
  };
}

function checkFiles(v: unknown, file: string, generation: number, count: number): IndexedFile[] {
  if (!isObject(v) || v.generation !== generation || !Array.isArray(v.files)) throw damaged(file, `expected {generation: ${generation}, files: [...]}`);
  if (v.files.length !== count) throw damaged(file, `lists ${v.files.length} files but the manifest counts ${count}`);
  const seen = new Set<string>();
  return v.files.map((f: unknown, i: number) => {
    if (!isObject(f) || typeof f.path !== 'string' || f.path === '' || typeof f.abs !== 'string' || !path.isAbsolute(f.abs) ||
      !isCount(f.size) || typeof f.mtimeMs !== 'number' || !Number.isFinite(f.mtimeMs) || !isDigest(f.sha256)) {
      throw damaged(file, `files[${i}] must be {path, abs (absolute), size, mtimeMs, sha256}`);
    }
    if (seen.has(f.abs)) throw damaged(file, `files[${i}]: ${f.abs} is listed twice`);
    seen.add(f.abs);
    return { path: f.path, abs: f.abs, size: f.size, mtimeMs: f.mtimeMs, sha256: f.sha256 };
  });
}

async function readEmbeddings(file: string, dtype: StorageDtype, count: number, dim: number): Promise<Float32Array> {
  const sd = await loadStateDict(file);
  const entry = sd.get('embeddings');
  if (!entry || sd.size !== 1) throw damaged(file, `expected one tensor 'embeddings', found ${[...sd.keys()].join(', ') || 'none'}`);
  if (entry.dtype !== dtype) throw damaged(file, `tensor embeddings is ${entry.dtype} but the manifest says ${dtype}`);
  if (entry.shape.length !== 2 || entry.shape[0] !== count || entry.shape[1] !== dim) {
    throw damaged(file, `tensor embeddings has shape [${entry.shape.join(', ')}] but the manifest says [${count}, ${dim}]`);
  }
  const values = dtype === 'float32' ? new Float32Array(entry.data as Float32Array) : toFloat32(entry);
  for (let r = 0; r < count; r++) {
    const row = values.subarray(r * dim, (r + 1) * dim);
    let sum = 0;
    for (let j = 0; j < dim; j++) sum += row[j] * row[j];
    if (!Number.isFinite(sum)) throw damaged(file, `row ${r} of tensor embeddings is not finite`);
    // Stored rows were unit length before rounding to the storage dtype; this restores exact cosines.
    if (sum > 0) {
      const scale = 1 / Math.sqrt(sum);
      for (let j = 0; j < dim; j++) row[j] *= scale;
    }
  }
  return values;
}

function checkCrc(file: string, expected: number): void {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw posaplError(code === 'ENOENT' ? 'POSAPL_NOT_FOUND' : 'POSAPL_IO', `${file}: cannot read: ${(e as Error).message}`, e);
  }
  const actual = crc32(bytes);
  if (actual !== expected) throw damaged(file, `CRC-32 ${actual.toString(16)} differs from the manifest's ${expected.toString(16)}`);
}

/** Whether `dir` holds an index manifest. */
export function isIndex(dir: string): boolean {
  return fs.existsSync(path.join(dir, MANIFEST));
}

/** Reads the committed generation of the index in `dir`. */
export async function readIndex(dir: string): Promise<IndexContents> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await readOnce(dir);
    } catch (e) {
      // A writer committed and removed the generation being read between two reads: read again.
      if ((e as { code?: string }).code === 'POSAPL_NOT_FOUND' && attempt < 3 && isIndex(dir)) continue;
      throw e;
    }
  }
}

async function readOnce(dir: string): Promise<IndexContents> {
  const manifestFile = path.join(dir, MANIFEST);
  if (!fs.existsSync(manifestFile)) {
    throw posaplError('POSAPL_NOT_AN_INDEX', `${dir}: not a retrieval index (no ${MANIFEST}); build one with posapl-index --out ${dir}`);
  }
  const m = readJson(manifestFile);
  const crcOf = (field: string) => {
    const v = isObject(m) && isObject(m.crc32) ? m.crc32[field] : undefined;
    if (!isCount(v) || v > 0xffffffff) throw damaged(manifestFile, `field crc32.${field} must be a 32-bit unsigned integer`);
    return v;
  };
  if (!isObject(m) || m.format !== FORMAT) throw damaged(manifestFile, `field format must be '${FORMAT}'`);
  if (m.version !== VERSION) throw damaged(manifestFile, `field version must be ${VERSION} (this posapl-native reads version ${VERSION})`);
  if (!isCount(m.generation) || m.generation < 1) throw damaged(manifestFile, 'field generation must be a positive integer');
  const generation = m.generation;
  if (m.dtype !== 'float16' && m.dtype !== 'float32') throw damaged(manifestFile, "field dtype must be 'float16' or 'float32'");
  if (!isCount(m.count)) throw damaged(manifestFile, 'field count must be a non-negative integer');
  const model = checkModel(m.model, manifestFile);
  if (m.dim !== model.config.embed_dim) throw damaged(manifestFile, `field dim must equal model.config.embed_dim (${model.config.embed_dim})`);
  const dim = model.config.embed_dim;
  const filesFile = path.join(dir, filesName(generation));
  checkCrc(filesFile, crcOf('files'));
  const files = checkFiles(readJson(filesFile), filesFile, generation, m.count);
  const embeddingsFile = path.join(dir, embeddingsName(generation));
  checkCrc(embeddingsFile, crcOf('embeddings'));
  const embeddings = await readEmbeddings(embeddingsFile, m.dtype, m.count, dim);
  return { generation, model, dtype: m.dtype, dim, files, embeddings };
}

/**
 * Commits `contents` as the next generation: its data files, then the manifest (atomically),
 * then removes every other generation's files and leftover temporaries. Hold the index lock.
 */
export async function writeIndex(dir: string, contents: IndexContents): Promise<void> {
  const g = contents.generation;
  const count = contents.files.length;
  const data = contents.embeddings.subarray(0, count * contents.dim);
  await saveStateDict(path.join(dir, embeddingsName(g)), [[
    'embeddings',
    contents.dtype === 'float16'
      ? { dtype: 'float16', shape: [count, contents.dim], data: toHalfArray(data) }
      : { dtype: 'float32', shape: [count, contents.dim], data },
  ]], { format: 'safetensors', metadata: { format: FORMAT, generation: String(g) } });
  await writeJson(path.join(dir, filesName(g)), { generation: g, files: contents.files });
  // Read back (from the page cache): the checksums are of the bytes as they lie on disk.
  const checksums = { embeddings: crc32(fs.readFileSync(path.join(dir, embeddingsName(g)))), files: crc32(fs.readFileSync(path.join(dir, filesName(g)))) };
  await writeJson(path.join(dir, MANIFEST), {
    format: FORMAT, version: VERSION, generation: g, dtype: contents.dtype, dim: contents.dim, count, crc32: checksums,
    model: contents.model, updated: new Date().toISOString(),
  });
  removeStaleFiles(dir, g);
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await writeAtomically(file, (sink) => sink.write(Buffer.from(`${JSON.stringify(value)}\n`)));
}

/** Deletes other generations' files and temporaries of writers that died (the caller holds the lock). */
export function removeStaleFiles(dir: string, keep: number): void {
  for (const name of fs.readdirSync(dir)) {
    const m = /^(?:embeddings-(\d+)\.safetensors|files-(\d+)\.json)$/.exec(name);
    const stale = m ? Number(m[1] ?? m[2]) !== keep : /^\..*\.tmp$/.test(name);
    if (stale) fs.rmSync(path.join(dir, name), { force: true });
  }
}
