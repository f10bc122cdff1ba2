/**
 * Datasets in the authors' JSON layout (posapl_main.py TrainDataset / EvalDataset):
 *   train: [{ "caption": str, "image": str, "image_id": int|str, "pos"?: [str, ...] }, ...]
 *   val/test: [{ "image": str, "caption": [str, ...], "pos"?: [[str, ...], ...] }, ...]
 * `image` is relative to the image root; other keys (label, label_name) are ignored. Errors carry
 * code POSAPL_DATA and name the file, and the line and column or the entry and field at fault.
 */
import * as fs from 'fs';
import { posaplError } from '../errors';
import { cleanCaption } from '../text/cleanCaption';
import { jsonErrorOffset, positionOf } from './jsonLocation';

/** One training pair. */
export interface TrainSample {
  /** Path of the image, relative to the image root. */
  image: string;
  caption: string;
  /** The file's image_id: pairs with equal ids show the same picture. */
  imageId: number | string;
  /** POS words of the caption when the file carries them (the authors' finetune_pos files). */
  pos?: string[];
}

/** One evaluation image with its captions. */
export interface EvalImage {
  image: string;
  captions: string[];
  /** POS words of each caption, parallel to captions, when the file carries them. */
  pos?: string[][];
}

function dataError(message: string, cause?: unknown): Error {
  return posaplError('POSAPL_DATA', message, cause);
}

/** Reads and parses a JSON file; errors (POSAPL_DATA) name the file, and the line and column of a syntax error. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message;
    throw dataError(`cannot read ${file}: ${reason}`, cause);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (cause) {
    const offset = jsonErrorOffset(text);
    const at = positionOf(text, offset < 0 ? text.length : offset);
    throw dataError(`${file}:${at.line}:${at.column}: malformed JSON (${(cause as Error).message})`, cause);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Reads the entries of a dataset file: a JSON array of objects. */
function entries(file: string): Array<Record<string, unknown>> {
  const data = readJsonFile(file);
  if (!Array.isArray(data)) throw dataError(`${file}: expected a JSON array of entries but found ${describe(data)}`);
  data.forEach((e, index) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e))
      throw dataError(`${file}: entry ${index}: expected an object but found ${describe(e)}`);
  });
  return data as Array<Record<string, unknown>>;
}

function fieldError(file: string, index: number, field: string, want: string, value: unknown): Error {
  return dataError(`${file}: entry ${index}: expected ${want} for "${field}" but found ` +
    (value === undefined ? 'no such field' : describe(value)));
}

function stringField(file: string, index: number, e: Record<string, unknown>, field: string): string {
  const v = e[field];
  if (typeof v !== 'string' || v.length === 0) throw fieldError(file, index, field, 'a non-empty string', v);
  return v;
}

/** A caption that cleaning leaves empty (blank, or punctuation only) cannot be trained on or retrieved. */
function checkCaption(file: string, index: number, caption: string, field: string): void {
  try {
    cleanCaption(caption);
  } catch (cause) {
    throw dataError(`${file}: entry ${index}: ${field} ${JSON.stringify(caption)} is empty after cleaning (blank or punctuation only)`, cause);
  }
}

/** A dataset with no entry: nothing to train on or evaluate. */
function nonEmpty<T>(file: string, list: T[]): T[] {
  if (list.length === 0) throw dataError(`${file}: no entries (an empty JSON array)`);
  return list;
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((w) => typeof w === 'string');
}

/** Reads a training file: one sample per caption. */
export function readTrainSet(file: string): TrainSample[] {
  return nonEmpty(file, entries(file)).map((e, index) => {
    const image = stringField(file, index, e, 'image');
    const caption = stringField(file, index, e, 'caption');
    checkCaption(file, index, caption, '"caption"');
    const id = e.image_id;
    if (!(typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))))
      throw fieldError(file, index, 'image_id', 'a number or string', id);
    const sample: TrainSample = { image, caption, imageId: id };
    if (e.pos !== undefined) {
      if (!isStringArray(e.pos)) throw fieldError(file, index, 'pos', 'an array of strings', e.pos);
      sample.pos = e.pos;
    }
    return sample;
  });
}

/** Reads a validation or test file: one entry per image with its captions. */
export function readEvalSet(file: string): EvalImage[] {
  return nonEmpty(file, entries(file)).map((e, index) => {
    const image = stringField(file, index, e, 'image');
    const captions = e.caption;
    if (!isStringArray(captions) || captions.length === 0 || captions.some((c) => c.length === 0))
      throw fieldError(file, index, 'caption', 'a non-empty array of non-empty strings', captions);
    captions.forEach((c, k) => checkCaption(file, index, c, `"caption" ${k}`));
    const entry: EvalImage = { image, captions };
    if (e.pos !== undefined) {
      const pos = e.pos;
      if (!Array.isArray(pos) || !pos.every(isStringArray))
        throw fieldError(file, index, 'pos', 'an array of arrays of strings', pos);
      if (pos.length !== captions.length)
        throw dataError(`${file}: entry ${index}: "pos" has ${pos.length} lists for ${captions.length} captions`);
      entry.pos = pos as string[][];
    }
    return entry;
  });
}

/**
 * The authors' image-id remapping: ids numbered 0..K-1 in the order they first appear, one per
 * sample. Equal numbers mean the same picture to the contrastive loss.
 */
export function remapImageIds(samples: readonly TrainSample[]): Int32Array {
  const ids = new Map<number | string, number>();
  const out = new Int32Array(samples.length);
  samples.forEach((s, i) => {
    let id = ids.get(s.imageId);
    if (id === undefined) {
      id = ids.size;
      ids.set(s.imageId, id);
    }
    out[i] = id;
  });
  return out;
}
