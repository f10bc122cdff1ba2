/**
 * The output folder of a training run: never another run's folder by accident (a non-empty
 * folder is refused unless resumed or --overwrite is given), and never two runs at once (a lock
 * file holding the pid of the run that writes there).
 */
import * as fs from 'fs';
import * as path from 'path';
import { takeLock } from '../io/lockFile';
import { usageError } from './args';

/** The lock file inside a run folder. */
export const LOCK_FILE = '.posapl-train.lock';

/** What a run writes in its folder; --overwrite removes these (and only these) first. */
export const RUN_FILES = ['log.jsonl', 'last.safetensors', 'best.safetensors', 'report.html', 'run.json'];

/**
 * Takes the folder's lock (creating the folder), or throws POSAPL_LOCKED naming the pid of the
 * run that holds it. A lock left by a process that no longer runs is taken over. Returns the
 * release, which also runs when the process exits.
 */
export function lockRunFolder(dir: string, flag = '--out'): () => void {
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw usageError(`${flag} ${dir} is a file, not a folder`);
  fs.mkdirSync(dir, { recursive: true });
  const lock = takeLock(path.join(dir, LOCK_FILE), (holder) =>
    `${flag} ${dir} is in use by another posapl-train (pid ${holder.pid ?? '?'}); wait for it to finish or choose another ${flag}`);
  return lock.release;
}

/**
 * Checks that a new run may start in `dir` (locked by the caller): empty apart from `keep`, or
 * --overwrite given, in which case the earlier run's files are removed.
 */
export function claimRunFolder(dir: string, overwrite: boolean, keep: string[] = []): void {
  const present = fs.readdirSync(dir).filter((f) => f !== LOCK_FILE && !keep.includes(f));
  if (present.length === 0) return;
  if (!overwrite) {
    const shown = present.slice(0, 4).join(', ') + (present.length > 4 ? ', ...' : '');
    const hint = present.includes('last.safetensors') ? `continue it with --resume ${dir}, ` : '';
    throw usageError(`--out ${dir} already holds files (${shown}); ${hint}choose another --out, or pass --overwrite to replace the run there`);
  }
  for (const f of RUN_FILES) fs.rmSync(path.join(dir, f), { force: true });
}
