/**
 * posapl-native: Part-of-Speech-Aware Prompt Learning for remote-sensing image-text retrieval.
 * The public API. Native ops are exported under `ops`.
 */
export { nativeInfo } from './native/addon';
export type { AddonInfo } from './native/addon';
import * as ops from './ops';
export { ops };
