/**
 * The restricted unpickler on hand-assembled pickles: what a state dict needs is built, every
 * other global, callable and opcode is refused by name, malformed input fails cleanly, and
 * deep nesting cannot overflow the stack.
 */
import { PyDict, PySet, PyTuple, TensorRef, unpickleStateDict } from '../../../src/io/pickleReader';
import { int, pickle, str, tensorPickle, u32, u64 } from './crafted';

function refusal(bytes: Uint8Array): { code?: string; message: string } {
  try {
    unpickleStateDict(bytes, 'test.pt');
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('pickle was accepted');
}

describe('unpickleStateDict builds', () => {
  it('the containers and scalars of protocols 2-5', () => {
    const value = unpickleStateDict(
      pickle(
        0x80, 4, 0x95, u64(0n), // PROTO 4, FRAME
        0x28, // MARK
        0x8c, 2, 'ab', 0x94, // SHORT_BINUNICODE + MEMOIZE
        0x68, 0, // BINGET 0
        int(2n ** 70n), // LONG1 beyond 2^53
        0x8a, 1, 0xff, // LONG1 -1
        0x47, [0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18], // BINFLOAT pi
        0x4e, 0x88, 0x89, // None True False
        0x43, 2, [1, 2], // SHORT_BINBYTES
        0x8f, 0x28, int(1), int(2), 0x90, // EMPTY_SET, ADDITEMS
        0x28, int(3), 0x91, // FROZENSET
        0x4d, [0x34, 0x12], 0x4a, u32(0xfffffffe), // BININT2, BININT -2
        0x74, 0x2e, // TUPLE STOP
      ),
      'test.pt',
    ) as PyTuple;
    const [a, b, big, minus, pi, none, t, f, bytes, set, frozen, i2, i4] = value.items;
    expect([a, b, big, minus, pi, none, t, f]).toEqual(['ab', 'ab', 2n ** 70n, -1, Math.PI, null, true, false]);
    expect(Array.from(bytes as Uint8Array)).toEqual([1, 2]);
    expect((set as PySet).items).toEqual([1, 2]);
    expect((frozen as PySet).frozen).toBe(true);
    expect([i2, i4]).toEqual([0x1234, -2]);
  });

  it('a tensor over a storage persistent id, inside a dict with torch _metadata', () => {
    const dict = unpickleStateDict(
      Buffer.concat([tensorPickle({ numel: 6, shape: [2, 3], stride: [3, 1] }).subarray(0, -1), pickle(0x7d, 0x62, 0x2e)]),
      'test.pt',
    ) as PyDict;
    const tensor = dict.map.get('w') as TensorRef;
    expect(tensor).toBeInstanceOf(TensorRef);
    expect(tensor).toMatchObject({ offset: 0, shape: [2, 3], stride: [3, 1], requiresGrad: false });
    expect(tensor.storage).toMatchObject({ key: '0', dtype: 'float32', numel: 6, location: 'cpu' });
    expect(dict.state).toBeInstanceOf(PyDict);
  });

  it('100,000-deep nesting without recursion', () => {
    const n = 100_000;
    const bytes = Buffer.concat([Buffer.from([0x80, 2]), Buffer.alloc(n, 0x5d), Buffer.alloc(n - 1, 0x61), Buffer.from([0x2e])]);
    let depth = 0;
    let v = unpickleStateDict(bytes, 'test.pt') as unknown[];
    while (Array.isArray(v) && v.length) {
      v = v[0] as unknown[];
      depth++;
    }
    expect(depth).toBe(n - 1);
  });
});

describe('unpickleStateDict refuses', () => {
  it.each([
    ['os.system by GLOBAL', pickle(0x80, 2, 'cos\nsystem\n', 0x2e), /refuses global 'os\.system'/],
    ['builtins.eval by STACK_GLOBAL', pickle(0x80, 4, 0x8c, 8, 'builtins', 0x8c, 4, 'eval', 0x93, 0x2e), /refuses global 'builtins\.eval'/],
    ['subprocess.Popen', pickle(0x80, 2, 'csubprocess\nPopen\n', 0x2e), /'subprocess\.Popen'/],
    ['__builtin__.getattr, naming builtins', pickle(0x80, 2, 'c__builtin__\ngetattr\n', 0x2e), /'__builtin__\.getattr' \(builtins\.getattr\)/],
    ['torch.load', pickle(0x80, 2, 'ctorch\nload\n', 0x2e), /'torch\.load'/],
    ['calling a storage class', pickle(0x80, 2, 'ctorch\nFloatStorage\n', 0x29, 0x52, 0x2e), /REDUCE calls torch\.FloatStorage/],
    ['NEWOBJ of a storage class', pickle(0x80, 2, 'ctorch\nFloatStorage\n', 0x29, 0x81, 0x2e), /NEWOBJ of torch\.FloatStorage/],
    ['OrderedDict with arguments', pickle(0x80, 2, 'ccollections\nOrderedDict\n', 0x5d, 0x85, 0x52, 0x2e), /only allowed with no arguments/],
    ['BUILD on a list', pickle(0x80, 2, 0x5d, 0x7d, 0x62, 0x2e), /BUILD on list/],
    ['calling a string', pickle(0x80, 2, str('x'), 0x29, 0x52, 0x2e), /REDUCE calls str/],
    ['a non-storage persistent id', pickle(0x80, 2, str('module'), 0x85, 0x51, 0x2e), /persistent id must be \('storage'/],
    ['a text persistent id', pickle(0x80, 2, 'P0\n', 0x2e), /refuses opcode PERSID/],
    ['INST', pickle(0x80, 2, 0x28, 'ios\nsystem\n', 0x2e), /refuses opcode INST/],
    ['OBJ', pickle(0x80, 2, 0x28, 0x4e, 0x6f, 0x2e), /refuses opcode OBJ/],
    ['EXT1', pickle(0x80, 2, 0x82, 1, 0x2e), /refuses opcode EXT1/],
    ['NEWOBJ_EX', pickle(0x80, 4, 0x92, 0x2e), /refuses opcode NEWOBJ_EX/],
    ['out-of-band buffers', pickle(0x80, 5, 0x97, 0x2e), /refuses opcode NEXT_BUFFER/],
    ['text INT', pickle(0x80, 2, 'I1\n', 0x2e), /refuses opcode INT/],
    ['protocol 1', pickle(0x80, 1, 0x4e, 0x2e), /protocol 1 is not supported/],
    ['protocol 6', pickle(0x80, 6, 0x4e, 0x2e), /protocol 6 is not supported/],
    ['an unknown opcode', pickle(0x80, 2, 0xff, 0x2e), /unknown opcode 0xff/],
    ['a tensor with a fractional size', Buffer.from(tensorPickle({ numel: 6, shape: [2, 3], stride: [3, 1] }).toString('latin1').replace('K\x02K\x03t', 'K\x02G@\x04\x00\x00\x00\x00\x00\x00t'), 'latin1'), /tuple of non-negative integers for the size/],
    ['one storage declared with two sizes', pickle(
      0x80, 2, 0x28,
      0x28, str('storage'), 'ctorch\nFloatStorage\n', str('0'), str('cpu'), int(4), 0x74, 0x51,
      0x28, str('storage'), 'ctorch\nFloatStorage\n', str('0'), str('cpu'), int(5), 0x74, 0x51,
      0x74, 0x2e), /storage '0' is declared as 4 x float32 and as 5 x float32/],
  ])('%s', (_, bytes, message) => {
    const error = refusal(bytes);
    expect(error.code).toBe('POSAPL_PICKLE');
    expect(error.message).toMatch(/^test\.pt: data\.pkl byte \d+: /);
    expect(error.message).toMatch(message);
  });

  it.each([
    ['an empty pickle', pickle(), /ends without STOP/],
    ['a pickle cut short', pickle(0x80, 2, 0x58, u32(10), 'abc'), /BINUNICODE of 10 bytes runs past the end/],
    ['a 2^62-byte BINUNICODE8', pickle(0x80, 4, 0x8d, u64(2n ** 62n), 'x', 0x2e), /runs past the end/],
    ['a 2^31-byte LONG4', pickle(0x80, 2, 0x8b, u32(0x7fffffff), 0x2e), /integer of 2147483647 bytes/],
    ['stack underflow', pickle(0x80, 2, 0x86, 0x2e), /stack underflow/],
    ['a missing memo slot', pickle(0x80, 2, 0x68, 7, 0x2e), /BINGET of empty memo slot 7/],
    ['SETITEMS with a dangling key', pickle(0x80, 2, 0x7d, 0x28, str('k'), 0x75, 0x2e), /odd number of items/],
    ['APPEND to a dict', pickle(0x80, 2, 0x7d, 0x4e, 0x61, 0x2e), /APPEND to dict/],
    ['items across a MARK', pickle(0x80, 2, 0x5d, 0x28, 0x61, 0x2e), /stack underflow/],
  ])('malformed: %s', (_, bytes, message) => {
    const error = refusal(bytes);
    expect(error.code).toBe('POSAPL_PICKLE');
    expect(error.message).toMatch(message);
  });
});
