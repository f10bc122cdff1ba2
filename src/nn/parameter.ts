/**
 * A weight as the layers see it: its value and, when trainable, the gradient that backward
 * accumulates (+=) into. Whoever owns the model's store (src/posapl) hands layers these.
 */
import { Tensor } from '../backend/tensor';

export interface Parameter {
  readonly value: Tensor;
  /** Present only for trainable parameters: frozen weights never get gradient memory. */
  readonly grad: Tensor | null;
}

/** A torch Linear's weight (out,in) and its bias (out), if any. */
export interface LinearWeights {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
}
