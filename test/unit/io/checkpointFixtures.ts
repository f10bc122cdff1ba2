/** The checkpoint fixtures written by tools/reference/gen_checkpoints.py, and helpers to compare with them. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ClipShapeConfig, TensorEntry } from '../../../src/io';

export const CHECKPOINTS = path.resolve(__dirname, '..', '..', 'fixtures', 'checkpoints');

export interface ExpectedTensor {
  dtype: string;
  shape: number[];
  /** Floats (non-finite as 'nan' / 'inf' / '-inf'), int64 as decimal strings. */
  values: Array<number | string>;
  /** Raw 16-bit patterns of float16 / bfloat16. */
  bits?: number[];
}

export interface RoundTrip {
  source: string;
  written: string;
  format: 'torch' | 'safetensors';
  zip64: 'auto' | 'always';
  sha256: string;
  verifiedBy: string;
  tensors: number;
  tiedPairs: string[][];
  ok: boolean;
}

export interface Expected {
  torch: string;
  posaplTiny: { config: ClipShapeConfig; adapterWidth: number; posAdapterWidth: number; posSide: boolean };
  openClipTiny: ClipShapeConfig;
  files: Record<string, Record<string, ExpectedTensor> | { count: number; sums: number[] }>;
  errors: Record<string, { code: string; mentions: string }>;
  roundTrips: RoundTrip[];
}

export const expected: Expected = JSON.parse(fs.readFileSync(path.join(CHECKPOINTS, 'expected.json'), 'utf8'));

export function fixture(name: string): string {
  return path.join(CHECKPOINTS, name);
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-io-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The expected float of a JSON value (non-finite values are strings). */
export function expectedNumber(v: number | string): number {
  return typeof v === 'number' ? v : v === 'nan' ? NaN : v === 'inf' ? Infinity : -Infinity;
}

/** Element values as numbers or bigints, whatever the typed array. */
export function valuesOf(entry: TensorEntry): Array<number | bigint> {
  return Array.from(entry.data as ArrayLike<number | bigint>);
}

/** Asserts that `entry` holds exactly the tensor `want` (dtype, shape, every value / bit pattern). */
export function expectTensor(entry: TensorEntry | undefined, want: ExpectedTensor, name: string): void {
  if (!entry) throw new Error(`missing tensor ${name}`);
  expect({ name, dtype: entry.dtype, shape: entry.shape }).toEqual({ name, dtype: want.dtype, shape: want.shape });
  if (want.bits) {
    expect(Array.from(entry.data as Uint16Array)).toEqual(want.bits);
  } else if (want.dtype === 'int64') {
    expect((entry.data as BigInt64Array).length).toBe(want.values.length);
    expect(Array.from(entry.data as BigInt64Array, String)).toEqual(want.values);
  } else {
    expect(valuesOf(entry)).toEqual(want.values.map(expectedNumber));
  }
}

/** Exact sum of float values (Neumaier), to compare with Python's math.fsum within rounding. */
export function sumOf(values: ArrayLike<number>): number {
  let sum = 0;
  let c = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const t = sum + v;
    c += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + c;
}
