/**
 * Errors of the checkpoint readers and writers: every one carries a stable `code` and names the
 * file it concerns, so that a caller can tell a missing file from a corrupt or a refused one.
 */
import { posaplError } from '../errors';

/** Stable codes of checkpoint errors. */
export type CheckpointErrorCode =
  /** The file system refused: missing file, unreadable, rename failed. */
  | 'POSAPL_IO'
  /** The bytes are not a well-formed checkpoint container (zip, safetensors header), or are truncated. */
  | 'POSAPL_FORMAT'
  /** The pickle is malformed, or reaches for an opcode or global outside a plain state dict. */
  | 'POSAPL_PICKLE'
  /** A tensor record is inconsistent: view outside its storage, wrong storage size, unknown dtype. */
  | 'POSAPL_TENSOR'
  /** An argument has the wrong type or value. */
  | 'POSAPL_TYPE'
  /** An argument's length disagrees with its shape. */
  | 'POSAPL_SHAPE';

/** An Error with a `code` and the `file` it concerns. */
export type CheckpointError = Error & { code: CheckpointErrorCode; file?: string };

/** Builds a coded error; the message starts with the file when there is one. */
export function checkpointError(code: CheckpointErrorCode, file: string | undefined, message: string): CheckpointError {
  const error = posaplError(code, file === undefined ? message : `${file}: ${message}`) as CheckpointError;
  if (file !== undefined) error.file = file;
  return error;
}

/** Whether `value` is an error this module raised (checked by code, which survives jest's realms). */
export function isCheckpointError(value: unknown): value is CheckpointError {
  const code = (value as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('POSAPL_');
}
