/** The writer's lock of an index folder: its `lock` file (see io/lockFile.ts). */
import * as path from 'path';
import { HeldLock, takeLock } from '../io/lockFile';

/** Takes the lock of index folder `dir`, or throws POSAPL_LOCKED naming the writer that holds it. */
export function lockIndex(dir: string): HeldLock {
  const file = path.join(dir, 'lock');
  return takeLock(file, (holder) =>
    `${dir}: the index is being written by another process (pid ${holder.pid ?? '?'} on ${holder.host ?? '?'} since ${holder.since ?? '?'}); ` +
    `wait for it, or delete ${file} if that process is gone`);
}
