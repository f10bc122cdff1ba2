import { helpText, OptionSpec, parseArgs, parseCommandLine } from '../../../src/cli/args';
import { MODEL_OPTIONS } from '../../../src/cli/modelOptions';

const SPECS: OptionSpec[] = [
  { name: 'batch-size', kind: 'int', positive: true, help: 'batch', default: 256 },
  { name: 'lr', kind: 'number', positive: true, help: 'lr', default: 1e-3 },
  { name: 'workers', kind: 'int', min: 2, help: 'threads' },
  { name: 'output', alias: 'o', kind: 'string', value: 'FILE', help: 'where' },
  { name: 'json', kind: 'flag', help: 'json' },
  MODEL_OPTIONS.device,
];

function usage(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    expect((error as { code: string }).code).toBe('POSAPL_USAGE');
    return (error as Error).message;
  }
  throw new Error('no error');
}

describe('parseCommandLine', () => {
  it('reads values, aliases, flags and positionals, and tells what was given', () => {
    const r = parseCommandLine(['in.json', '-o', 'out.json', '--lr=0.5', '--json'], SPECS, 1);
    expect(r.options).toMatchObject({ 'batch-size': 256, lr: 0.5, output: 'out.json', json: true, device: 'cpu' });
    expect(r.positionals).toEqual(['in.json']);
    expect([...r.given].sort()).toEqual(['json', 'lr', 'output']);
  });

  it('refuses zero and negative values where they make no sense, naming the option', () => {
    expect(usage(() => parseArgs(['--batch-size', '0'], SPECS))).toBe("--batch-size must be a positive integer but received '0'");
    expect(usage(() => parseArgs(['--lr', '-1'], SPECS))).toBe("--lr must be a positive number but received '-1'");
    expect(usage(() => parseArgs(['--lr', '0'], SPECS))).toBe("--lr must be a positive number but received '0'");
    expect(usage(() => parseArgs(['--workers', '1'], SPECS))).toBe("--workers must be at least 2 but received '1'");
    expect(usage(() => parseArgs(['--device', 'tpu'], SPECS))).toBe("--device must be one of cpu, cuda but received 'tpu'");
    expect(usage(() => parseArgs(['x.json'], SPECS))).toMatch(/unexpected argument 'x\.json'/);
    expect(usage(() => parseCommandLine(['a', 'b'], SPECS, 1))).toMatch(/unexpected argument 'b' \(takes 1 besides options/);
    expect(usage(() => parseArgs(['-q'], SPECS))).toBe('unknown option -q (see --help)');
  });

  it('lists choices, defaults and aliases in --help', () => {
    const help = helpText('cmd', 'Does things.', SPECS, 'Footer.', 'IN [options]');
    expect(help).toMatch(/^Usage: cmd IN \[options\]\n\nDoes things\.\n/);
    expect(help).toMatch(/--device STRING +where to compute .*\(one of: cpu, cuda; default: cpu\)/);
    expect(help).toMatch(/-o, --output FILE +where\n/);
    expect(help).toMatch(/Footer\.\n$/);
  });
});
