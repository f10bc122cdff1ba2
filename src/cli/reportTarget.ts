/**
 * Where a command may write its report.html: never over one of its inputs, and over an existing
 * file only when it is a report this package wrote (or --force says so).
 */
import * as fs from 'fs';
import { usageError } from './args';

/** The marker renderReport puts in every report's head. */
const GENERATOR = `<meta name='generator' content='posapl-native'>`;

function isOurReport(file: string): boolean {
  const handle = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(4096);
    const n = fs.readSync(handle, head, 0, head.length, 0);
    return head.subarray(0, n).toString('utf8').includes(GENERATOR);
  } finally {
    fs.closeSync(handle);
  }
}

function sameFile(a: string, b: string): boolean {
  const sa = fs.statSync(a);
  const sb = fs.statSync(b);
  return sa.dev === sb.dev && sa.ino === sb.ino;
}

/**
 * Throws POSAPL_USAGE when writing `report` would replace an input (named by option) or a file
 * that is not a posapl-native report (unless `force`).
 */
export function checkReportTarget(report: string, inputs: Record<string, string | undefined>, force: boolean): void {
  if (!fs.existsSync(report)) return;
  if (!fs.statSync(report).isFile()) throw usageError(`--report ${report} is a folder; give a file name`);
  for (const [option, input] of Object.entries(inputs)) {
    if (input !== undefined && fs.existsSync(input) && sameFile(report, input)) {
      throw usageError(`--report ${report} is the --${option} input; refusing to overwrite it`);
    }
  }
  if (!force && !isOurReport(report)) {
    throw usageError(`--report ${report} exists and is not a report posapl-native wrote; refusing to overwrite it (pass --force to replace it)`);
  }
}
