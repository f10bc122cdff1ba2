/**
 * The buffers one tower's backward works in, carved with its training activations so a step
 * allocates nothing: the running token gradient and its partner, the Side Fusion taps' gradients
 * and work space, the POS stream's gradient and the blocks' shared scratch.
 */
import { Carver } from '../backend/arena';
import { Tensor } from '../backend/tensor';
import { BlockGradScratch, ResidualBlock } from './residualBlock';

export class BackwardBuffers {
  readonly dy: Tensor; // (N,L,C)
  readonly dx: Tensor; // (N,L,C)
  readonly dTaps: Tensor[]; // each tapSize, overwritten by Side Fusion's backward (an end-add's last stays zero)
  readonly dp: Tensor | null; // (N,L,C), accumulated: zeroed by the caller
  readonly scratch: BlockGradScratch;

  constructor(carve: Carver, block: ResidualBlock, n: number, taps: number, tapSize: number, withPos: boolean) {
    const size = n * block.tokens * block.width;
    this.dy = carve.f32(size);
    this.dx = carve.f32(size);
    this.dTaps = Array.from({ length: taps }, () => carve.f32(tapSize));
    this.dp = withPos ? carve.f32(size) : null;
    this.scratch = new BlockGradScratch(carve, block, n);
  }
}
