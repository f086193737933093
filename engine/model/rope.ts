// Rotary position embeddings in transformers' "rotate_half" layout: dimension i of a head pairs with i + headDim/2
// (not with its neighbour, as in the original RoPE paper or llama.cpp's "normal" mode), at absolute positions.

import type { ModelConfig } from './config';

/**
 * inv_freq[i] = theta^(-2i/headDim) for i < headDim/2, with the config's scaling, rounded to float32 as
 * transformers keeps it (a float32 buffer).
 */
export function ropeInvFreq(config: Pick<ModelConfig, 'headDim' | 'ropeTheta' | 'ropeScaling'>): Float32Array {
  const half = config.headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(config.ropeTheta, (2 * i) / config.headDim);
  const s = config.ropeScaling;
  if (!s) return inv;
  if (s.type === 'linear') {
    for (let i = 0; i < half; i++) inv[i] = inv[i] / s.factor;
    return inv;
  }
  // llama3: long wavelengths are slowed by `factor`, short ones kept, the band between blended linearly in
  // original_max_position_embeddings / wavelength.
  const lowFreqWavelen = s.originalMaxPositions / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositions / s.highFreqFactor;
  for (let i = 0; i < half; i++) {
    const f = inv[i];
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highFreqWavelen) continue;
    if (wavelen > lowFreqWavelen) {
      inv[i] = f / s.factor;
    } else {
      const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      inv[i] = (1 - smooth) * (f / s.factor) + smooth * f;
    }
  }
  return inv;
}

/** cos and sin of position * inv_freq, one entry per rotated pair. */
export interface RopeAngles {
  cos: Float64Array;
  sin: Float64Array;
}

export function ropeAngles(invFreq: Float32Array, position: number, into?: RopeAngles): RopeAngles {
  const half = invFreq.length;
  const out = into ?? { cos: new Float64Array(half), sin: new Float64Array(half) };
  for (let i = 0; i < half; i++) {
    const a = position * invFreq[i];
    out.cos[i] = Math.cos(a);
    out.sin[i] = Math.sin(a);
  }
  return out;
}

/**
 * Rotates `count` consecutive heads of x, starting at `offset`, in place:
 * x'[i] = x[i] cos - x[i+h] sin, x'[i+h] = x[i+h] cos + x[i] sin, h = headDim/2.
 */
export function rotateHeads(x: Float32Array, offset: number, count: number, angles: RopeAngles): void {
  const half = angles.cos.length;
  const { cos, sin } = angles;
  for (let head = 0; head < count; head++) {
    const base = offset + head * 2 * half;
    for (let i = 0; i < half; i++) {
      const a = x[base + i];
      const b = x[base + i + half];
      x[base + i] = a * cos[i] - b * sin[i];
      x[base + i + half] = b * cos[i] + a * sin[i];
    }
  }
}

/** One head at one position, in place (convenience for tests and one-off use). */
export function applyRope(x: Float32Array, offset: number, position: number, invFreq: Float32Array): void {
  rotateHeads(x, offset, 1, ropeAngles(invFreq, position));
}
