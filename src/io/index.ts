/**
 * Checkpoints: load open_clip / PyTorch / safetensors state dicts safely, convert tensors to
 * float32, save safetensors or PyTorch checkpoints, and map open_clip names to POSAPL names.
 */
export { loadSafetensorsMetadata, loadStateDict } from './load';
export { saveStateDict } from './save';
export type { SaveStateDictOptions } from './save';
export type { Zip64Mode } from './zipWriter';
export { toFloat32 } from './toFloat32';
export type { DType, StateDict, TensorArrays, TensorData, TensorEntry } from './dtypes';
export type { CheckpointError, CheckpointErrorCode } from './errors';
export { stripStateDictPrefixes, STATE_DICT_PREFIXES, STATE_DICT_WRAPPER_KEYS } from './stateDict';
export {
  addPosaplAliases,
  canonicalPosaplName,
  checkStateDict,
  formatStateDictReport,
  openClipShapes,
  openClipToPosapl,
  posaplAliasName,
  posaplShapes,
  posaplToOpenClip,
  removePosaplAliases,
} from './names';
export type { ClipShapeConfig, PosaplLayoutOptions, StateDictReport } from './names';
