// The hyper-parameters the reference forward pass needs, for the llama family as Hugging Face transformers defines
// it (llama, mistral, qwen2, granite), and the mapping from a config.json to them with transformers' defaults.

import { ModelConfigError } from './errors';

export const supportedArchitectures = ['llama', 'mistral', 'qwen2', 'granite'] as const;
export type Architecture = (typeof supportedArchitectures)[number];

/** RoPE frequency scaling; `null` in ModelConfig means transformers' "default" rope type. */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | {
      type: 'llama3';
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositions: number;
    };

export interface ModelConfig {
  architecture: Architecture;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  vocab: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  /** lm_head shares model.embed_tokens.weight (and lm_head.weight is not read). */
  tieWordEmbeddings: boolean;
  /** Biases on q/k/v projections (qwen2 always; llama/mistral/granite when attention_bias). */
  qkvBias: boolean;
  /** Bias on o_proj (llama/granite attention_bias). */
  oBias: boolean;
  /** Biases on gate/up/down (llama/granite mlp_bias). */
  mlpBias: boolean;
  /** Granite: embeddings are multiplied by this (1 elsewhere). */
  embeddingMultiplier: number;
  /** Granite: each block's output is multiplied by this before it is added to the residual (1 elsewhere). */
  residualMultiplier: number;
  /** Attention score scale; null means 1/sqrt(headDim). Granite sets it (attention_multiplier). */
  attentionMultiplier: number | null;
  /** Granite: logits are divided by this (1 elsewhere). */
  logitsScaling: number;
  /** Mistral: a query attends to keys less than this many positions back; null attends to all. */
  slidingWindow: number | null;
}

/** Fills the defaults a plain llama model has and checks the result; what tests and fixture generators build on. */
export function defineConfig(
  c: Pick<ModelConfig, 'hidden' | 'layers' | 'heads' | 'intermediate' | 'vocab'> & Partial<ModelConfig>,
): ModelConfig {
  const config: ModelConfig = {
    architecture: 'llama',
    kvHeads: c.heads,
    headDim: c.hidden / c.heads,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    ropeScaling: null,
    tieWordEmbeddings: false,
    qkvBias: false,
    oBias: false,
    mlpBias: false,
    embeddingMultiplier: 1,
    residualMultiplier: 1,
    attentionMultiplier: null,
    logitsScaling: 1,
    slidingWindow: null,
    ...c,
  };
  // Qwen2's attention always has q/k/v biases and no o_proj bias, whatever a spread-in config said.
  if (config.architecture === 'qwen2') Object.assign(config, { qkvBias: true, oBias: false });
  validateConfig(config);
  return config;
}

export function validateConfig(c: ModelConfig): void {
  const positiveInt = (key: string, v: number) => {
    if (!Number.isInteger(v) || v <= 0) throw new ModelConfigError(key, `expected a positive integer, found ${v}`);
  };
  positiveInt('hidden_size', c.hidden);
  positiveInt('num_hidden_layers', c.layers);
  positiveInt('num_attention_heads', c.heads);
  positiveInt('num_key_value_heads', c.kvHeads);
  positiveInt('head_dim', c.headDim);
  positiveInt('intermediate_size', c.intermediate);
  positiveInt('vocab_size', c.vocab);
  if (c.heads % c.kvHeads !== 0) {
    throw new ModelConfigError(
      'num_key_value_heads',
      `${c.kvHeads} does not divide num_attention_heads ${c.heads} (each key/value head serves a whole group)`,
    );
  }
  if (c.headDim % 2 !== 0) throw new ModelConfigError('head_dim', `RoPE needs an even head_dim, found ${c.headDim}`);
  const finite = (key: string, v: number, positive: boolean) => {
    if (!Number.isFinite(v) || (positive ? v <= 0 : v < 0)) {
      throw new ModelConfigError(key, `expected a ${positive ? 'positive' : 'non-negative'} number, found ${v}`);
    }
  };
  finite('rms_norm_eps', c.rmsNormEps, false);
  finite('rope_theta', c.ropeTheta, true);
  finite('embedding_multiplier', c.embeddingMultiplier, false);
  finite('residual_multiplier', c.residualMultiplier, false);
  finite('logits_scaling', c.logitsScaling, true);
  if (c.attentionMultiplier !== null) finite('attention_multiplier', c.attentionMultiplier, false);
  if (c.slidingWindow !== null) positiveInt('sliding_window', c.slidingWindow);
  if (c.ropeScaling) {
    finite('rope_scaling.factor', c.ropeScaling.factor, true);
    if (c.ropeScaling.type === 'llama3') {
      finite('rope_scaling.low_freq_factor', c.ropeScaling.lowFreqFactor, true);
      finite('rope_scaling.high_freq_factor', c.ropeScaling.highFreqFactor, true);
      if (c.ropeScaling.highFreqFactor <= c.ropeScaling.lowFreqFactor) {
        throw new ModelConfigError('rope_scaling.high_freq_factor', 'must be greater than low_freq_factor');
      }
      positiveInt('rope_scaling.original_max_position_embeddings', c.ropeScaling.originalMaxPositions);
    }
  }
}

type Json = Record<string, unknown>;

/**
 * Maps a Hugging Face config.json (already parsed) to ModelConfig, with the defaults transformers' config classes
 * use for keys the file leaves out. Throws ModelConfigError naming the key for anything the forward cannot run.
 */
export function configFromHf(json: Json): ModelConfig {
  const arch = architectureOf(json);
  const num = (key: string, fallback?: number): number => {
    const v = json[key];
    if (v === undefined || v === null) {
      if (fallback === undefined) throw new ModelConfigError(key, 'missing');
      return fallback;
    }
    if (typeof v !== 'number') throw new ModelConfigError(key, `expected a number, found ${JSON.stringify(v)}`);
    return v;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const v = json[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw new ModelConfigError(key, `expected true or false, found ${JSON.stringify(v)}`);
    return v;
  };

  const act = json.hidden_act ?? json.hidden_activation ?? 'silu';
  if (act !== 'silu')
    throw new ModelConfigError('hidden_act', `only "silu" (SwiGLU) is supported, found ${JSON.stringify(act)}`);
  if (arch === 'qwen2' && json.use_sliding_window === true) {
    throw new ModelConfigError('use_sliding_window', 'qwen2 per-layer sliding window attention is not supported');
  }

  const hidden = num('hidden_size');
  const heads = num('num_attention_heads');
  // transformers v5 moves rope_theta and the scaling into rope_parameters.
  const ropeParams = isObject(json.rope_parameters) ? json.rope_parameters : undefined;
  const ropeTheta =
    ropeParams && typeof ropeParams.rope_theta === 'number' ? ropeParams.rope_theta : num('rope_theta', 10000);
  const attentionBias = bool('attention_bias', false);
  const config: ModelConfig = {
    architecture: arch,
    hidden,
    layers: num('num_hidden_layers'),
    heads,
    kvHeads: num('num_key_value_heads', heads),
    headDim: num('head_dim', hidden / heads),
    intermediate: num('intermediate_size'),
    vocab: num('vocab_size'),
    rmsNormEps: num('rms_norm_eps', 1e-6),
    ropeTheta,
    ropeScaling: ropeScalingFromHf(json.rope_scaling ?? ropeParams),
    tieWordEmbeddings: bool('tie_word_embeddings', false),
    qkvBias: arch === 'qwen2' || attentionBias,
    oBias: arch !== 'qwen2' && attentionBias,
    mlpBias: bool('mlp_bias', false),
    embeddingMultiplier: arch === 'granite' ? num('embedding_multiplier', 1) : 1,
    residualMultiplier: arch === 'granite' ? num('residual_multiplier', 1) : 1,
    attentionMultiplier: arch === 'granite' ? num('attention_multiplier', 1) : null,
    logitsScaling: arch === 'granite' ? num('logits_scaling', 1) : 1,
    // MistralConfig defaults sliding_window to 4096; an explicit null turns it off.
    slidingWindow: arch === 'mistral' ? (json.sliding_window === null ? null : num('sliding_window', 4096)) : null,
  };
  validateConfig(config);
  return config;
}

function architectureOf(json: Json): Architecture {
  const type = json.model_type;
  if (typeof type === 'string' && (supportedArchitectures as readonly string[]).includes(type)) {
    return type as Architecture;
  }
  const named = Array.isArray(json.architectures) ? json.architectures.join(', ') : undefined;
  throw new ModelConfigError(
    'model_type',
    `unsupported architecture ${JSON.stringify(type)}${named ? ` (${named})` : ''}; supported: ${supportedArchitectures.join(', ')}`,
  );
}

function ropeScalingFromHf(v: unknown): RopeScaling | null {
  if (v === undefined || v === null) return null;
  if (!isObject(v)) throw new ModelConfigError('rope_scaling', `expected an object, found ${JSON.stringify(v)}`);
  const type = v.rope_type ?? v.type ?? 'default';
  const field = (key: string): number => {
    const x = v[key];
    if (typeof x !== 'number')
      throw new ModelConfigError(`rope_scaling.${key}`, `expected a number, found ${JSON.stringify(x)}`);
    return x;
  };
  switch (type) {
    case 'default':
      return null;
    case 'linear':
      return { type: 'linear', factor: field('factor') };
    case 'llama3':
      return {
        type: 'llama3',
        factor: field('factor'),
        lowFreqFactor: field('low_freq_factor'),
        highFreqFactor: field('high_freq_factor'),
        originalMaxPositions: field('original_max_position_embeddings'),
      };
    default:
      throw new ModelConfigError(
        'rope_scaling.rope_type',
        `unsupported rope type ${JSON.stringify(type)}; supported: default, linear, llama3`,
      );
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
