/** The authors' caption cleaning (`pre_caption` in posapl_main.py), used for captions and for POS tagging. */
import { posaplError } from '../errors';
import { PY_SPACE_CLASS } from './pythonText';

const DROPPED = /[,.'!?"()*#:;~]/g;
const SPACE_RUNS = new RegExp(`[${PY_SPACE_CLASS}]{2,}`, 'g');

/**
 * Lower-cases; deletes `, . ' ! ? " ( ) * # : ; ~`; turns `-` and `/` into spaces; `<person>` into
 * `person`; collapses runs of whitespace into one space; strips newlines at the end and spaces at
 * both ends; keeps the first `maxWords` space-separated words. Throws (code POSAPL_TEXT, quoting the
 * input) when nothing is left.
 */
export function cleanCaption(text: string, maxWords = 30): string {
  if (typeof text !== 'string') {
    throw posaplError('POSAPL_TYPE', `Expected a string for caption but received ${text === null ? 'null' : typeof text}`);
  }
  let caption = text
    .toLowerCase()
    .replace(DROPPED, '')
    .replaceAll('-', ' ')
    .replaceAll('/', ' ')
    .replaceAll('<person>', 'person')
    .replace(SPACE_RUNS, ' ')
    .replace(/\n+$/, '')
    .replace(/^ +| +$/g, '');
  const words = caption.split(' ');
  if (words.length > maxWords) caption = words.slice(0, maxWords).join(' ');
  if (caption.length === 0) {
    throw posaplError('POSAPL_TEXT', `caption ${JSON.stringify(text)} is empty after cleaning`);
  }
  return caption;
}
