/**
 * The model's tensors: one Float32Array per parameter, a gradient buffer only for trainable
 * ones (frozen weights never get gradient memory), looked up by any of their names.
 */
import { posaplError } from '../errors';
import { SeededRandom } from '../seededRandom';
import { Init, ParameterSpec } from './parameterSpecs';

/** One parameter: its data and, when trainable, its gradient. */
export interface Parameter {
  readonly spec: ParameterSpec;
  data: Float32Array;
  /** Present only for trainable parameters. */
  readonly grad: Float32Array | null;
}

/** Product of a shape; a scalar (shape []) has one element. */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export class Parameters {
  private readonly byName = new Map<string, Parameter>();
  /** Every parameter once, in spec order. */
  readonly list: Parameter[] = [];

  constructor(specs: ParameterSpec[]) {
    for (const spec of specs) {
      const n = numel(spec.shape);
      const p: Parameter = { spec, data: new Float32Array(n), grad: spec.trainable ? new Float32Array(n) : null };
      this.list.push(p);
      this.byName.set(spec.name, p);
      for (const alias of spec.aliases) this.byName.set(alias, p);
    }
  }

  /** The parameter called `name` (any of its names); throws naming it when absent. */
  get(name: string): Parameter {
    const p = this.byName.get(name);
    if (!p) throw posaplError('POSAPL_INTERNAL', `posapl: the model has no parameter ${name}`);
    return p;
  }

  /** Data of `name`. */
  data(name: string): Float32Array {
    return this.get(name).data;
  }

  /** Gradient of a trainable `name`. */
  grad(name: string): Float32Array {
    const g = this.get(name).grad;
    if (!g) throw posaplError('POSAPL_INTERNAL', `posapl: ${name} is frozen and has no gradient`);
    return g;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The trainable parameters in spec order. */
  trainable(): Parameter[] {
    return this.list.filter((p) => p.spec.trainable);
  }

  /** Fills every tensor as its spec says, from a seeded generator (open_clip's init). */
  initialise(seed: number): void {
    const random = new SeededRandom(seed);
    for (const p of this.list) fill(p.data, p.spec.init, random);
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
