/**
 * Progress for humans: one rewritten line on a terminal; otherwise (logs and CI) a plain line
 * every `every` steps (default: ten lines an epoch) and at the end of each epoch.
 * Machine-readable progress is the JSON-lines log, not this. Epochs are shown 0-based as
 * `epoch E/LAST` (the authors' numbering: a 10-epoch run has epochs 0/9 ... 9/9).
 */
export interface ProgressLine {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number;
  samplesPerSecond: number;
  /** Seconds left in the whole run. */
  eta: number;
}

export class Progress {
  /**
   * @param every Without a terminal, a line every this many steps (default: a tenth of an epoch).
   */
  constructor(private readonly stream: NodeJS.WriteStream, private readonly enabled = true, private readonly every?: number) {}

  private get tty(): boolean {
    return Boolean(this.stream.isTTY);
  }

  update(p: ProgressLine): void {
    if (!this.enabled) return;
    const text =
      `epoch ${p.epoch}/${p.epochs - 1} step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)} ` +
      `${p.samplesPerSecond.toFixed(1)} samples/s ETA ${formatDuration(p.eta)}`;
    if (this.tty) {
      this.stream.write(`\r${bar(p.step / p.steps)} ${text}\x1b[K`);
      return;
    }
    const every = this.every ?? Math.max(1, Math.ceil(p.steps / 10));
    if (p.step === p.steps || p.step % every === 0) this.stream.write(`${text}\n`);
  }

  /** A whole line (epoch results, messages), ending any progress line in place. */
  line(text: string): void {
    if (!this.enabled) return;
    this.stream.write(this.tty ? `\r\x1b[K${text}\n` : `${text}\n`);
  }
}

function bar(fraction: number, width = 20): string {
  const done = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${'#'.repeat(done)}${'.'.repeat(width - done)}]`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
