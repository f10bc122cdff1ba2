/**
 * The buffers one tower's backward works in, kept with its training activations so a step
 * allocates (and the OS zero-fills) nothing: the running token gradient and its partner, the
 * Side Fusion taps' gradients, the POS stream's gradient and the blocks' shared scratch.
 */
import { BlockGradScratch, ResidualBlock } from './residualBlock';

export class BackwardBuffers {
  readonly dy: Float32Array; // (N,L,C)
  readonly dx: Float32Array; // (N,L,C)
  readonly dTaps: Float32Array[]; // each tapSize, overwritten by Side Fusion's backward
  readonly dp: Float32Array | null; // (N,L,C), accumulated: zeroed by the caller
  readonly scratch: BlockGradScratch;

  constructor(block: ResidualBlock, n: number, taps: number, tapSize: number, withPos: boolean) {
    const size = n * block.tokens * block.width;
    this.dy = new Float32Array(size);
    this.dx = new Float32Array(size);
    this.dTaps = Array.from({ length: taps }, () => new Float32Array(tapSize));
    this.dp = withPos ? new Float32Array(size) : null;
    this.scratch = new BlockGradScratch(block, n);
  }
}
