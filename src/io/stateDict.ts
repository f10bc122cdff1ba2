/**
 * Finding the state dict inside a checkpoint: training scripts wrap it (`{'state_dict': ...}`,
 * `{'model': ...}`, next to epochs and optimiser state) and prefix its names (`module.` from
 * DataParallel, `model.` from the POSAPL authors' wrapper module).
 */
import { checkpointError } from './errors';
import { PyDict, PyValue, TensorRef, describePy } from './pickleReader';

/** Keys under which checkpoints wrap their state dict, tried in this order. */
export const STATE_DICT_WRAPPER_KEYS: readonly string[] = ['state_dict', 'model'];

/** Prefixes removed when every name of a state dict carries them. */
export const STATE_DICT_PREFIXES: readonly string[] = ['module.', 'model.'];

// Nesting of wrappers followed at most ({'model': {'state_dict': ...}} is two).
const MAX_WRAPPER_DEPTH = 4;

function isTensorDict(dict: PyDict): boolean {
  for (const value of dict.map.values()) if (!(value instanceof TensorRef)) return false;
  return true;
}

/**
 * The (name, tensor) pairs of the state dict in an unpickled checkpoint: the top-level dict
 * itself when all its values are tensors, else the first of its {@link STATE_DICT_WRAPPER_KEYS}
 * that holds a dict, followed down a few levels. Everything outside it (optimiser state,
 * epochs) is ignored and its tensors are never read.
 */
export function findStateDict(root: PyValue, file: string): Array<[string, TensorRef]> {
  let dict = root;
  let where = 'the top-level object';
  for (let depth = 0; depth < MAX_WRAPPER_DEPTH && dict instanceof PyDict && !isTensorDict(dict); depth++) {
    const current: PyDict = dict;
    const key = STATE_DICT_WRAPPER_KEYS.find((k) => current.map.get(k) instanceof PyDict);
    if (key === undefined) break;
    dict = current.map.get(key) as PyDict;
    where = `the dict under '${key}'`;
  }
  if (!(dict instanceof PyDict)) {
    throw checkpointError('POSAPL_TENSOR', file, `no state dict: ${where} is a ${describePy(dict)}, not a dict of tensors`);
  }
  const pairs: Array<[string, TensorRef]> = [];
  for (const [key, value] of dict.map) {
    if (typeof key !== 'string') {
      throw checkpointError('POSAPL_TENSOR', file, `no state dict: ${where} has a key of type ${describePy(key)}`);
    }
    if (!(value instanceof TensorRef)) {
      const keys = [...dict.map.keys()].slice(0, 8).map((k) => (typeof k === 'string' ? `'${k}'` : describePy(k)));
      throw checkpointError(
        'POSAPL_TENSOR',
        file,
        `no state dict: in ${where}, '${key}' is a ${describePy(value)}, not a tensor (keys: ${keys.join(', ')}${dict.map.size > 8 ? ', ...' : ''})`,
      );
    }
    pairs.push([key, value]);
  }
  return pairs;
}

/**
 * Removes `module.` and `model.` (repeatedly, in any order) while every name carries the same
 * one. A prefix shared by only some names is kept: it is then part of the names.
 */
export function stripStateDictPrefixes<T>(stateDict: Map<string, T>): Map<string, T> {
  let current = stateDict;
  for (;;) {
    const prefix = STATE_DICT_PREFIXES.find((p) => current.size > 0 && [...current.keys()].every((k) => k.startsWith(p)));
    if (prefix === undefined) return current;
    current = new Map([...current].map(([k, v]) => [k.slice(prefix.length), v]));
  }
}
