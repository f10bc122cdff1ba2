/**
 * Side Fusion (spec section 4) as a model module: the four linears `prefix.adapter_1..4` over the
 * taps, chained or end-add; with the token mean on the vision tower, per token on the text tower.
 */
import { Backend } from '../backend/backend';
import { Tensor } from '../backend/tensor';
import { Parameters } from './parameters';

type Weights = Record<'w1' | 'b1' | 'w2' | 'b2' | 'w3' | 'b3' | 'w4' | 'b4', Tensor>;

export class SideFusion {
  private readonly params = {} as Weights;
  private readonly grads = {} as Weights;
  readonly width: number;

  /** `mean`: vision (token means, adapter_4 after the mean at index 1); `chained` or end-add. */
  constructor(private readonly backend: Backend, store: Parameters, prefix: string, readonly mean: boolean, readonly chained: boolean) {
    const last = `${prefix}.adapter_4.${mean ? 1 : 0}`;
    const names = {
      w1: `${prefix}.adapter_1.0.weight`, b1: `${prefix}.adapter_1.0.bias`,
      w2: `${prefix}.adapter_2.0.weight`, b2: `${prefix}.adapter_2.0.bias`,
      w3: `${prefix}.adapter_3.0.weight`, b3: `${prefix}.adapter_3.0.bias`,
      w4: `${last}.weight`, b4: `${last}.bias`,
    };
    for (const k of Object.keys(names) as (keyof Weights)[]) {
      this.params[k] = store.value(names[k]);
      this.grads[k] = store.grad(names[k]);
    }
    this.width = store.get(names.w1).spec.shape[0];
  }

  private dims(n: number, l: number) {
    return { n, l, c: this.width, chained: this.chained, mean: this.mean };
  }

  savedSize(n: number, l: number): number {
    return this.backend.sideFusionSizes(this.dims(n, l)).saved;
  }

  scratchSize(n: number, l: number): number {
    return this.backend.sideFusionSizes(this.dims(n, l)).scratch;
  }

  /** s4 ((N,C) with the mean, else (N,L,C)) from the four taps (N,L,C). */
  forward(s4: Tensor, saved: Tensor, taps: Tensor[], n: number, l: number): void {
    this.backend.sideFusionForward({ ...this.dims(n, l), s4, saved, taps: this.taps(taps), params: this.params });
  }

  /**
   * dTaps[k] (N,L,C) are overwritten with the taps' gradients (dTaps[3] is left as it is for
   * end-add); `scratch` holds scratchSize(n, l) floats.
   */
  backward(dTaps: Tensor[], ds4: Tensor, taps: Tensor[], saved: Tensor, n: number, l: number, scratch: Tensor): void {
    this.backend.sideFusionBackward({
      ...this.dims(n, l),
      dtaps: { df1: dTaps[0], df2: dTaps[1], df3: dTaps[2], df4: this.chained ? dTaps[3] : null },
      grads: this.grads, ds4, taps: this.taps(taps), params: this.params, saved, scratch,
    });
  }

  private taps(t: Tensor[]) {
    return { f1: t[0], f2: t[1], f3: t[2], f4: this.chained ? t[3] : null };
  }
}
