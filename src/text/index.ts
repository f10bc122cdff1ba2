/** The text side of POSAPL: caption cleaning, CLIP's BPE tokenizer, POS tagging. */
export { cleanCaption } from './cleanCaption';
export { ClipTokenizer, clipClean, DEFAULT_CONTEXT_LENGTH } from './clipTokenizer';
export { byteLevelVocabulary } from './clipVocabulary';
export type { ClipVocabulary } from './clipVocabulary';
export { loadClipVocabulary } from './loadVocabulary';
export { spacyWords } from './spacyWords';
export { tagPos } from './tagPos';
export { POS_WORDS } from './posWords';
export type { PosWord } from './posWords';
export { addPosToDataset, describeInvalidCaption } from './annotateDataset';
export type { AddPosOptions, AddPosResult, InvalidCaption } from './annotateDataset';
export { isTaggableScript } from './taggableScript';
