import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { takeLock } from '../../../src/io/lockFile';

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posapl-lock-'));
  file = path.join(dir, 'lock');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const busy = (holder: { pid?: number; host?: string }) => `held by ${holder.pid ?? '?'} on ${holder.host ?? '?'}`;

describe('takeLock', () => {
  it('records its owner, refuses a second taker with the holder named, and releases once', () => {
    const lock = takeLock(file, busy);
    const owner = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(owner).toMatchObject({ pid: process.pid, host: os.hostname() });
    expect(Number.isNaN(Date.parse(owner.since))).toBe(false);
    expect(() => takeLock(file, busy)).toThrow(expect.objectContaining({ code: 'POSAPL_LOCKED', message: `held by ${process.pid} on ${os.hostname()}` }));
    lock.release();
    lock.release();
    expect(fs.existsSync(file)).toBe(false);
  });

  it('never removes a lock another process took after it', () => {
    const lock = takeLock(file, busy);
    fs.writeFileSync(file, JSON.stringify({ pid: 1, host: os.hostname(), since: 'later' }));
    lock.release();
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).pid).toBe(1);
  });

  it('refuses a lock held on another host, and a fresh unreadable one', () => {
    fs.writeFileSync(file, JSON.stringify({ pid: 2 ** 22 + 1, host: `not-${os.hostname()}`, since: 'then' }));
    expect(() => takeLock(file, busy)).toThrow(expect.objectContaining({ code: 'POSAPL_LOCKED', message: `held by ${2 ** 22 + 1} on not-${os.hostname()}` }));
    fs.writeFileSync(file, '{"pid": 12');
    expect(() => takeLock(file, busy)).toThrow(expect.objectContaining({ code: 'POSAPL_LOCKED', message: 'held by ? on ?' }));
  });

  it('takes over a lock whose owner died here, and an unreadable one a minute old', () => {
    fs.writeFileSync(file, JSON.stringify({ pid: 2 ** 22 + 1, host: os.hostname(), since: 'then' }));
    takeLock(file, busy).release();
    fs.writeFileSync(file, '');
    const old = (Date.now() - 61_000) / 1000;
    fs.utimesSync(file, old, old);
    const lock = takeLock(file, busy);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('names the file when it cannot be created', () => {
    expect(() => takeLock(path.join(dir, 'missing', 'lock'), busy)).toThrow(expect.objectContaining({ code: 'POSAPL_IO', message: expect.stringContaining('missing') }));
  });
});
