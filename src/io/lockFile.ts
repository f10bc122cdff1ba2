/**
 * One writer at a time: a lock file created exclusively, holding its owner's pid, host and start
 * time. A lock whose owner died on this host is taken over; one held by a live process (or by
 * another host, where liveness cannot be checked) is refused with POSAPL_LOCKED. The lock is
 * released by its holder, and at the latest when its process exits.
 */
import * as fs from 'fs';
import * as os from 'os';
import { posaplError } from '../errors';

/** What a lock file holds. */
export interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

/** A held lock. */
export interface HeldLock {
  /** Removes the lock file if it is still this process's; safe to call twice. */
  release(): void;
}

/** Whether a process with this pid runs here (EPERM: it runs, owned by someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// A lock file no process could read as an owner (half-written by a process killed at once) is
// taken over only once it is this old.
const ABANDONED_MS = 60_000;

/**
 * Takes `file`, or throws POSAPL_LOCKED with the message `busy` makes from what the file says
 * of its holder (any field may be missing when the file is damaged).
 */
export function takeLock(file: string, busy: (holder: Partial<LockOwner>) => string): HeldLock {
  const owner: LockOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${JSON.stringify(owner)}\n`, { flag: 'wx' });
      return held(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw posaplError('POSAPL_IO', `${file}: cannot create the lock file: ${(error as Error).message}`, error);
    }
    const holder = readOwner(file);
    const dead = holder.host === os.hostname() && Number.isInteger(holder.pid) && !alive(holder.pid as number);
    const age = Date.now() - (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0);
    if (!dead && !(holder.pid === undefined && age > ABANDONED_MS)) throw posaplError('POSAPL_LOCKED', busy(holder));
    fs.rmSync(file, { force: true });
  }
  throw posaplError('POSAPL_LOCKED', busy(readOwner(file)));
}

function readOwner(file: string): Partial<LockOwner> {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
    return parsed !== null && typeof parsed === 'object' ? parsed : {};
  } catch {
    return {};
  }
}

function held(file: string): HeldLock {
  const release = () => {
    process.off('exit', release);
    if (readOwner(file).pid === process.pid) fs.rmSync(file, { force: true });
  };
  process.on('exit', release);
  return { release };
}
