/**
 * Loading the checkpoints Debian's torch 1.13 wrote (tools/reference/gen_checkpoints.py): every
 * dtype, views, shared storages, wrapped and prefixed dicts, protocol 4, deflated and big-endian
 * zips, safetensors; and the files that must be refused.
 */
import * as fs from 'fs';
import { loadStateDict, toFloat32 } from '../../../src/io';
import { ExpectedTensor, expected, expectTensor, expectedNumber, fixture } from './checkpointFixtures';

async function loadError(file: string): Promise<Error & { code?: string; file?: string }> {
  try {
    await loadStateDict(file);
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error(`${file} loaded but should have been refused`);
}

const fullFiles = Object.entries(expected.files).filter(([, v]) => !('sums' in v)) as Array<[string, Record<string, ExpectedTensor>]>;

describe('loadStateDict on torch-written fixtures', () => {
  it.each(fullFiles)('%s gives every tensor bit-exactly, in file order', async (name, tensors) => {
    const sd = await loadStateDict(fixture(name));
    expect([...sd.keys()]).toEqual(Object.keys(tensors));
    for (const [key, want] of Object.entries(tensors)) expectTensor(sd.get(key), want, `${name}:${key}`);
  });

  it('covers float32, float16, bfloat16, int64 and the other dtypes, a scalar and an empty tensor', async () => {
    const sd = await loadStateDict(fixture('basic.pt'));
    expect(new Set([...sd.values()].map((e) => e.dtype))).toEqual(
      new Set(['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool']),
    );
    expect(sd.get('scalar')?.shape).toEqual([]);
    expect(sd.get('empty')).toMatchObject({ shape: [0, 3] });
    expect(sd.get('empty')?.data.length).toBe(0);
    expect(ArrayBuffer.isView(sd.get('param')?.data)).toBe(true); // a Parameter, via _rebuild_parameter
  });

  it('copies non-contiguous views (transpose, slices with offsets, permute) out row-major', async () => {
    const sd = await loadStateDict(fixture('views.pt'));
    const base = Array.from({ length: 24 }, (_, i) => i);
    // transposed (6,4): t[i][j] = base[j*6 + i]
    expect(Array.from(sd.get('transposed')!.data as Float32Array)).toEqual(
      Array.from({ length: 24 }, (_, k) => base[(k % 4) * 6 + Math.floor(k / 4)]),
    );
    expect(Array.from(sd.get('sliced')!.data as Float32Array)).toEqual([8, 9, 10, 14, 15, 16]);
    expect(Array.from(sd.get('element')!.data as Float32Array)).toEqual([15]);
    expect(Array.from(sd.get('i64_sliced')!.data as BigInt64Array)).toEqual([3n, 4n, 5n, 6n]);
  });

  it('keeps tied names as one entry and separates tensors that only share a storage', async () => {
    const sd = await loadStateDict(fixture('shared.pt'));
    expect(sd.get('encoder.weight')).toBe(sd.get('decoder.weight'));
    expect(sd.get('first_half')!.data.buffer).not.toBe(sd.get('second_half')!.data.buffer);
  });

  it('unwraps {state_dict: ...} (next to optimiser state, floats, tuples, None) and strips module.', async () => {
    const sd = await loadStateDict(fixture('wrapped_state_dict.pt'));
    expect([...sd.keys()]).toEqual(['layer.weight', 'layer.bias']);
  });

  it("unwraps {model: ...} and strips the authors' model. prefix", async () => {
    const sd = await loadStateDict(fixture('wrapped_model.pt'));
    expect([...sd.keys()]).toEqual(['w']);
  });

  it('reads the same tensors from protocol 4, deflated, big-endian and safetensors files', async () => {
    const reference = await loadStateDict(fixture('basic.pt'));
    for (const name of ['basic_proto4.pt', 'basic_deflated.pt', 'basic.safetensors']) {
      const sd = await loadStateDict(fixture(name));
      expect([...sd.keys()]).toEqual([...reference.keys()]);
      for (const [key, entry] of reference) expect(sd.get(key)).toEqual(entry);
    }
    const big = await loadStateDict(fixture('bigendian.pt'));
    for (const [key, entry] of big) expect(entry).toEqual(reference.get(key));
  });

  it('reads open_clip .bin names in file order with every value in place', async () => {
    const want = expected.files['openclip_tiny.bin'] as { count: number; sums: number[] };
    const sd = await loadStateDict(fixture('openclip_tiny.bin'));
    expect(sd.size).toBe(want.count);
    [...sd.values()].forEach((entry, i) => {
      const values = toFloat32(entry);
      let sum = 0;
      for (const v of values) sum += v;
      expect(Math.abs(sum - want.sums[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want.sums[i])) + 1e-12 * values.length);
    });
  });
});

describe('toFloat32', () => {
  it('widens float16 and bfloat16 exactly (zeros, subnormals, max, inf, NaN) and rounds the rest', async () => {
    const sd = await loadStateDict(fixture('basic.pt'));
    const want = expected.files['basic.pt'] as Record<string, ExpectedTensor>;
    for (const key of ['f16', 'bf16', 'f64', 'i32', 'i16', 'i8', 'u8', 'bool', 'f32']) {
      const got = toFloat32(sd.get(key)!);
      const values = want[key].values.map(expectedNumber);
      expect(got.length).toBe(values.length);
      values.forEach((v, i) => expect(Object.is(got[i], Math.fround(v)) || (Number.isNaN(v) && Number.isNaN(got[i]))).toBe(true));
    }
    const i64 = toFloat32(sd.get('i64')!);
    expect(Array.from(i64)).toEqual(want.i64.values.map((v) => Math.fround(Number(BigInt(v as string)))));
  });

  it('returns a float32 entry’s own array and rejects an entry whose data does not match its dtype', () => {
    const data = new Float32Array([1, 2]);
    expect(toFloat32({ dtype: 'float32', shape: [2], data })).toBe(data);
    let caught: { code?: string; message?: string } = {};
    try {
      toFloat32({ dtype: 'float16', shape: [2], data } as never);
    } catch (e) {
      caught = e as typeof caught;
    }
    expect(caught.code).toBe('POSAPL_TYPE');
    expect(caught.message).toMatch(/toFloat32/);
  });
});

describe('refused and broken files', () => {
  it.each(Object.entries(expected.errors))('%s is refused with %o', async (name, want) => {
    const error = await loadError(fixture(name));
    expect(error.code).toBe(want.code);
    expect(error.message).toContain(fixture(name));
    expect(error.message).toContain(want.mentions);
    expect(error.file).toBe(fixture(name));
  });

  it('never runs the payload of a malicious pickle', async () => {
    const marker = '/tmp/posapl-pwned';
    fs.rmSync(marker, { force: true });
    await loadError(fixture('malicious_system.pt'));
    await loadError(fixture('malicious_eval.pt'));
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('reports a missing file, a directory and a non-checkpoint with POSAPL_IO / POSAPL_FORMAT', async () => {
    expect((await loadError(fixture('no-such-file.pt'))).code).toBe('POSAPL_IO');
    expect((await loadError(fixture('roundtrip'))).code).toBe('POSAPL_IO');
    const notCheckpoint = await loadError(fixture('expected.json'));
    expect(notCheckpoint.code).toBe('POSAPL_FORMAT');
    expect(notCheckpoint.message).toMatch(/neither a PyTorch zip checkpoint nor safetensors/);
  });
});
