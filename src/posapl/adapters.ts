/**
 * POSAPL's token adapters as model modules over the fused backend ops: the SA-adapter on each
 * block's MLP output (spec section 2) and the Linear-ReLU-Linear adapters (the POS connector and
 * the per-layer POS adapters, spec section 3). Parameters come from the model's store by name.
 */
import { Backend } from '../backend/backend';
import { Tensor } from '../backend/tensor';
import { TokenAdapter } from '../nn/residualBlock';
import { Parameters } from './parameters';

type Tensors<K extends string> = Record<K, Tensor>;

/** The SA-adapter `prefix` (e.g. adapter_img.3): l1 down, msa, l2 up. */
export class SaAdapter implements TokenAdapter {
  private readonly params: Tensors<'wd' | 'bd' | 'win' | 'bin' | 'wo' | 'bo' | 'wu' | 'bu'>;
  private readonly grads: Tensors<'wd' | 'bd' | 'win' | 'bin' | 'wo' | 'bo' | 'wu' | 'bu'>;
  readonly width: number;
  readonly down: number;

  constructor(private readonly backend: Backend, store: Parameters, prefix: string, readonly tokens: number, readonly heads: number) {
    const names = {
      wd: `${prefix}.l1.weight`, bd: `${prefix}.l1.bias`,
      win: `${prefix}.msa.in_proj_weight`, bin: `${prefix}.msa.in_proj_bias`,
      wo: `${prefix}.msa.out_proj.weight`, bo: `${prefix}.msa.out_proj.bias`,
      wu: `${prefix}.l2.weight`, bu: `${prefix}.l2.bias`,
    };
    this.params = mapValues(names, (n) => store.value(n));
    this.grads = mapValues(names, (n) => store.grad(n));
    [this.down, this.width] = store.get(names.wd).spec.shape;
  }

  private dims(n: number) {
    return { n, l: this.tokens, c: this.width, r: this.down, h: this.heads };
  }

  savedSize(n: number): number {
    return this.backend.saAdapterSizes(this.dims(n)).saved;
  }

  scratchSize(n: number): number {
    return this.backend.saAdapterSizes(this.dims(n)).scratch;
  }

  forward(out: Tensor, saved: Tensor, m: Tensor, n: number): void {
    this.backend.saAdapterForward({ ...this.dims(n), out, saved, m, params: this.params });
  }

  backward(dm: Tensor | null, dout: Tensor, m: Tensor, saved: Tensor, n: number, scratch: Tensor): void {
    this.backend.saAdapterBackward({ ...this.dims(n), dm, grads: this.grads, dout, m, params: this.params, saved, scratch: this.sized(scratch, n) });
  }

  private sized(scratch: Tensor, n: number): Tensor {
    return this.backend.view(scratch, 0, [this.scratchSize(n)]);
  }
}

/** Linear -> ReLU -> Linear over token rows, `prefix` with l1 and l2 (POS connector, POS side). */
export class MlpAdapter implements TokenAdapter {
  private readonly params: Tensors<'w1' | 'b1' | 'w2' | 'b2'>;
  private readonly grads: Tensors<'w1' | 'b1' | 'w2' | 'b2'>;
  readonly width: number;
  readonly hidden: number;

  constructor(private readonly backend: Backend, store: Parameters, prefix: string, readonly tokens: number) {
    const names = { w1: `${prefix}.l1.weight`, b1: `${prefix}.l1.bias`, w2: `${prefix}.l2.weight`, b2: `${prefix}.l2.bias` };
    this.params = mapValues(names, (n) => store.value(n));
    this.grads = mapValues(names, (n) => store.grad(n));
    [this.hidden, this.width] = store.get(names.w1).spec.shape;
  }

  private dims(n: number) {
    return { rows: n * this.tokens, c: this.width, r: this.hidden, cout: this.width };
  }

  savedSize(n: number): number {
    return this.backend.mlpAdapterSizes(this.dims(n)).saved;
  }

  scratchSize(n: number): number {
    return this.backend.mlpAdapterSizes(this.dims(n)).scratch;
  }

  forward(out: Tensor, saved: Tensor, x: Tensor, n: number): void {
    this.backend.mlpAdapterForward({ ...this.dims(n), out, saved, x, params: this.params });
  }

  backward(dx: Tensor | null, dout: Tensor, x: Tensor, saved: Tensor, n: number, scratch: Tensor): void {
    const work = this.backend.view(scratch, 0, [this.scratchSize(n)]);
    this.backend.mlpAdapterBackward({ ...this.dims(n), dx, grads: this.grads, dout, x, params: this.params, saved, scratch: work });
  }
}

function mapValues<K extends string, V>(o: Record<K, string>, f: (name: string) => V): Record<K, V> {
  const out = {} as Record<K, V>;
  for (const k of Object.keys(o) as K[]) out[k] = f(o[k]);
  return out;
}
