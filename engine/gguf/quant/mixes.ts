// Quantization mixes a user asks for by name (`--type q4_k_m`) and the per-tensor types they stand for.
//
// The choices follow llama.cpp's llama-quantize (llama_tensor_get_type) and convert_hf_to_gguf.py, for the
// llama-family models we write:
//  - Tensors of one dimension (norms, biases), "*_norm.weight", MoE router weights (ffn_gate_inp) and position/token-type
//    embeddings are never quantized: they stay F32.
//  - f32 / f16 / bf16: every other tensor in that type.
//  - Quantized mixes start from a default type (Q8_0, Q4_0, Q4_K, Q5_K or Q6_K) and adjust:
//    - output.weight (or token_embd.weight when the model ties its embeddings and has no output.weight) goes to Q6_K,
//      except in the Q8_0 mix, which keeps Q8_0, and when its rows do not fit the default type's blocks (then Q8_0);
//    - attn_v.weight: Q4_K_M and Q5_K_M use Q6_K on the "more bits" layers (the first eighth, the last eighth, and
//      every third layer in between), Q4_K_S uses Q5_K on layers 0..3; models with 8 experts use Q8_0;
//    - ffn_down: Q4_K_M and Q5_K_M use Q6_K on the "more bits" layers, Q4_K_S uses Q5_K on the first eighth;
//    - attn_k.weight in models with 8 experts: Q8_0; attn_output.weight in models with 8 experts: Q5_K for Q4_K_S/M;
//    - a fused attn_qkv.weight: Q5_K for Q4_K_M, Q6_K for Q5_K_M;
//    - token_embd.weight otherwise keeps the default type.
//  - A tensor whose rows are not a multiple of the chosen type's block falls back: Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to
//    Q8_0, and anything whose rows are not a multiple of 32 to F16 (llama-quantize refuses those for Q4_0/Q8_0;
//    convert_hf_to_gguf.py writes F16, and so do we).
// llama.cpp's Falcon-specific and 70B-specific tweaks and its importance-matrix rules do not apply here.
import { GgmlType, ggmlTypeInfo } from '../ggmlTypes';

export const QUANT_MIXES = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0', 'q4_k_s', 'q4_k_m', 'q5_k_s', 'q5_k_m', 'q6_k'] as const;
export type QuantMix = (typeof QUANT_MIXES)[number];

/** A mix name as a user may type it (any case, `Q4_K_M`, `q4_k_m`); throws listing the known names otherwise. */
export function parseQuantMix(name: string): QuantMix {
  const key = name.trim().toLowerCase();
  if ((QUANT_MIXES as readonly string[]).includes(key)) return key as QuantMix;
  throw new Error(`unknown quantization type '${name}'; use one of: ${QUANT_MIXES.join(', ')}`);
}

// llama.cpp's llama_ftype numbers, written as general.file_type.
const FILE_TYPES: Record<QuantMix, number> = {
  f32: 0, // ALL_F32
  f16: 1, // MOSTLY_F16
  q4_0: 2, // MOSTLY_Q4_0
  q8_0: 7, // MOSTLY_Q8_0
  q4_k_s: 14,
  q4_k_m: 15,
  q5_k_s: 16,
  q5_k_m: 17,
  q6_k: 18,
  bf16: 32, // MOSTLY_BF16
};

/** The general.file_type value llama.cpp uses for a file of this mix. */
export function fileTypeFor(mix: QuantMix): number {
  return FILE_TYPES[mix];
}

const DEFAULT_TYPE: Record<QuantMix, GgmlType> = {
  f32: GgmlType.F32,
  f16: GgmlType.F16,
  bf16: GgmlType.BF16,
  q8_0: GgmlType.Q8_0,
  q4_0: GgmlType.Q4_0,
  q4_k_s: GgmlType.Q4_K,
  q4_k_m: GgmlType.Q4_K,
  q5_k_s: GgmlType.Q5_K,
  q5_k_m: GgmlType.Q5_K,
  q6_k: GgmlType.Q6_K,
};

/** The type most tensors of a mix get. */
export function defaultTypeFor(mix: QuantMix): GgmlType {
  return DEFAULT_TYPE[mix];
}

export interface TensorFacts {
  /** GGUF tensor name (`blk.3.attn_v.weight`, `output.weight`, ...). */
  name: string;
  /** Dimensions in GGUF order: shape[0] is the row length (the innermost, contiguous dimension). */
  shape: readonly number[];
  /** Number of transformer blocks (llama.block_count). */
  nLayers: number;
  /** Block index; taken from a `blk.N.` name when omitted. */
  layer?: number;
  /** Whether the model has its own output.weight (false when the output projection is tied to token_embd). */
  hasOutput?: boolean;
  /** Experts per MoE layer (llama.expert_count); 0 or absent for dense models. */
  nExpert?: number;
}

/** Layers that get more bits in the _M mixes: the first and last eighth, and every third one between. */
export function useMoreBits(layer: number, nLayers: number): boolean {
  const eighth = Math.trunc(nLayers / 8);
  return layer < eighth || layer >= Math.trunc((7 * nLayers) / 8) || (layer - eighth) % 3 === 2;
}

const KEEP_F32 = [/_norm\.weight$/, /ffn_gate_inp\.weight$/, /^position_embd\.weight$/, /^token_types\.weight$/];

/** The ggml type tensor `t` gets in `mix`. */
export function tensorTypeFor(mix: QuantMix, t: TensorFacts): GgmlType {
  const dims = t.shape.filter((d, i) => i === 0 || d !== 1);
  if (dims.length < 2 || KEEP_F32.some((re) => re.test(t.name))) return GgmlType.F32;
  const base = DEFAULT_TYPE[mix];
  if (base === GgmlType.F32 || base === GgmlType.F16 || base === GgmlType.BF16) return base;
  return fitRows(chooseQuantized(mix, base, t), t.shape[0]);
}

function chooseQuantized(mix: QuantMix, base: GgmlType, t: TensorFacts): GgmlType {
  const name = t.name;
  const rowLength = t.shape[0];
  const nExpert = t.nExpert ?? 0;
  const isOutput = name === 'output.weight' || (t.hasOutput === false && name === 'token_embd.weight');
  if (isOutput) {
    if (rowLength % blockSize(base) !== 0) return GgmlType.Q8_0;
    return base === GgmlType.Q8_0 ? base : GgmlType.Q6_K;
  }
  if (name === 'token_embd.weight') return base;
  const layer = t.layer ?? layerOf(name);
  if (name.includes('attn_v.weight')) {
    if (nExpert === 8) return GgmlType.Q8_0;
    if ((mix === 'q4_k_m' || mix === 'q5_k_m') && layer !== undefined && useMoreBits(layer, t.nLayers)) return GgmlType.Q6_K;
    if (mix === 'q4_k_s' && layer !== undefined && layer < 4) return GgmlType.Q5_K;
    return base;
  }
  if (name.includes('attn_k.weight')) return nExpert === 8 ? GgmlType.Q8_0 : base;
  if (name.includes('ffn_down')) {
    if (layer === undefined) return base;
    if ((mix === 'q4_k_m' || mix === 'q5_k_m') && useMoreBits(layer, t.nLayers)) return GgmlType.Q6_K;
    if (mix === 'q4_k_s' && layer < Math.trunc(t.nLayers / 8)) return GgmlType.Q5_K;
    return base;
  }
  if (name.includes('attn_output.weight')) {
    return nExpert === 8 && (mix === 'q4_k_s' || mix === 'q4_k_m') ? GgmlType.Q5_K : base;
  }
  if (name.includes('attn_qkv.weight')) {
    if (mix === 'q4_k_m') return GgmlType.Q5_K;
    if (mix === 'q5_k_m') return GgmlType.Q6_K;
  }
  return base;
}

/** The type, or its fallback when rows of `rowLength` values are not whole blocks of it. */
function fitRows(type: GgmlType, rowLength: number): GgmlType {
  if (rowLength % blockSize(type) === 0) return type;
  const fallback =
    type === GgmlType.Q4_K ? GgmlType.Q5_0 : type === GgmlType.Q5_K ? GgmlType.Q5_1 : type === GgmlType.Q6_K ? GgmlType.Q8_0 : GgmlType.F16;
  return rowLength % blockSize(fallback) === 0 ? fallback : GgmlType.F16;
}

function blockSize(type: GgmlType): number {
  return ggmlTypeInfo(type)!.blockSize;
}

function layerOf(name: string): number | undefined {
  const m = /^blk\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : undefined;
}
