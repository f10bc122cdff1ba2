/**
 * Python's notion of whitespace (`str.isspace`, `str.split()`, `str.strip()`, `re`'s `\s`), which
 * differs from JavaScript's `\s`: Python counts U+001C..U+001F and U+0085, and not U+FEFF.
 */

/** The characters for which Python's `str.isspace()` is true, as a regex character class body. */
export const PY_SPACE_CLASS =
  '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const SPACE_RUN = new RegExp(`[${PY_SPACE_CLASS}]+`);
const EDGES = new RegExp(`^[${PY_SPACE_CLASS}]+|[${PY_SPACE_CLASS}]+$`, 'g');

/** Python's `text.split()`: the words between runs of whitespace, no empty strings. */
export function pySplit(text: string): string[] {
  return text.split(SPACE_RUN).filter((word) => word.length > 0);
}

/** Python's `text.strip()`. */
export function pyStrip(text: string): string {
  return text.replace(EDGES, '');
}
