/** The learning-rate schedule of spec section 5: torch's CosineAnnealingLR stepped per iteration. */

/** lr at step t (0 for the first step) of `total` steps, from `base` down to 0. */
export function cosineLearningRate(base: number, t: number, total: number): number {
  return (base * (1 + Math.cos((Math.PI * t) / total))) / 2;
}
