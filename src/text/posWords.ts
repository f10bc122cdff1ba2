/** The POS vocabulary of POSAPL (spec section 6): spaCy's universal tags renamed to words. */

/** The 14 words a POS list is made of. */
export type PosWord =
  | 'determiner' | 'noun' | 'adverb' | 'conjunction' | 'pronoun' | 'punctuation' | 'adjective'
  | 'verb' | 'adposition' | 'interjection' | 'auxiliary' | 'numeral' | 'participle' | 'x';

/** Universal POS tag -> POS word, as the authors rename spaCy's tags (PROPN -> pronoun, PART -> participle). */
export const POS_WORDS: Readonly<Record<string, PosWord>> = {
  DET: 'determiner', NOUN: 'noun', ADV: 'adverb', CCONJ: 'conjunction', SCONJ: 'conjunction',
  PRON: 'pronoun', PROPN: 'pronoun', PUNCT: 'punctuation', ADJ: 'adjective', VERB: 'verb',
  ADP: 'adposition', INTJ: 'interjection', AUX: 'auxiliary', NUM: 'numeral', PART: 'participle',
  X: 'x', SYM: 'x',
};

/** Penn Treebank tag (wink-pos-tagger's output) -> universal tag, as spaCy's English tag map has it. */
export const PTB_TO_UNIVERSAL: Readonly<Record<string, string>> = {
  CC: 'CCONJ', CD: 'NUM', DT: 'DET', EX: 'PRON', FW: 'X', IN: 'ADP', JJ: 'ADJ', JJR: 'ADJ', JJS: 'ADJ',
  LS: 'X', MD: 'AUX', NN: 'NOUN', NNS: 'NOUN', NNP: 'PROPN', NNPS: 'PROPN', PDT: 'DET', POS: 'PART',
  PRP: 'PRON', PRP$: 'PRON', RB: 'ADV', RBR: 'ADV', RBS: 'ADV', RP: 'ADP', SYM: 'SYM', TO: 'PART',
  UH: 'INTJ', VB: 'VERB', VBD: 'VERB', VBG: 'VERB', VBN: 'VERB', VBP: 'VERB', VBZ: 'VERB',
  WDT: 'PRON', WP: 'PRON', WP$: 'PRON', WRB: 'ADV',
};
