/** The built-in demo: a synthetic aerial dataset and the tiny model and settings that learn it. */
export { DEMO_CONFIG, DEMO_TRAINING } from './config';
export type { DemoTraining } from './config';
export { DEMO_FORMATS, demoSample, generateDemoDataset } from './dataset';
export type { DemoDatasetFiles, DemoDatasetOptions, DemoFormat, DemoSample } from './dataset';
