/** Retrieval for applications: index image files with a POSAPL model and search them by text or image. */
export { RetrievalIndex } from './retrievalIndex';
export type { AddOptions, AddProgress, AddReport, CreateIndexOptions, OpenIndexOptions, SearchResult } from './retrievalIndex';
export { loadRetrievalModel, loadRecordedModel, describeModel, modelIdentity } from './modelRecord';
export type { ModelRecord, ModelSource, RecordedFile, RetrievalModel } from './modelRecord';
export type { IndexedFile, StorageDtype } from './indexStore';
export { ExactSearch } from './exactSearch';
export type { SearchPrecision } from './exactSearch';
export { HnswSearch, usearchAvailable } from './hnswSearch';
export type { HnswOptions } from './hnswSearch';
export { topK } from './topK';
export type { Scored } from './topK';
export { encodeImageQuery, encodeTextQuery } from './queryEncoding';
export { listImageFolder, readImageList, IMAGE_EXTENSIONS } from './imageFiles';
