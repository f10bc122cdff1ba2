/**
 * The POSAPL model: both towers over one parameter store, the two retrieval losses, gradient
 * caching for batches larger than a micro-batch, and the HuggingFace AdamW step (spec section 5).
 */
import { Arena, Carver, carveArena } from '../backend/arena';
import { Backend } from '../backend/backend';
import { Tensor } from '../backend/tensor';
import { ModelConfig } from '../clip/config';
import { posaplError } from '../errors';
import { saveStateDict } from '../io';
import { TensorEntry } from '../io/dtypes';
import { Precision } from '../nn/linear';
import { parameterSpecs } from './parameterSpecs';
import { Parameters } from './parameters';
import { TextActivations, TextTower } from './textTower';
import { VisionActivations, VisionTower } from './visionTower';

/** One training batch. */
export interface TrainingBatch {
  /** Normalised pixels (n,3,S,S). */
  pixels: Float32Array;
  /** Caption ids (n,context_length). */
  ids: Int32Array;
  /** POS ids (n,context_length), or null to run without the POS stream. */
  posIds: Int32Array | null;
  /** Image id of each pair (n): equal ids share the contrastive target. */
  imageIds: Int32Array;
  n: number;
  /** Largest number of samples run with activations at once; smaller than n turns on gradient caching. */
  microBatch?: number;
}

/** The two loss values of a batch. */
export interface BatchLosses {
  contrastive: number;
  triplet: number;
}

/**
 * Samples per inference chunk in encodeImages / encodeTexts: 64 keeps a chunk's activations in
 * the CPU's caches; a GPU wants whole batches (at 64 a chunk is bound by kernel launches).
 */
const ENCODE_CHUNK = { cpu: 64, cuda: 256 } as const;

/** The batch-wide buffers of the losses (n,E) each, carved from one allocation per batch size. */
class LossBuffers {
  readonly imageRaw: Tensor;
  readonly textRaw: Tensor;
  readonly image: Tensor;
  readonly text: Tensor;
  readonly dImage: Tensor;
  readonly dText: Tensor;
  readonly dImageRaw: Tensor;
  readonly dTextRaw: Tensor;

  constructor(carve: Carver, readonly n: number, e: number) {
    this.imageRaw = carve.f32(n, e);
    this.textRaw = carve.f32(n, e);
    this.image = carve.f32(n, e);
    this.text = carve.f32(n, e);
    this.dImage = carve.f32(n, e);
    this.dText = carve.f32(n, e);
    this.dImageRaw = carve.f32(n, e);
    this.dTextRaw = carve.f32(n, e);
  }
}

export class PosaplModel {
  readonly params: Parameters;
  readonly vision: VisionTower;
  readonly text: TextTower;
  /** Number of AdamW steps taken. */
  steps = 0;
  private moments: { m: Tensor[]; v: Tensor[] } | null = null;
  private readonly activationCache = new Map<string, Arena<VisionActivations | TextActivations>>();
  private lossBuffers: Arena<LossBuffers> | null = null;
  private disposed = false;
  private precisionInUse: Precision = 'fp32';

  /** A model on `backend` (its parameters, activations and optimiser state all live there). */
  constructor(readonly config: ModelConfig, readonly backend: Backend) {
    this.params = new Parameters(backend, parameterSpecs(config));
    this.vision = new VisionTower(backend, this.params, config);
    this.text = new TextTower(backend, this.params, config);
  }

  /** Arithmetic of the frozen backbone's products that runs: 'fp32', 'tf32' (CUDA) or 'bf16' (AMX or CUDA). */
  get precision(): Precision {
    return this.precisionInUse;
  }

  /**
   * Runs the frozen backbone's Linears in bf16 (weights packed once, activations rounded as they
   * are read, fp32 accumulation), in TF32 (CUDA), or back in fp32. Adapters, gradients, losses and
   * AdamW stay fp32. 'bf16' falls back to fp32 where the CPU or OS lacks AMX-BF16 and 'tf32' on the
   * CPU: read `precision` to see which runs. Call again after changing frozen weights.
   */
  setPrecision(precision: Precision): Precision {
    this.checkUsable();
    if (precision !== 'fp32' && precision !== 'tf32' && precision !== 'bf16') {
      throw posaplError('POSAPL_TYPE', `Expected 'fp32', 'tf32' or 'bf16' for precision but received ${JSON.stringify(precision)}`);
    }
    const tf32 = this.backend.setMathMode !== undefined;
    const effective: Precision = precision === 'bf16' && this.backend.supportsOp('gemmBf16') ? 'bf16'
      : precision !== 'fp32' && tf32 ? 'tf32' : 'fp32';
    // The fp32 products left (all of them in tf32, the patch stem and projections in bf16) run on
    // TF32 tensor cores where the backend has them; adapters and losses stay exact fp32.
    this.backend.setMathMode?.(effective === 'fp32' ? 'fp32' : 'tf32');
    for (const block of [...this.vision.blocks, ...this.text.blocks]) block.setPrecision(effective === 'bf16' ? 'bf16' : 'fp32');
    this.precisionInUse = effective;
    // Cached activations were shaped for the previous precision (the fused MLP keeps no GELU output).
    this.dropActivations();
    return effective;
  }

  /** (n,3,S,S) normalised pixels -> (n,embed_dim) L2-normalised image embeddings. */
  encodeImages(pixels: Float32Array, n: number): Float32Array {
    this.checkUsable();
    checkCount(n, 'n');
    const S = this.config.vision_cfg.image_size;
    checkArray(pixels, Float32Array, n * 3 * S * S, 'pixels', `(n,3,${S},${S})`);
    const input = this.backend.fromHost(pixels, [n, 3, S, S]);
    try {
      return this.encodeChunks(n, (out, i0, m) => {
        this.vision.forward(out, this.rows(input, i0, m), m, this.visionActivations(m, false));
      });
    } finally {
      this.backend.free(input); // a device copy (the CPU shares the caller's array: nothing to free)
    }
  }

  /** (n,context_length) caption ids (and POS ids) -> (n,embed_dim) L2-normalised text embeddings. */
  encodeTexts(ids: Int32Array, posIds: Int32Array | null, n: number): Float32Array {
    this.checkUsable();
    checkCount(n, 'n');
    const L = this.config.text_cfg.context_length;
    checkArray(ids, Int32Array, n * L, 'ids', `(n,${L})`);
    if (posIds !== null) checkArray(posIds, Int32Array, n * L, 'posIds', `(n,${L})`);
    const idsIn = this.backend.fromHost(ids, [n, L]);
    const posIn = posIds && this.backend.fromHost(posIds, [n, L]);
    try {
      return this.encodeChunks(n, (out, i0, m) => {
        this.text.forward(out, this.rows(idsIn, i0, m), posIn && this.rows(posIn, i0, m), m, this.textActivations(m, false));
      });
    } finally {
      this.backend.free(idsIn);
      if (posIn) this.backend.free(posIn);
    }
  }

  /**
   * Both losses on a batch; their gradients are added into the trainable parameters' gradients.
   * With microBatch < n the batch is embedded without activations first, the loss gradients taken
   * on the whole batch, then each micro-batch re-run with activations (gradient caching): the same
   * gradients as one pass, with memory that follows the micro-batch.
   */
  lossAndGradients(b: TrainingBatch): BatchLosses {
    this.checkUsable();
    const { n } = b;
    checkCount(n, 'n');
    const S = this.config.vision_cfg.image_size;
    const L = this.config.text_cfg.context_length;
    checkArray(b.pixels, Float32Array, n * 3 * S * S, 'pixels', `(n,3,${S},${S})`);
    checkArray(b.ids, Int32Array, n * L, 'ids', `(n,${L})`);
    if (b.posIds !== null) checkArray(b.posIds, Int32Array, n * L, 'posIds', `(n,${L})`);
    checkArray(b.imageIds, Int32Array, n, 'imageIds', '(n)');
    const mb = b.microBatch ?? n;
    checkCount(mb, 'microBatch');
    const be = this.backend;
    const pixels = be.fromHost(b.pixels, [n, 3, S, S]);
    const ids = be.fromHost(b.ids, [n, L]);
    const posIds = b.posIds && be.fromHost(b.posIds, [n, L]);
    const imageIds = be.fromHost(b.imageIds, [n]);
    try {
      return this.lossAndGradientsOn(b, pixels, ids, posIds, imageIds);
    } finally {
      for (const t of [pixels, ids, posIds, imageIds]) if (t) be.free(t); // device copies only
    }
  }

  private lossAndGradientsOn(b: TrainingBatch, pixels: Tensor, ids: Tensor, posIds: Tensor | null, imageIds: Tensor): BatchLosses {
    const { n } = b;
    const mb = b.microBatch ?? n;
    const be = this.backend;
    const lb = this.lossBuffersFor(n);
    const part = (t: Tensor, i0: number, m: number) => this.rows(t, i0, m); // samples [i0, i0+m)

    if (mb >= n) {
      // Everything fits: one forward with activations, one backward.
      const va = this.visionActivations(n, true);
      const ta = this.textActivations(n, true);
      this.vision.forward(lb.imageRaw, pixels, n, va);
      this.text.forward(lb.textRaw, ids, posIds, n, ta);
      const losses = this.lossGradients(lb, imageIds);
      this.vision.backward(lb.dImageRaw, n, va);
      this.text.backward(lb.dTextRaw, n, ta);
      return losses;
    }
    // Gradient caching: 1. embed without activations, 2. loss gradients, 3. re-run with activations.
    for (let i0 = 0; i0 < n; i0 += mb) {
      const m = Math.min(mb, n - i0);
      this.vision.forward(part(lb.imageRaw, i0, m), part(pixels, i0, m), m, this.visionActivations(m, false));
      this.text.forward(part(lb.textRaw, i0, m), part(ids, i0, m), posIds && part(posIds, i0, m), m, this.textActivations(m, false));
    }
    const losses = this.lossGradients(lb, imageIds);
    for (let i0 = 0; i0 < n; i0 += mb) {
      const m = Math.min(mb, n - i0);
      const va = this.visionActivations(m, true);
      this.vision.forward(va.embScratch, part(pixels, i0, m), m, va);
      this.vision.backward(part(lb.dImageRaw, i0, m), m, va);
      const ta = this.textActivations(m, true);
      this.text.forward(ta.embScratch, part(ids, i0, m), posIds && part(posIds, i0, m), m, ta);
      this.text.backward(part(lb.dTextRaw, i0, m), m, ta);
    }
    return losses;
  }

  /** Trainable parameters' gradients by POSAPL state-dict name (no `model.` prefix). */
  gradients(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const p of this.params.trainable()) out.set(p.spec.name, this.backend.toHost(p.grad as Tensor) as Float32Array);
    return out;
  }

  /** Sets every gradient to zero. */
  zeroGradients(): void {
    for (const p of this.params.trainable()) this.backend.fill(p.grad as Tensor, 0);
  }

  /** One AdamW step (HuggingFace variant, spec section 5) at learning rate lr. */
  step(lr: number): void {
    this.checkUsable();
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
      throw posaplError('POSAPL_TYPE', `Expected non-negative finite number for lr but received ${String(lr)}`);
    }
    const trainable = this.params.trainable();
    if (!this.moments) {
      this.moments = {
        m: trainable.map((p) => this.backend.alloc(p.value.shape)),
        v: trainable.map((p) => this.backend.alloc(p.value.shape)),
      };
    }
    this.steps += 1;
    this.backend.adamw({
      params: trainable.map((p) => p.value), grads: trainable.map((p) => p.grad as Tensor),
      expAvg: this.moments.m, expAvgSq: this.moments.v, lr, step: this.steps,
      beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 0.01,
    });
  }

  /** The optimiser's moments by parameter name (for resuming); null before the first step. */
  optimizerState(): { step: number; m: Map<string, Float32Array>; v: Map<string, Float32Array> } | null {
    if (!this.moments) return null;
    const names = this.params.trainable().map((p) => p.spec.name);
    const host = (t: Tensor) => this.backend.toHost(t) as Float32Array;
    const moments = this.moments;
    return {
      step: this.steps,
      m: new Map(names.map((n, i) => [n, host(moments.m[i])])),
      v: new Map(names.map((n, i) => [n, host(moments.v[i])])),
    };
  }

  /** Restores the optimiser (from {@link optimizerState}) to continue a run exactly. */
  setOptimizerState(state: { step: number; m: Map<string, Float32Array>; v: Map<string, Float32Array> }): void {
    const trainable = this.params.trainable();
    const take = (moments: Map<string, Float32Array>, kind: string) =>
      trainable.map((p) => {
        const t = moments.get(p.spec.name);
        if (!t || t.length !== p.value.size) {
          throw posaplError('POSAPL_WEIGHTS', `optimiser state: ${kind} of ${p.spec.name} is missing or has the wrong size`);
        }
        const moment = this.backend.alloc(p.value.shape);
        this.backend.write(moment, t);
        return moment;
      });
    this.moments = { m: take(state.m, 'first moment'), v: take(state.v, 'second moment') };
    this.steps = state.step;
  }

  /** Every tensor once, by its POSAPL state-dict name. */
  stateDict(): Map<string, { shape: number[]; data: Float32Array }> {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const p of this.params.list) out.set(p.spec.name, { shape: [...p.spec.shape], data: this.backend.toHost(p.value) as Float32Array });
    return out;
  }

  /**
   * Writes the model's tensors in the authors' layout (every name torch's state_dict() lists,
   * the per-block adapter names included), atomically. Format from opts, else from the
   * extension: `.safetensors` gives safetensors, anything else PyTorch's zip format.
   */
  async save(path: string, opts: { adaptersOnly?: boolean; format?: 'safetensors' | 'torch' } = {}): Promise<void> {
    this.checkUsable();
    if (typeof path !== 'string' || path.length === 0) {
      throw posaplError('POSAPL_TYPE', `Expected a file path for path but received ${JSON.stringify(path)}`);
    }
    const format = opts.format ?? (path.endsWith('.safetensors') ? 'safetensors' : 'torch');
    const entries = new Map<string, TensorEntry>();
    for (const p of this.params.list) {
      if (opts.adaptersOnly && !p.spec.trainable) continue;
      const entry: TensorEntry = { dtype: 'float32', shape: [...p.spec.shape], data: this.backend.toHost(p.value) as Float32Array };
      entries.set(p.spec.name, entry);
      for (const alias of p.spec.aliases) entries.set(alias, entry);
    }
    await saveStateDict(path, entries, { format });
  }

  /**
   * Frees every buffer of the model (parameters included: arrays from stateDict(), gradients()
   * and optimizerState() become empty) and marks it unusable. Embeddings already returned stay.
   */
  dispose(): void {
    this.dropActivations();
    this.lossBuffers = null;
    this.moments = null;
    this.disposed = true;
    // Parameters, moments, packed weights and arenas: nothing the backend holds outlives the model.
    this.backend.freeAll();
  }

  /** Both losses on the embeddings in `lb`, and their gradients with respect to the raw embeddings. */
  private lossGradients(lb: LossBuffers, imageIds: Tensor): BatchLosses {
    const be = this.backend;
    const { n } = lb;
    const E = this.config.embed_dim;
    be.l2NormForward(lb.image, lb.imageRaw, n, E);
    be.l2NormForward(lb.text, lb.textRaw, n, E);
    const { contrastive, triplet } = be.retrievalLosses({
      image: lb.image, text: lb.text, imageIds, n, e: E, logitScale: this.logitScale(),
      margin: 0.1, gamma: 2, contrastiveWeight: 1, tripletWeight: this.config.posapl.triplet ? 1 : 0,
      dImage: lb.dImage, dText: lb.dText,
    });
    be.l2NormBackward(lb.dImageRaw, lb.dImage, lb.imageRaw, n, E);
    be.l2NormBackward(lb.dTextRaw, lb.dText, lb.textRaw, n, E);
    return { contrastive, triplet };
  }

  // The logit scale is a host number to the loss op: a one-float read from the device.
  private logitScale(): number {
    return this.backend.toHost(this.params.value('logit_scale'))[0];
  }

  private lossBuffersFor(n: number): LossBuffers {
    if (this.lossBuffers?.tensors.n !== n) {
      if (this.lossBuffers) this.backend.free(this.lossBuffers.buffer);
      this.lossBuffers = carveArena(this.backend, (carve) => new LossBuffers(carve, n, this.config.embed_dim));
    }
    return this.lossBuffers.tensors;
  }

  /** Rows [i0, i0+m) of a tensor whose first axis is the sample. */
  private rows(t: Tensor, i0: number, m: number): Tensor {
    const per = t.size / t.shape[0];
    return this.backend.view(t, i0 * per, [m, ...t.shape.slice(1)]);
  }

  /** (n,E) L2-normalised embeddings on the host, from `run` over chunks of at most ENCODE_CHUNK samples. */
  private encodeChunks(n: number, run: (out: Tensor, i0: number, m: number) => void): Float32Array {
    const be = this.backend;
    const E = this.config.embed_dim;
    const raw = be.alloc([n, E]);
    const chunk = ENCODE_CHUNK[be.device];
    for (let i0 = 0; i0 < n; i0 += chunk) {
      const m = Math.min(chunk, n - i0);
      run(this.rows(raw, i0, m), i0, m);
    }
    const out = be.alloc([n, E]);
    be.l2NormForward(out, raw, n, E);
    be.free(raw);
    return be.takeHost(out) as Float32Array;
  }

  // Activation buffers are reused across calls of the same size; at most two sizes per tower and
  // mode are kept (a micro-batch and a remainder), so memory follows the micro-batch.
  private visionActivations(n: number, training: boolean): VisionActivations {
    return this.cached(`vision:${training}`, n, () => VisionActivations.create(this.backend, this.vision, n, training)) as VisionActivations;
  }

  private textActivations(n: number, training: boolean): TextActivations {
    return this.cached(`text:${training}`, n, () => TextActivations.create(this.backend, this.text, n, training)) as TextActivations;
  }

  private cached(kind: string, n: number, make: () => Arena<VisionActivations | TextActivations>) {
    const key = `${kind}:${n}`;
    let a = this.activationCache.get(key);
    if (!a) {
      const same = [...this.activationCache.keys()].filter((k) => k.startsWith(`${kind}:`));
      if (same.length >= 2) {
        this.backend.free((this.activationCache.get(same[0]) as Arena<unknown>).buffer);
        this.activationCache.delete(same[0]);
      }
      a = make();
      this.activationCache.set(key, a);
    }
    return a.tensors;
  }

  private dropActivations(): void {
    for (const a of this.activationCache.values()) this.backend.free(a.buffer);
    this.activationCache.clear();
  }

  private checkUsable(): void {
    if (this.disposed) throw posaplError('POSAPL_DISPOSED', 'posapl: this model was disposed');
  }
}

function checkCount(n: unknown, name: string): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw posaplError('POSAPL_TYPE', `Expected positive integer for ${name} but received ${String(n)}`);
  }
}

function checkArray(a: unknown, kind: typeof Float32Array | typeof Int32Array, length: number, name: string, shape: string): void {
  const ok = ArrayBuffer.isView(a) && (a as object).constructor.name === kind.name;
  if (!ok) {
    const got = ArrayBuffer.isView(a) ? (a as object).constructor.name : a === null ? 'null' : typeof a;
    throw posaplError('POSAPL_TYPE', `Expected ${kind.name} ${shape} for ${name} but received ${got}`);
  }
  if ((a as Float32Array).length !== length) {
    throw posaplError('POSAPL_SHAPE', `Expected ${kind.name} of length ${length} ${shape} for ${name} but received length ${(a as Float32Array).length}`);
  }
}
