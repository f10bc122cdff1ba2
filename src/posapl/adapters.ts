/**
 * POSAPL's token adapters as model modules over the fused native ops: the SA-adapter on each
 * block's MLP output (spec section 2) and the Linear-ReLU-Linear adapters (the POS connector and
 * the per-layer POS adapters, spec section 3). Parameters come from the model's store by name.
 */
import { TokenAdapter } from '../nn/residualBlock';
import { axpy } from '../ops/elementwise';
import { mlpAdapterBackward, mlpAdapterForward, mlpAdapterSizes, MlpAdapterParams } from '../ops/mlp_adapter';
import { saAdapterBackward, saAdapterForward, saAdapterSizes, SaAdapterParams } from '../ops/sa_adapter';
import { Parameters } from './parameters';

/** The SA-adapter `prefix` (e.g. adapter_img.3): l1 down, msa, l2 up. */
export class SaAdapter implements TokenAdapter {
  private readonly params: SaAdapterParams;
  private readonly grads: SaAdapterParams;
  readonly width: number;
  readonly down: number;

  constructor(store: Parameters, prefix: string, readonly tokens: number, readonly heads: number) {
    const names = {
      wd: `${prefix}.l1.weight`, bd: `${prefix}.l1.bias`,
      win: `${prefix}.msa.in_proj_weight`, bin: `${prefix}.msa.in_proj_bias`,
      wo: `${prefix}.msa.out_proj.weight`, bo: `${prefix}.msa.out_proj.bias`,
      wu: `${prefix}.l2.weight`, bu: `${prefix}.l2.bias`,
    };
    this.params = mapValues(names, (n) => store.data(n));
    this.grads = mapValues(names, (n) => store.grad(n));
    [this.down, this.width] = store.get(names.wd).spec.shape;
  }

  private dims(n: number) {
    return { n, l: this.tokens, c: this.width, r: this.down, h: this.heads };
  }

  savedSize(n: number): number {
    return saAdapterSizes(this.dims(n)).saved;
  }

  forward(out: Float32Array, saved: Float32Array, m: Float32Array, n: number): void {
    saAdapterForward({ ...this.dims(n), out, saved, m, params: this.params });
  }

  backward(dm: Float32Array | null, dout: Float32Array, m: Float32Array, saved: Float32Array, n: number, accumulateDx: boolean): void {
    const own = dm && accumulateDx ? new Float32Array(dm.length) : dm;
    saAdapterBackward({ ...this.dims(n), dm: own, grads: this.grads, dout, m, params: this.params, saved });
    if (dm && own && own !== dm) axpy(dm, own, 1, dm.length);
  }
}

/** Linear -> ReLU -> Linear over token rows, `prefix` with l1 and l2 (POS connector, POS side). */
export class MlpAdapter implements TokenAdapter {
  private readonly params: MlpAdapterParams;
  private readonly grads: MlpAdapterParams;
  readonly width: number;
  readonly hidden: number;

  constructor(store: Parameters, prefix: string, readonly tokens: number) {
    const names = { w1: `${prefix}.l1.weight`, b1: `${prefix}.l1.bias`, w2: `${prefix}.l2.weight`, b2: `${prefix}.l2.bias` };
    this.params = mapValues(names, (n) => store.data(n));
    this.grads = mapValues(names, (n) => store.grad(n));
    [this.hidden, this.width] = store.get(names.w1).spec.shape;
  }

  private dims(n: number) {
    return { rows: n * this.tokens, c: this.width, r: this.hidden, cout: this.width };
  }

  savedSize(n: number): number {
    return mlpAdapterSizes(this.dims(n)).saved;
  }

  forward(out: Float32Array, saved: Float32Array, x: Float32Array, n: number): void {
    mlpAdapterForward({ ...this.dims(n), out, saved, x, params: this.params });
  }

  backward(dx: Float32Array | null, dout: Float32Array, x: Float32Array, saved: Float32Array, n: number, accumulateDx: boolean): void {
    const own = dx && accumulateDx ? new Float32Array(dx.length) : dx;
    mlpAdapterBackward({ ...this.dims(n), dx: own, grads: this.grads, dout, x, params: this.params, saved });
    if (dx && own && own !== dx) axpy(dx, own, 1, dx.length);
  }
}

function mapValues<K extends string, V>(o: Record<K, string>, f: (name: string) => V): Record<K, V> {
  const out = {} as Record<K, V>;
  for (const k of Object.keys(o) as K[]) out[k] = f(o[k]);
  return out;
}
