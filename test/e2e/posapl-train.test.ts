import { spawnSync } from 'child_process';
import * as path from 'path';

// The real command as npx runs it: the compiled bin entry in a child process.
const bin = path.resolve(__dirname, '../../lib/cli/posapl-train.js');

describe('posapl-train (before the trainer lands)', () => {
  it('says plainly that training is not available yet and exits 1', () => {
    const r = spawnSync(process.execPath, [bin], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/training is not available in this version/);
    expect(r.stderr).toMatch(/native addon loaded \((avx512|avx2|scalar), \d+ threads\)/);
  });
});
