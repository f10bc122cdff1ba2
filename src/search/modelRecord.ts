/**
 * What built an index: the model configuration, the weight, checkpoint and tokenizer files with
 * their SHA-256 digests, the seed of whatever no file provides, and the precision. An index keeps
 * this record so that queries can reload the same model from it alone, and so that a query from
 * another model is refused instead of answered with meaningless scores.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ModelConfig, ModelConfigInput, resolveConfig } from '../clip/config';
import { posaplError } from '../errors';
import { Precision } from '../nn/linear';
import { loadModel } from '../posapl/loadModel';
import { PosaplModel } from '../posapl/model';
import { ClipTokenizer } from '../text/clipTokenizer';
import { fileDigest } from './fileDigest';

/** Where a retrieval model comes from (the options of posapl-eval, as a library call). */
export interface ModelSource {
  /** A preset ('rsitmd', 'rsicd') or a configuration object. */
  config: 'rsitmd' | 'rsicd' | ModelConfig | ModelConfigInput;
  /** open_clip backbone weights; required unless `random`. */
  weights?: string;
  /** true: no weights, a backbone initialised from `seed`; said explicitly, as loadModel asks. */
  random?: boolean;
  /** POSAPL checkpoint (full, or adapters only). */
  checkpoint?: string;
  /** Seed of the initialisation of whatever no file provides (default 0). */
  seed?: number;
  /** CLIP tokenizer file or folder, or 'byte-level' for the tokenizer without merges (the demo). */
  tokenizer: string;
  /** 'fp32' (default), 'tf32' or 'bf16'. */
  precision?: Precision;
  device?: 'cpu' | 'cuda';
}

/** A file the model was read from. */
export interface RecordedFile {
  /** Absolute path. */
  path: string;
  sha256: string;
}

/** The JSON record of a retrieval model kept in an index. */
export interface ModelRecord {
  config: ModelConfig;
  weights: RecordedFile | null;
  checkpoint: RecordedFile | null;
  /** The initialisation seed (it matters only for what no file provides). */
  seed: number;
  tokenizer: { kind: 'byte-level' } | ({ kind: 'file' } & RecordedFile);
  precision: Precision;
}

/** A loaded model, its tokenizer and the record that reloads them. */
export interface RetrievalModel {
  model: PosaplModel;
  tokenizer: ClipTokenizer;
  record: ModelRecord;
}

async function recordFile(file: string, what: string): Promise<RecordedFile> {
  const absolute = path.resolve(file);
  if (!fs.existsSync(absolute)) throw posaplError('POSAPL_IO', `${what} ${file}: no such file`);
  return { path: absolute, sha256: await pathDigest(absolute) };
}

/** A file's digest, or for a folder (vocab.json + merges.txt) the digest of its files' digests. */
async function pathDigest(absolute: string): Promise<string> {
  if (!fs.statSync(absolute).isDirectory()) return fileDigest(absolute);
  const names = fs.readdirSync(absolute).filter((n) => ['vocab.json', 'merges.txt', 'tokenizer.json'].includes(n)).sort();
  const parts = await Promise.all(names.map(async (n) => `${n}:${await fileDigest(path.join(absolute, n))}`));
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

/** Loads the model a source describes, with its tokenizer, and records its files' digests. */
export async function loadRetrievalModel(source: ModelSource): Promise<RetrievalModel> {
  if (typeof source !== 'object' || source === null) throw posaplError('POSAPL_TYPE', `Expected a model source object but received ${String(source)}`);
  if (typeof source.tokenizer !== 'string' || source.tokenizer === '') {
    throw posaplError('POSAPL_TYPE', `Expected a tokenizer path or 'byte-level' for tokenizer but received ${JSON.stringify(source.tokenizer)}`);
  }
  const config = resolveConfig(source.config);
  const record: ModelRecord = {
    config,
    weights: source.weights ? await recordFile(source.weights, 'weights') : null,
    checkpoint: source.checkpoint ? await recordFile(source.checkpoint, 'checkpoint') : null,
    seed: source.seed ?? 0,
    tokenizer: source.tokenizer === 'byte-level' ? { kind: 'byte-level' } : { kind: 'file', ...(await recordFile(source.tokenizer, 'tokenizer')) },
    precision: source.precision ?? 'fp32',
  };
  const model = await loadModel({
    config, weights: record.weights?.path, random: source.random, checkpoint: record.checkpoint?.path, seed: record.seed,
    precision: record.precision, device: source.device,
  });
  const tokenizer = record.tokenizer.kind === 'byte-level' ? ClipTokenizer.byteLevel() : await ClipTokenizer.fromFile(record.tokenizer.path);
  return { model, tokenizer, record: { ...record, precision: model.precision } };
}

/**
 * Reloads the model of a record, checking that each file still has its recorded digest;
 * `precision` overrides the recorded one.
 */
export async function loadRecordedModel(record: ModelRecord, precision?: Precision): Promise<RetrievalModel> {
  for (const [what, file] of [['weights', record.weights], ['checkpoint', record.checkpoint], ['tokenizer', record.tokenizer.kind === 'file' ? record.tokenizer : null]] as const) {
    if (!file) continue;
    if (!fs.existsSync(file.path)) throw posaplError('POSAPL_IO', `the index's ${what} ${file.path} no longer exists (pass the model options to use another copy)`);
    const digest = await pathDigest(file.path);
    if (digest !== file.sha256) {
      throw posaplError('POSAPL_MODEL_MISMATCH',
        `the index's ${what} ${file.path} changed since the index was built (sha256 ${short(digest)}, recorded ${short(file.sha256)}); rebuild the index or restore the file`);
    }
  }
  const tokenizer = record.tokenizer.kind === 'byte-level' ? 'byte-level' : record.tokenizer.path;
  return loadRetrievalModel({
    config: record.config, weights: record.weights?.path, random: !record.weights, checkpoint: record.checkpoint?.path, seed: record.seed,
    tokenizer, precision: precision ?? record.precision,
  });
}

/** What makes two records embed alike: everything but the paths and the precision. */
export function modelIdentity(record: ModelRecord): string {
  return JSON.stringify({
    config: record.config,
    weights: record.weights?.sha256 ?? null,
    checkpoint: record.checkpoint?.sha256 ?? null,
    // The seed fills the backbone only when no weights file does.
    seed: record.weights ? null : record.seed,
    tokenizer: record.tokenizer.kind === 'file' ? record.tokenizer.sha256 : 'byte-level',
  });
}

function short(digest: string): string {
  return `${digest.slice(0, 12)}...`;
}

/** One line naming a model: its files and digests, or its seed. */
export function describeModel(record: ModelRecord): string {
  const c = record.config;
  const file = (f: RecordedFile | null) => (f ? `${f.path} (sha256 ${short(f.sha256)})` : 'none');
  return `config embed_dim ${c.embed_dim}, vision ${c.vision_cfg.layers}x${c.vision_cfg.width}, text ${c.text_cfg.layers}x${c.text_cfg.width}; ` +
    `weights ${record.weights ? file(record.weights) : `random (seed ${record.seed})`}; checkpoint ${file(record.checkpoint)}; ` +
    `tokenizer ${record.tokenizer.kind === 'file' ? file(record.tokenizer) : 'byte-level'}`;
}

/** Throws POSAPL_MODEL_MISMATCH naming both models unless they embed alike. */
export function checkSameModel(index: ModelRecord, query: ModelRecord, where: string): void {
  if (modelIdentity(index) === modelIdentity(query)) return;
  throw posaplError('POSAPL_MODEL_MISMATCH',
    `${where}: the index was built by another model than the one given.\n  index: ${describeModel(index)}\n  given: ${describeModel(query)}`);
}
