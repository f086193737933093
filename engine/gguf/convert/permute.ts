// RoPE row order. transformers rotates each attention head's vector as two halves (x[i] with x[i + d/2], rotate_half);
// llama.cpp's llama RoPE rotates adjacent pairs (x[2i] with x[2i + 1]). Reordering the output rows of q_proj and
// k_proj per head, so that row 2i+t of the converted head is row t*(d/2)+i of the original, makes the two compute the
// same attention scores (both q and k are reordered alike, so their dot products are unchanged). This is the
// reshape(n_head, 2, d/2, ...) → swap axes 1 and 2 that llama.cpp's converter applies.

/**
 * Reorders whole rows of `src` (rows of `rowBytes` bytes, `headDim` rows per head, any number of whole heads) from
 * transformers' order to llama.cpp's into `out` (a new buffer by default; not `src` itself). Works on raw bytes, so
 * on any element type.
 */
export function permuteRopeRows(src: Uint8Array, rowBytes: number, headDim: number, out: Uint8Array = new Uint8Array(src.length)): Uint8Array {
  if (headDim % 2 !== 0) throw new RangeError(`RoPE needs an even head dimension, got ${headDim}`);
  const headBytes = rowBytes * headDim;
  if (src.length % headBytes !== 0) throw new RangeError(`${src.length} bytes are not whole heads of ${headDim} rows of ${rowBytes} bytes`);
  if (out.length !== src.length) throw new RangeError(`the destination holds ${out.length} bytes, the rows ${src.length}`);
  const half = headDim / 2;
  for (let head = 0; head < src.length; head += headBytes) {
    for (let row = 0; row < headDim; row++) {
      const from = (row & 1) * half + (row >> 1);
      out.set(src.subarray(head + from * rowBytes, head + (from + 1) * rowBytes), head + row * rowBytes);
    }
  }
  return out;
}
