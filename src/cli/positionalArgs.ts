/**
 * Positional arguments before the shared option parser (which takes options only): splits
 * `INDEX "query" -k 5 --json` into the positionals and the options, short aliases expanded.
 */
import { OptionSpec } from './args';

/** The positionals and the remaining options (aliases such as -k rewritten to --k). */
export function splitPositionals(argv: readonly string[], specs: readonly OptionSpec[], aliases: Record<string, string> = {}): { positionals: string[]; options: string[] } {
  const takesValue = new Set(specs.filter((s) => s.kind !== 'flag').map((s) => s.name));
  const positionals: string[] = [];
  const options: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = aliases[argv[i]] ?? argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    options.push(arg);
    if (arg.startsWith('--') && !arg.includes('=') && takesValue.has(arg.slice(2)) && i + 1 < argv.length) options.push(argv[++i]);
  }
  return { positionals, options };
}
