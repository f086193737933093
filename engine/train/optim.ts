// Optimisation of the LoRA matrices: AdamW with decoupled weight decay (as torch.optim.AdamW), the linear-warmup +
// cosine learning-rate schedule of transformers' get_cosine_schedule_with_warmup, and clipping by global L2 norm
// (torch.nn.utils.clip_grad_norm_). Everything is float32 state updated in float64 arithmetic, in a fixed order, so
// a run is bit-for-bit repeatable.

import type { LoraGrad, LoraWeights } from './lora';

export interface AdamWOptions {
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
}

export interface ScheduleOptions {
  peakLr: number;
  warmupSteps: number;
  totalSteps: number;
  /** Floor of the cosine as a fraction of peakLr (default 0). */
  minLrRatio?: number;
}

/** Learning rate of optimizer step `step` (0-based): linear warmup from 0, then a half cosine down to the floor. */
export function learningRate(step: number, s: ScheduleOptions): number {
  if (step < s.warmupSteps) return (s.peakLr * step) / Math.max(1, s.warmupSteps);
  const progress = Math.min(1, (step - s.warmupSteps) / Math.max(1, s.totalSteps - s.warmupSteps));
  const floor = s.minLrRatio ?? 0;
  return s.peakLr * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** Global L2 norm of all gradients. */
export function gradientNorm(grads: ReadonlyMap<string, LoraGrad>): number {
  let ss = 0;
  for (const g of grads.values()) for (const t of [g.a, g.b]) for (let i = 0; i < t.length; i++) ss += t[i] * t[i];
  return Math.sqrt(ss);
}

/** Scales the gradients in place so their global norm is at most maxNorm; returns the norm before clipping. */
export function clipGradients(grads: ReadonlyMap<string, LoraGrad>, maxNorm: number): number {
  const norm = gradientNorm(grads);
  if (!Number.isFinite(norm)) throw new RangeError(`gradient norm is ${norm}; the loss or a gradient is not finite`);
  // torch's clip_grad_norm_: coefficient max_norm / (norm + 1e-6), applied only when below 1.
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const g of grads.values()) for (const t of [g.a, g.b]) for (let i = 0; i < t.length; i++) t[i] *= coef;
  return norm;
}

export interface AdamWState {
  step: number;
  /** First and second moments per module, A then B. */
  moments: Map<string, { mA: Float32Array; vA: Float32Array; mB: Float32Array; vB: Float32Array }>;
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly state: AdamWState;

  constructor(
    readonly params: LoraWeights,
    options: AdamWOptions = {},
  ) {
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.state = {
      step: 0,
      moments: new Map(
        params.modules.map((m) => [
          m.name,
          { mA: new Float32Array(m.a.length), vA: new Float32Array(m.a.length), mB: new Float32Array(m.b.length), vB: new Float32Array(m.b.length) },
        ]),
      ),
    };
  }

  /** One update of every LoRA matrix with learning rate `lr`. */
  step(grads: ReadonlyMap<string, LoraGrad>, lr: number): void {
    const t = ++this.state.step;
    const c1 = 1 - this.beta1 ** t;
    const c2 = 1 - this.beta2 ** t;
    for (const m of this.params.modules) {
      const g = grads.get(m.name);
      if (!g) throw new Error(`no gradient for ${m.name}; every LoRA module needs one per step`);
      const s = this.state.moments.get(m.name)!;
      this.update(m.a, g.a, s.mA, s.vA, lr, c1, c2);
      this.update(m.b, g.b, s.mB, s.vB, lr, c1, c2);
    }
  }

  private update(p: Float32Array, g: Float32Array, mo: Float32Array, ve: Float32Array, lr: number, c1: number, c2: number): void {
    if (g.length !== p.length) throw new RangeError(`gradient of ${g.length} values for a parameter of ${p.length}`);
    const { beta1, beta2, eps } = this;
    const decay = 1 - lr * this.weightDecay;
    const stepSize = lr / c1;
    const sqrtC2 = Math.sqrt(c2);
    for (let i = 0; i < p.length; i++) {
      const gi = g[i];
      mo[i] = beta1 * mo[i] + (1 - beta1) * gi;
      ve[i] = beta2 * ve[i] + (1 - beta2) * gi * gi;
      // torch: p ← p·(1 − lr·wd) − (lr / c1) · m / (√v / √c2 + eps)
      p[i] = p[i] * decay - (stepSize * mo[i]) / (Math.sqrt(ve[i]) / sqrtC2 + eps);
    }
  }
}
