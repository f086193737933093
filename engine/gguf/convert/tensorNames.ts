// Hugging Face tensor names of the llama family (transformers' LlamaForCausalLM and its mistral, granite and qwen2
// variants) and the names llama.cpp looks up in a GGUF file for the same tensors (gguf-py's tensor name table).

/** Which projection a tensor belongs to, where it matters to the converter (RoPE row order of q and k). */
export type TensorRole = 'attn_q' | 'attn_k' | 'other';

export interface MappedName {
  gguf: string;
  /** The block index for per-layer tensors. */
  layer?: number;
  role: TensorRole;
}

const topLevel: Record<string, string> = {
  'model.embed_tokens.weight': 'token_embd.weight',
  'model.norm.weight': 'output_norm.weight',
  'lm_head.weight': 'output.weight',
};

/** Per-layer module path → GGUF block tensor base name. */
const perLayer: Record<string, string> = {
  input_layernorm: 'attn_norm',
  'self_attn.q_proj': 'attn_q',
  'self_attn.k_proj': 'attn_k',
  'self_attn.v_proj': 'attn_v',
  'self_attn.o_proj': 'attn_output',
  post_attention_layernorm: 'ffn_norm',
  'mlp.gate_proj': 'ffn_gate',
  'mlp.up_proj': 'ffn_up',
  'mlp.down_proj': 'ffn_down',
};

/**
 * Tensors some checkpoints carry that are not weights of the model: older transformers saved RoPE's inverse
 * frequencies as a buffer, which llama.cpp computes itself.
 */
export function isIgnoredTensor(hfName: string): boolean {
  return /^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/.test(hfName);
}

/** The GGUF name of a Hugging Face tensor, or undefined when the name is not one of the llama family's. */
export function ggufTensorName(hfName: string): MappedName | undefined {
  const top = topLevel[hfName];
  if (top) return { gguf: top, role: 'other' };
  const m = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(hfName);
  if (!m) return undefined;
  const base = perLayer[m[2]];
  if (!base) return undefined;
  // Norms have a weight only.
  if (m[3] === 'bias' && base.endsWith('_norm')) return undefined;
  const layer = Number(m[1]);
  const role: TensorRole = base === 'attn_q' ? 'attn_q' : base === 'attn_k' ? 'attn_k' : 'other';
  return { gguf: `blk.${layer}.${base}.${m[3]}`, layer, role };
}
