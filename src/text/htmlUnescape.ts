/**
 * HTML character references decoded exactly as Python's `html.unescape` does (open_clip applies it
 * twice in `basic_clean`), including the HTML5 rules for references without `;` and invalid numbers.
 */
import { readPackageData } from './packageData';

/** data/text/html-entities.json, written by tools/reference/gen_html_entities.py. */
interface EntityTables {
  /** Name (with `;` where it has one) -> replacement text. */
  entities: Record<string, string>;
  /** Numeric references the HTML5 standard replaces (C1 range as windows-1252, NUL, CR). */
  invalidCharrefs: Record<string, string>;
  /** Numeric references the HTML5 standard drops (controls and non-characters). */
  invalidCodepoints: number[];
}

interface References {
  /** Maps, so that `constructor` is no entity. */
  named: ReadonlyMap<string, string>;
  invalid: ReadonlyMap<number, string>;
  dropped: ReadonlySet<number>;
}

let references: References | undefined;

function loadReferences(): References {
  if (references) return references;
  const isStringRecord = (v: unknown) => v !== null && typeof v === 'object' && Object.values(v).every((t) => typeof t === 'string');
  const tables = readPackageData<EntityTables>('text/html-entities.json', (t) =>
    !isStringRecord(t.entities) ? 'Expected an object of strings for entities'
      : !isStringRecord(t.invalidCharrefs) ? 'Expected an object of strings for invalidCharrefs'
        : !Array.isArray(t.invalidCodepoints) || !t.invalidCodepoints.every(Number.isInteger) ? 'Expected an array of integers for invalidCodepoints'
          : null);
  references = {
    named: new Map(Object.entries(tables.entities)),
    invalid: new Map(Object.entries(tables.invalidCharrefs).map(([code, text]) => [Number(code), text])),
    dropped: new Set(tables.invalidCodepoints),
  };
  return references;
}

/** Name (with `;` where it has one) -> replacement text, as Python's html.entities.html5. */
export function namedReferences(): ReadonlyMap<string, string> {
  return loadReferences().named;
}

// Python: r'&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)'; `u` so that 32 counts code points.
const CHAR_REF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

/** The text of numeric reference `&#...` (`body` without `&#`, optional `;` included). */
export function decodeNumericReference(body: string, hex: boolean): string {
  const digits = body.endsWith(';') ? body.slice(0, -1) : body;
  const code = hex ? parseInt(digits, 16) : parseInt(digits, 10);
  const { invalid, dropped } = loadReferences();
  const replacement = invalid.get(code);
  if (replacement !== undefined) return replacement;
  if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return '\ufffd';
  if (dropped.has(code)) return '';
  return String.fromCodePoint(code);
}

function decodeReference(match: string, body: string): string {
  if (body[0] === '#') {
    const hex = body[1] === 'x' || body[1] === 'X';
    return decodeNumericReference(body.slice(hex ? 2 : 1), hex);
  }
  const { named } = loadReferences();
  const whole = named.get(body);
  if (whole !== undefined) return whole;
  // The longest known prefix wins (legacy names such as `&amp` need no `;`).
  const chars = Array.from(body);
  for (let length = chars.length - 1; length > 1; length -= 1) {
    const prefix = chars.slice(0, length).join('');
    const text = named.get(prefix);
    if (text !== undefined) return text + chars.slice(length).join('');
  }
  return match;
}

/** Python's `html.unescape(text)`. */
export function htmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHAR_REF, decodeReference);
}
