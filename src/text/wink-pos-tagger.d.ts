/** Types for wink-pos-tagger 2 (it ships none): the part of its API posapl-native uses. */
declare module 'wink-pos-tagger' {
  namespace posTagger {
    /** A token as wink tags it; `pos` is a Penn Treebank tag. */
    interface WinkToken {
      value: string;
      tag: 'word' | 'number' | 'punctuation';
      normal: string;
      pos: string;
      lemma?: string;
    }
    /** A tagger instance. */
    interface WinkTagger {
      /** Tags pre-split tokens with Penn Treebank tags. */
      tagRawTokens(rawTokens: string[]): WinkToken[];
    }
  }
  /** Makes a tagger (the module's export is this function). */
  function posTagger(): posTagger.WinkTagger;
  export = posTagger;
}
