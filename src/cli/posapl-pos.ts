#!/usr/bin/env node
/**
 * posapl-pos: adds POS words to a dataset file (the role of the authors' posapl_0_pos.py).
 * Exit status, as for every posapl command: 0 done, 2 wrong usage, 1 anything else (a missing
 * or malformed input, invalid captions, an unwritable output).
 */
import * as fs from 'fs';
import * as path from 'path';
import { readJsonFile } from '../data/datasets';
import { posaplError } from '../errors';
import { writeAtomically } from '../io/atomicWrite';
import { addPosToDataset, describeInvalidCaption } from '../text/annotateDataset';
import { helpText, OptionSpec, parseCommandLine, usageError } from './args';
import { runCommand } from './errors';

const OPTIONS: OptionSpec[] = [
  { name: 'output', alias: 'o', kind: 'string', value: 'OUT.json', help: 'where to write (default: IN.pos.json beside the input)' },
  { name: 'in-place', kind: 'flag', help: 'replace IN.json itself (the only way the input is overwritten)' },
  { name: 'skip-invalid', kind: 'flag', help: 'give a missing or empty caption an empty POS list and count it, instead of stopping with its entry index' },
  { name: 'help', alias: 'h', kind: 'flag', help: 'show this help' },
];

const SUMMARY =
  'Adds "pos" to every entry of a dataset: one list of POS words per caption, shaped like "caption"\n' +
  '(a string per entry in train files, a list of strings in val/test files).';

/** The output file: -o, IN.pos.json, or IN itself with --in-place; never the input otherwise, never a folder. */
function outputOf(input: string, output: string | undefined, inPlace: boolean): string {
  if (inPlace && output !== undefined) throw usageError('--in-place and -o exclude each other');
  if (inPlace) return input;
  const target = output ?? input.replace(/(\.json)?$/i, '.pos.json');
  if (path.resolve(target) === path.resolve(input)) throw usageError(`refusing to overwrite the input ${input}; pass --in-place to replace it`);
  if (fs.existsSync(target) && fs.statSync(target).isDirectory()) throw usageError(`-o ${target} is a folder; give the output file's name`);
  return target;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText('posapl-pos', SUMMARY, OPTIONS, '', 'IN.json [-o OUT.json] [--in-place] [--skip-invalid]'));
    return 0;
  }
  const { options, positionals } = parseCommandLine(argv, OPTIONS, 1);
  const input = positionals[0];
  if (input === undefined) throw usageError('no input file (see --help)');
  const output = outputOf(input, options.output as string | undefined, Boolean(options['in-place']));
  if (!fs.existsSync(input)) throw posaplError('POSAPL_IO', `${input}: no such file`);
  const dataset = readJsonFile(input);
  const terminal = process.stderr.isTTY === true;
  let result: ReturnType<typeof addPosToDataset>;
  try {
    result = addPosToDataset(dataset, {
      skipInvalid: Boolean(options['skip-invalid']),
      onProgress: terminal ? (done, total) => process.stderr.write(`\rposapl-pos: ${done}/${total} captions`) : undefined,
    });
  } catch (error) {
    if ((error as { code?: string }).code !== 'POSAPL_DATA') throw error;
    throw posaplError('POSAPL_DATA', `${input}: ${(error as Error).message}`, error);
  } finally {
    if (terminal) process.stderr.write('\n');
  }
  await writeAtomically(output, (sink) => sink.write(Buffer.from(JSON.stringify(result.entries) + '\n')));
  for (const skipped of result.skipped) process.stderr.write(`posapl-pos: skipped ${describeInvalidCaption(skipped)}\n`);
  if (result.untaggable) {
    process.stderr.write(`posapl-pos: warning: ${result.untaggable} caption(s) are in a script the English POS tagger cannot read; their POS words are guesses\n`);
  }
  const skippedNote = result.skipped.length > 0 ? `, skipped ${result.skipped.length} invalid` : '';
  process.stderr.write(`posapl-pos: tagged ${result.tagged} captions of ${result.entries.length} entries${skippedNote}; wrote ${output}\n`);
  return 0;
}

runCommand('posapl-pos', () => main(process.argv.slice(2)));
