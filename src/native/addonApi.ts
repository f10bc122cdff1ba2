/**
 * The typed interface of the native addon. Every native op takes ONE object of named
 * arguments (native/binding/args.h reads them by name), so two same-sized arrays cannot be
 * swapped by position: the name is what binds. The binding rejects a missing or unknown name
 * (POSAPL_ARGS), a wrong kind (POSAPL_TYPE), a length that does not match the shapes
 * (POSAPL_SHAPE) and an output sharing memory with another argument (POSAPL_ALIAS).
 * Nullable fields accept null or may be left out. Activations are native codes (0 none,
 * 1 relu, 2 gelu); src/ops maps the names.
 */

type F32 = Float32Array;
type F32OrNull = Float32Array | null | undefined;

/** A CPU SIMD path. */
export type IsaName = 'avx512' | 'avx2' | 'scalar';

/** What addon.info() reports about the loaded binary. */
export interface AddonInfo {
  /** SIMD path in use: avx512, avx2 or scalar (POSAPL_ISA can lower it). */
  isa: IsaName;
  /** Name of the native backend whose op table the calls go through ('cpu'). */
  backend: string;
  /** The best SIMD path this CPU supports (what {@link NativeAddon.setIsa} can go up to). */
  supportedIsa: IsaName;
  /** Threads a kernel uses (POSAPL_THREADS overrides the core count). */
  threads: number;
  /** Whether the bf16 kernel (AMX-BF16) can run: precision 'bf16' falls back to fp32 otherwise (POSAPL_BF16=none forces that). */
  bf16: boolean;
  /** Whether this binary was built with the CUDA backend. */
  cuda: boolean;
}

/** Named arguments of the native gemm and gemmReference. */
export interface NativeGemmArgs {
  c: F32; pre?: F32OrNull; a: F32; b: F32; bias?: F32OrNull;
  m: number; n: number; k: number; transA: boolean; transB: boolean; alpha: number; beta: number; activation: number;
}

/** Named arguments of the native gemmBf16 and gemmBf16Reference. */
export interface NativeGemmBf16Args {
  c: F32; pre?: F32OrNull; a: F32; packed: Uint16Array; bias?: F32OrNull; residual?: F32OrNull;
  m: number; n: number; k: number; alpha: number; beta: number; activation: number; aActivation: number;
}

/** Named arguments of the native saAdapterForward. */
export interface NativeSaAdapterForwardArgs {
  out: F32; saved: F32; m: F32; wd: F32; bd: F32; win: F32; bin: F32; wo: F32; bo: F32; wu: F32; bu: F32;
  n: number; l: number; c: number; r: number; h: number;
}

/** Named arguments of the native saAdapterBackward. */
export interface NativeSaAdapterBackwardArgs {
  dm?: F32OrNull; dwd: F32; dbd: F32; dwin: F32; dbin: F32; dwo: F32; dbo: F32; dwu: F32; dbu: F32;
  scratch: F32; dout: F32; m: F32; wd: F32; win: F32; wo: F32; wu: F32; saved: F32;
  n: number; l: number; c: number; r: number; h: number;
}

/** Named arguments of the native sideFusionForward (f4 null for end-add). */
export interface NativeSideFusionForwardArgs {
  s4: F32; saved: F32; f1: F32; f2: F32; f3: F32; f4?: F32OrNull;
  w1: F32; b1: F32; w2: F32; b2: F32; w3: F32; b3: F32; w4: F32; b4: F32;
  n: number; l: number; c: number; chained: boolean; mean: boolean;
}

/** Named arguments of the native sideFusionBackward (df4 null for end-add). */
export interface NativeSideFusionBackwardArgs {
  df1?: F32OrNull; df2?: F32OrNull; df3?: F32OrNull; df4?: F32OrNull;
  dw1: F32; db1: F32; dw2: F32; db2: F32; dw3: F32; db3: F32; dw4: F32; db4: F32;
  scratch: F32; ds4: F32; f1: F32; f2: F32; f3: F32; w1: F32; w2: F32; w3: F32; w4: F32; saved: F32;
  n: number; l: number; c: number; chained: boolean; mean: boolean;
}

/** Named arguments of the native mlpAdapterForward. */
export interface NativeMlpAdapterForwardArgs {
  out: F32; saved: F32; x: F32; w1: F32; b1: F32; w2: F32; b2: F32; rows: number; c: number; r: number; cout: number;
}

/** Named arguments of the native mlpAdapterBackward. */
export interface NativeMlpAdapterBackwardArgs {
  dx?: F32OrNull; dw1: F32; db1: F32; dw2: F32; db2: F32; scratch: F32; dout: F32; x: F32; w1: F32; w2: F32;
  saved: F32; rows: number; c: number; r: number; cout: number;
}

/** The native addon's functions, one named-argument object each. */
export interface NativeAddon {
  info(): AddonInfo;
  /** Switches the SIMD path in process, capped at the CPU's; returns the path now in use. */
  setIsa(a: { isa: IsaName }): IsaName;
  /** Replaces the thread pool by one of `threads` (an integer in [1, 1024]); returns the count in use. */
  setThreads(a: { threads: number }): number;
  gemm(a: NativeGemmArgs): void;
  gemmReference(a: NativeGemmArgs): void;
  biasGrad(a: { db: F32; dy: F32; m: number; n: number; accumulate: boolean }): void;
  activationBackward(a: { dx: F32; dy: F32; pre: F32; n: number; activation: number }): void;
  bf16Pack(a: { packed: Uint16Array; b: F32; k: number; n: number; trans: boolean }): void;
  gemmBf16(a: NativeGemmBf16Args): void;
  gemmBf16Reference(a: NativeGemmBf16Args): void;
  axpy(a: { y: F32; x: F32; alpha: number; n: number }): void;
  add(a: { out: F32; a: F32; b: F32; n: number }): void;
  attentionForward(a: { out: F32; probs?: F32OrNull; qkv: F32; b: number; l: number; h: number; d: number; causal: boolean }): void;
  attentionBackward(a: { dqkv: F32; dout: F32; qkv: F32; probs: F32; b: number; l: number; h: number; d: number; causal: boolean }): void;
  embeddingForward(a: { out: F32; ids: Int32Array; table: F32; positional?: F32OrNull; n: number; l: number; c: number; vocab: number }): void;
  layerNormForward(a: { out: F32; mean?: F32OrNull; rstd?: F32OrNull; x: F32; weight: F32; bias: F32; n: number; c: number }): void;
  layerNormBackward(a: {
    dx: F32; dweight?: F32OrNull; dbias?: F32OrNull; dout: F32; x: F32; weight: F32; mean: F32; rstd: F32; n: number; c: number;
  }): void;
  l2NormForward(a: { out: F32; x: F32; n: number; c: number }): void;
  l2NormBackward(a: { dx: F32; dout: F32; x: F32; n: number; c: number }): void;
  tokenMeanForward(a: { out: F32; x: F32; b: number; l: number; c: number }): void;
  tokenMeanBackward(a: { dx: F32; dout: F32; b: number; l: number; c: number }): void;
  broadcastAddForward(a: { out: F32; x: F32; s: F32; b: number; l: number; c: number }): void;
  broadcastAddBackward(a: { ds: F32; dout: F32; b: number; l: number; c: number }): void;
  mlpAdapterForward(a: NativeMlpAdapterForwardArgs): void;
  mlpAdapterBackward(a: NativeMlpAdapterBackwardArgs): void;
  saAdapterForward(a: NativeSaAdapterForwardArgs): void;
  saAdapterBackward(a: NativeSaAdapterBackwardArgs): void;
  sideFusionForward(a: NativeSideFusionForwardArgs): void;
  sideFusionBackward(a: NativeSideFusionBackwardArgs): void;
  retrievalLosses(a: {
    dImage?: F32OrNull; dText?: F32OrNull; image: F32; text: F32; imageIds: Int32Array; n: number; e: number;
    logitScale: number; margin: number; gamma: number; contrastiveWeight: number; tripletWeight: number;
  }): { contrastive: number; triplet: number };
  adamw(a: {
    params: F32[]; grads: F32[]; expAvg: F32[]; expAvgSq: F32[];
    lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; step: number;
  }): void;
  patchEmbed(a: {
    out: F32; pixels: F32; weight: F32; classEmbedding: F32; positional: F32;
    n: number; imageSize: number; patchSize: number; width: number;
  }): void;
  imageNormalize(a: { out: F32; input: Uint8Array; h: number; w: number; mean: F32; std: F32 }): void;
  imageFlipHorizontal(a: { out: Uint8Array; input: Uint8Array; h: number; w: number }): void;
  imageResizeBicubic(a: {
    out: Uint8Array; input: Uint8Array; h: number; w: number; top: number; left: number; boxH: number; boxW: number;
    outH: number; outW: number;
  }): void;
  imageWarpAffine(a: {
    out: Uint8Array; input: Uint8Array; h: number; w: number;
    m0: number; m1: number; m2: number; m3: number; m4: number; m5: number; fill: number;
  }): void;
  imageAugment(a: { out: Uint8Array; input: Uint8Array; h: number; w: number; op: number; magnitude: number; fill: number }): void;
}
