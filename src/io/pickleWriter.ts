/**
 * Writes the data.pkl of a PyTorch checkpoint: a protocol-2 pickle of an OrderedDict of
 * tensors, using exactly the opcodes and globals torch.save emits. That subset is what the
 * weights_only unpicklers of torch 1.13 and 2.x accept.
 */
import { DType } from './dtypes';

/** One tensor to pickle: a contiguous view of a whole storage `data/<storageKey>`. */
export interface PickledTensor {
  storageKey: string;
  dtype: DType;
  shape: readonly number[];
}

const STORAGE_CLASS: Record<DType, string> = {
  float32: 'FloatStorage',
  float64: 'DoubleStorage',
  float16: 'HalfStorage',
  bfloat16: 'BFloat16Storage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  int16: 'ShortStorage',
  int8: 'CharStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};

// Python's pickler closes a SETITEMS batch every 1000 items.
const BATCH = 1000;

class PickleBuilder {
  private readonly chunks: Buffer[] = [];
  private readonly memo = new Map<string, number>();

  op(...bytes: number[]): void {
    this.chunks.push(Buffer.from(bytes));
  }

  int(value: number): void {
    if (value >= 0 && value < 0x100) this.op(0x4b, value); // BININT1
    else if (value >= 0 && value < 0x10000) this.op(0x4d, value & 0xff, value >> 8); // BININT2
    else if (value >= -0x80000000 && value < 0x80000000) {
      const b = Buffer.alloc(5);
      b[0] = 0x4a; // BININT
      b.writeInt32LE(value, 1);
      this.chunks.push(b);
    } else {
      // LONG1: minimal little-endian two's complement.
      const bytes: number[] = [];
      let v = BigInt(value);
      do {
        bytes.push(Number(v & 0xffn));
        v >>= 8n;
      } while (!(v === 0n && (bytes[bytes.length - 1] & 0x80) === 0) && !(v === -1n && (bytes[bytes.length - 1] & 0x80) !== 0));
      this.op(0x8a, bytes.length, ...bytes);
    }
  }

  str(value: string): void {
    const body = Buffer.from(value, 'utf8');
    const head = Buffer.alloc(5);
    head[0] = 0x58; // BINUNICODE
    head.writeUInt32LE(body.length, 1);
    this.chunks.push(head, body);
  }

  tuple(values: readonly number[]): void {
    if (values.length === 0) return this.op(0x29); // EMPTY_TUPLE
    if (values.length > 3) this.op(0x28); // MARK
    for (const v of values) this.int(v);
    this.op(values.length === 1 ? 0x85 : values.length === 2 ? 0x86 : values.length === 3 ? 0x87 : 0x74);
  }

  /** Pushes a memoised value: BINGET when `key` was stored, else `push()` then BINPUT. */
  memoised(key: string, push: () => void): void {
    const slot = this.memo.get(key);
    if (slot !== undefined) return this.get(slot);
    push();
    this.put(key);
  }

  put(key: string): void {
    const slot = this.memo.size;
    this.memo.set(key, slot);
    if (slot < 0x100) this.op(0x71, slot); // BINPUT
    else this.op(0x72, slot & 0xff, (slot >> 8) & 0xff, (slot >> 16) & 0xff, slot >>> 24); // LONG_BINPUT
  }

  get(slot: number): void {
    if (slot < 0x100) this.op(0x68, slot); // BINGET
    else this.op(0x6a, slot & 0xff, (slot >> 8) & 0xff, (slot >> 16) & 0xff, slot >>> 24); // LONG_BINGET
  }

  global(module: string, name: string): void {
    this.memoised(`global:${module}.${name}`, () => this.chunks.push(Buffer.from(`c${module}\n${name}\n`, 'latin1')));
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function contiguousStrides(shape: readonly number[]): number[] {
  const stride = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    stride[i] = s;
    s *= shape[i];
  }
  return stride;
}

/**
 * The pickle of an OrderedDict mapping each name in `items` to `tensors[index]`. Names that
 * share an index become references to one tensor, as in a state dict with tied weights.
 */
export function pickleStateDict(items: ReadonlyArray<readonly [string, number]>, tensors: readonly PickledTensor[]): Buffer {
  const p = new PickleBuilder();
  p.op(0x80, 2); // PROTO 2
  p.global('collections', 'OrderedDict');
  p.op(0x29, 0x52); // EMPTY_TUPLE REDUCE
  for (let start = 0; start < items.length; start += BATCH) {
    p.op(0x28); // MARK
    for (const [name, index] of items.slice(start, start + BATCH)) {
      p.str(name);
      p.memoised(`tensor:${index}`, () => {
        const t = tensors[index];
        const numel = t.shape.reduce((a, b) => a * b, 1);
        p.global('torch._utils', '_rebuild_tensor_v2');
        p.op(0x28); // MARK: the arguments
        p.op(0x28); // MARK: the persistent id ('storage', class, key, location, numel)
        p.str('storage');
        p.global('torch', STORAGE_CLASS[t.dtype]);
        p.str(t.storageKey);
        p.str('cpu');
        p.int(numel);
        p.op(0x74, 0x51); // TUPLE BINPERSID
        p.int(0); // storage offset
        p.tuple(t.shape);
        p.tuple(contiguousStrides(t.shape));
        p.op(0x89); // NEWFALSE: requires_grad
        p.global('collections', 'OrderedDict');
        p.op(0x29, 0x52); // EMPTY_TUPLE REDUCE: backward hooks
        p.op(0x74, 0x52); // TUPLE REDUCE
      });
    }
    p.op(0x75); // SETITEMS
  }
  p.op(0x2e); // STOP
  return p.bytes();
}
