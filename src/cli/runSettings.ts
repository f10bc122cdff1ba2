/**
 * run.json: the settings a training run was started with, kept in its folder so that
 * `posapl-train --resume DIR` needs no other option, and the SHA-256 of every input file so that
 * a resumed run that would read other data is refused.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { posaplError } from '../errors';
import { writeAtomically } from '../io/atomicWrite';
import { ParsedArgs, usageError } from './args';

/** The options that define a run (paths stored absolute), by their command-line names. */
export const RUN_OPTIONS = ['config', 'weights', 'tokenizer', 'train', 'test', 'val', 'images', 'init', 'epochs', 'batch-size', 'micro-batch', 'lr', 'seed', 'precision', 'skip-missing'] as const;

/** Options whose value is a path. */
const PATH_OPTIONS = new Set(['config', 'weights', 'tokenizer', 'train', 'test', 'val', 'images', 'init']);

/** Input files whose content must not change under a resumed run. */
const FINGERPRINTED = ['train', 'test', 'val', 'init'] as const;

/** Options a resumed run may change: --epochs extends or shortens the run (the schedule is re-planned). */
const CHANGEABLE = new Set(['epochs']);

export interface RunSettings {
  options: ParsedArgs;
  /** SHA-256 (hex) of each fingerprinted input file. */
  sha256: Record<string, string>;
}

export function runSettingsPath(dir: string): string {
  return path.join(dir, 'run.json');
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function absolute(name: string, value: unknown): unknown {
  if (!PATH_OPTIONS.has(name) || typeof value !== 'string' || value === 'byte-level') return value;
  // Preset names stay names.
  return name === 'config' && !fs.existsSync(value) ? value : path.resolve(value);
}

/** The settings of a new run from its parsed options. */
export function runSettingsOf(args: ParsedArgs): RunSettings {
  const options: ParsedArgs = {};
  for (const name of RUN_OPTIONS) if (args[name] !== undefined) options[name] = absolute(name, args[name]) as never;
  const digests: Record<string, string> = {};
  for (const name of FINGERPRINTED) if (typeof options[name] === 'string') digests[name] = sha256(options[name] as string);
  return { options, sha256: digests };
}

export async function writeRunSettings(dir: string, settings: RunSettings): Promise<void> {
  await writeAtomically(runSettingsPath(dir), (sink) => sink.write(Buffer.from(`${JSON.stringify(settings, null, 2)}\n`)));
}

/**
 * The options of a resumed run: those run.json records, with what the command line gives. An
 * option given with another value than the run's is refused (but --epochs), and so is an input
 * file whose content changed.
 */
export function resumedOptions(dir: string, args: ParsedArgs, given: Set<string>): { options: ParsedArgs; epochsChanged: boolean } {
  const file = runSettingsPath(dir);
  if (!fs.existsSync(file)) {
    throw posaplError('POSAPL_IO', `--resume ${dir}: no ${path.basename(file)} (not a folder posapl-train wrote, or a run from before run.json existed)`);
  }
  let saved: RunSettings;
  try {
    saved = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (cause) {
    throw posaplError('POSAPL_FORMAT', `${file}: not valid JSON (${(cause as Error).message})`, cause);
  }
  const options: ParsedArgs = { ...args };
  for (const name of RUN_OPTIONS) {
    const was = saved.options[name];
    if (given.has(name) && !CHANGEABLE.has(name)) {
      const now = absolute(name, args[name]);
      if (now !== was) throw usageError(`--resume ${dir}: the run was started with ${name} = ${JSON.stringify(was ?? null)}, not ${JSON.stringify(now)}`);
    }
    if (!(given.has(name) && CHANGEABLE.has(name))) options[name] = was;
  }
  for (const name of FINGERPRINTED) {
    const input = options[name];
    if (typeof input !== 'string') continue;
    if (!fs.existsSync(input)) throw posaplError('POSAPL_IO', `--resume ${dir}: the run's --${name} ${input} no longer exists`);
    if (sha256(input) !== saved.sha256[name]) {
      throw posaplError('POSAPL_USAGE', `--resume ${dir}: --${name} ${input} has changed since the run started (its SHA-256 differs); a resumed run must read the same data (start a new run, or --init from its checkpoint)`);
    }
  }
  return { options, epochsChanged: given.has('epochs') && args.epochs !== saved.options.epochs };
}
