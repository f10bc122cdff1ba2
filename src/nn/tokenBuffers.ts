/**
 * The token buffers (N,L,C) a tower runs its blocks through. Training keeps every block's input
 * for the backward (x_0..x_L); inference ping-pongs two buffers and keeps only the outputs that
 * Side Fusion taps.
 */
export class TokenBuffers {
  private readonly buffers: Float32Array[];
  private readonly tapSlot = new Map<number, number>();

  constructor(readonly layers: number, taps: number[], readonly size: number, readonly training: boolean) {
    if (training) {
      this.buffers = Array.from({ length: layers + 1 }, () => new Float32Array(size));
    } else {
      this.buffers = Array.from({ length: 2 + taps.length }, () => new Float32Array(size));
      taps.forEach((l, k) => this.tapSlot.set(l, 2 + k));
    }
  }

  /** x_0, the first block's input. */
  input(): Float32Array {
    return this.buffers[0];
  }

  /** Block l's output x_{l+1} (also the input of block l+1). */
  output(l: number): Float32Array {
    if (this.training) return this.buffers[l + 1];
    return this.buffers[this.tapSlot.get(l) ?? (l + 1) % 2];
  }

  /** Block l's input x_l. */
  inputOf(l: number): Float32Array {
    return l === 0 ? this.input() : this.output(l - 1);
  }

  /** A buffer free until block 0 writes its output: room for the stem before its LayerNorm. */
  stemScratch(): Float32Array {
    return this.output(0);
  }
}
