/**
 * Splits a cleaned caption into the tokens spaCy's English tokenizer makes of it, so that the POS
 * list has one entry per spaCy token. Cleaned captions have no apostrophes, hyphens or most
 * punctuation left; what remains is spaCy's apostrophe-less contraction exceptions (`theres` ->
 * `there s`, `dont` -> `do nt`, `cannot` -> `can not`), a number's unit or currency (`100m`, `4%`,
 * `20$`), leading/trailing brackets, quotes, currency and symbols, and a few infixes.
 */

// spaCy's English tokenizer exceptions that survive cleaning, each written as its tokens joined by `|`:
// contractions without their apostrophe, and times.
const EXCEPTIONS_TEXT = `
i|m i|m|a i|ll|ve i|d i|d|ve you|ll you|ll|ve you|d you|d|ve he|ll|ve he|d he|d|ve she|ll|ve she|d|ve it|ll
it|ll|ve it|d it|d|ve we|ll|ve we|d we|d|ve they|ll they|ll|ve they|d they|d|ve i|ve you|ve we|ve they|ve
you|re they|re he|s she|s who|s who|ll who|ll|ve who|ve who|d who|d|ve what|s what|ll what|ll|ve what|re
what|ve what|d what|d|ve when|s when|ll when|ll|ve when|re when|ve when|d when|d|ve where|s where|ll
where|ll|ve where|re where|ve where|d where|d|ve why|s why|ll why|ll|ve why|re why|ve why|d why|d|ve how|s
how|ll how|ll|ve how|re how|ve how|d how|d|ve there|s there|ll there|ll|ve there|re there|ve there|d
there|d|ve that|s that|ll that|ll|ve that|d that|d|ve this|s this|ll this|ll|ve this|d this|d|ve these|ll
these|ll|ve these|re these|ve these|d these|d|ve those|ll those|ll|ve those|re those|ve those|d those|d|ve
ca|nt ca|nt|ve could|nt could|nt|ve do|nt do|nt|ve does|nt does|nt|ve did|nt did|nt|ve had|nt had|nt|ve may|nt
may|nt|ve might|nt might|nt|ve must|nt must|nt|ve need|nt need|nt|ve ought|nt ought|nt|ve sha|nt sha|nt|ve
should|nt should|nt|ve wo|nt wo|nt|ve would|nt would|nt|ve could|ve might|ve must|ve should|ve would|ve ai|nt
are|nt is|nt was|nt were|nt have|nt has|nt dare|nt 1|am 1|pm 2|am 2|pm 3|am 3|pm 4|am 4|pm 5|am 5|pm 6|am 6|pm
7|am 7|pm 8|am 8|pm 9|am 9|pm 10|am 10|pm 11|am 11|pm 12|am 12|pm y|all not|ve can|not gon|na got|ta`;

// spaCy's exceptions kept as one token: emoticons and the em dash.
const KEPT_WHOLE = 'o_0 <33 ಠ_ಠ 0_0 <3 =3 =] ^_^ @_@ [= v_v =| 0_o ಠ︵ಠ <333 =[ ]= ^__^ ^___^ o_o —';

const EXCEPTIONS: ReadonlyMap<string, readonly string[]> = new Map([
  ...EXCEPTIONS_TEXT.trim()
    .split(/\s+/)
    .map((entry): [string, string[]] => [entry.replaceAll('|', ''), entry.split('|')]),
  ...KEPT_WHOLE.split(' ').map((entry): [string, string[]] => [entry, [entry]]),
]);

// spaCy's punctuation and quote characters, which it strips from either end of a token.
const PUNCT = '…,:;!?¿؟¡()\\[\\]{}<>_#*&。？！，、；：～·।،۔؛٪\'"”“`‘´’‚„»«「」『』（）〔〕【】《》〈〉⟦⟧';
const CURRENCY = '$£€¥฿₽﷼₴₠-₿';
const PREFIX = new RegExp(`^(?:[§%=—–${PUNCT}${CURRENCY}]|\\+(?![0-9])|\\p{So})`, 'u');
const SUFFIX_CHAR = new RegExp(`(?:[—–${PUNCT}]|\\p{So})$`, 'u');
// Units (those spaCy writes in lower case), currency and `+` right after a number.
const UNIT_AFTER_NUMBER = new RegExp(
  `(?<=[0-9])(?:km|km²|km³|m|m²|m³|dm|dm²|dm³|cm|cm²|cm³|mm|mm²|mm³|ha|µm|nm|yd|in|ft|kg|g|mg|µg|t|lb|oz|kmh|mph|mbar|mb|kb|gb|tb|%|\\+|[${CURRENCY}])$`,
  'u',
);
const INFIX = /(?<=[0-9])[+\-*^](?=[0-9-])|(?<=[\p{L}0-9])[:<>=](?=\p{L})|\p{So}/gu;

function splitInfixes(text: string, out: string[]): void {
  let start = 0;
  for (const match of text.matchAll(INFIX)) {
    const at = match.index ?? 0;
    if (at > start) out.push(text.slice(start, at));
    out.push(match[0]);
    start = at + match[0].length;
  }
  if (start < text.length) out.push(text.slice(start));
}

/** One space-separated chunk: strip prefixes and suffixes, stop at an exception, split infixes. */
function splitChunk(chunk: string, out: string[]): void {
  const suffixes: string[] = [];
  let rest = chunk;
  for (;;) {
    const special = EXCEPTIONS.get(rest);
    if (special) {
      out.push(...special);
      rest = '';
      break;
    }
    const prefix = rest.length > 1 ? PREFIX.exec(rest) : null;
    if (prefix) {
      out.push(prefix[0]);
      rest = rest.slice(prefix[0].length);
      continue;
    }
    const suffix = rest.length > 1 ? UNIT_AFTER_NUMBER.exec(rest) ?? SUFFIX_CHAR.exec(rest) : null;
    if (suffix) {
      suffixes.unshift(suffix[0]);
      rest = rest.slice(0, rest.length - suffix[0].length);
      continue;
    }
    break;
  }
  if (rest) splitInfixes(rest, out);
  out.push(...suffixes);
}

/** The spaCy tokens of a cleaned caption (single spaces between words, as cleanCaption leaves them). */
export function spacyWords(cleanedCaption: string): string[] {
  const out: string[] = [];
  for (const chunk of cleanedCaption.split(' ')) if (chunk) splitChunk(chunk, out);
  return out;
}
