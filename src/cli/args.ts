/**
 * The command-line parser shared by the posapl commands: `--name value`, `--name=value`, boolean
 * `--flag`, one-letter aliases (`-o FILE`) and positional arguments; every option documented with
 * its default and choices in --help; a wrong option or value is a usage error (exit 2) that
 * names it. A new command declares its options as {@link OptionSpec}s and calls
 * {@link parseCommandLine} (or {@link parseArgs} when it takes no positional argument).
 */
import { posaplError } from '../errors';

/** One option of a command. */
export interface OptionSpec {
  name: string;
  kind: 'string' | 'int' | 'number' | 'flag';
  help: string;
  /** Shown in --help and used when the option is absent. */
  default?: string | number | boolean;
  /** Placeholder in --help, e.g. FILE. */
  value?: string;
  choices?: string[];
  /** 'int' and 'number': the value must be at least this. */
  min?: number;
  /** 'int' and 'number': the value must be above 0. */
  positive?: boolean;
  /** A one-letter alias, used as `-o`. */
  alias?: string;
}

export type ParsedArgs = Record<string, string | number | boolean | undefined>;

/** What {@link parseCommandLine} read. */
export interface CommandLine {
  /** Every option: its value, or its default when absent. */
  options: ParsedArgs;
  /** Options given on the command line (not defaulted), by name. */
  given: Set<string>;
  /** Arguments that are not options, in order. */
  positionals: string[];
}

export function usageError(message: string): Error {
  return posaplError('POSAPL_USAGE', message);
}

/** Parses `argv` against `specs`; `maxPositionals` (default 0) bounds the arguments that are not options. */
export function parseCommandLine(argv: string[], specs: OptionSpec[], maxPositionals = 0): CommandLine {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byAlias = new Map(specs.filter((s) => s.alias).map((s) => [s.alias as string, s]));
  const options: ParsedArgs = {};
  const given = new Set<string>();
  const positionals: string[] = [];
  for (const s of specs) options[s.name] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      spec = byName.get(name);
      if (!spec) throw usageError(`unknown option --${name} (see --help)`);
      if (eq >= 0) inline = arg.slice(eq + 1);
    } else if (/^-[A-Za-z]$/.test(arg)) {
      spec = byAlias.get(arg.slice(1));
      if (!spec) throw usageError(`unknown option ${arg} (see --help)`);
    } else {
      if (positionals.length >= maxPositionals) {
        throw usageError(maxPositionals === 0
          ? `unexpected argument '${arg}' (options start with --; see --help)`
          : `unexpected argument '${arg}' (takes ${maxPositionals} besides options; see --help)`);
      }
      positionals.push(arg);
      continue;
    }
    const name = spec.name;
    given.add(name);
    if (spec.kind === 'flag') {
      if (inline !== undefined) throw usageError(`--${name} takes no value`);
      options[name] = true;
      continue;
    }
    let raw: string | undefined = inline ?? argv[++i];
    if (raw === undefined || (inline === undefined && raw.startsWith('--'))) throw usageError(`--${name} needs a value (${spec.value ?? spec.kind})`);
    raw = raw.trim();
    options[name] = optionValue(spec, raw);
  }
  return { options, given, positionals };
}

/** Parses `argv` against `specs` for a command that takes options only. */
export function parseArgs(argv: string[], specs: OptionSpec[]): ParsedArgs {
  return parseCommandLine(argv, specs).options;
}

function optionValue(spec: OptionSpec, raw: string): string | number {
  const name = spec.name;
  if (spec.choices && !spec.choices.includes(raw)) {
    throw usageError(`--${name} must be one of ${spec.choices.join(', ')} but received '${raw}'`);
  }
  if (spec.kind === 'string') {
    if (raw === '') throw usageError(`--${name} needs a non-empty value`);
    return raw;
  }
  const v = Number(raw);
  const integer = spec.kind === 'int';
  const what = `${spec.positive ? 'a positive' : integer ? 'a non-negative' : 'a'} ${integer ? 'integer' : 'number'}`;
  const wellFormed = integer ? /^[+]?\d+$/.test(raw) && Number.isSafeInteger(v) : raw !== '' && Number.isFinite(v);
  if (!wellFormed || (integer && v < 0) || (spec.positive && !(v > 0))) throw usageError(`--${name} must be ${what} but received '${raw}'`);
  if (spec.min !== undefined && v < spec.min) throw usageError(`--${name} must be at least ${spec.min} but received '${raw}'`);
  return v;
}

/** The --help text: usage line, summary, every option with its default and choices, and a footer. */
export function helpText(command: string, summary: string, specs: OptionSpec[], footer = '', usage = '[options]'): string {
  const rows = specs.map((s) => {
    const names = `${s.alias ? `-${s.alias}, ` : ''}--${s.name}`;
    const left = `  ${names}${s.kind === 'flag' ? '' : ` ${s.value ?? s.kind.toUpperCase()}`}`;
    const notes = [
      ...(s.choices ? [`one of: ${s.choices.join(', ')}`] : []),
      ...(s.default === undefined || s.kind === 'flag' ? [] : [`default: ${s.default}`]),
    ];
    return `${left.padEnd(28)} ${s.help}${notes.length ? ` (${notes.join('; ')})` : ''}`;
  });
  return `Usage: ${command} ${usage}\n\n${summary}\n\nOptions:\n${rows.join('\n')}\n${footer ? `\n${footer}\n` : ''}`;
}
