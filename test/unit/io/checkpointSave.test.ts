/**
 * Writing checkpoints: torch's recorded verdict on our writers' output (committed by
 * gen_checkpoints.py) still applies because the writers reproduce those files byte for byte;
 * our reader reads back what both writers write; writes are atomic; bad entries are refused.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { StateDict, TensorEntry, loadStateDict, saveStateDict } from '../../../src/io';
import { expected, fixture, tempDir } from './checkpointFixtures';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir();
});
afterAll(() => tmp.cleanup());

async function caught(run: () => Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await run();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected an error');
}

describe('files our writers produced, as verified by torch', () => {
  it('the generator recorded a passing torch.load(weights_only=True) check for each writer and mode', () => {
    const rt = expected.roundTrips;
    expect(rt.map((r) => [r.format, r.zip64])).toEqual(
      expect.arrayContaining([['torch', 'auto'], ['torch', 'always'], ['safetensors', 'auto']]),
    );
    for (const r of rt) {
      expect(r).toMatchObject({ ok: true });
      if (r.format === 'torch') expect(r.verifiedBy).toMatch(/^torch 1\.13.* torch\.load\(weights_only=True\)$/);
    }
    expect(rt.some((r) => r.format === 'torch' && r.tiedPairs.length > 0)).toBe(true);
  });

  it.each(expected.roundTrips.map((r) => [r.written, r] as const))('%s is the verified file, and our writer still writes it byte for byte', async (_, r) => {
    const committed = fs.readFileSync(fixture(r.written));
    expect(createHash('sha256').update(committed).digest('hex')).toBe(r.sha256);
    const out = path.join(tmp.dir, path.basename(r.written));
    await saveStateDict(out, await loadStateDict(fixture(r.source)), { format: r.format, zip64: r.zip64 });
    expect(fs.readFileSync(out).equals(committed)).toBe(true);
  });
});

describe('round trips through both writers', () => {
  it.each([
    ['torch', 'auto'],
    ['torch', 'always'],
    ['safetensors', 'auto'],
  ] as const)('%s (zip64 %s) reads back every tensor of every fixture exactly', async (format, zip64) => {
    for (const name of ['basic.pt', 'views.pt', 'shared.pt', 'posapl_tiny.pt', 'openclip_tiny.bin']) {
      const source = await loadStateDict(fixture(name));
      const out = path.join(tmp.dir, `${name}.${format}.${zip64}`);
      await saveStateDict(out, source, { format, zip64 });
      const back = await loadStateDict(out);
      expect([...back.keys()]).toEqual([...source.keys()]);
      for (const [key, entry] of source) expect(back.get(key)).toEqual(entry);
      if (format === 'torch' && name === 'shared.pt') expect(back.get('encoder.weight')).toBe(back.get('decoder.weight'));
    }
  });

  it('writes tied entries once in torch format and twice in safetensors', async () => {
    const big: TensorEntry = { dtype: 'float32', shape: [1024], data: new Float32Array(1024).fill(1) };
    const sd: StateDict = new Map([['a', big], ['b', big]]);
    await saveStateDict(path.join(tmp.dir, 'tied.pt'), sd, { format: 'torch' });
    await saveStateDict(path.join(tmp.dir, 'tied.safetensors'), sd, { format: 'safetensors' });
    expect(fs.statSync(path.join(tmp.dir, 'tied.pt')).size).toBeLessThan(4096 + 1500);
    expect(fs.statSync(path.join(tmp.dir, 'tied.safetensors')).size).toBeGreaterThan(8192);
  });

  it('aligns torch storage records to 64 bytes and records little-endian byte order', async () => {
    const file = path.join(tmp.dir, 'aligned.pt');
    await saveStateDict(file, await loadStateDict(fixture('basic.pt')), { format: 'torch' });
    const bytes = fs.readFileSync(file);
    let p = 0;
    let storages = 0;
    while (bytes.readUInt32LE(p) === 0x04034b50) {
      const nameLength = bytes.readUInt16LE(p + 26);
      const name = bytes.toString('utf8', p + 30, p + 30 + nameLength);
      const start = p + 30 + nameLength + bytes.readUInt16LE(p + 28);
      if (name.startsWith('archive/data/')) {
        expect(start % 64).toBe(0);
        storages++;
      }
      if (name === 'archive/byteorder') expect(bytes.toString('latin1', start, start + 6)).toBe('little');
      p = start + bytes.readUInt32LE(p + 18);
    }
    expect(storages).toBe(13);
  });
});

describe('atomic writes', () => {
  it('replaces the file it is loaded from without disturbing the open reader, leaving no temp files', async () => {
    const file = path.join(tmp.dir, 'self.pt');
    fs.copyFileSync(fixture('basic.pt'), file);
    const handle = fs.openSync(file, 'r');
    const before = fs.readFileSync(file);
    const sd = await loadStateDict(file);
    sd.delete('f64');
    await saveStateDict(file, sd, { format: 'torch' });
    const still = Buffer.alloc(before.length);
    fs.readSync(handle, still, 0, still.length, 0);
    fs.closeSync(handle);
    expect(still.equals(before)).toBe(true);
    expect([...(await loadStateDict(file)).keys()]).not.toContain('f64');
    expect(fs.readdirSync(tmp.dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('leaves the old file whole when the write fails, and cleans its temporary file', async () => {
    const file = path.join(tmp.dir, 'keep.safetensors');
    fs.copyFileSync(fixture('basic.safetensors'), file);
    const before = fs.readFileSync(file);
    // A detached buffer makes the data write itself fail after the header went out.
    const data = new Float32Array(4);
    structuredClone(data.buffer, { transfer: [data.buffer] });
    const error = await caught(() =>
      saveStateDict(file, new Map([['x', { dtype: 'float32', shape: [0], data } as TensorEntry]]), { format: 'safetensors' }),
    );
    expect(error.code).toMatch(/^POSAPL_/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readdirSync(tmp.dir).filter((n) => n.includes('keep.safetensors.'))).toEqual([]);
  });

  it('reports an unwritable destination with POSAPL_IO naming it', async () => {
    const file = path.join(tmp.dir, 'missing-dir', 'x.pt');
    const error = await caught(() => saveStateDict(file, new Map(), { format: 'torch' }));
    expect(error.code).toBe('POSAPL_IO');
    expect(error.message).toContain(file);
  });
});

describe('saveStateDict argument checks', () => {
  const good: TensorEntry = { dtype: 'float32', shape: [2, 2], data: new Float32Array(4) };
  const out = (): string => path.join(tmp.dir, 'args.pt');
  it.each([
    ['an unknown format', new Map([['w', good]]), { format: 'npz' }, 'POSAPL_TYPE', /options\.format/],
    ['an unknown dtype', new Map([['w', { ...good, dtype: 'float8' }]]), { format: 'torch' }, 'POSAPL_TYPE', /'w'\.dtype/],
    ['data of the wrong kind', new Map([['w', { ...good, data: new Float64Array(4) }]]), { format: 'torch' }, 'POSAPL_TYPE', /'w'\.data/],
    ['a length that disagrees with the shape', new Map([['w', { ...good, shape: [3, 2] }]]), { format: 'torch' }, 'POSAPL_SHAPE', /6 elements .* 'w'\.data but received 4/],
    ['a non-integer dim', new Map([['w', { ...good, shape: [2, 2.5] }]]), { format: 'torch' }, 'POSAPL_TYPE', /'w'\.shape/],
    ['the reserved safetensors name', new Map([['__metadata__', good]]), { format: 'safetensors' }, 'POSAPL_TYPE', /__metadata__/],
    ['non-string metadata', new Map([['w', good]]), { format: 'safetensors', metadata: { n: 1 } }, 'POSAPL_TYPE', /options\.metadata/],
  ])('refuses %s', async (_, sd, options, code, message) => {
    const error = await caught(() => saveStateDict(out(), sd as StateDict, options as never));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(fs.existsSync(out())).toBe(false);
  });

  it('refuses the same name twice', async () => {
    const error = await caught(() => saveStateDict(out(), [['w', good], ['w', good]], { format: 'torch' }));
    expect(error.message).toMatch(/'w' twice/);
  });
});
