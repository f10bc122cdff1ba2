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
    const random = new GaussianRandom(seed);
    for (const p of this.list) {
      const view = this.backend.hostView(p.value);
      const host = (view as Float32Array | null) ?? new Float32Array(p.value.size);
      fill(host, p.spec.init, random);
      if (!view) this.backend.write(p.value, host);
    }
  }
}

function fill(data: Float32Array, init: Init, random: GaussianRandom): void {
  switch (init.kind) {
    case 'constant':
      data.fill(init.value);
      break;
    case 'normal':
      for (let i = 0; i < data.length; i++) data[i] = random.normal() * init.std;
      break;
    case 'uniform':
      for (let i = 0; i < data.length; i++) data[i] = (random.uniform() * 2 - 1) * init.bound;
      break;
  }
}

/** Seeded uniform (xoshiro128**) and normal (Box-Muller) numbers; reproducible across runs. */
export class GaussianRandom {
  private readonly s = new Uint32Array(4);
  private spare: number | null = null;

  constructor(seed: number) {
    // splitmix32 of the seed fills the state (never all zero).
    let z = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      z = (z + 0x9e3779b9) >>> 0;
      let x = z;
      x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
      x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
      this.s[i] = (x ^ (x >>> 16)) >>> 0;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  private next32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 bits. */
  uniform(): number {
    return ((this.next32() >>> 5) * 67108864 + (this.next32() >>> 6)) / 9007199254740992;
  }

  /** Standard normal. */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
