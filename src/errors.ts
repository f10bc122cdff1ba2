/** Errors with a stable `code`, the shape every posapl-native error takes. */

/** An Error carrying a machine-readable code such as POSAPL_CONFIG or POSAPL_IO. */
export type PosaplError = Error & { code: string };

/** Makes an Error with `code` set; the message should name the file, field or argument at fault. */
export function posaplError(code: string, message: string, cause?: unknown): PosaplError {
  const error = new Error(message, cause === undefined ? undefined : { cause }) as PosaplError;
  error.code = code;
  return error;
}
