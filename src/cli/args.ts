/**
 * A small command-line parser shared by the posapl commands: `--name value`, `--name=value` and
 * boolean `--flag`; every option documented with its default in --help; a wrong option or value
 * is a usage error (exit 2) that names it.
 */
import { posaplError } from '../errors';

export interface OptionSpec {
  name: string;
  kind: 'string' | 'int' | 'number' | 'flag';
  help: string;
  /** Shown in --help and used when the option is absent. */
  default?: string | number | boolean;
  /** Placeholder in --help, e.g. FILE. */
  value?: string;
  choices?: string[];
}

export type ParsedArgs = Record<string, string | number | boolean | undefined>;

export function usageError(message: string): Error {
  return posaplError('POSAPL_USAGE', message);
}

export function parseArgs(argv: string[], specs: OptionSpec[]): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const out: ParsedArgs = {};
  for (const s of specs) out[s.name] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw usageError(`unexpected argument '${arg}' (options start with --; see --help)`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) throw usageError(`unknown option --${name} (see --help)`);
    if (spec.kind === 'flag') {
      if (eq >= 0) throw usageError(`--${name} takes no value`);
      out[name] = true;
      continue;
    }
    let raw: string | undefined = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined || (eq < 0 && raw.startsWith('--'))) throw usageError(`--${name} needs a value (${spec.value ?? spec.kind})`);
    raw = raw.trim();
    if (spec.choices && !spec.choices.includes(raw)) {
      throw usageError(`--${name} must be one of ${spec.choices.join(', ')} but received '${raw}'`);
    }
    if (spec.kind === 'int') {
      const v = Number(raw);
      if (!/^[+]?\d+$/.test(raw) || !Number.isSafeInteger(v) || v < 0) throw usageError(`--${name} must be a non-negative integer but received '${raw}'`);
      out[name] = v;
    } else if (spec.kind === 'number') {
      const v = Number(raw);
      if (raw === '' || !Number.isFinite(v)) throw usageError(`--${name} must be a number but received '${raw}'`);
      out[name] = v;
    } else {
      if (raw === '') throw usageError(`--${name} needs a non-empty value`);
      out[name] = raw;
    }
  }
  return out;
}

export function helpText(command: string, summary: string, specs: OptionSpec[], footer = ''): string {
  const rows = specs.map((s) => {
    const left = `  --${s.name}${s.kind === 'flag' ? '' : ` ${s.value ?? s.kind.toUpperCase()}`}`;
    const def = s.default === undefined || s.kind === 'flag' ? '' : ` (default: ${s.default})`;
    return `${left.padEnd(28)} ${s.help}${def}`;
  });
  return `Usage: ${command} [options]\n\n${summary}\n\nOptions:\n${rows.join('\n')}\n${footer ? `\n${footer}\n` : ''}`;
}
