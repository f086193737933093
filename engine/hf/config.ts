// config.json of llama-family models as Hugging Face transformers writes it (LlamaConfig, MistralConfig,
// GraniteConfig, Qwen2Config): read with transformers' defaults for what may be left out, checked, and turned into
// one typed shape. `configJson` goes the other way, for the folders this project writes.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelFolderError } from './errors';

/** The architectures read here: transformers class name → model_type. */
export const supportedArchitectures = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  GraniteForCausalLM: 'granite',
  Qwen2ForCausalLM: 'qwen2',
} as const;

export type ArchitectureName = keyof typeof supportedArchitectures;
export type ModelType = (typeof supportedArchitectures)[ArchitectureName];

export interface RopeScaling {
  /** rope_type (or the older `type`): linear, dynamic, yarn, llama3, longrope, ... */
  ropeType: string;
  factor?: number;
  originalMaxPositionEmbeddings?: number;
  lowFreqFactor?: number;
  highFreqFactor?: number;
  /** The object as config.json has it, for the fields not named here. */
  raw: Record<string, unknown>;
}

/** Granite scales what llama leaves at 1 (transformers' GraniteConfig). */
export interface GraniteMultipliers {
  /** Multiplies the token embeddings. */
  embeddingMultiplier: number;
  /** Multiplies each block's attention and MLP output before it is added to the residual stream. */
  residualMultiplier: number;
  /** Replaces 1/sqrt(head_dim) as the attention score scale. */
  attentionMultiplier: number;
  /** Divides the logits. */
  logitsScaling: number;
}

export interface LlamaFamilyConfig {
  architecture: ArchitectureName;
  modelType: ModelType;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  /** Grouped-query attention: numAttentionHeads is a multiple of this. */
  numKeyValueHeads: number;
  /** head_dim when config.json gives it, else hiddenSize / numAttentionHeads. */
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  maxPositionEmbeddings: number;
  vocabSize: number;
  tieWordEmbeddings: boolean;
  bosTokenId: number | null;
  /** One id, or several for models that stop on more than one token. */
  eosTokenId: number | number[] | null;
  padTokenId: number | null;
  /** q_proj, k_proj and v_proj have biases: always for qwen2, with attention_bias for llama/granite, never for mistral. */
  qkvBias: boolean;
  /** o_proj has a bias: with attention_bias for llama/granite, never for qwen2 or mistral. */
  oProjBias: boolean;
  /** mlp_bias (llama, granite): the MLP projections have biases. */
  mlpBias: boolean;
  /** Attention sees only this many past positions (mistral's sliding_window, qwen2's when use_sliding_window); null: all. */
  slidingWindow: number | null;
  /** Present for granite only. */
  granite?: GraniteMultipliers;
  /** torch_dtype as written (float32, float16, bfloat16), if any. */
  torchDtype?: string;
  /** config.json as read, for anything not mapped here. */
  raw: Record<string, unknown>;
}

/** transformers' defaults for fields a config.json may leave out, per model_type. */
const defaults: Record<ModelType, { rmsNormEps: number; ropeTheta: number; maxPositionEmbeddings: number }> = {
  llama: { rmsNormEps: 1e-6, ropeTheta: 10000, maxPositionEmbeddings: 2048 },
  mistral: { rmsNormEps: 1e-6, ropeTheta: 10000, maxPositionEmbeddings: 4096 * 32 },
  granite: { rmsNormEps: 1e-6, ropeTheta: 10000, maxPositionEmbeddings: 2048 },
  qwen2: { rmsNormEps: 1e-6, ropeTheta: 10000, maxPositionEmbeddings: 32768 },
};

const supportedList = Object.entries(supportedArchitectures)
  .map(([a, t]) => `${a} (${t})`)
  .join(', ');

/** Reads and checks `<folder>/config.json`. */
export async function readModelConfig(folder: string): Promise<LlamaFamilyConfig> {
  const file = join(folder, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ModelFolderError(file, code === 'ENOENT' ? 'not found' : `cannot read: ${(err as Error).message}`, 'a Hugging Face model folder has a config.json beside its weights');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelFolderError(file, `is not valid JSON: ${(err as Error).message}`, 'fix the file or download it again');
  }
  return parseModelConfig(json, file);
}

/** Checks a parsed config.json; `file` names it in errors. */
export function parseModelConfig(json: unknown, file = 'config.json'): LlamaFamilyConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ModelFolderError(file, 'is not a JSON object');
  const raw = json as Record<string, unknown>;
  const fail = (field: string, what: string, hint?: string) => new ModelFolderError(file, what, hint, field);

  const { architecture, modelType } = architectureOf(raw, file);

  const int = (field: string, fallback?: number): number => {
    const v = raw[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw fail(field, `has no ${field}`, `every ${architecture} config.json gives it`);
    }
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw fail(field, `${field} is ${JSON.stringify(v)}, not a positive integer`);
    return v;
  };
  const num = (field: string, fallback: number, positive = true): number => {
    const v = raw[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || (positive && v <= 0)) throw fail(field, `${field} is ${JSON.stringify(v)}, not a ${positive ? 'positive ' : ''}number`);
    return v;
  };
  const bool = (field: string, fallback: boolean): boolean => {
    const v = raw[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw fail(field, `${field} is ${JSON.stringify(v)}, not true or false`);
    return v;
  };
  const tokenId = (field: string): number | null => {
    const v = raw[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw fail(field, `${field} is ${JSON.stringify(v)}, not a token id`);
    return v;
  };

  const d = defaults[modelType];
  const hiddenSize = int('hidden_size');
  const numAttentionHeads = int('num_attention_heads');
  const numKeyValueHeads = int('num_key_value_heads', numAttentionHeads);
  const headDim = int('head_dim', hiddenSize / numAttentionHeads);
  if (raw.head_dim == null && hiddenSize % numAttentionHeads !== 0) {
    throw fail('num_attention_heads', `hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numAttentionHeads}`, 'give head_dim, or fix one of the two');
  }
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    throw fail('num_key_value_heads', `num_attention_heads ${numAttentionHeads} is not a multiple of num_key_value_heads ${numKeyValueHeads}`, 'grouped-query attention shares each key/value head among a whole number of query heads');
  }

  const vocabSize = int('vocab_size');
  const eos = raw.eos_token_id;
  let eosTokenId: number | number[] | null;
  if (Array.isArray(eos)) {
    if (!eos.every((e) => typeof e === 'number' && Number.isSafeInteger(e) && e >= 0)) throw fail('eos_token_id', `eos_token_id is ${JSON.stringify(eos)}, not a token id or a list of them`);
    eosTokenId = eos as number[];
  } else eosTokenId = tokenId('eos_token_id');
  const bosTokenId = tokenId('bos_token_id');
  const padTokenId = tokenId('pad_token_id');
  for (const [field, id] of [['bos_token_id', bosTokenId], ['pad_token_id', padTokenId], ...[eosTokenId].flat().map((e) => ['eos_token_id', e] as const)] as const) {
    if (id !== null && id >= vocabSize) throw fail(field, `${field} ${id} is not below vocab_size ${vocabSize}`);
  }

  // Only LlamaConfig and GraniteConfig read attention_bias and mlp_bias; mistral and qwen2 fix their biases.
  const hasBiasFields = modelType === 'llama' || modelType === 'granite';
  const config: LlamaFamilyConfig = {
    architecture,
    modelType,
    hiddenSize,
    intermediateSize: int('intermediate_size'),
    numHiddenLayers: int('num_hidden_layers'),
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    rmsNormEps: num('rms_norm_eps', d.rmsNormEps),
    ropeTheta: num('rope_theta', d.ropeTheta),
    ropeScaling: ropeScalingOf(raw.rope_scaling, file),
    maxPositionEmbeddings: int('max_position_embeddings', d.maxPositionEmbeddings),
    vocabSize,
    tieWordEmbeddings: bool('tie_word_embeddings', false),
    bosTokenId,
    eosTokenId,
    padTokenId,
    qkvBias: modelType === 'qwen2' || (hasBiasFields && bool('attention_bias', false)),
    oProjBias: hasBiasFields && bool('attention_bias', false),
    mlpBias: hasBiasFields && bool('mlp_bias', false),
    slidingWindow:
      modelType === 'mistral' || (modelType === 'qwen2' && bool('use_sliding_window', false)) ? (raw.sliding_window == null ? null : int('sliding_window')) : null,
    raw,
  };
  if (typeof raw.torch_dtype === 'string') config.torchDtype = raw.torch_dtype;
  if (modelType === 'granite') {
    config.granite = {
      embeddingMultiplier: num('embedding_multiplier', 1),
      residualMultiplier: num('residual_multiplier', 1),
      attentionMultiplier: num('attention_multiplier', 1),
      logitsScaling: num('logits_scaling', 1),
    };
  }
  return config;
}

function architectureOf(raw: Record<string, unknown>, file: string): { architecture: ArchitectureName; modelType: ModelType } {
  const archs = raw.architectures;
  const modelType = raw.model_type;
  if (archs !== undefined && (!Array.isArray(archs) || !archs.every((a) => typeof a === 'string'))) {
    throw new ModelFolderError(file, `architectures is ${JSON.stringify(archs)}, not a list of class names`, undefined, 'architectures');
  }
  const named = (archs as string[] | undefined)?.[0];
  if (named !== undefined) {
    if (!(named in supportedArchitectures)) {
      throw new ModelFolderError(file, `architecture ${named} is not supported`, `supported: ${supportedList}`, 'architectures');
    }
    const architecture = named as ArchitectureName;
    const expected = supportedArchitectures[architecture];
    if (modelType !== undefined && modelType !== expected) {
      throw new ModelFolderError(file, `model_type ${JSON.stringify(modelType)} does not match architecture ${architecture} (model_type ${expected})`, 'fix one of the two', 'model_type');
    }
    return { architecture, modelType: expected };
  }
  if (typeof modelType !== 'string') {
    throw new ModelFolderError(file, 'has neither architectures nor model_type', `say which architecture the model is; supported: ${supportedList}`, 'architectures');
  }
  const entry = Object.entries(supportedArchitectures).find(([, t]) => t === modelType);
  if (!entry) throw new ModelFolderError(file, `model_type ${modelType} is not supported`, `supported: ${supportedList}`, 'model_type');
  return { architecture: entry[0] as ArchitectureName, modelType: entry[1] };
}

function ropeScalingOf(v: unknown, file: string): RopeScaling | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ModelFolderError(file, `rope_scaling is ${JSON.stringify(v)}, not an object`, undefined, 'rope_scaling');
  const raw = v as Record<string, unknown>;
  const ropeType = raw.rope_type ?? raw.type;
  if (typeof ropeType !== 'string') throw new ModelFolderError(file, 'rope_scaling has no rope_type', 'e.g. "linear", "llama3" or "yarn"', 'rope_scaling');
  if (ropeType === 'default') return null;
  const numberField = (k: string): number | undefined => {
    const x = raw[k];
    if (x === undefined || x === null) return undefined;
    if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) throw new ModelFolderError(file, `rope_scaling.${k} is ${JSON.stringify(x)}, not a positive number`, undefined, 'rope_scaling');
    return x;
  };
  const scaling: RopeScaling = { ropeType, raw };
  const fields = [
    ['factor', 'factor'],
    ['original_max_position_embeddings', 'originalMaxPositionEmbeddings'],
    ['low_freq_factor', 'lowFreqFactor'],
    ['high_freq_factor', 'highFreqFactor'],
  ] as const;
  for (const [k, name] of fields) {
    const x = numberField(k);
    if (x !== undefined) scaling[name] = x;
  }
  if ((ropeType === 'linear' || ropeType === 'llama3' || ropeType === 'dynamic' || ropeType === 'yarn') && scaling.factor === undefined) {
    throw new ModelFolderError(file, `rope_scaling of type ${ropeType} has no factor`, undefined, 'rope_scaling');
  }
  return scaling;
}

/** config.json text for a config, with the fields transformers writes for the architecture (keys sorted, as it does). */
export function configJson(config: Omit<LlamaFamilyConfig, 'raw' | 'architecture'> & { extra?: Record<string, unknown> }): string {
  const architecture = (Object.entries(supportedArchitectures).find(([, t]) => t === config.modelType)![0]) as ArchitectureName;
  const json: Record<string, unknown> = {
    architectures: [architecture],
    model_type: config.modelType,
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.numHiddenLayers,
    num_attention_heads: config.numAttentionHeads,
    num_key_value_heads: config.numKeyValueHeads,
    head_dim: config.headDim,
    hidden_act: 'silu',
    rms_norm_eps: config.rmsNormEps,
    rope_theta: config.ropeTheta,
    rope_scaling: config.ropeScaling ? config.ropeScaling.raw : null,
    max_position_embeddings: config.maxPositionEmbeddings,
    vocab_size: config.vocabSize,
    tie_word_embeddings: config.tieWordEmbeddings,
    bos_token_id: config.bosTokenId,
    eos_token_id: config.eosTokenId,
    pad_token_id: config.padTokenId,
    torch_dtype: config.torchDtype ?? 'float32',
    use_cache: true,
    initializer_range: 0.02,
  };
  if (config.modelType === 'llama' || config.modelType === 'granite') {
    if (config.qkvBias !== config.oProjBias) throw new Error(`${config.modelType}: attention_bias gives biases to q, k, v and o alike`);
    json.attention_bias = config.qkvBias;
    json.mlp_bias = config.mlpBias;
    json.attention_dropout = 0;
  }
  if (config.modelType === 'mistral') json.sliding_window = config.slidingWindow;
  if (config.modelType === 'qwen2') {
    json.use_sliding_window = config.slidingWindow !== null;
    json.sliding_window = config.slidingWindow;
    json.max_window_layers = config.numHiddenLayers;
  }
  if (config.granite) {
    json.embedding_multiplier = config.granite.embeddingMultiplier;
    json.residual_multiplier = config.granite.residualMultiplier;
    json.attention_multiplier = config.granite.attentionMultiplier;
    json.logits_scaling = config.granite.logitsScaling;
  }
  Object.assign(json, config.extra);
  const sorted = Object.fromEntries(Object.keys(json).sort().map((k) => [k, json[k]]));
  return `${JSON.stringify(sorted, null, 2)}\n`;
}
