import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { claimRunFolder, LOCK_FILE, lockRunFolder } from '../../../src/cli/runFolder';

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-folder-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('lockRunFolder', () => {
  it('holds the folder with this pid until released, and refuses a second holder by pid', () => {
    const out = path.join(dir, 'run');
    const release = lockRunFolder(out);
    expect(JSON.parse(fs.readFileSync(path.join(out, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    expect(() => lockRunFolder(out)).toThrow(expect.objectContaining({ code: 'POSAPL_LOCKED', message: expect.stringContaining(`(pid ${process.pid})`) }));
    release();
    expect(fs.existsSync(path.join(out, LOCK_FILE))).toBe(false);
    lockRunFolder(out)();
  });

  it('takes over a lock left by a process that no longer runs', () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: Number(dead), host: os.hostname(), since: 'then' }));
    const release = lockRunFolder(dir);
    expect(JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    release();
  });
});

describe('claimRunFolder', () => {
  it('accepts an empty folder, refuses one with files, and with overwrite removes only a run\'s files', () => {
    claimRunFolder(dir, false);
    for (const f of ['log.jsonl', 'best.safetensors', 'notes.txt']) fs.writeFileSync(path.join(dir, f), 'x');
    expect(() => claimRunFolder(dir, false)).toThrow(/already holds files \(best\.safetensors, log\.jsonl, notes\.txt\); choose another --out, or pass --overwrite/);
    claimRunFolder(dir, true);
    expect(fs.readdirSync(dir)).toEqual(['notes.txt']);
  });
});
