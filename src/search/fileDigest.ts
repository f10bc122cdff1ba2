/** SHA-256 of a file's bytes, streamed: what an index records to know a file and a model by. */
import { createHash } from 'crypto';
import { createReadStream } from 'fs';
import { posaplError } from '../errors';

/** Hex SHA-256 of `file`; a missing or unreadable file throws POSAPL_IO naming it. */
export function fileDigest(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const stream = createReadStream(file, { highWaterMark: 1 << 20 });
    stream.on('data', (chunk) => hash.update(chunk));
    stream.on('error', (cause) => reject(posaplError('POSAPL_IO', `${file}: cannot read: ${cause.message}`, cause)));
    stream.on('end', () => resolve(hash.digest('hex')));
  });
}
