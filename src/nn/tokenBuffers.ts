/**
 * The token buffers (N,L,C) a tower runs its blocks through. Training keeps every block's input
 * for the backward (x_0..x_L); inference ping-pongs two buffers and keeps only the outputs that
 * Side Fusion taps.
 */
import { Carver } from '../backend/arena';
import { Tensor } from '../backend/tensor';

export class TokenBuffers {
  private readonly buffers: Tensor[];
  private readonly tapSlot = new Map<number, number>();

  constructor(carve: Carver, readonly layers: number, taps: number[], readonly size: number, readonly training: boolean) {
    if (training) {
      this.buffers = Array.from({ length: layers + 1 }, () => carve.f32(size));
    } else {
      this.buffers = Array.from({ length: 2 + taps.length }, () => carve.f32(size));
      taps.forEach((l, k) => this.tapSlot.set(l, 2 + k));
    }
  }

  /** x_0, the first block's input. */
  input(): Tensor {
    return this.buffers[0];
  }

  /** Block l's output x_{l+1} (also the input of block l+1). */
  output(l: number): Tensor {
    if (this.training) return this.buffers[l + 1];
    return this.buffers[this.tapSlot.get(l) ?? (l + 1) % 2];
  }

  /** Block l's input x_l. */
  inputOf(l: number): Tensor {
    return l === 0 ? this.input() : this.output(l - 1);
  }

  /** A buffer free until block 0 writes its output: room for the stem before its LayerNorm. */
  stemScratch(): Tensor {
    return this.output(0);
  }
}
