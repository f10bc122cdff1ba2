/**
 * The thread pool under the patterns a step produces: thousands of short jobs back to back
 * (workers spinning between them), pauses long enough for them to fall asleep, jobs that use
 * fewer threads than the pool has, and more threads than cores. Every result is checked, so a
 * part run twice or skipped shows as a wrong sum (or as a hang, caught by the timeout).
 */
import { spawnSync } from 'child_process';
import * as path from 'path';

const LIB = path.resolve(__dirname, '../../lib');

// Runs in a child so POSAPL_THREADS takes effect before the pool starts.
const SCRIPT = `
  const { ops, nativeInfo } = require(${JSON.stringify(LIB)});
  const sleep = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
  let bad = 0, jobs = 0;
  // Sizes around the 32768-element grain: 1, 2 and 3 parts.
  const sizes = [1000, 40000, 70000, 100000];
  const a = new Float32Array(100000).map((_, i) => i % 7), b = new Float32Array(100000).map((_, i) => i % 5);
  const out = new Float32Array(100000);
  for (let round = 0; round < 400; round++) {
    const n = sizes[round % sizes.length];
    out.fill(-1);
    ops.add(out.subarray(0, n), a.subarray(0, n), b.subarray(0, n), n);
    jobs++;
    for (let i = 0; i < n; i += 997) if (out[i] !== (i % 7) + (i % 5)) bad++;
    if (out[n - 1] !== ((n - 1) % 7) + ((n - 1) % 5)) bad++;
    // Now and then a pause past the spin time, so the workers go to sleep and must be woken.
    if (round % 50 === 49) sleep(2);
  }
  console.log(JSON.stringify({ threads: nativeInfo().threads, jobs, bad }));
`;

describe('thread pool', () => {
  it.each(['2', '4', '7'])('with POSAPL_THREADS=%s runs every part of every job exactly once', (threads) => {
    const r = spawnSync(process.execPath, ['-e', SCRIPT], {
      env: { ...process.env, POSAPL_THREADS: threads }, encoding: 'utf8', timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim())).toEqual({ threads: Number(threads), jobs: 400, bad: 0 });
  });
});
