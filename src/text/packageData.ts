/**
 * Tables generated from other sources (the HTML5 entities, the learned POS rules) ship as JSON in
 * the package's data/ folder and are read on first use: code stays code and data stays data.
 */
import * as fs from 'fs';
import * as path from 'path';

import { posaplError } from '../errors';

// src/text and lib/text are both two levels below the package root.
const DATA_DIR = path.resolve(__dirname, '..', '..', 'data');

/**
 * The parsed JSON of data/`relative`, checked by `check`, which returns what is wrong with it or
 * null; a missing, unreadable or malformed file throws POSAPL_IO naming the file.
 */
export function readPackageData<T>(relative: string, check: (value: Record<string, unknown>) => string | null): T {
  const file = path.join(DATA_DIR, relative);
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw posaplError('POSAPL_IO', `posapl-native: cannot read the data file ${file} (${reason}); reinstall the package`, cause);
  }
  const problem = value !== null && typeof value === 'object' && !Array.isArray(value)
    ? check(value as Record<string, unknown>) : 'Expected a JSON object';
  if (problem) throw posaplError('POSAPL_IO', `posapl-native: the data file ${file} is damaged: ${problem}; reinstall the package`);
  return value as T;
}
