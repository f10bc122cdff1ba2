/**
 * Float64 references of every backend op, written as the plain formulas of the spec (no blocking,
 * no fusion), so the op harness can check any backend's float32 kernels against them and take
 * finite differences of them. Inputs are read as numbers; outputs are new Float64Arrays.
 */

type Vec = ArrayLike<number>;

// Globals looked up once: under jest these loops run in a vm context, where every lookup of a
// global such as Math goes through the context's interceptors and costs more than the maths.
const { abs, exp, sqrt, max } = Math;

// ---- elementwise ----------------------------------------------------------------------------

/**
 * erfc(z), z >= 0, in double: 1 - (Taylor series of erf) below 3, where the largest term is ~e^9
 * and rounding stays below 1e-14; a continued fraction above, where it converges fast.
 */
export function erfc(z: number): number {
  if (z < 3) {
    let term = z;
    let sum = z;
    for (let n = 1; abs(term) > 1e-17 * abs(sum); n++) {
      term *= (-z * z) / n;
      sum += term / (2 * n + 1);
    }
    return 1 - (2 / sqrt(Math.PI)) * sum;
  }
  // erfc(z) = e^{-z^2} / sqrt(pi) / (z + (1/2) / (z + 1 / (z + (3/2) / (z + ...)))).
  let tail = z;
  for (let k = 80; k >= 1; k--) tail = z + k / 2 / tail;
  return exp(-z * z) / sqrt(Math.PI) / tail;
}

/** Phi(x), the standard normal CDF, keeping its digits in the left tail. */
function normalCdf(x: number): number {
  const half = 0.5 * erfc(abs(x) / Math.SQRT2);
  return x < 0 ? half : 1 - half;
}

/** GELU with the exact erf form (torch's default), x Phi(x). */
export function gelu(x: number): number {
  return x * normalCdf(x);
}

/** GELU'(x) = Phi(x) + x phi(x). */
export function geluGrad(x: number): number {
  return normalCdf(x) + (x * exp(-0.5 * x * x)) / sqrt(2 * Math.PI);
}

/** The activations a GEMM epilogue applies, by name. */
export type ActivationName = 'none' | 'relu' | 'gelu';

export function activate(x: number, act: ActivationName): number {
  return act === 'relu' ? (x > 0 ? x : 0) : act === 'gelu' ? gelu(x) : x;
}

export function activateGrad(x: number, act: ActivationName): number {
  return act === 'relu' ? (x > 0 ? 1 : 0) : act === 'gelu' ? geluGrad(x) : 1;
}

export function relu(x: Vec): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] > 0 ? x[i] : 0;
  return out;
}

export function add(a: Vec, b: Vec): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

/** Sum of a[i] w[i]: the scalar loss L = <out, w> whose gradient the backward ops compute. */
export function dot(a: Vec, w: Vec): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * w[i];
  return s;
}

// ---- GEMM -----------------------------------------------------------------------------------

/** The arguments of a GEMM, as the backend's gemm takes them, on host numbers. */
/** A GEMM's shape and scalars: op(A) (m,k), op(B) (k,n), C = alpha op(A) op(B) + beta C. */
export interface GemmDims {
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
}

export interface GemmReferenceArgs extends GemmDims {
  a: Vec;
  b: Vec;
  c?: Vec | null;
  bias?: Vec | null;
  activation?: ActivationName;
}

/** pre = alpha op(A) op(B) + beta C + bias and c = act(pre), (m,n) each. */
export function gemmRef(g: GemmReferenceArgs): { c: Float64Array; pre: Float64Array } {
  const { m, n, k } = g;
  const alpha = g.alpha ?? 1;
  const beta = g.beta ?? 0;
  // op(A) (m,k) and op(B)^T (n,k) row-major, so the inner loop runs over contiguous memory.
  const a = new Float64Array(m * k);
  const bt = new Float64Array(n * k);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) a[i * k + p] = g.a[g.transA ? p * m + i : i * k + p];
  for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) bt[j * k + p] = g.b[g.transB ? j * k + p : p * n + j];
  const pre = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0, ai = i * k, bj = j * k; p < k; p++) s += a[ai + p] * bt[bj + p];
      let v = alpha * s;
      if (beta !== 0) v += beta * g.c![i * n + j];
      if (g.bias) v += g.bias[j];
      pre[i * n + j] = v;
    }
  }
  return { c: pre.map((v) => activate(v, g.activation ?? 'none')), pre };
}

/** y (rows,out) = x (rows,in) w^T + b with w (out,in): a torch Linear. */
export function linear(x: Vec, w: Vec, b: Vec, rows: number, inDim: number, outDim: number): Float64Array {
  const y = new Float64Array(rows * outDim);
  for (let t = 0; t < rows; t++) {
    for (let o = 0; o < outDim; o++) {
      let s = b[o];
      for (let i = 0; i < inDim; i++) s += x[t * inDim + i] * w[o * inDim + i];
      y[t * outDim + o] = s;
    }
  }
  return y;
}

/** Column sums of dy (m,n). */
export function columnSums(dy: Vec, m: number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j] += dy[i * n + j];
  return out;
}

/** The value x rounded to bfloat16 (nearest even), as the bf16 GEMM reads its operands. */
export function roundBf16(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  u[0] = (u[0] + 0x7fff + ((u[0] >>> 16) & 1)) & 0xffff0000;
  return f[0];
}

// ---- normalisations --------------------------------------------------------------------------

/** LayerNorm over rows of x (n,c), eps 1e-5, with the row means and 1/sqrt(var + eps). */
export function layerNormRef(x: Vec, weight: Vec, bias: Vec, n: number, c: number): { out: Float64Array; mean: Float64Array; rstd: Float64Array } {
  const out = new Float64Array(n * c);
  const mean = new Float64Array(n);
  const rstd = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let mu = 0;
    for (let j = 0; j < c; j++) mu += x[i * c + j];
    mu /= c;
    let v = 0;
    for (let j = 0; j < c; j++) v += (x[i * c + j] - mu) ** 2;
    const r = 1 / sqrt(v / c + 1e-5);
    mean[i] = mu;
    rstd[i] = r;
    for (let j = 0; j < c; j++) out[i * c + j] = (x[i * c + j] - mu) * r * weight[j] + bias[j];
  }
  return { out, mean, rstd };
}

/** Rows of x (n,c) divided by max(their norm, 1e-12), as torch's F.normalize. */
export function l2NormRef(x: Vec, n: number, c: number): Float64Array {
  const out = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += x[i * c + j] ** 2;
    const d = max(sqrt(s), 1e-12);
    for (let j = 0; j < c; j++) out[i * c + j] = x[i * c + j] / d;
  }
  return out;
}

// ---- attention ------------------------------------------------------------------------------

/**
 * Multi-head attention of packed qkv (b,l,3,h,d) -> out (b,l,h*d) with torch's 1/sqrt(d) scaling,
 * causal or not, and the softmax (b,h,l,l) (zero above the diagonal when causal).
 */
export function attentionRef(qkv: Vec, b: number, l: number, h: number, d: number, causal: boolean): { out: Float64Array; probs: Float64Array } {
  const r = h * d;
  const out = new Float64Array(b * l * r);
  const probs = new Float64Array(b * h * l * l);
  const p = new Float64Array(l);
  const scale = 1 / sqrt(d);
  for (let bb = 0; bb < b; bb++) {
    for (let hh = 0; hh < h; hh++) {
      for (let i = 0; i < l; i++) {
        const seen = causal ? i + 1 : l;
        let mx = -Infinity;
        for (let j = 0; j < seen; j++) {
          let s = 0;
          for (let k = 0; k < d; k++) s += qkv[(bb * l + i) * 3 * r + hh * d + k] * qkv[(bb * l + j) * 3 * r + r + hh * d + k];
          p[j] = s * scale;
          mx = max(mx, p[j]);
        }
        let sum = 0;
        for (let j = 0; j < seen; j++) sum += (p[j] = exp(p[j] - mx));
        const row = ((bb * h + hh) * l + i) * l;
        for (let j = 0; j < seen; j++) probs[row + j] = p[j] / sum;
        for (let k = 0; k < d; k++) {
          let o = 0;
          for (let j = 0; j < seen; j++) o += (p[j] / sum) * qkv[(bb * l + j) * 3 * r + 2 * r + hh * d + k];
          out[(bb * l + i) * r + hh * d + k] = o;
        }
      }
    }
  }
  return { out, probs };
}

// ---- the fused adapters ----------------------------------------------------------------------

/** (N,C) mean over the L tokens of x (N,L,C). */
export function tokenMean(x: Vec, n: number, l: number, c: number): Float64Array {
  const out = new Float64Array(n * c);
  for (let b = 0; b < n; b++)
    for (let t = 0; t < l; t++)
      for (let k = 0; k < c; k++) out[b * c + k] += x[(b * l + t) * c + k] / l;
  return out;
}

/** (N,L,C) copy of s (N,C) on every token. */
export function spread(s: Vec, n: number, l: number, c: number): Float64Array {
  const out = new Float64Array(n * l * c);
  for (let b = 0; b < n; b++)
    for (let t = 0; t < l; t++)
      for (let k = 0; k < c; k++) out[(b * l + t) * c + k] = s[b * c + k];
  return out;
}

/** Unmasked multi-head attention of packed qkv (N,L,3R) -> (N,L,R), R = H*D, torch's scaling. */
export function attention(qkv: Vec, n: number, l: number, h: number, d: number): Float64Array {
  return attentionRef(qkv, n, l, h, d, false).out;
}

export interface SaDims { n: number; l: number; c: number; r: number; h: number }
export type SaParamsLike = Record<'wd' | 'bd' | 'win' | 'bin' | 'wo' | 'bo' | 'wu' | 'bu', Vec>;

/** The SA-adapter: Linear down, MHA over tokens plus residual, Linear up. */
export function saAdapterNaive(m: Vec, p: SaParamsLike, d: SaDims): Float64Array {
  const rows = d.n * d.l;
  const y = linear(m, p.wd, p.bd, rows, d.c, d.r);
  const qkv = linear(y, p.win, p.bin, rows, d.r, 3 * d.r);
  const att = attention(qkv, d.n, d.l, d.h, d.r / d.h);
  const a = add(linear(att, p.wo, p.bo, rows, d.r, d.r), y);
  return linear(a, p.wu, p.bu, rows, d.r, d.c);
}

export interface MlpDims { rows: number; c: number; r: number; cout: number }

/** The MLP adapter: Linear, ReLU, Linear. */
export function mlpAdapterNaive(x: Vec, p: Record<'w1' | 'b1' | 'w2' | 'b2', Vec>, d: MlpDims): Float64Array {
  return linear(relu(linear(x, p.w1, p.b1, d.rows, d.c, d.r)), p.w2, p.b2, d.rows, d.r, d.cout);
}

export interface SideDims { n: number; l: number; c: number; chained: boolean; mean: boolean }
export type SideParamsLike = Record<'w1' | 'b1' | 'w2' | 'b2' | 'w3' | 'b3' | 'w4' | 'b4', Vec>;

/** Side Fusion, written after the authors' module order (SL_k = Linear, ReLU, [token mean]). */
export function sideFusionNaive(f: Record<'f1' | 'f2' | 'f3' | 'f4', Vec>, p: SideParamsLike, d: SideDims): Float64Array {
  const { n, l, c } = d;
  const rows = n * l;
  const sl = (z: Vec, w: Vec, b: Vec): Float64Array => {
    const h = relu(linear(z, w, b, rows, c, c));
    return d.mean ? tokenMean(h, n, l, c) : h;
  };
  const widen = (s: Float64Array): Float64Array => (d.mean ? spread(s, n, l, c) : s);
  const s1 = sl(f.f1, p.w1, p.b1);
  let u: Float64Array;
  if (d.chained) {
    const s2 = sl(add(f.f2, widen(s1)), p.w2, p.b2);
    const s3 = sl(add(f.f3, widen(s2)), p.w3, p.b3);
    const z4 = add(f.f4, widen(s3));
    u = d.mean ? tokenMean(z4, n, l, c) : z4;
  } else {
    u = add(add(s1, sl(f.f2, p.w2, p.b2)), sl(f.f3, p.w3, p.b3));
  }
  return linear(u, p.w4, p.b4, d.mean ? n : rows, c, c);
}

// ---- stems ----------------------------------------------------------------------------------

export interface PatchEmbedDims { n: number; imageSize: number; patchSize: number; width: number }

/** conv1 (kernel = stride = patch, no bias) over (n,3,S,S), class token first, positional added. */
export function patchEmbedRef(pixels: Vec, weight: Vec, classEmbedding: Vec, positional: Vec, d: PatchEmbedDims): Float64Array {
  const { n, imageSize: s, patchSize: p, width: w } = d;
  const g = s / p;
  const tokens = 1 + g * g;
  const out = new Float64Array(n * tokens * w);
  for (let b = 0; b < n; b++) {
    for (let c = 0; c < w; c++) out[b * tokens * w + c] = classEmbedding[c] + positional[c];
    for (let gy = 0; gy < g; gy++) {
      for (let gx = 0; gx < g; gx++) {
        const t = 1 + gy * g + gx;
        for (let c = 0; c < w; c++) {
          let acc = positional[t * w + c];
          for (let ch = 0; ch < 3; ch++)
            for (let py = 0; py < p; py++)
              for (let px = 0; px < p; px++)
                acc += pixels[((b * 3 + ch) * s + gy * p + py) * s + gx * p + px] * weight[((c * 3 + ch) * p + py) * p + px];
          out[(b * tokens + t) * w + c] = acc;
        }
      }
    }
  }
  return out;
}

/** out[i,t,:] = table[ids[i,t],:] (+ positional[t,:]). */
export function embeddingRef(ids: Vec, table: Vec, positional: Vec | null, n: number, l: number, c: number): Float64Array {
  const out = new Float64Array(n * l * c);
  for (let t = 0; t < n * l; t++)
    for (let k = 0; k < c; k++) out[t * c + k] = table[ids[t] * c + k] + (positional ? positional[(t % l) * c + k] : 0);
  return out;
}

// ---- losses and the optimiser -----------------------------------------------------------------

export interface RetrievalLossOptions {
  /** The raw stored logit_scale, which multiplies the similarities as it is (not its exp; spec section 5). */
  logitScale: number;
  margin: number;
  gamma: number;
  contrastiveWeight: number;
  tripletWeight: number;
}

/**
 * Both retrieval losses (spec section 5) in float64: the soft-target contrastive loss on
 * logitScale I T^T and its transpose, targets spread over pairs sharing an image id, and the
 * summed power-scaled triplet hinges in both directions; `total` is their weighted sum.
 */
export function retrievalLossesRef(image: Vec, text: Vec, ids: Vec, n: number, e: number, o: RetrievalLossOptions): { contrastive: number; triplet: number; total: number } {
  const scale = o.logitScale;
  const S = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < e; k++) s += image[i * e + k] * text[j * e + k];
      S[i * n + j] = s;
    }
  const crossEntropy = (at: (i: number, j: number) => number) => {
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let mx = -Infinity;
      for (let j = 0; j < n; j++) mx = max(mx, scale * at(i, j));
      let sum = 0;
      for (let j = 0; j < n; j++) sum += exp(scale * at(i, j) - mx);
      const lse = mx + Math.log(sum);
      let count = 0;
      for (let j = 0; j < n; j++) count += ids[i] === ids[j] ? 1 : 0;
      for (let j = 0; j < n; j++) if (ids[i] === ids[j]) loss -= (scale * at(i, j) - lse) / count;
    }
    return loss / n;
  };
  const contrastive = (crossEntropy((i, j) => S[i * n + j]) + crossEntropy((i, j) => S[j * n + i])) / 2;
  let triplet = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const cs = o.margin + S[i * n + j] - S[i * n + i];
      if (cs > 0) triplet += cs ** o.gamma / 2;
      const cim = o.margin + S[i * n + j] - S[j * n + j];
      if (cim > 0) triplet += cim ** o.gamma / 2;
    }
  return { contrastive, triplet, total: o.contrastiveWeight * contrastive + o.tripletWeight * triplet };
}

export interface AdamWHyper { lr: number; step: number; beta1: number; beta2: number; eps: number; weightDecay: number }

/** One step of transformers' AdamW on one tensor, in float64; returns the new p, m and v. */
export function adamwRef(p: Vec, g: Vec, m: Vec, v: Vec, h: AdamWHyper): { p: Float64Array; m: Float64Array; v: Float64Array } {
  const stepSize = (h.lr * sqrt(1 - h.beta2 ** h.step)) / (1 - h.beta1 ** h.step);
  const out = { p: new Float64Array(p.length), m: new Float64Array(p.length), v: new Float64Array(p.length) };
  for (let i = 0; i < p.length; i++) {
    const mi = h.beta1 * m[i] + (1 - h.beta1) * g[i];
    const vi = h.beta2 * v[i] + (1 - h.beta2) * g[i] * g[i];
    let pi = p[i] - (stepSize * mi) / (sqrt(vi) + h.eps);
    pi -= h.lr * h.weightDecay * pi;
    out.p[i] = pi;
    out.m[i] = mi;
    out.v[i] = vi;
  }
  return out;
}
