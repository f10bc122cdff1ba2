/** Datasets, image decoding, the authors' transforms and the worker-thread image pipeline. */
export { readJsonFile, readTrainSet, readEvalSet, remapImageIds } from './datasets';
export type { TrainSample, EvalImage } from './datasets';
export { decodeImage } from './decode';
export {
  applyTrainPlan, planTrainTransform, sampleAugmentSteps, sampleCropBox, testTransform, trainTransform,
  CROP_RATIO, CROP_SCALE, RAND_AUGMENT,
} from './transforms';
export type { AugmentStep, RgbImage, TrainPlan } from './transforms';
export { ImagePipeline } from './imagePipeline';
export type { DecodedCacheStats, ImageMode, ImagePipelineOptions, LoadedImages } from './imagePipeline';
export { SeededRandom } from '../seededRandom';
