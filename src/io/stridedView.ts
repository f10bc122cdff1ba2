/**
 * Strided views of a storage, as torch saves them: checks that a view stays inside its storage
 * and copies it out into a contiguous row-major array.
 */

/** A view: offset, sizes and strides, all in elements. */
export interface StridedView {
  offset: number;
  shape: readonly number[];
  stride: readonly number[];
}

/** Where a non-empty view lies in its storage: elements [first, last]. */
export interface ViewExtent {
  numel: number;
  first: number;
  last: number;
}

/**
 * The element count and storage extent of `view`, or a sentence saying why it does not fit in
 * a storage of `storageNumel` elements. Views with more elements than their storage (stride-0
 * broadcasts) are refused: materialising them would let a tiny file claim any amount of memory.
 */
export function viewExtent(view: StridedView, storageNumel: number): ViewExtent | string {
  let numel = 1;
  for (const d of view.shape) {
    numel *= d;
    if (numel > storageNumel) {
      return `its shape [${view.shape.join(', ')}] has more elements than its storage (${storageNumel}); broadcast views cannot be loaded, save t.contiguous() instead`;
    }
  }
  if (numel === 0) return { numel, first: view.offset, last: view.offset - 1 };
  let last = view.offset;
  for (let i = 0; i < view.shape.length; i++) last += (view.shape[i] - 1) * view.stride[i];
  if (last >= storageNumel) {
    return `offset ${view.offset}, shape [${view.shape.join(', ')}], stride [${view.stride.join(', ')}] reach element ${last} of a storage of ${storageNumel}`;
  }
  return { numel, first: view.offset, last };
}

/** Whether the view is row-major contiguous (dims of size 1 may have any stride). */
export function isContiguous(view: StridedView): boolean {
  let expected = 1;
  for (let i = view.shape.length - 1; i >= 0; i--) {
    if (view.shape[i] !== 1 && view.stride[i] !== expected) return false;
    expected *= view.shape[i];
  }
  return true;
}

type UnitArray = Uint8Array | Uint16Array | Uint32Array;

function unitView(bytes: Uint8Array, unit: number): UnitArray {
  if (unit === 4) return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  if (unit === 2) return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  return bytes;
}

/**
 * Copies `view` out of `src` (which holds storage elements from `srcFirst` on) into `dst`
 * (row-major, numel elements). Elements move as integer units, never as floats, so NaN
 * payloads survive bit-exactly.
 */
export function gatherStrided(src: Uint8Array, srcFirst: number, dst: Uint8Array, view: StridedView, itemSize: number): void {
  let unit = itemSize % 4 === 0 ? 4 : itemSize % 2 === 0 ? 2 : 1;
  while (unit > 1 && (src.byteOffset % unit || dst.byteOffset % unit)) unit >>= 1;
  const s = unitView(src, unit);
  const d = unitView(dst, unit);
  const w = itemSize / unit;
  const { shape, stride } = view;
  const ndim = shape.length;
  const numel = dst.byteLength / itemSize;
  if (numel === 0) return;
  if (ndim === 0) {
    d.set(s.subarray((view.offset - srcFirst) * w, (view.offset - srcFirst + 1) * w));
    return;
  }
  const inner = shape[ndim - 1];
  const innerStride = stride[ndim - 1];
  const index = new Array<number>(ndim - 1).fill(0);
  let base = view.offset - srcFirst;
  let out = 0;
  for (let row = numel / inner; row > 0; row--) {
    if (innerStride === 1) {
      d.set(s.subarray(base * w, (base + inner) * w), out);
      out += inner * w;
    } else {
      for (let j = 0; j < inner; j++) {
        const from = (base + j * innerStride) * w;
        for (let k = 0; k < w; k++) d[out++] = s[from + k];
      }
    }
    for (let k = ndim - 2; k >= 0; k--) {
      base += stride[k];
      if (++index[k] < shape[k]) break;
      base -= stride[k] * shape[k];
      index[k] = 0;
    }
  }
}
