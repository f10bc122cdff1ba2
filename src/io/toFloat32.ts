/** Conversion of any loaded tensor to float32, the element type the model computes in. */
import { TensorEntry, isArrayOf } from './dtypes';
import { checkpointError } from './errors';

let halfTable: Float32Array | undefined;

/** float32 value of every float16 bit pattern (exact: float32 holds every half). */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const table = new Float32Array(65536);
  const bits = new Uint32Array(table.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) table[h] = (sign ? -1 : 1) * mantissa * 2 ** -24; // zero and subnormals
    else if (exponent === 31) bits[h] = sign | 0x7f800000 | (mantissa << 13); // inf and NaN, payload kept
    else bits[h] = sign | ((exponent + 112) << 23) | (mantissa << 13);
  }
  halfTable = table;
  return table;
}

/**
 * The tensor's values as float32. A float32 entry's own array is returned (no copy); every
 * other type gives a new array: float16 and bfloat16 exactly, float64 and int64 rounded to
 * nearest, smaller integers and bool exactly.
 */
export function toFloat32(entry: TensorEntry): Float32Array {
  if (!entry || !isArrayOf(entry.dtype, entry.data)) {
    throw checkpointError(
      'POSAPL_TYPE',
      undefined,
      `Expected a tensor entry whose data matches its dtype for toFloat32 but received dtype ${JSON.stringify(entry?.dtype)} with ${Object.prototype.toString.call(entry?.data)}`,
    );
  }
  switch (entry.dtype) {
    case 'float32':
      return entry.data;
    case 'float16': {
      const table = halfToFloatTable();
      const out = new Float32Array(entry.data.length);
      for (let i = 0; i < out.length; i++) out[i] = table[entry.data[i]];
      return out;
    }
    case 'bfloat16': {
      // A bfloat16 is the upper half of the float32 with the same bits.
      const out = new Float32Array(entry.data.length);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < bits.length; i++) bits[i] = entry.data[i] << 16;
      return out;
    }
    case 'int64': {
      const out = new Float32Array(entry.data.length);
      for (let i = 0; i < out.length; i++) out[i] = Number(entry.data[i]);
      return out;
    }
    default:
      return new Float32Array(entry.data);
  }
}
