/**
 * The parts of ftfy 6's `fix_text` (default configuration) that open_clip's `basic_clean` relies on:
 * HTML entities ending in `;` (also upper-cased Latin ones), C1 controls read as windows-1252, Latin
 * ligatures, half/full-width forms, curly quotes, line breaks, lone surrogates, terminal escapes,
 * control characters and NFC, repeated until nothing changes.
 *
 * Not reproduced: ftfy's mojibake repair (`fix_encoding`, e.g. `'sÃ³'` -> `'só'`), a statistical
 * guess about text decoded with the wrong codec; such text tokenizes as it is written.
 */
import { decodeNumericReference, htmlUnescape, namedReferences } from './htmlUnescape';

/** `&name;` -> text, as ftfy builds it: the HTML5 names ending in `;`, plus upper-cased variants. */
let ftfyEntities: ReadonlyMap<string, string> | undefined;

function ftfyEntityTable(): ReadonlyMap<string, string> {
  if (ftfyEntities) return ftfyEntities;
  const table = new Map<string, string>();
  for (const [name, text] of namedReferences()) {
    if (!name.endsWith(';')) continue;
    table.set(`&${name}`, text);
    const upper = name.toUpperCase();
    if (name === name.toLowerCase() && htmlUnescape(`&${upper}`) === `&${upper}`) {
      table.set(`&${upper}`, text.toUpperCase());
    }
  }
  ftfyEntities = table;
  return table;
}

const FTFY_ENTITY = /&#?[0-9A-Za-z]{1,24};/g;

function unescapeEntities(text: string): string {
  return text.replace(FTFY_ENTITY, (entity) => {
    const known = ftfyEntityTable().get(entity);
    if (known !== undefined) return known;
    if (!entity.startsWith('&#')) return entity;
    // Only whole, valid numeric references: html.unescape must consume the `;`.
    const hex = entity[2] === 'x' || entity[2] === 'X';
    const body = entity.slice(hex ? 3 : 2);
    if (!/^[0-9]+;$/.test(body) && !(hex && /^[0-9A-Fa-f]+;$/.test(body))) return entity;
    const decoded = decodeNumericReference(body, hex);
    return decoded.includes(';') ? entity : decoded;
  });
}

// windows-1252 for 0x80..0x9f; the five bytes it leaves undefined stay as they are ("sloppy").
const WINDOWS_1252_C1 =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

const LIGATURES: Readonly<Record<string, string>> = {
  '\u0132': 'IJ', '\u0133': 'ij', '\u0149': '\u02bcn',
  '\u01f1': 'DZ', '\u01f2': 'Dz', '\u01f3': 'dz', '\u01c4': 'D\u017d', '\u01c5': 'D\u017e', '\u01c6': 'd\u017e',
  '\u01c7': 'LJ', '\u01c8': 'Lj', '\u01c9': 'lj', '\u01ca': 'NJ', '\u01cb': 'Nj', '\u01cc': 'nj',
  '\ufb00': 'ff', '\ufb01': 'fi', '\ufb02': 'fl', '\ufb03': 'ffi', '\ufb04': 'ffl', '\ufb05': '\u017ft', '\ufb06': 'st',
};
const LIGATURE = /[\u0132\u0133\u0149\u01c4-\u01cc\u01f1-\u01f3\ufb00-\ufb06]/g;

/** U+FF01..U+FFEF -> their NFKC form where it differs; U+3000 -> space. */
const WIDTH_MAP: ReadonlyMap<string, string> = (() => {
  const map = new Map<string, string>([['\u3000', ' ']]);
  for (let code = 0xff01; code < 0xfff0; code += 1) {
    const char = String.fromCharCode(code);
    const standard = char.normalize('NFKC');
    if (standard !== char) map.set(char, standard);
  }
  return map;
})();
const WIDE_OR_HALF = /[\u3000\uff01-\uffef]/g;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// ftfy's "\033\[((?:\d|;)*)([a-zA-Z])" with Python's Unicode \d.
const TERMINAL_ESCAPE = /\x1b\[(?:\p{Nd}|;)*[a-zA-Z]/gu;
const CONTROL_CHARS = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;

function fixSegment(segment: string, unescape: boolean): string {
  let text = segment;
  for (;;) {
    const before = text;
    if (unescape) text = unescapeEntities(text);
    text = text
      .replace(/[\x80-\x9f]/g, (c) => WINDOWS_1252_C1[c.charCodeAt(0) - 0x80])
      .replace(LIGATURE, (c) => LIGATURES[c])
      .replace(WIDE_OR_HALF, (c) => WIDTH_MAP.get(c) ?? c)
      .replace(/[\u02bc\u2018-\u201b]/g, "'")
      .replace(/[\u201c-\u201f]/g, '"')
      .replace(/\r\n|[\r\u2028\u2029\u0085]/g, '\n')
      .replace(LONE_SURROGATE, '\ufffd')
      .replace(TERMINAL_ESCAPE, '')
      .replace(CONTROL_CHARS, '')
      .normalize('NFC');
    if (text === before) return text;
  }
}

/**
 * ftfy's `fix_text(text)` without mojibake repair. Works line by line like ftfy; once a line holds
 * `<`, entities are left alone from there on (the text may be HTML).
 */
export function fixText(text: string): string {
  let unescape = true;
  let out = '';
  let start = 0;
  while (start < text.length) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline + 1;
    const segment = text.slice(start, end);
    if (segment.includes('<')) unescape = false;
    out += fixSegment(segment, unescape);
    start = end;
  }
  return out;
}
