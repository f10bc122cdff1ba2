/**
 * safetensors (Hugging Face): an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, then the
 * little-endian tensor bytes. Validation follows the reference implementation: offsets must
 * tile the data area exactly, with no gap, overlap or trailing bytes.
 */
import { FileSink } from './atomicWrite';
import { CheckpointFile } from './checkpointFile';
import { DType, StateDict, TensorEntry, allocateTensorData, bytesOf, elementCount, itemSize } from './dtypes';
import { checkpointError } from './errors';

// The reference implementation allows 100 MB; 16 MiB (about 150,000 tensors) keeps the time and
// memory a hostile header can cost within a second and a few hundred MB.
const MAX_HEADER_BYTES = 16 << 20;
const METADATA_KEY = '__metadata__';

const DTYPE_OF_CODE: Record<string, DType> = {
  F32: 'float32',
  F64: 'float64',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};
const CODE_OF_DTYPE = Object.fromEntries(Object.entries(DTYPE_OF_CODE).map(([c, d]) => [d, c])) as Record<DType, string>;

interface HeaderTensor {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function parseHeader(text: string, dataBytes: number, path: string): HeaderTensor[] {
  const bad = (message: string): never => {
    throw checkpointError('POSAPL_FORMAT', path, `safetensors header: ${message}`);
  };
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (cause) {
    return bad(`not valid JSON (${(cause as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return bad('not a JSON object');
  const tensors: HeaderTensor[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (typeof info !== 'object' || info === null || Array.isArray(info) || !Object.values(info).every((v) => typeof v === 'string')) {
        bad(`${METADATA_KEY} must map strings to strings`);
      }
      continue;
    }
    if (typeof info !== 'object' || info === null) return bad(`tensor '${name}' is described by ${JSON.stringify(info)}`);
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(DTYPE_OF_CODE, dtype)) {
      return bad(`tensor '${name}' has dtype ${JSON.stringify(dtype)}; supported: ${Object.keys(DTYPE_OF_CODE).join(', ')}`);
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) return bad(`tensor '${name}' has shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1] || offsets[1] > dataBytes) {
      return bad(`tensor '${name}' has data_offsets ${JSON.stringify(offsets)} outside the ${dataBytes} data bytes`);
    }
    const t: HeaderTensor = { name, dtype: DTYPE_OF_CODE[dtype], shape, begin: offsets[0], end: offsets[1] };
    const numel = elementCount(shape);
    if (numel * itemSize(t.dtype) !== t.end - t.begin) {
      bad(`tensor '${name}' of shape [${shape.join(', ')}] x ${dtype} needs ${numel * itemSize(t.dtype)} bytes but data_offsets span ${t.end - t.begin}`);
    }
    tensors.push(t);
  }
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let next = 0;
  for (const t of sorted) {
    if (t.begin !== next) bad(`tensor '${t.name}' starts at ${t.begin}, expected ${next} (gap or overlap)`);
    next = t.end;
  }
  if (next !== dataBytes) bad(`tensors cover ${next} of the ${dataBytes} data bytes`);
  return tensors;
}

/** The validated header text of the safetensors file open as `file`, and where its data starts. */
async function readHeader(file: CheckpointFile): Promise<{ text: string; dataStart: number }> {
  const path = file.path;
  if (file.size < 8) throw checkpointError('POSAPL_FORMAT', path, `${file.size} bytes: too short for a safetensors header (truncated?)`);
  const lengthField = (await file.read(0, 8, 'safetensors header length')).readBigUInt64LE(0);
  if (lengthField > BigInt(Math.min(MAX_HEADER_BYTES, file.size - 8))) {
    throw checkpointError(
      'POSAPL_FORMAT',
      path,
      `safetensors header length ${lengthField} exceeds ${lengthField > BigInt(MAX_HEADER_BYTES) ? `the ${MAX_HEADER_BYTES}-byte limit` : `the file (${file.size} bytes; truncated?)`}`,
    );
  }
  const headerLength = Number(lengthField);
  const headerBytes = await file.read(8, headerLength, 'safetensors header');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw checkpointError('POSAPL_FORMAT', path, 'safetensors header is not valid UTF-8');
  }
  return { text, dataStart: 8 + headerLength };
}

/** The `__metadata__` strings of the safetensors file open as `file` ({} when it has none). */
export async function readSafetensorsMetadata(file: CheckpointFile): Promise<Record<string, string>> {
  const { text, dataStart } = await readHeader(file);
  parseHeader(text, file.size - dataStart, file.path);
  return ((JSON.parse(text) as Record<string, unknown>)[METADATA_KEY] as Record<string, string> | undefined) ?? {};
}

/** Reads the safetensors file open as `file`, each tensor straight into its array. */
export async function readSafetensors(file: CheckpointFile): Promise<StateDict> {
  const path = file.path;
  const { text, dataStart } = await readHeader(file);
  const tensors = parseHeader(text, file.size - dataStart, path);
  const stateDict: StateDict = new Map();
  for (const t of tensors) {
    const data = allocateTensorData(t.dtype, elementCount(t.shape), path, t.name);
    await file.readInto(bytesOf(data), dataStart + t.begin, `tensor '${t.name}'`);
    stateDict.set(t.name, { dtype: t.dtype, shape: t.shape, data } as TensorEntry);
  }
  return stateDict;
}

/**
 * Writes `entries` (already validated) as safetensors, in order, with `metadata` as
 * `__metadata__`. Names listed twice for one tensor are written twice: the format has no
 * shared storage.
 */
export async function writeSafetensors(
  sink: FileSink,
  entries: ReadonlyArray<readonly [string, TensorEntry]>,
  metadata: Record<string, string>,
): Promise<void> {
  // A null-prototype object keeps a tensor named "__proto__" an ordinary key.
  const header = Object.create(null) as Record<string, unknown>;
  header[METADATA_KEY] = metadata;
  let offset = 0;
  for (const [name, entry] of entries) {
    header[name] = { dtype: CODE_OF_DTYPE[entry.dtype], shape: entry.shape, data_offsets: [offset, offset + entry.data.byteLength] };
    offset += entry.data.byteLength;
  }
  let json = JSON.stringify(header);
  // Padding to 8 bytes keeps the data aligned for readers that map the file.
  const jsonBytes = Buffer.byteLength(json);
  json += ' '.repeat((8 - ((8 + jsonBytes) % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  await sink.write(prefix);
  await sink.write(Buffer.from(json, 'utf8'));
  for (const [, entry] of entries) await sink.write(bytesOf(entry.data));
}
