/** Errors with a stable `code`, the shape every posapl-native error takes (TypeScript and native alike). */

/** Every code a posapl-native error carries. */
export type PosaplErrorCode =
  /** A native op's arguments: count, missing options. */
  | 'POSAPL_ARGS'
  /** A value of the wrong type or out of its range. */
  | 'POSAPL_TYPE'
  /** Tensor shapes that do not fit together. */
  | 'POSAPL_SHAPE'
  /** An output buffer that overlaps an input. */
  | 'POSAPL_ALIAS'
  /** A model configuration field (the message names it). */
  | 'POSAPL_CONFIG'
  /** A dataset file's content (the message names the file and the entry or line:column). */
  | 'POSAPL_DATA'
  /** A caption that cannot be used (empty after cleaning). */
  | 'POSAPL_TEXT'
  /** An image that cannot be decoded. */
  | 'POSAPL_IMAGE'
  /** The file system refused: missing, unreadable or unwritable file. */
  | 'POSAPL_IO'
  /** A file that is not in the format it should be (checkpoint container, run state). */
  | 'POSAPL_FORMAT'
  /** A pickle that is not a plain state dict (refused by the restricted unpickler). */
  | 'POSAPL_PICKLE'
  /** A tensor in a checkpoint that cannot be read (dtype, strides, size). */
  | 'POSAPL_TENSOR'
  /** Weights that do not fit the model configuration (missing, mismatched or unexpected names). */
  | 'POSAPL_WEIGHTS'
  /** A wrong command line (the commands exit 2). */
  | 'POSAPL_USAGE'
  /** A run folder another posapl-train process is writing (the message names its pid). */
  | 'POSAPL_LOCKED'
  /** A loss that became NaN or infinite. */
  | 'POSAPL_NONFINITE'
  /** Use of an image pipeline after close(). */
  | 'POSAPL_CLOSED'
  /** Use of a model or buffer after dispose(). */
  | 'POSAPL_DISPOSED'
  /** An allocation that failed. */
  | 'POSAPL_OOM'
  /** No native binary for this platform, and none could be built. */
  | 'POSAPL_NO_BINARY'
  /** device 'cuda' where it cannot run: no CUDA build, no driver, an old driver, no GPU (the message says which). */
  | 'POSAPL_NO_CUDA'
  /** A CUDA call that failed on the device (a launch error, a kernel fault); the message names the call. */
  | 'POSAPL_CUDA'
  /** The bf16 kernel called where the CPU lacks AMX-BF16. */
  | 'POSAPL_NO_BF16'
  /** A tensor handed to a backend that does not hold it (another device, freed memory), or an op a backend does not offer. */
  | 'POSAPL_DEVICE'
  /** A retrieval index folder whose files are damaged or inconsistent (the message names the file). */
  | 'POSAPL_INDEX'
  /** A folder that is not a retrieval index. */
  | 'POSAPL_NOT_AN_INDEX'
  /** A query or update from another model than the one that built the index (both named). */
  | 'POSAPL_MODEL_MISMATCH'
  /** Creating something that already exists (an index, an entry). */
  | 'POSAPL_EXISTS'
  /** An index entry or a served path that is not there. */
  | 'POSAPL_NOT_FOUND'
  /** Approximate search asked for without the optional usearch package. */
  | 'POSAPL_NO_USEARCH'
  /** A bug: please report it. */
  | 'POSAPL_INTERNAL';

/** An Error carrying a machine-readable code such as POSAPL_CONFIG or POSAPL_IO. */
export type PosaplError = Error & { code: PosaplErrorCode };

/** Makes an Error with `code` set; the message should name the file, field or argument at fault. */
export function posaplError(code: PosaplErrorCode, message: string, cause?: unknown): PosaplError {
  const error = new Error(message, cause === undefined ? undefined : { cause }) as PosaplError;
  error.code = code;
  return error;
}

/** Whether `error` is a posapl-native error (thrown by the TypeScript side or the native addon). */
export function isPosaplError(error: unknown): error is PosaplError {
  // Not instanceof Error: errors from the addon or a worker may come from another realm.
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return typeof message === 'string' && typeof code === 'string' && code.startsWith('POSAPL_');
}
