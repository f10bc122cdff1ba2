/**
 * The POSAPL model: both towers over one parameter store, the two retrieval losses, gradient
 * caching for batches larger than a micro-batch, and the HuggingFace AdamW step (spec section 5).
 */
import { ModelConfig } from '../clip/config';
import { posaplError } from '../errors';
import { saveStateDict } from '../io';
import { TensorEntry } from '../io/dtypes';
import { adamw } from '../ops/adamw';
import { l2NormBackward, l2NormForward } from '../ops/l2norm';
import { retrievalLosses } from '../ops/losses';
import { Precision } from '../nn/linear';
import { bf16Available } from '../ops/gemmBf16';
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

/** Samples per inference chunk in encodeImages / encodeTexts. */
const ENCODE_CHUNK = 64;

export class PosaplModel {
  readonly params: Parameters;
  readonly vision: VisionTower;
  readonly text: TextTower;
  /** Number of AdamW steps taken. */
  steps = 0;
  private moments: { m: Float32Array[]; v: Float32Array[] } | null = null;
  private readonly activationCache = new Map<string, VisionActivations | TextActivations>();
  private disposed = false;
  private precisionInUse: Precision = 'fp32';

  constructor(readonly config: ModelConfig) {
    this.params = new Parameters(parameterSpecs(config));
    this.vision = new VisionTower(this.params, config);
    this.text = new TextTower(this.params, config);
  }

  /** Arithmetic of the frozen backbone's products: 'fp32', or 'bf16' (AMX) where the CPU has it. */
  get precision(): Precision {
    return this.precisionInUse;
  }

  /**
   * Runs the frozen backbone's Linears in bf16 (weights packed once, activations rounded as they
   * are read, fp32 accumulation) or back in fp32. Adapters, gradients, losses and AdamW stay fp32.
   * Where the CPU or OS lacks AMX-BF16, 'bf16' falls back to fp32: read `precision` to see which
   * runs. Call again after changing frozen weights.
   */
  setPrecision(precision: Precision): Precision {
    this.checkUsable();
    if (precision !== 'fp32' && precision !== 'bf16') {
      throw posaplError('POSAPL_TYPE', `Expected 'fp32' or 'bf16' for precision but received ${JSON.stringify(precision)}`);
    }
    const effective: Precision = precision === 'bf16' && bf16Available() ? 'bf16' : 'fp32';
    for (const block of [...this.vision.blocks, ...this.text.blocks]) block.setPrecision(effective);
    this.precisionInUse = effective;
    // Cached activations were shaped for the previous precision (the fused MLP keeps no GELU output).
    this.activationCache.clear();
    return effective;
  }

  /** (n,3,S,S) normalised pixels -> (n,embed_dim) L2-normalised image embeddings. */
  encodeImages(pixels: Float32Array, n: number): Float32Array {
    this.checkUsable();
    checkCount(n, 'n');
    const S = this.config.vision_cfg.image_size;
    checkArray(pixels, Float32Array, n * 3 * S * S, 'pixels', `(n,3,${S},${S})`);
    const raw = this.encodeChunks(n, ENCODE_CHUNK, (out, i0, m) => {
      this.vision.forward(out, pixels.subarray(i0 * 3 * S * S, (i0 + m) * 3 * S * S), m, this.visionActivations(m, false));
    });
    return this.normalised(raw, n);
  }

  /** (n,context_length) caption ids (and POS ids) -> (n,embed_dim) L2-normalised text embeddings. */
  encodeTexts(ids: Int32Array, posIds: Int32Array | null, n: number): Float32Array {
    this.checkUsable();
    checkCount(n, 'n');
    const L = this.config.text_cfg.context_length;
    checkArray(ids, Int32Array, n * L, 'ids', `(n,${L})`);
    if (posIds !== null) checkArray(posIds, Int32Array, n * L, 'posIds', `(n,${L})`);
    const raw = this.encodeChunks(n, ENCODE_CHUNK, (out, i0, m) => {
      const rows = (a: Int32Array) => a.subarray(i0 * L, (i0 + m) * L);
      this.text.forward(out, rows(ids), posIds ? rows(posIds) : null, m, this.textActivations(m, false));
    });
    return this.normalised(raw, n);
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
    const E = this.config.embed_dim;
    const px = 3 * S * S;
    const slice = <T extends Float32Array | Int32Array>(a: T, i0: number, m: number, w: number) => a.subarray(i0 * w, (i0 + m) * w) as T;
    const imageRaw = new Float32Array(n * E);
    const textRaw = new Float32Array(n * E);

    if (mb >= n) {
      // Everything fits: one forward with activations, one backward.
      const va = this.visionActivations(n, true);
      const ta = this.textActivations(n, true);
      this.vision.forward(imageRaw, b.pixels, n, va);
      this.text.forward(textRaw, b.ids, b.posIds, n, ta);
      const { losses, dImageRaw, dTextRaw } = this.lossGradients(imageRaw, textRaw, b.imageIds, n);
      this.vision.backward(dImageRaw, n, va);
      this.text.backward(dTextRaw, n, ta);
      return losses;
    }
    // Gradient caching: 1. embed without activations, 2. loss gradients, 3. re-run with activations.
    for (let i0 = 0; i0 < n; i0 += mb) {
      const m = Math.min(mb, n - i0);
      this.vision.forward(slice(imageRaw, i0, m, E), slice(b.pixels, i0, m, px), m, this.visionActivations(m, false));
      this.text.forward(slice(textRaw, i0, m, E), slice(b.ids, i0, m, L), b.posIds ? slice(b.posIds, i0, m, L) : null, m, this.textActivations(m, false));
    }
    const { losses, dImageRaw, dTextRaw } = this.lossGradients(imageRaw, textRaw, b.imageIds, n);
    const scratch = new Float32Array(mb * E);
    for (let i0 = 0; i0 < n; i0 += mb) {
      const m = Math.min(mb, n - i0);
      const va = this.visionActivations(m, true);
      this.vision.forward(scratch.subarray(0, m * E), slice(b.pixels, i0, m, px), m, va);
      this.vision.backward(slice(dImageRaw, i0, m, E), m, va);
      const ta = this.textActivations(m, true);
      this.text.forward(scratch.subarray(0, m * E), slice(b.ids, i0, m, L), b.posIds ? slice(b.posIds, i0, m, L) : null, m, ta);
      this.text.backward(slice(dTextRaw, i0, m, E), m, ta);
    }
    return losses;
  }

  /** Trainable parameters' gradients by POSAPL state-dict name (no `model.` prefix). */
  gradients(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const p of this.params.trainable()) out.set(p.spec.name, p.grad as Float32Array);
    return out;
  }

  /** Sets every gradient to zero. */
  zeroGradients(): void {
    for (const p of this.params.trainable()) (p.grad as Float32Array).fill(0);
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
        m: trainable.map((p) => new Float32Array(p.data.length)),
        v: trainable.map((p) => new Float32Array(p.data.length)),
      };
    }
    this.steps += 1;
    adamw({
      params: trainable.map((p) => p.data), grads: trainable.map((p) => p.grad as Float32Array),
      expAvg: this.moments.m, expAvgSq: this.moments.v, lr, step: this.steps,
      beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 0.01,
    });
  }

  /** The optimiser's moments by parameter name (for resuming); null before the first step. */
  optimizerState(): { step: number; m: Map<string, Float32Array>; v: Map<string, Float32Array> } | null {
    if (!this.moments) return null;
    const names = this.params.trainable().map((p) => p.spec.name);
    const moments = this.moments;
    return {
      step: this.steps,
      m: new Map(names.map((n, i) => [n, moments.m[i]])),
      v: new Map(names.map((n, i) => [n, moments.v[i]])),
    };
  }

  /** Restores the optimiser (from {@link optimizerState}) to continue a run exactly. */
  setOptimizerState(state: { step: number; m: Map<string, Float32Array>; v: Map<string, Float32Array> }): void {
    const trainable = this.params.trainable();
    const take = (moments: Map<string, Float32Array>, kind: string) =>
      trainable.map((p) => {
        const t = moments.get(p.spec.name);
        if (!t || t.length !== p.data.length) {
          throw posaplError('POSAPL_WEIGHTS', `optimiser state: ${kind} of ${p.spec.name} is missing or has the wrong size`);
        }
        return t.slice();
      });
    this.moments = { m: take(state.m, 'first moment'), v: take(state.v, 'second moment') };
    this.steps = state.step;
  }

  /** Every tensor once, by its POSAPL state-dict name. */
  stateDict(): Map<string, { shape: number[]; data: Float32Array }> {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const p of this.params.list) out.set(p.spec.name, { shape: [...p.spec.shape], data: p.data });
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
      const entry: TensorEntry = { dtype: 'float32', shape: [...p.spec.shape], data: p.data };
      entries.set(p.spec.name, entry);
      for (const alias of p.spec.aliases) entries.set(alias, entry);
    }
    await saveStateDict(path, entries, { format });
  }

  /** Frees the activation buffers and marks the model unusable. */
  dispose(): void {
    this.activationCache.clear();
    this.moments = null;
    this.disposed = true;
  }

  private lossGradients(imageRaw: Float32Array, textRaw: Float32Array, imageIds: Int32Array, n: number) {
    const E = this.config.embed_dim;
    const image = new Float32Array(n * E);
    const text = new Float32Array(n * E);
    l2NormForward(image, imageRaw, n, E);
    l2NormForward(text, textRaw, n, E);
    const dImage = new Float32Array(n * E);
    const dText = new Float32Array(n * E);
    const { contrastive, triplet } = retrievalLosses({
      image, text, imageIds, n, e: E, logitScale: this.params.data('logit_scale')[0],
      margin: 0.1, gamma: 2, contrastiveWeight: 1, tripletWeight: this.config.posapl.triplet ? 1 : 0,
      dImage, dText,
    });
    const dImageRaw = new Float32Array(n * E);
    const dTextRaw = new Float32Array(n * E);
    l2NormBackward(dImageRaw, dImage, imageRaw, n, E);
    l2NormBackward(dTextRaw, dText, textRaw, n, E);
    return { losses: { contrastive, triplet }, dImageRaw, dTextRaw };
  }

  private encodeChunks(n: number, chunk: number, run: (out: Float32Array, i0: number, m: number) => void): Float32Array {
    const E = this.config.embed_dim;
    const out = new Float32Array(n * E);
    for (let i0 = 0; i0 < n; i0 += chunk) {
      const m = Math.min(chunk, n - i0);
      run(out.subarray(i0 * E, (i0 + m) * E), i0, m);
    }
    return out;
  }

  private normalised(raw: Float32Array, n: number): Float32Array {
    const out = new Float32Array(raw.length);
    l2NormForward(out, raw, n, this.config.embed_dim);
    return out;
  }

  // Activation buffers are reused across calls of the same size; at most two sizes per tower and
  // mode are kept (a micro-batch and a remainder), so memory follows the micro-batch.
  private visionActivations(n: number, training: boolean): VisionActivations {
    return this.cached(`vision:${training}`, n, () => new VisionActivations(this.vision, n, training)) as VisionActivations;
  }

  private textActivations(n: number, training: boolean): TextActivations {
    return this.cached(`text:${training}`, n, () => new TextActivations(this.text, n, training)) as TextActivations;
  }

  private cached(kind: string, n: number, make: () => VisionActivations | TextActivations) {
    const key = `${kind}:${n}`;
    let a = this.activationCache.get(key);
    if (!a) {
      const same = [...this.activationCache.keys()].filter((k) => k.startsWith(`${kind}:`));
      if (same.length >= 2) this.activationCache.delete(same[0]);
      a = make();
      this.activationCache.set(key, a);
    }
    return a;
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
