/**
 * A restricted unpickler for PyTorch state dicts (the equivalent of torch.load's
 * weights_only=True). A pickle is a program; this one runs only the instructions that build
 * plain containers and tensors: protocols 2 to 5, no text-protocol opcodes, and as globals only
 * collections.OrderedDict, torch's tensor/parameter rebuild functions and the torch storage
 * classes (the latter only inside a storage persistent id). Anything else is refused with an
 * error naming the opcode or global. It never recurses, so nesting depth cannot overflow the
 * JavaScript stack, and every length is checked against the bytes that remain.
 */
import { DType } from './dtypes';
import { checkpointError } from './errors';

/** A Python tuple. */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A Python dict or collections.OrderedDict, keys in insertion order. */
export class PyDict {
  readonly map = new Map<PyValue, PyValue>();
  /** What BUILD set on it (torch's `_metadata` on a state dict). */
  state: PyValue | undefined;
  constructor(readonly ordered: boolean) {}
}

/** A Python set or frozenset. */
export class PySet {
  readonly items: PyValue[] = [];
  constructor(readonly frozen: boolean) {}
}

/** One of the allowed callables (OrderedDict or a torch rebuild function). */
export class PyCallable {
  constructor(readonly qualifiedName: string) {}
}

/** A torch storage class such as torch.FloatStorage: only meaningful inside a storage persistent id. */
export class StorageClass {
  constructor(readonly qualifiedName: string, readonly dtype: DType) {}
}

/** A storage the pickle refers to: the zip record `data/<key>` holding `numel` elements. */
export class StorageRef {
  constructor(readonly key: string, readonly dtype: DType, readonly numel: number, readonly location: string) {}
}

/** A tensor: a strided view of a storage (torch._utils._rebuild_tensor_v2). */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    /** In elements. */
    readonly offset: number,
    readonly shape: number[],
    /** In elements, one per dim. */
    readonly stride: number[],
    public requiresGrad: boolean,
  ) {}
}

/** What the restricted unpickler can produce. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PyDict
  | PySet
  | PyCallable
  | StorageClass
  | StorageRef
  | TensorRef;

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

const ORDERED_DICT = 'collections.OrderedDict';
const REBUILD_TENSOR = 'torch._utils._rebuild_tensor_v2';
const REBUILD_PARAMETER = 'torch._utils._rebuild_parameter';
const REBUILD_PARAMETER_WITH_STATE = 'torch._utils._rebuild_parameter_with_state';
const ALLOWED_CALLABLES = new Set([ORDERED_DICT, REBUILD_TENSOR, REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE]);

/** The globals a state dict may name, for error messages. */
const ALLOWED_GLOBALS: readonly string[] = [
  ...ALLOWED_CALLABLES,
  ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`),
];

// Protocol-2 pickles name some modules as Python 2 did; errors show the Python 3 name too.
const PYTHON2_MODULES: Record<string, string> = { __builtin__: 'builtins', copy_reg: 'copyreg' };

/** Resolves an allowed global, or undefined when it is refused. */
function resolveGlobal(module: string, name: string): PyCallable | StorageClass | undefined {
  const qualified = `${module}.${name}`;
  if (ALLOWED_CALLABLES.has(qualified)) return new PyCallable(qualified);
  // Old CUDA checkpoints name torch.cuda.FloatStorage; the location decides nothing here.
  if ((module === 'torch' || module === 'torch.cuda') && Object.prototype.hasOwnProperty.call(STORAGE_DTYPES, name)) {
    return new StorageClass(qualified, STORAGE_DTYPES[name]);
  }
  return undefined;
}

const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT',
  0x4a: 'BININT', 0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID',
  0x51: 'BINPERSID', 0x52: 'REDUCE', 0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND', 0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT',
  0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET', 0x69: 'INST', 0x6a: 'LONG_BINGET',
  0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT',
  0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT', 0x80: 'PROTO',
  0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3',
  0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES',
  0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS',
  0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

/** A short description of a value's type for error messages (never walks into it). */
export function describePy(value: PyValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'None';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number' || typeof value === 'bigint') return 'number';
  if (typeof value === 'string') return 'str';
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'list';
  if (value instanceof PyTuple) return `tuple of ${value.items.length}`;
  if (value instanceof PyDict) return value.ordered ? 'OrderedDict' : 'dict';
  if (value instanceof PySet) return value.frozen ? 'frozenset' : 'set';
  if (value instanceof PyCallable || value instanceof StorageClass) return value.qualifiedName;
  if (value instanceof StorageRef) return 'storage';
  return 'tensor';
}

function isCount(value: PyValue | undefined): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Runs the restricted unpickler over `bytes` (the contents of data.pkl) and returns the
 * object it builds. `file` names the checkpoint in error messages.
 */
export function unpickleStateDict(bytes: Uint8Array, file: string): PyValue {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: PyValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();
  const storages = new Map<string, StorageRef>();
  let pos = 0;
  let opStart = 0;

  const fail = (message: string): never => {
    throw checkpointError('POSAPL_PICKLE', file, `data.pkl byte ${opStart}: ${message}`);
  };
  const need = (n: number | bigint, what: string): number => {
    const left = buf.length - pos;
    if (typeof n === 'bigint' ? n > BigInt(left) : n > left) {
      fail(`${what} of ${n} bytes runs past the end of the pickle (${left} left)`);
    }
    return Number(n);
  };
  const pop = (): PyValue => {
    const floor = marks.length ? marks[marks.length - 1] : 0;
    if (stack.length <= floor) fail('stack underflow');
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    const floor = marks.length ? marks[marks.length - 1] : 0;
    if (stack.length <= floor) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): PyValue[] => {
    if (!marks.length) fail('no MARK to pop to');
    const mark = marks.pop() as number;
    return stack.splice(mark);
  };
  const readLine = (what: string): string => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0) fail(`${what} has no terminating newline`);
    const line = buf.toString('utf8', pos, end);
    pos = end + 1;
    return line;
  };
  const readString = (length: number | bigint, encoding: 'utf8' | 'latin1', what: string): string => {
    const n = need(length, what);
    const s = buf.toString(encoding, pos, pos + n);
    pos += n;
    return s;
  };
  const readBytes = (length: number | bigint, what: string): Uint8Array => {
    const n = need(length, what);
    const out = Uint8Array.prototype.slice.call(buf, pos, pos + n);
    pos += n;
    return out;
  };
  const readLong = (length: number): number | bigint => {
    if (length > 16) fail(`integer of ${length} bytes is larger than any state dict needs`);
    need(length, 'LONG');
    let value = 0n;
    for (let i = length - 1; i >= 0; i--) value = (value << 8n) | BigInt(buf[pos + i]);
    if (length > 0 && buf[pos + length - 1] & 0x80) value -= 1n << BigInt(8 * length);
    pos += length;
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  };
  const pushGlobal = (module: string, name: string): void => {
    const resolved = resolveGlobal(module, name);
    if (!resolved) {
      const python3 = PYTHON2_MODULES[module];
      const shown = python3 ? `'${module}.${name}' (${python3}.${name})` : `'${module}.${name}'`;
      fail(`refuses global ${shown}: a state dict may only use ${ALLOWED_GLOBALS.join(', ')}`);
    }
    stack.push(resolved as PyValue);
  };
  const persistentLoad = (pid: PyValue): StorageRef => {
    if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage') {
      return fail(`persistent id must be ('storage', class, key, location, numel), got ${describePy(pid)}`);
    }
    const [, storageClass, key, location, numel] = pid.items;
    if (!(storageClass instanceof StorageClass)) return fail(`storage persistent id names ${describePy(storageClass)}, not a storage class`);
    if (typeof key !== 'string' || typeof location !== 'string' || !isCount(numel)) {
      return fail(`storage persistent id has key ${describePy(key)}, location ${describePy(location)}, numel ${describePy(numel)}`);
    }
    const known = storages.get(key);
    if (known) {
      if (known.dtype !== storageClass.dtype || known.numel !== numel) {
        fail(`storage '${key}' is declared as ${known.numel} x ${known.dtype} and as ${numel} x ${storageClass.dtype}`);
      }
      return known;
    }
    const storage = new StorageRef(key, storageClass.dtype, numel, location);
    storages.set(key, storage);
    return storage;
  };
  const counts = (value: PyValue, what: string): number[] => {
    if (!(value instanceof PyTuple) || !value.items.every(isCount)) {
      return fail(`${REBUILD_TENSOR} expects a tuple of non-negative integers for ${what}, got ${describePy(value)}`);
    }
    return value.items as number[];
  };
  const call = (fn: PyValue, args: PyValue): PyValue => {
    if (!(fn instanceof PyCallable)) return fail(`REDUCE calls ${describePy(fn)}, which is not an allowed function`);
    if (!(args instanceof PyTuple)) return fail(`REDUCE arguments must be a tuple, got ${describePy(args)}`);
    const a = args.items;
    switch (fn.qualifiedName) {
      case ORDERED_DICT:
        if (a.length !== 0) fail(`${ORDERED_DICT} is only allowed with no arguments`);
        return new PyDict(true);
      case REBUILD_TENSOR: {
        if (a.length !== 6 && a.length !== 7) fail(`${REBUILD_TENSOR} takes 6 or 7 arguments, got ${a.length}`);
        const [storage, offset, shape, stride, requiresGrad] = a;
        if (!(storage instanceof StorageRef)) return fail(`${REBUILD_TENSOR} expects a storage, got ${describePy(storage)}`);
        if (!isCount(offset)) return fail(`${REBUILD_TENSOR} expects a non-negative storage offset, got ${describePy(offset)}`);
        const dims = counts(shape, 'the size');
        const strides = counts(stride, 'the stride');
        if (dims.length !== strides.length) fail(`${REBUILD_TENSOR} has ${dims.length} sizes but ${strides.length} strides`);
        return new TensorRef(storage, offset, dims, strides, requiresGrad === true);
      }
      case REBUILD_PARAMETER:
      case REBUILD_PARAMETER_WITH_STATE: {
        const expected = fn.qualifiedName === REBUILD_PARAMETER ? 3 : 4;
        if (a.length !== expected) fail(`${fn.qualifiedName} takes ${expected} arguments, got ${a.length}`);
        const tensor = a[0];
        if (!(tensor instanceof TensorRef)) return fail(`${fn.qualifiedName} expects a tensor, got ${describePy(tensor)}`);
        tensor.requiresGrad = a[1] === true;
        return tensor;
      }
      default:
        return fail(`REDUCE calls ${fn.qualifiedName}, which is not an allowed function`);
    }
  };

  while (pos < buf.length) {
    opStart = pos;
    const op = buf[pos++];
    switch (op) {
      case 0x80: { // PROTO
        need(1, 'PROTO');
        const version = buf[pos++];
        if (version < 2 || version > 5) fail(`pickle protocol ${version} is not supported (2 to 5 are)`);
        break;
      }
      case 0x95: // FRAME: framing is advisory; the data follows inline.
        need(8, 'FRAME');
        pos += 8;
        break;
      case 0x2e: { // STOP
        const result = pop();
        return result;
      }
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: need(4, 'BININT'); stack.push(buf.readInt32LE(pos)); pos += 4; break;
      case 0x4b: need(1, 'BININT1'); stack.push(buf[pos]); pos += 1; break;
      case 0x4d: need(2, 'BININT2'); stack.push(buf.readUInt16LE(pos)); pos += 2; break;
      case 0x8a: need(1, 'LONG1'); pos += 1; stack.push(readLong(buf[pos - 1])); break;
      case 0x8b: { // LONG4
        need(4, 'LONG4');
        const n = buf.readInt32LE(pos);
        pos += 4;
        if (n < 0) fail('LONG4 with a negative length');
        stack.push(readLong(n));
        break;
      }
      case 0x47: need(8, 'BINFLOAT'); stack.push(buf.readDoubleBE(pos)); pos += 8; break;
      case 0x58: need(4, 'BINUNICODE'); pos += 4; stack.push(readString(buf.readUInt32LE(pos - 4), 'utf8', 'BINUNICODE')); break;
      case 0x8c: need(1, 'SHORT_BINUNICODE'); pos += 1; stack.push(readString(buf[pos - 1], 'utf8', 'SHORT_BINUNICODE')); break;
      case 0x8d: need(8, 'BINUNICODE8'); pos += 8; stack.push(readString(buf.readBigUInt64LE(pos - 8), 'utf8', 'BINUNICODE8')); break;
      case 0x55: need(1, 'SHORT_BINSTRING'); pos += 1; stack.push(readString(buf[pos - 1], 'latin1', 'SHORT_BINSTRING')); break;
      case 0x54: { // BINSTRING
        need(4, 'BINSTRING');
        const n = buf.readInt32LE(pos);
        pos += 4;
        if (n < 0) fail('BINSTRING with a negative length');
        stack.push(readString(n, 'latin1', 'BINSTRING'));
        break;
      }
      case 0x43: need(1, 'SHORT_BINBYTES'); pos += 1; stack.push(readBytes(buf[pos - 1], 'SHORT_BINBYTES')); break;
      case 0x42: need(4, 'BINBYTES'); pos += 4; stack.push(readBytes(buf.readUInt32LE(pos - 4), 'BINBYTES')); break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        need(8, OPCODE_NAMES[op]);
        pos += 8;
        stack.push(readBytes(buf.readBigUInt64LE(pos - 8), OPCODE_NAMES[op]));
        break;
      case 0x29: stack.push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x85: stack.push(new PyTuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push(new PyTuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push(new PyTuple([a, b, c])); break; } // TUPLE3
      case 0x74: stack.push(new PyTuple(popMark())); break; // TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x7d: stack.push(new PyDict(false)); break; // EMPTY_DICT
      case 0x64: { // DICT
        const items = popMark();
        if (items.length % 2) fail('DICT with an odd number of items');
        const dict = new PyDict(false);
        for (let i = 0; i < items.length; i += 2) dict.map.set(items[i], items[i + 1]);
        stack.push(dict);
        break;
      }
      case 0x8f: stack.push(new PySet(false)); break; // EMPTY_SET
      case 0x91: { const set = new PySet(true); set.items.push(...popMark()); stack.push(set); break; } // FROZENSET
      case 0x61: { // APPEND
        const item = pop();
        const list = top();
        if (!Array.isArray(list)) fail(`APPEND to ${describePy(list)}`);
        (list as PyValue[]).push(item);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) fail(`APPENDS to ${describePy(list)}`);
        for (const item of items) (list as PyValue[]).push(item);
        break;
      }
      case 0x90: { // ADDITEMS
        const items = popMark();
        const set = top();
        if (!(set instanceof PySet) || set.frozen) fail(`ADDITEMS to ${describePy(set)}`);
        for (const item of items) (set as PySet).items.push(item);
        break;
      }
      case 0x73: { // SETITEM
        const value = pop();
        const key = pop();
        const dict = top();
        if (!(dict instanceof PyDict)) fail(`SETITEM on ${describePy(dict)}`);
        (dict as PyDict).map.set(key, value);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        const dict = top();
        if (!(dict instanceof PyDict)) fail(`SETITEMS on ${describePy(dict)}`);
        if (items.length % 2) fail('SETITEMS with an odd number of items');
        for (let i = 0; i < items.length; i += 2) (dict as PyDict).map.set(items[i], items[i + 1]);
        break;
      }
      case 0x68: { need(1, 'BINGET'); const i = buf[pos++]; if (!memo.has(i)) fail(`BINGET of empty memo slot ${i}`); stack.push(memo.get(i) as PyValue); break; }
      case 0x6a: { need(4, 'LONG_BINGET'); const i = buf.readUInt32LE(pos); pos += 4; if (!memo.has(i)) fail(`LONG_BINGET of empty memo slot ${i}`); stack.push(memo.get(i) as PyValue); break; }
      case 0x71: need(1, 'BINPUT'); memo.set(buf[pos++], top()); break;
      case 0x72: need(4, 'LONG_BINPUT'); memo.set(buf.readUInt32LE(pos), top()); pos += 4; break;
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x63: { // GLOBAL
        const module = readLine('GLOBAL module');
        const name = readLine('GLOBAL name');
        pushGlobal(module, name);
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') {
          fail(`STACK_GLOBAL needs two strings, got ${describePy(module)} and ${describePy(name)}`);
        }
        pushGlobal(module as string, name as string);
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args));
        break;
      }
      case 0x81: { // NEWOBJ: only OrderedDict.__new__(OrderedDict)
        const args = pop();
        const cls = pop();
        if (!(cls instanceof PyCallable) || cls.qualifiedName !== ORDERED_DICT || !(args instanceof PyTuple) || args.items.length) {
          fail(`NEWOBJ of ${describePy(cls)} is not allowed`);
        }
        stack.push(new PyDict(true));
        break;
      }
      case 0x62: { // BUILD: only attributes on a dict (torch's _metadata)
        const state = pop();
        const target = top();
        if (!(target instanceof PyDict)) fail(`BUILD on ${describePy(target)} is not allowed`);
        (target as PyDict).state = state;
        break;
      }
      case 0x51: stack.push(persistentLoad(pop())); break; // BINPERSID
      default: {
        const name = OPCODE_NAMES[op];
        fail(
          name
            ? `refuses opcode ${name} (0x${op.toString(16)}): not part of a state dict pickle`
            : `unknown opcode 0x${op.toString(16)} (corrupt pickle)`,
        );
      }
    }
  }
  opStart = pos;
  return fail('pickle ends without STOP (truncated)');
}
