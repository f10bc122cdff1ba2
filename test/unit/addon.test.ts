import { spawnSync } from 'child_process';
import * as path from 'path';
import { nativeInfo } from '../../src/native/addon';

describe('native addon', () => {
  it('loads the source build and reports its SIMD path and threads', () => {
    const info = nativeInfo();
    expect(['avx512', 'avx2', 'scalar']).toContain(info.isa);
    expect(Number.isInteger(info.threads) && info.threads >= 1).toBe(true);
    expect(typeof info.cuda).toBe('boolean');
    expect(info.backend).toBe('cpu');
  });

  it('honours POSAPL_THREADS and POSAPL_ISA in a fresh process', () => {
    const script = `const a=require(${JSON.stringify(path.resolve(__dirname, '../../build/Release/posapl.node'))});` +
      'process.stdout.write(JSON.stringify(a.info()))';
    const r = spawnSync(process.execPath, ['-e', script], {
      env: { ...process.env, POSAPL_THREADS: '3', POSAPL_ISA: 'scalar' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ isa: 'scalar', threads: 3 });
  });

  it('rejects arguments to a function that takes none with a coded error', () => {
    const raw = require('../../build/Release/posapl.node') as Record<string, (...a: unknown[]) => unknown>;
    let caught: unknown;
    try {
      raw.info(1);
    } catch (e) {
      caught = e;
    }
    expect((caught as { code?: string }).code).toBe('POSAPL_ARGS');
    expect((caught as Error).message).toMatch(/posapl\.info: Expected 0 arguments but received 1/);
  });
});
