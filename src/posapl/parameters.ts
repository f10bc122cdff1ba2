/**
 * The model's store: one backend tensor per parameter, a gradient tensor only for trainable ones
 * (frozen weights never get gradient memory), looked up by any of their open_clip / POSAPL names.
 * Layers get their Parameter (src/nn/parameter.ts) from here; only this layer knows the names.
 */
import { carveArena } from '../backend/arena';
import { Backend, HostArray } from '../backend/backend';
import { Tensor, numel } from '../backend/tensor';
import { posaplError } from '../errors';
import { Parameter } from '../nn/parameter';
import { SeededRandom } from '../seededRandom';
import { Init, ParameterSpec } from './parameterSpecs';

export { numel };

/** One parameter of the model: a layer's Parameter with its spec. */
export class ModelParameter implements Parameter {
  constructor(
    private readonly backend: Backend,
    readonly spec: ParameterSpec,
    readonly value: Tensor,
    readonly grad: Tensor | null,
  ) {}

  /** The value as a live host array (CPU backend); throws where the device memory is not the host's. */
  get data(): Float32Array {
    const view = this.backend.hostView(this.value);
    if (!view) throw posaplError('POSAPL_DEVICE', `posapl: ${this.spec.name} lives on ${this.value.device}; read it with model.stateDict()`);
    return view as Float32Array;
  }
}

export class Parameters {
  private readonly byName = new Map<string, ModelParameter>();
  /** Every parameter once, in spec order. */
  readonly list: ModelParameter[] = [];

  constructor(private readonly backend: Backend, specs: ParameterSpec[]) {
    // Every value and gradient in one allocation: given back whole when the model is disposed.
    const { tensors } = carveArena(backend, (carve) =>
      specs.map((spec) => ({ value: carve.f32(...spec.shape), grad: spec.trainable ? carve.f32(...spec.shape) : null })));
    specs.forEach((spec, i) => {
      const p = new ModelParameter(backend, spec, tensors[i].value, tensors[i].grad);
      this.list.push(p);
      this.byName.set(spec.name, p);
      for (const alias of spec.aliases) this.byName.set(alias, p);
    });
  }

  /** The parameter called `name` (any of its names); throws naming it when absent. */
  get(name: string): ModelParameter {
    const p = this.byName.get(name);
    if (!p) throw posaplError('POSAPL_INTERNAL', `posapl: the model has no parameter ${name}`);
    return p;
  }

  /** Value of `name`. */
  value(name: string): Tensor {
    return this.get(name).value;
  }

  /** Gradient of a trainable `name`. */
  grad(name: string): Tensor {
    const g = this.get(name).grad;
    if (!g) throw posaplError('POSAPL_INTERNAL', `posapl: ${name} is frozen and has no gradient`);
    return g;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The trainable parameters in spec order. */
  trainable(): ModelParameter[] {
    return this.list.filter((p) => p.spec.trainable);
  }

  /** Copies a host array of the parameter's size into it (loading weights). */
  write(p: ModelParameter, data: HostArray): void {
    this.backend.write(p.value, data);
  }

  /** Fills every tensor as its spec says, from a seeded generator (open_clip's init). */
  initialise(seed: number): void {
    const random = new SeededRandom(seed);
    for (const p of this.list) {
      const view = this.backend.hostView(p.value);
      const host = (view as Float32Array | null) ?? new Float32Array(p.value.size);
      fill(host, p.spec.init, random);
      if (!view) this.backend.write(p.value, host);
    }
  }
}

function fill(data: Float32Array, init: Init, random: SeededRandom): void {
  switch (init.kind) {
    case 'constant':
      data.fill(init.value);
      break;
    case 'normal':
      for (let i = 0; i < data.length; i++) data[i] = random.normal() * init.std;
      break;
    case 'uniform':
      for (let i = 0; i < data.length; i++) data[i] = (random.random() * 2 - 1) * init.bound;
      break;
  }
}
