/**
 * The AdamW of HuggingFace transformers.optimization (spec section 5): bias correction folded
 * into the step size, and weight decay applied after the Adam update as p -= lr * wd * p.
 */
import { addon } from '../native/addon';

/** Arguments of {@link adamw}. Entry k of each list belongs to the same tensor. */
export interface AdamWArgs {
  /** Parameters, updated in place. */
  params: Float32Array[];
  /** Their gradients (read only; must not share memory with anything else here). */
  grads: Float32Array[];
  /** First moments m, updated in place; start at zero. */
  expAvg: Float32Array[];
  /** Second moments v, updated in place; start at zero. */
  expAvgSq: Float32Array[];
  /** Learning rate of this step (after the schedule), >= 0. */
  lr: number;
  /** The 1-based step number t, which drives the bias correction. */
  step: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.98 (POSAPL's setting; transformers' default is 0.999). */
  beta2?: number;
  /** Default 1e-8 (POSAPL's setting). */
  eps?: number;
  /** Default 0.01 (POSAPL's setting); 0 turns the decay off. */
  weightDecay?: number;
}


/** One AdamW step over every tensor at once, in place, spread over all cores. */
export function adamw(args: AdamWArgs): void {
  addon().adamw({
    params: args.params, grads: args.grads, expAvg: args.expAvg, expAvgSq: args.expAvgSq, lr: args.lr,
    beta1: args.beta1 ?? 0.9, beta2: args.beta2 ?? 0.98, eps: args.eps ?? 1e-8, weightDecay: args.weightDecay ?? 0.01,
    step: args.step,
  });
}
