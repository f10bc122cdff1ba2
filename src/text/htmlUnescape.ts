/**
 * HTML character references decoded exactly as Python's `html.unescape` does (open_clip applies it
 * twice in `basic_clean`), including the HTML5 rules for references without `;` and invalid numbers.
 */
import { HTML5_ENTITIES, INVALID_CHARREFS, INVALID_CODEPOINTS } from './htmlEntities';

/** Name (with `;` where it has one) -> replacement text. A Map, so that `constructor` is no entity. */
export const NAMED_REFERENCES: ReadonlyMap<string, string> = new Map(Object.entries(HTML5_ENTITIES));

const INVALID_REFS: ReadonlyMap<number, string> = new Map(
  Object.entries(INVALID_CHARREFS).map(([code, text]) => [Number(code), text]),
);

// Python: r'&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)'; `u` so that 32 counts code points.
const CHAR_REF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

/** The text of numeric reference `&#...` (`body` without `&#`, optional `;` included). */
export function decodeNumericReference(body: string, hex: boolean): string {
  const digits = body.endsWith(';') ? body.slice(0, -1) : body;
  const code = hex ? parseInt(digits, 16) : parseInt(digits, 10);
  const replacement = INVALID_REFS.get(code);
  if (replacement !== undefined) return replacement;
  if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return '\ufffd';
  if (INVALID_CODEPOINTS.has(code)) return '';
  return String.fromCodePoint(code);
}

function decodeReference(match: string, body: string): string {
  if (body[0] === '#') {
    const hex = body[1] === 'x' || body[1] === 'X';
    return decodeNumericReference(body.slice(hex ? 2 : 1), hex);
  }
  const whole = NAMED_REFERENCES.get(body);
  if (whole !== undefined) return whole;
  // The longest known prefix wins (legacy names such as `&amp` need no `;`).
  const chars = Array.from(body);
  for (let length = chars.length - 1; length > 1; length -= 1) {
    const prefix = chars.slice(0, length).join('');
    const text = NAMED_REFERENCES.get(prefix);
    if (text !== undefined) return text + chars.slice(length).join('');
  }
  return match;
}

/** Python's `html.unescape(text)`. */
export function htmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHAR_REF, decodeReference);
}
