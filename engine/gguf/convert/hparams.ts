// config.json's hyper-parameters as the GGUF metadata llama.cpp reads for the llama family (key names from gguf-py's
// constants), and the architecture each model_type becomes: mistral is llama to llama.cpp, granite and qwen2 keep
// their own names. RoPE scaling becomes rope.scaling.* keys, or for llama 3's frequency-dependent scaling a
// rope_freqs.weight tensor of per-frequency divisors, as llama.cpp's converter writes it.
import { meta, type GgufValue } from '../format';
import type { LlamaFamilyConfig, ModelType } from '../../hf/config';
import { ConvertError } from './errors';

export type GgufArchitecture = 'llama' | 'granite' | 'qwen2';

/** model_type → general.architecture. */
export const ggufArchitectures: Readonly<Record<ModelType, GgufArchitecture>> = {
  llama: 'llama',
  mistral: 'llama',
  granite: 'granite',
  qwen2: 'qwen2',
};

/**
 * Whether llama.cpp applies RoPE to adjacent pairs (x[2i], x[2i+1]) for this architecture, where transformers rotates
 * the two halves of each head (rotate_half): the converter then reorders the rows of q_proj and k_proj. qwen2 runs
 * with llama.cpp's NEOX RoPE, which rotates halves like transformers, so its rows stay as they are.
 */
export function needsRopePermutation(arch: GgufArchitecture): boolean {
  return arch !== 'qwen2';
}

export interface HparamsMetadata {
  arch: GgufArchitecture;
  entries: [string, GgufValue][];
  /** Extra F32 tensors the metadata needs (rope_freqs.weight for llama 3 scaling). */
  tensors: { name: string; data: Float32Array }[];
  warnings: string[];
}

/** The {arch}.* metadata for a config. */
export function hparamsMetadata(config: LlamaFamilyConfig, file: string): HparamsMetadata {
  const arch = ggufArchitectures[config.modelType];
  const k = (key: string) => `${arch}.${key}`;
  const warnings: string[] = [];
  const tensors: { name: string; data: Float32Array }[] = [];
  const entries: [string, GgufValue][] = [
    [k('vocab_size'), meta.u32(config.vocabSize)],
    [k('context_length'), meta.u32(config.maxPositionEmbeddings)],
    [k('embedding_length'), meta.u32(config.hiddenSize)],
    [k('block_count'), meta.u32(config.numHiddenLayers)],
    [k('feed_forward_length'), meta.u32(config.intermediateSize)],
    [k('attention.head_count'), meta.u32(config.numAttentionHeads)],
    [k('attention.head_count_kv'), meta.u32(config.numKeyValueHeads)],
    [k('attention.layer_norm_rms_epsilon'), meta.f32(config.rmsNormEps)],
    [k('rope.freq_base'), meta.f32(config.ropeTheta)],
    [k('rope.dimension_count'), meta.u32(config.headDim)],
  ];
  // llama.cpp assumes head_dim = hidden / heads unless told otherwise.
  if (config.headDim * config.numAttentionHeads !== config.hiddenSize) {
    entries.push([k('attention.key_length'), meta.u32(config.headDim)], [k('attention.value_length'), meta.u32(config.headDim)]);
  }
  if (config.granite) {
    entries.push(
      [k('attention.scale'), meta.f32(config.granite.attentionMultiplier)],
      [k('embedding_scale'), meta.f32(config.granite.embeddingMultiplier)],
      [k('residual_scale'), meta.f32(config.granite.residualMultiplier)],
      [k('logit_scale'), meta.f32(config.granite.logitsScaling)],
    );
  }
  if (config.slidingWindow !== null && config.slidingWindow < config.maxPositionEmbeddings) {
    warnings.push(
      `${file}: sliding_window ${config.slidingWindow} is not carried over; llama.cpp's ${arch} architecture attends to the whole context, so outputs differ past ${config.slidingWindow} tokens`,
    );
  }

  const scaling = config.ropeScaling;
  if (scaling) {
    switch (scaling.ropeType) {
      case 'linear':
        entries.push([k('rope.scaling.type'), meta.string('linear')], [k('rope.scaling.factor'), meta.f32(scaling.factor!)]);
        break;
      case 'yarn': {
        entries.push([k('rope.scaling.type'), meta.string('yarn')], [k('rope.scaling.factor'), meta.f32(scaling.factor!)]);
        if (scaling.originalMaxPositionEmbeddings !== undefined) {
          entries.push([k('rope.scaling.original_context_length'), meta.u32(scaling.originalMaxPositionEmbeddings)]);
        }
        const attnFactor = scaling.raw.attention_factor;
        if (typeof attnFactor === 'number') entries.push([k('rope.scaling.attn_factor'), meta.f32(attnFactor)]);
        break;
      }
      case 'llama3':
        if (arch !== 'llama') throw new ConvertError(file, `rope_scaling type llama3 on a ${config.modelType} model is not supported`, 'llama.cpp reads per-frequency RoPE factors for llama models only');
        tensors.push({ name: 'rope_freqs.weight', data: llama3RopeFactors(config) });
        break;
      case 'dynamic':
        warnings.push(`${file}: rope_scaling type dynamic is not carried over (llama.cpp has no dynamic NTK scaling); the model runs unscaled up to ${config.maxPositionEmbeddings} tokens`);
        break;
      default:
        throw new ConvertError(file, `rope_scaling type ${scaling.ropeType} is not supported`, 'supported: linear, yarn, llama3 (dynamic is dropped with a warning)');
    }
  }
  return { arch, entries, tensors, warnings };
}

/**
 * llama 3's RoPE scaling as llama.cpp applies it: one divisor per frequency (head_dim / 2 of them). High frequencies
 * (wavelength below original_max_position_embeddings / high_freq_factor) keep theirs (1), low ones (wavelength above
 * original / low_freq_factor) are divided by `factor`, and those between blend the two smoothly.
 */
export function llama3RopeFactors(config: LlamaFamilyConfig): Float32Array {
  const s = config.ropeScaling!;
  const factor = s.factor!;
  const low = s.lowFreqFactor ?? 1;
  const high = s.highFreqFactor ?? 4;
  const original = s.originalMaxPositionEmbeddings ?? 8192;
  const lowWavelen = original / low;
  const highWavelen = original / high;
  const half = config.headDim / 2;
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const freq = 1 / Math.pow(config.ropeTheta, (2 * i) / config.headDim);
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highWavelen) out[i] = 1;
    else if (wavelen > lowWavelen) out[i] = factor;
    else {
      const smooth = (original / wavelen - low) / (high - low);
      out[i] = 1 / ((1 - smooth) / factor + smooth);
    }
  }
  return out;
}
