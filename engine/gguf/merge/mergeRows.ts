// W' = W + scale · B A for a block of rows of W, the step a merge repeats over a weight too big to hold whole.
// A is [rank, in] and B is [out, rank], both small next to W; each output row is W's row plus a rank-sized
// combination of A's rows, accumulated in float64 so the merged weight differs from the exact sum by one rounding.

export interface LoraFactors {
  /** [rank, inDim] row-major. */
  a: Float32Array;
  /** [outDim, rank] row-major. */
  b: Float32Array;
  rank: number;
  inDim: number;
  outDim: number;
  scale: number;
}

/**
 * Adds scale · (B A)[rowStart .. rowStart + rows) to `w`, which holds those rows of W ([rows, inDim] row-major), in
 * place. Returns `w`.
 */
export function mergeRowsInto(w: Float32Array, rowStart: number, lora: LoraFactors): Float32Array {
  const { a, b, rank, inDim, outDim, scale } = lora;
  if (w.length % inDim !== 0) throw new RangeError(`mergeRowsInto: ${w.length} values are not whole rows of ${inDim}`);
  const rows = w.length / inDim;
  if (!Number.isInteger(rowStart) || rowStart < 0 || rowStart + rows > outDim) {
    throw new RangeError(`mergeRowsInto: rows ${rowStart}..${rowStart + rows} are outside the weight's ${outDim} rows`);
  }
  if (a.length !== rank * inDim || b.length !== outDim * rank) {
    throw new RangeError(`mergeRowsInto: A has ${a.length} values (expected ${rank} x ${inDim}), B has ${b.length} (expected ${outDim} x ${rank})`);
  }
  const row = new Float64Array(inDim);
  for (let r = 0; r < rows; r++) {
    row.fill(0);
    const o = rowStart + r;
    for (let k = 0; k < rank; k++) {
      const bk = b[o * rank + k];
      if (bk === 0) continue;
      const ak = k * inDim;
      for (let i = 0; i < inDim; i++) row[i] += bk * a[ak + i];
    }
    const wo = r * inDim;
    for (let i = 0; i < inDim; i++) w[wo + i] += scale * row[i];
  }
  return w;
}

/** How many rows of `inDim` values to merge at a time so a block stays near `budgetValues` values (at least one row). */
export function rowsPerBlock(inDim: number, budgetValues = 1 << 20): number {
  return Math.max(1, Math.floor(budgetValues / Math.max(1, inDim)));
}
