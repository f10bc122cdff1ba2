#!/usr/bin/env node
/**
 * posapl-train: the training command. The training loop arrives with the trainer issue;
 * until then this says so plainly and exits non-zero.
 */
import { nativeInfo } from '../native/addon';

function main(): number {
  let backend = 'no native binary loaded';
  try {
    const info = nativeInfo();
    backend = `native addon loaded (${info.isa}, ${info.threads} threads)`;
  } catch (error) {
    backend = (error as Error).message;
  }
  process.stderr.write(
    'posapl-train: training is not available in this version of posapl-native yet ' +
      '(the model and the training loop are still being built).\n' +
      `posapl-train: ${backend}\n`,
  );
  return 1;
}

process.exitCode = main();
