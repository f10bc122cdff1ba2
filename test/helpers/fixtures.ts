/** Reads fixtures written by tools/reference/fixture_io.py (committed PyTorch dumps). */
import * as fs from 'fs';
import * as path from 'path';

export interface FixtureTensor {
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface Fixture {
  meta: Record<string, unknown>;
  tensors: Record<string, FixtureTensor>;
  /** The float32 tensor `name`; throws when absent. */
  f32(name: string): Float32Array;
  /** The int32 tensor `name`; throws when absent. */
  i32(name: string): Int32Array;
}

export const FIXTURE_DIR = path.resolve(__dirname, '..', 'fixtures');

export function loadFixture(name: string): Fixture {
  const file = path.join(FIXTURE_DIR, `${name}.json`);
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    meta: Record<string, unknown>;
    tensors: Record<string, { shape: number[]; dtype: string; data: string }>;
  };
  const tensors: Record<string, FixtureTensor> = {};
  for (const [key, t] of Object.entries(raw.tensors)) {
    const bytes = Buffer.from(t.data, 'base64');
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    const data = t.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
    tensors[key] = { shape: t.shape, data };
  }
  const get = (k: string): FixtureTensor => {
    const t = tensors[k];
    if (!t) throw new Error(`fixture ${name} has no tensor ${k}`);
    return t;
  };
  return {
    meta: raw.meta,
    tensors,
    f32: (k) => {
      const d = get(k).data;
      if (!(d instanceof Float32Array)) throw new Error(`fixture ${name}.${k} is not float32`);
      return d;
    },
    i32: (k) => {
      const d = get(k).data;
      if (!(d instanceof Int32Array)) throw new Error(`fixture ${name}.${k} is not int32`);
      return d;
    },
  };
}
