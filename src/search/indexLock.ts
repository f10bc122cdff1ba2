/**
 * The writer's lock of an index folder: a `lock` file created exclusively, holding the writer's
 * pid and host. A lock left by a process that died on this host is taken over; one held by a
 * live process (or another host) is refused with POSAPL_LOCKED naming it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { posaplError } from '../errors';

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A held lock; {@link release} it when the write is done. */
export class IndexLock {
  private constructor(private readonly file: string) {}

  /** Takes the lock of `dir`, or throws POSAPL_LOCKED. */
  static acquire(dir: string): IndexLock {
    const file = path.join(dir, 'lock');
    const owner: LockOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(file, JSON.stringify(owner), { flag: 'wx' });
        return new IndexLock(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw posaplError('POSAPL_IO', `${file}: cannot create the index lock: ${(e as Error).message}`, e);
      }
      let holder: Partial<LockOwner> = {};
      try {
        holder = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch {
        // Unreadable or half-written: treated as held unless it is old (below).
      }
      const stale = holder.host === os.hostname() && Number.isInteger(holder.pid) && !alive(holder.pid as number);
      const age = Date.now() - (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0);
      const abandoned = holder.pid === undefined && age > 60_000;
      if (!stale && !abandoned) {
        throw posaplError('POSAPL_LOCKED',
          `${path.dirname(file)}: the index is being written by another process (pid ${holder.pid ?? '?'} on ${holder.host ?? '?'} since ${holder.since ?? '?'}); ` +
          `wait for it, or delete ${file} if that process is gone`);
      }
      fs.rmSync(file, { force: true });
    }
    throw posaplError('POSAPL_LOCKED', `${file}: could not take the index lock`);
  }

  release(): void {
    fs.rmSync(this.file, { force: true });
  }
}
