// Float32 kernels of the forward pass. Sums are accumulated in JS numbers (float64) and stored as float32, so the
// reference is at least as accurate as a float32 PyTorch run.

/**
 * out[r, o] = Σ_i x[r, i] · w[o, i] (+ bias[o]) for `rows` rows: y = x Wᵀ with W stored [out, in] as in
 * transformers. The loop walks W one row at a time (contiguous) and applies it to four input rows at once, so each
 * weight is read from memory once per four tokens.
 */
export function linear(
  x: Float32Array,
  rows: number,
  inDim: number,
  w: Float32Array,
  outDim: number,
  out: Float32Array,
  bias?: Float32Array,
): void {
  for (let o = 0; o < outDim; o++) {
    const wo = o * inDim;
    const b = bias ? bias[o] : 0;
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      const x0 = r * inDim;
      const x1 = x0 + inDim;
      const x2 = x1 + inDim;
      const x3 = x2 + inDim;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let i = 0; i < inDim; i++) {
        const wi = w[wo + i];
        s0 += x[x0 + i] * wi;
        s1 += x[x1 + i] * wi;
        s2 += x[x2 + i] * wi;
        s3 += x[x3 + i] * wi;
      }
      out[r * outDim + o] = s0 + b;
      out[(r + 1) * outDim + o] = s1 + b;
      out[(r + 2) * outDim + o] = s2 + b;
      out[(r + 3) * outDim + o] = s3 + b;
    }
    // Same summation order as the blocked loop, so a row's result does not depend on how many rows came with it
    // (a token's logits are bit-identical whether evaluated alone, in a batch, or through the KV cache).
    for (; r < rows; r++) {
      const xr = r * inDim;
      let s = 0;
      for (let i = 0; i < inDim; i++) s += x[xr + i] * w[wo + i];
      out[r * outDim + o] = s + b;
    }
  }
}

/** out[r] = x[r] / sqrt(mean(x[r]²) + eps) · weight, row by row (out may be x). */
export function rmsNorm(
  x: Float32Array,
  rows: number,
  dim: number,
  weight: Float32Array,
  eps: number,
  out: Float32Array,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    let ss = 0;
    for (let i = 0; i < dim; i++) ss += x[base + i] * x[base + i];
    // transformers rounds the normalized activations to float32 before the weight multiplies them.
    const inv = 1 / Math.sqrt(ss / dim + eps);
    for (let i = 0; i < dim; i++) out[base + i] = weight[i] * Math.fround(x[base + i] * inv);
  }
}

/** gate[i] = silu(gate[i]) · up[i], in place in gate. silu(z) = z / (1 + e^-z). */
export function swiglu(gate: Float32Array, up: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i];
    gate[i] = (g / (1 + Math.exp(-g))) * up[i];
  }
}
