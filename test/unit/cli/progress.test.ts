import { Progress } from '../../../src/train/progress';

function lines(progress: (p: Progress) => void, every?: number): string[] {
  const written: string[] = [];
  const stream = { isTTY: false, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
  progress(new Progress(stream, true, every));
  return written.join('').split('\n').filter(Boolean).map((l) => l.split(' loss')[0]);
}

const step = (p: Progress, epoch: number, k: number, steps: number) =>
  p.update({ epoch, epochs: 3, step: k, steps, loss: 1, samplesPerSecond: 1, eta: 0 });

describe('Progress without a terminal', () => {
  it('writes a line every tenth of an epoch and at its end, epochs numbered from 0', () => {
    const out = lines((p) => { for (let k = 1; k <= 25; k++) step(p, 0, k, 25); });
    expect(out).toEqual(['epoch 0/2 step 3/25', 'epoch 0/2 step 6/25', 'epoch 0/2 step 9/25', 'epoch 0/2 step 12/25', 'epoch 0/2 step 15/25',
      'epoch 0/2 step 18/25', 'epoch 0/2 step 21/25', 'epoch 0/2 step 24/25', 'epoch 0/2 step 25/25']);
  });

  it('writes every N steps when told', () => {
    expect(lines((p) => { for (let k = 1; k <= 5; k++) step(p, 2, k, 5); }, 2)).toEqual(['epoch 2/2 step 2/5', 'epoch 2/2 step 4/5', 'epoch 2/2 step 5/5']);
  });
});
