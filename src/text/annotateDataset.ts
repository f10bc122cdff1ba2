/**
 * Adds POS words to a retrieval dataset, the job of the authors' posapl_0_pos.py: every entry gets
 * `pos` shaped like its `caption` (one list of POS words per caption string), computed from the
 * cleaned caption.
 */
import { posaplError } from '../errors';
import { cleanCaption } from './cleanCaption';
import { PosWord } from './posWords';
import { tagPos } from './tagPos';
import { isTaggableScript } from './taggableScript';

/** A caption that could not be tagged: where it is and why. */
export interface InvalidCaption {
  /** Index of the entry in the dataset array. */
  entry: number;
  /** Index within the entry's caption list (val/test layout); absent for a single caption. */
  caption?: number;
  reason: string;
}

/** Options of {@link addPosToDataset}. */
export interface AddPosOptions {
  /** Give invalid captions an empty POS list (which training skips) instead of throwing. */
  skipInvalid?: boolean;
  /** Words kept by the caption cleaning (30, as the authors). */
  maxWords?: number;
  /** Called now and then with captions done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** What {@link addPosToDataset} returns. */
export interface AddPosResult {
  /** The entries with `pos` added (copies; the input is not changed). */
  entries: Record<string, unknown>[];
  /** Captions tagged. */
  tagged: number;
  /** Captions given an empty POS list because they were missing or empty (with skipInvalid). */
  skipped: InvalidCaption[];
  /** Captions tagged although in a script the English tagger cannot read (their POS words are guesses). */
  untaggable: number;
}

/** Where an invalid caption is, in words: `entry 12` or `entry 12, caption 3`. */
export function describeInvalidCaption(invalid: InvalidCaption): string {
  const where = invalid.caption === undefined ? `entry ${invalid.entry}` : `entry ${invalid.entry}, caption ${invalid.caption}`;
  return `${where}: ${invalid.reason}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Adds `pos` to every entry of `dataset` (an array of objects whose `caption` is a string, or a
 * list of strings). A missing caption, or one that cleaning leaves empty, is reported by its entry
 * index (code POSAPL_DATA, all of them in one message), unless `skipInvalid`.
 */
export function addPosToDataset(dataset: unknown, options: AddPosOptions = {}): AddPosResult {
  if (!Array.isArray(dataset)) {
    throw posaplError('POSAPL_DATA', 'Expected the dataset to be a JSON array of entries');
  }
  const maxWords = options.maxWords ?? 30;
  const total = dataset.reduce<number>((n, e) => n + (isRecord(e) && Array.isArray(e.caption) ? e.caption.length : 1), 0);
  const invalid: InvalidCaption[] = [];
  let done = 0;
  let tagged = 0;
  let untaggable = 0;

  const tagOne = (caption: unknown, entry: number, index?: number): PosWord[] => {
    done += 1;
    if (options.onProgress && (done % 500 === 0 || done === total)) options.onProgress(done, total);
    const skip = (reason: string): PosWord[] => {
      invalid.push(index === undefined ? { entry, reason } : { entry, caption: index, reason });
      return [];
    };
    if (caption === undefined) return skip('caption is missing');
    if (typeof caption !== 'string') return skip(`caption is ${JSON.stringify(caption)}, not text`);
    let cleaned: string;
    try {
      cleaned = cleanCaption(caption, maxWords);
    } catch {
      return skip(`caption ${JSON.stringify(caption)} is empty after cleaning`);
    }
    tagged += 1;
    if (!isTaggableScript(caption)) untaggable += 1;
    return tagPos(cleaned);
  };

  const entries = dataset.map((entry: unknown, e) => {
    if (!isRecord(entry)) {
      throw posaplError('POSAPL_DATA', `entry ${e} is ${JSON.stringify(entry)}, not an object with a caption`);
    }
    const { caption } = entry;
    const pos = Array.isArray(caption) ? caption.map((c, k) => tagOne(c, e, k)) : tagOne(caption, e);
    return { ...entry, pos };
  });
  if (invalid.length > 0 && !options.skipInvalid) {
    const listed = invalid.slice(0, 10).map(describeInvalidCaption).join('\n  ');
    const more = invalid.length > 10 ? `\n  ... and ${invalid.length - 10} more` : '';
    throw posaplError('POSAPL_DATA', `${invalid.length} invalid caption(s):\n  ${listed}${more}`);
  }
  return { entries, tagged, skipped: invalid, untaggable };
}
