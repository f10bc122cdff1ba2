/**
 * posapl-native: Part-of-Speech-Aware Prompt Learning for remote-sensing image-text retrieval.
 * The public API. Native ops are exported under `ops`.
 */
export { isPosaplError, posaplError } from './errors';
export type { PosaplError, PosaplErrorCode } from './errors';
export { nativeInfo } from './native/addon';
export type { AddonInfo } from './native/addon';
export { startProfile, stopProfile } from './native/profile';
export type { OpTime } from './native/profile';
export { loadModel } from './posapl/loadModel';
export type { LoadModelOptions } from './posapl/loadModel';
export type { Precision } from './nn/linear';
export { PosaplModel } from './posapl/model';
export type { BatchLosses, TrainingBatch } from './posapl/model';
export { PRESETS, resolveConfig } from './clip/config';
export type { ModelConfig, ModelConfigInput, PosaplFlags, TextConfig, VisionConfig } from './clip/config';
export * from './io';
export * from './text';
export * from './data';
export * from './eval';
export * from './search';
import * as ops from './ops';
export { ops };
