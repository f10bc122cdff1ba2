import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cleanCaption, tagPos } from '../../src/text';

// The real command as npx runs it: the compiled bin entry (npm test builds lib/ first) in a child process.
const ROOT = path.resolve(__dirname, '../..');
const bin = path.join(ROOT, 'lib/cli/posapl-pos.js');
const SHARED_RSITMD = path.resolve(ROOT, '../shared/data/rsitmd');

function run(args: string[], cwd?: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd });
}

let dir: string;
const file = (name: string, content?: unknown): string => {
  const p = path.join(dir, name);
  if (content !== undefined) fs.writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
};

beforeAll(() => {
  const sources = [path.join(ROOT, 'src/cli/posapl-pos.ts'), path.join(ROOT, 'src/cli/args.ts'), ...fs.readdirSync(path.join(ROOT, 'src/text')).map((f) => path.join(ROOT, 'src/text', f))];
  if (!fs.existsSync(bin) || sources.some((s) => fs.statSync(s).mtimeMs > fs.statSync(bin).mtimeMs + 1000)) {
    throw new Error(`${bin} is missing or older than its sources: build it with "npm run build:ts"`);
  }
  if (!fs.existsSync(path.join(SHARED_RSITMD, 'train.json'))) {
    throw new Error(`posapl-pos tests read ${SHARED_RSITMD}: the shared data folder must sit beside the repository`);
  }
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-pos-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('posapl-pos', () => {
  it('annotates RSITMD train.json end to end', () => {
    const out = file('train.pos.json');
    const r = run([path.join(SHARED_RSITMD, 'train.json'), '-o', out]);
    expect(r.stderr).toMatch(/tagged 17175 captions of 17175 entries; wrote .*train\.pos\.json/);
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/\r/); // no progress line when stderr is not a terminal
    const input = JSON.parse(fs.readFileSync(path.join(SHARED_RSITMD, 'train.json'), 'utf8')) as { caption: string }[];
    const output = JSON.parse(fs.readFileSync(out, 'utf8')) as { caption: string; pos: string[] }[];
    expect(output.length).toBe(input.length);
    output.forEach((entry, i) => {
      expect(entry).toEqual({ ...input[i], pos: entry.pos });
      expect(entry.pos.length).toBeGreaterThan(0);
    });
    for (let i = 0; i < output.length; i += 97) expect(output[i].pos).toEqual(tagPos(cleanCaption(input[i].caption)));
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('gives val/test entries one POS list per caption, written beside the input by default', () => {
    const entries = JSON.parse(fs.readFileSync(path.join(SHARED_RSITMD, 'val.json'), 'utf8')).slice(0, 3);
    const input = file('val.json', entries);
    const r = run([input]);
    expect(r.status).toBe(0);
    const output = JSON.parse(fs.readFileSync(file('val.pos.json'), 'utf8')) as { caption: string[]; pos: string[][] }[];
    output.forEach((entry) => {
      expect(entry.pos.length).toBe(entry.caption.length);
      entry.caption.forEach((c, k) => expect(entry.pos[k]).toEqual(tagPos(cleanCaption(c))));
    });
  });

  it('never overwrites the input unless --in-place', () => {
    const input = file('keep.json', [{ caption: 'a road' }]);
    const before = fs.readFileSync(input, 'utf8');
    const r = run([input, '-o', input]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/refusing to overwrite the input .*keep\.json; pass --in-place/);
    expect(fs.readFileSync(input, 'utf8')).toBe(before);
    const inPlace = run([input, '--in-place']);
    expect(inPlace.status).toBe(0);
    expect(JSON.parse(fs.readFileSync(input, 'utf8'))).toEqual([{ caption: 'a road', pos: ['determiner', 'noun'] }]);
  });

  it('reports missing and empty captions by entry index, writing nothing', () => {
    const input = file('bad.json', [{ caption: 'a road' }, { image: 'x' }, { caption: ['ok', '?!'] }]);
    const r = run([input, '-o', file('bad.out.json')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bad\.json: 2 invalid caption\(s\):\n {2}entry 1: caption is missing\n {2}entry 2, caption 1: caption "\?!" is empty/);
    expect(fs.existsSync(file('bad.out.json'))).toBe(false);
  });

  it('with --skip-invalid gives them empty lists and counts them', () => {
    const input = file('skip.json', [{ caption: 'a road' }, { image: 'x' }]);
    const r = run([input, '--skip-invalid', '-o', file('skip.out.json')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/skipped entry 1: caption is missing\n.*tagged 1 captions of 2 entries, skipped 1 invalid/);
    expect(JSON.parse(fs.readFileSync(file('skip.out.json'), 'utf8'))[1]).toEqual({ image: 'x', pos: [] });
  });

  it('reports where malformed JSON breaks', () => {
    const input = file('broken.json', '[\n  {"caption": "a road"},\n  {"caption" "x"}\n]');
    const r = run([input, '-o', file('broken.out.json')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^posapl-pos: .*broken\.json:3:14: malformed JSON/);
  });

  it('refuses an -o that is a folder, and warns once about captions the tagger cannot read', () => {
    const input = file('odd.json', [{ caption: 'a road' }, { caption: '一条河' }, { caption: ['дорога', 'a river'] }]);
    fs.mkdirSync(path.join(dir, 'out-folder'));
    const folder = run([input, '-o', path.join(dir, 'out-folder')]);
    expect(folder.status).toBe(2);
    expect(folder.stderr).toMatch(/^posapl-pos: -o .*out-folder is a folder; give the output file's name\n$/);
    const r = run([input, '-o', file('odd.out.json')]);
    expect(r.status).toBe(0);
    expect(r.stderr.match(/warning: 2 caption\(s\) are in a script the English POS tagger cannot read/g)).toHaveLength(1);
  });

  it('explains a missing file and wrong usage', () => {
    const missing = run([path.join(dir, 'nope.json')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^posapl-pos: .*nope\.json: no such file\n$/);
    const usage: [string[], RegExp][] = [
      [[], /no input file/], [['a.json', 'b.json'], /unexpected argument 'b\.json'/], [['a.json', '--frobnicate'], /unknown option --frobnicate/],
      [['a.json', '-o'], /--output needs a value/], [['a.json', '-o', 'b.json', '--in-place'], /--in-place and -o exclude each other/],
    ];
    for (const [args, message] of usage) {
      const r = run(args, dir);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^posapl-pos: [^\n]*\n$/);
      expect(r.stderr).toMatch(message);
    }
    const help = run(['--help']).stdout;
    expect(help).toMatch(/^Usage: posapl-pos IN\.json/);
    expect(help).toMatch(/-o, --output OUT\.json/);
  });

  it('shows progress on a terminal', () => {
    // util-linux `script` gives the command a pseudo-terminal.
    const input = file('tty.json', Array.from({ length: 600 }, () => ({ caption: 'a road' })));
    const command = [process.execPath, bin, input, '-o', file('tty.out.json')].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\rposapl-pos: 500\/600 captions\rposapl-pos: 600\/600 captions/);
  });
});
