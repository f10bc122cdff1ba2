/**
 * Side Fusion (spec section 4) as a model module: the four linears `prefix.adapter_1..4` over the
 * taps, chained or end-add; with the token mean on the vision tower, per token on the text tower.
 */
import { sideFusionBackward, sideFusionForward, sideFusionSizes, SideFusionParams } from '../ops/side_fusion';
import { Parameters } from './parameters';

export class SideFusion {
  private readonly params: SideFusionParams;
  private readonly grads: SideFusionParams;
  readonly width: number;

  /** `mean`: vision (token means, adapter_4 after the mean at index 1); `chained` or end-add. */
  constructor(store: Parameters, prefix: string, readonly mean: boolean, readonly chained: boolean) {
    const last = `${prefix}.adapter_4.${mean ? 1 : 0}`;
    const names = {
      w1: `${prefix}.adapter_1.0.weight`, b1: `${prefix}.adapter_1.0.bias`,
      w2: `${prefix}.adapter_2.0.weight`, b2: `${prefix}.adapter_2.0.bias`,
      w3: `${prefix}.adapter_3.0.weight`, b3: `${prefix}.adapter_3.0.bias`,
      w4: `${last}.weight`, b4: `${last}.bias`,
    };
    this.params = {} as SideFusionParams;
    this.grads = {} as SideFusionParams;
    for (const k of Object.keys(names) as (keyof SideFusionParams)[]) {
      this.params[k] = store.data(names[k]);
      this.grads[k] = store.grad(names[k]);
    }
    this.width = store.get(names.w1).spec.shape[0];
  }

  private dims(n: number, l: number) {
    return { n, l, c: this.width, chained: this.chained, mean: this.mean };
  }

  savedSize(n: number, l: number): number {
    return sideFusionSizes(this.dims(n, l)).saved;
  }

  /** s4 ((N,C) with the mean, else (N,L,C)) from the four taps (N,L,C). */
  forward(s4: Float32Array, saved: Float32Array, taps: Float32Array[], n: number, l: number): void {
    sideFusionForward({ ...this.dims(n, l), s4, saved, taps: this.taps(taps), params: this.params });
  }

  /** dTaps[k] (N,L,C) are overwritten with the taps' gradients (dTaps[3] stays zero for end-add). */
  backward(dTaps: Float32Array[], ds4: Float32Array, taps: Float32Array[], saved: Float32Array, n: number, l: number): void {
    sideFusionBackward({
      ...this.dims(n, l),
      dtaps: { df1: dTaps[0], df2: dTaps[1], df3: dTaps[2], df4: this.chained ? dTaps[3] : null },
      grads: this.grads, ds4, taps: this.taps(taps), params: this.params, saved,
    });
  }

  private taps(t: Float32Array[]) {
    return { f1: t[0], f2: t[1], f3: t[2], f4: this.chained ? t[3] : null };
  }
}
