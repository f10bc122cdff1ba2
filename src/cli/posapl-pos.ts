#!/usr/bin/env node
/**
 * posapl-pos: adds POS words to a dataset file (the role of the authors' posapl_0_pos.py).
 * Exit status: 0 done, 1 invalid input data, 2 wrong usage or unreadable/unwritable file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { addPosToDataset, describeInvalidCaption } from '../text/annotateDataset';

const USAGE = `Usage: posapl-pos IN.json [-o OUT.json] [--in-place] [--skip-invalid]

Adds "pos" to every entry of a dataset: one list of POS words per caption, shaped like "caption"
(a string per entry in train files, a list of strings in val/test files).

  -o, --output OUT.json  where to write (default: IN.pos.json beside the input)
  --in-place             replace IN.json itself (the only way the input is overwritten)
  --skip-invalid         give a missing or empty caption an empty POS list and count it,
                         instead of stopping with its entry index
  -h, --help             show this help
`;

/** Wrong command line: exit 2 with the usage. */
class UsageError extends Error {}
/** Input that is not a dataset: exit 1. */
class DataError extends Error {}

interface Args {
  input: string;
  output: string;
  skipInvalid: boolean;
}

function parseArgs(argv: string[]): Args | 'help' {
  let input: string | undefined;
  let output: string | undefined;
  let inPlace = false;
  let skipInvalid = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') return 'help';
    if (arg === '--in-place') inPlace = true;
    else if (arg === '--skip-invalid') skipInvalid = true;
    else if (arg === '-o' || arg === '--output') {
      output = argv[++i];
      if (output === undefined) throw new UsageError(`${arg} needs a file name`);
    } else if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${arg}`);
    else if (input === undefined) input = arg;
    else throw new UsageError(`one input file only (got ${input} and ${arg})`);
  }
  if (input === undefined) throw new UsageError('no input file');
  if (inPlace && output !== undefined) throw new UsageError('--in-place and -o exclude each other');
  if (!inPlace && output === undefined) output = input.replace(/(\.json)?$/i, '.pos.json');
  const target = inPlace ? input : (output as string);
  if (!inPlace && path.resolve(target) === path.resolve(input)) {
    throw new UsageError(`refusing to overwrite the input ${input}; pass --in-place to replace it`);
  }
  return { input, output: target, skipInvalid };
}

/** "line L, column C" of a character offset. */
function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `line ${line}, column ${offset - before.lastIndexOf('\n')}`;
}

function readDataset(file: string): unknown {
  const text = fs.readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    const where = position ? ` at ${lineAndColumn(text, Number(position[1]))}` : '';
    throw new DataError(`malformed JSON${where}: ${message}`);
  }
}

/** Writes next to the target and renames, so that a reader never sees half a file. */
function writeAtomically(file: string, text: string): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(temporary, text);
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

function main(argv: string[]): number {
  let args: Args | 'help';
  try {
    args = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`posapl-pos: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const terminal = process.stderr.isTTY === true;
  try {
    const dataset = readDataset(args.input);
    const result = addPosToDataset(dataset, {
      skipInvalid: args.skipInvalid,
      onProgress: terminal ? (done, total) => process.stderr.write(`\rposapl-pos: ${done}/${total} captions`) : undefined,
    });
    if (terminal) process.stderr.write('\n');
    writeAtomically(args.output, JSON.stringify(result.entries) + '\n');
    for (const skipped of result.skipped) process.stderr.write(`posapl-pos: skipped ${describeInvalidCaption(skipped)}\n`);
    const skippedNote = result.skipped.length > 0 ? `, skipped ${result.skipped.length} invalid` : '';
    process.stderr.write(`posapl-pos: tagged ${result.tagged} captions of ${result.entries.length} entries${skippedNote}; wrote ${args.output}\n`);
    return 0;
  } catch (error) {
    if (terminal) process.stderr.write('\n');
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof DataError || code === 'POSAPL_DATA') {
      process.stderr.write(`posapl-pos: ${args.input}: ${message}\n`);
      return 1;
    }
    if (code !== undefined && /^E[A-Z]+$/.test(code)) {
      process.stderr.write(`posapl-pos: ${message}\n`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = main(process.argv.slice(2));
