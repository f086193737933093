// Fixture models: Hugging Face model folders of the llama family with seeded random weights and a byte-level BPE
// tokenizer trained on the example taxonomy, for tests, benchmarks and users who want a toy to try the loop on. Every
// byte is a function of (size, seed, architecture, dtype, dims, corpus): same inputs, identical folder.
//
// Files: config.json, generation_config.json, model.safetensors, tokenizer.json, tokenizer_config.json,
// special_tokens_map.json. Tensor names are transformers' (model.embed_tokens.weight,
// model.layers.N.self_attn.q_proj.weight, ..., lm_head.weight unless the embeddings are tied).
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { defaultChatTemplate } from './chatTemplate';
import { configJson, type GraniteMultipliers, type LlamaFamilyConfig, type ModelType } from './config';
import { exampleCorpus } from './corpus';
import { ModelFolderError } from './errors';
import { streamOf, Xoshiro128 } from './random';
import { elementCount } from './safetensors';
import { createSafetensorsWriter, type TensorSpec } from './safetensorsWriter';
import type { BpeModel } from './tokenizer/bpe';
import { specialTokensMapJson, tokenizerConfigJson, tokenizerJson, type SpecialTokens } from './tokenizer/files';
import { trainByteLevelBpe } from './tokenizer/train';

export type FixtureSize = 'tiny' | 'small' | 'medium';
export type FixtureDtype = 'F32' | 'F16' | 'BF16';

export interface FixtureDims {
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  /** Target vocabulary size, special tokens included; a small corpus can leave it smaller. */
  vocabSize: number;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
}

/**
 * tiny: loads and runs in milliseconds; rows of 64 suit the 32-element blocks of Q8_0/Q4_0 but not K-quants.
 * small: ~26M parameters; hidden 512 and intermediate 1536 are multiples of 256, so K-quants (Q4_K, Q5_K, Q6_K) apply
 * to every matrix. Both use grouped-query attention (two query heads per key/value head).
 * medium: ~180M parameters (about 190 MB as Q8_0), far larger than a CPU's last-level cache, so decoding is bound by
 * memory bandwidth as it is for real teachers and students; the batching benchmarks use it (small fits in cache, where
 * one sequence is already compute-bound and parallel sequences have little to share). Four query heads per key/value head.
 */
export const fixtureSizes: Readonly<Record<FixtureSize, Readonly<FixtureDims>>> = {
  tiny: {
    hiddenSize: 64,
    intermediateSize: 192,
    numHiddenLayers: 2,
    numAttentionHeads: 4,
    numKeyValueHeads: 2,
    vocabSize: 512,
    maxPositionEmbeddings: 4096,
    tieWordEmbeddings: true,
  },
  small: {
    hiddenSize: 512,
    intermediateSize: 1536,
    numHiddenLayers: 8,
    numAttentionHeads: 8,
    numKeyValueHeads: 4,
    vocabSize: 2048,
    maxPositionEmbeddings: 4096,
    tieWordEmbeddings: false,
  },
  medium: {
    hiddenSize: 1024,
    intermediateSize: 2816,
    numHiddenLayers: 16,
    numAttentionHeads: 16,
    numKeyValueHeads: 4,
    vocabSize: 2048,
    maxPositionEmbeddings: 4096,
    tieWordEmbeddings: false,
  },
};

/** The special tokens of fixture tokenizers, in id order after the learned tokens. */
export const fixtureSpecialTokens: SpecialTokens = {
  bos: '<|begin_of_text|>',
  eos: '<|end_of_text|>',
  pad: '<|pad|>',
  additional: ['<|system|>', '<|user|>', '<|assistant|>'],
};

export const fixtureArchitectures: readonly ModelType[] = ['llama', 'mistral', 'granite', 'qwen2'];

export interface FixtureOptions {
  size?: FixtureSize;
  seed?: number;
  arch?: ModelType;
  dtype?: FixtureDtype;
  /** Overrides of the size's dimensions. */
  dims?: Partial<FixtureDims>;
  /** Standard deviation of the weight matrices (default 0.02, transformers' initializer_range). */
  std?: number;
  /** Tokenizer training text (default: the example taxonomy). */
  corpus?: readonly string[];
  /** Replace a non-empty folder. */
  force?: boolean;
}

export interface FixtureModel {
  dir: string;
  config: LlamaFamilyConfig;
  files: string[];
  parameterCount: number;
  /** Bytes of model.safetensors. */
  weightBytes: number;
}

/** The tensors a llama-family model has, with transformers' names and shapes ([out, in] for Linear weights). */
export function llamaFamilyTensors(config: Pick<LlamaFamilyConfig, 'hiddenSize' | 'intermediateSize' | 'numHiddenLayers' | 'numAttentionHeads' | 'numKeyValueHeads' | 'headDim' | 'vocabSize' | 'tieWordEmbeddings' | 'qkvBias' | 'oProjBias' | 'mlpBias'>): { name: string; shape: number[]; kind: 'weight' | 'norm' | 'bias' }[] {
  const { hiddenSize: h, intermediateSize: f, headDim: d, vocabSize: v } = config;
  const q = config.numAttentionHeads * d;
  const kv = config.numKeyValueHeads * d;
  const out: { name: string; shape: number[]; kind: 'weight' | 'norm' | 'bias' }[] = [{ name: 'model.embed_tokens.weight', shape: [v, h], kind: 'weight' }];
  for (let i = 0; i < config.numHiddenLayers; i++) {
    const p = `model.layers.${i}`;
    out.push({ name: `${p}.input_layernorm.weight`, shape: [h], kind: 'norm' });
    out.push({ name: `${p}.self_attn.q_proj.weight`, shape: [q, h], kind: 'weight' });
    out.push({ name: `${p}.self_attn.k_proj.weight`, shape: [kv, h], kind: 'weight' });
    out.push({ name: `${p}.self_attn.v_proj.weight`, shape: [kv, h], kind: 'weight' });
    if (config.qkvBias) {
      out.push({ name: `${p}.self_attn.q_proj.bias`, shape: [q], kind: 'bias' });
      out.push({ name: `${p}.self_attn.k_proj.bias`, shape: [kv], kind: 'bias' });
      out.push({ name: `${p}.self_attn.v_proj.bias`, shape: [kv], kind: 'bias' });
    }
    out.push({ name: `${p}.self_attn.o_proj.weight`, shape: [h, q], kind: 'weight' });
    if (config.oProjBias) out.push({ name: `${p}.self_attn.o_proj.bias`, shape: [h], kind: 'bias' });
    out.push({ name: `${p}.post_attention_layernorm.weight`, shape: [h], kind: 'norm' });
    out.push({ name: `${p}.mlp.gate_proj.weight`, shape: [f, h], kind: 'weight' });
    out.push({ name: `${p}.mlp.up_proj.weight`, shape: [f, h], kind: 'weight' });
    out.push({ name: `${p}.mlp.down_proj.weight`, shape: [h, f], kind: 'weight' });
    if (config.mlpBias) {
      out.push({ name: `${p}.mlp.gate_proj.bias`, shape: [f], kind: 'bias' });
      out.push({ name: `${p}.mlp.up_proj.bias`, shape: [f], kind: 'bias' });
      out.push({ name: `${p}.mlp.down_proj.bias`, shape: [h], kind: 'bias' });
    }
  }
  out.push({ name: 'model.norm.weight', shape: [h], kind: 'norm' });
  if (!config.tieWordEmbeddings) out.push({ name: 'lm_head.weight', shape: [v, h], kind: 'weight' });
  return out;
}

/** Trains the fixture tokenizer (memoized per corpus and size: tests make many fixtures from one corpus). */
const tokenizerCache = new Map<string, BpeModel>();
export function fixtureTokenizer(texts: readonly string[], vocabSize: number): BpeModel {
  const special = [fixtureSpecialTokens.bos, fixtureSpecialTokens.eos, fixtureSpecialTokens.pad, ...fixtureSpecialTokens.additional];
  const key = `${vocabSize}\0${texts.length}\0${streamOf(texts.join('\u0001'))}\0${texts.reduce((n, t) => n + t.length, 0)}`;
  let model = tokenizerCache.get(key);
  if (!model) {
    model = trainByteLevelBpe(texts, { vocabSize, specialTokens: special });
    tokenizerCache.set(key, model);
  }
  return model;
}

/** The config.json a fixture of these dimensions and architecture gets, given its tokenizer. */
export function fixtureConfig(dims: FixtureDims, arch: ModelType, tokenizer: BpeModel, dtype: FixtureDtype): LlamaFamilyConfig {
  const id = (content: string) => tokenizer.addedTokens.find((t) => t.content === content)!.id;
  const headDim = dims.hiddenSize / dims.numAttentionHeads;
  if (!Number.isInteger(headDim)) throw new Error(`hidden size ${dims.hiddenSize} is not a multiple of ${dims.numAttentionHeads} heads`);
  if (dims.numAttentionHeads % dims.numKeyValueHeads) throw new Error(`${dims.numAttentionHeads} heads do not share ${dims.numKeyValueHeads} key/value heads evenly`);
  const granite: GraniteMultipliers | undefined =
    arch === 'granite' ? { embeddingMultiplier: 12, residualMultiplier: 0.22, attentionMultiplier: 1 / headDim, logitsScaling: 8 } : undefined;
  const config: LlamaFamilyConfig = {
    architecture: ({ llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', granite: 'GraniteForCausalLM', qwen2: 'Qwen2ForCausalLM' } as const)[arch],
    modelType: arch,
    hiddenSize: dims.hiddenSize,
    intermediateSize: dims.intermediateSize,
    numHiddenLayers: dims.numHiddenLayers,
    numAttentionHeads: dims.numAttentionHeads,
    numKeyValueHeads: dims.numKeyValueHeads,
    headDim,
    rmsNormEps: arch === 'qwen2' ? 1e-6 : 1e-5,
    ropeTheta: 10000,
    ropeScaling: null,
    maxPositionEmbeddings: dims.maxPositionEmbeddings,
    vocabSize: tokenizer.vocab.length,
    tieWordEmbeddings: dims.tieWordEmbeddings,
    bosTokenId: id(fixtureSpecialTokens.bos),
    eosTokenId: id(fixtureSpecialTokens.eos),
    padTokenId: id(fixtureSpecialTokens.pad),
    qkvBias: arch === 'qwen2',
    oProjBias: false,
    mlpBias: false,
    slidingWindow: null,
    torchDtype: { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[dtype],
    raw: {},
  };
  if (granite) config.granite = granite;
  return config;
}

/**
 * Writes a fixture model folder at `dir`: built in a temporary folder beside it and renamed into place, so `dir`
 * never holds half a model. A non-empty `dir` is only replaced with `force`.
 */
export async function writeFixtureModel(dir: string, options: FixtureOptions = {}): Promise<FixtureModel> {
  const size = options.size ?? 'tiny';
  const seed = options.seed ?? 0;
  const arch = options.arch ?? 'llama';
  const dtype = options.dtype ?? 'F32';
  const std = options.std ?? 0.02;
  if (!fixtureSizes[size]) throw new Error(`unknown fixture size ${JSON.stringify(size)}; sizes: ${Object.keys(fixtureSizes).join(', ')}`);
  if (!fixtureArchitectures.includes(arch)) throw new Error(`unknown architecture ${JSON.stringify(arch)}; supported: ${fixtureArchitectures.join(', ')}`);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`seed ${seed} is not an integer from 0 to 4294967295`);
  const dims: FixtureDims = { ...fixtureSizes[size], ...options.dims };

  const existing = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    if (err.code === 'ENOTDIR') throw new ModelFolderError(dir, 'is a file, not a folder', 'pick a folder to write the model into');
    throw err;
  });
  if (existing?.length && !options.force) throw new ModelFolderError(dir, 'is not empty', 'pick an empty or new folder, or pass --force to replace it');

  const texts = options.corpus ?? (await exampleCorpus()).texts;
  const tokenizer = fixtureTokenizer(texts, dims.vocabSize);
  const config = fixtureConfig(dims, arch, tokenizer, dtype);

  await mkdir(dirname(dir), { recursive: true });
  const temp = join(dirname(dir), `.${basename(dir)}.${randomBytes(4).toString('hex')}.tmp`);
  await mkdir(temp);
  try {
    const specs = llamaFamilyTensors(config);
    const writer = await createSafetensorsWriter(
      join(temp, 'model.safetensors'),
      specs.map((s): TensorSpec => ({ name: s.name, dtype, shape: s.shape })),
      { metadata: { format: 'pt' } },
    );
    let parameterCount = 0;
    try {
      for (const s of specs) {
        const rng = new Xoshiro128(seed, streamOf(s.name));
        const values = new Float32Array(elementCount(s.shape));
        // Norm weights near 1 rather than exactly 1, so a converter that drops or misplaces one changes the logits.
        if (s.kind === 'norm') rng.fillNormal(values, 1, 0.1);
        else rng.fillNormal(values, 0, std);
        await writer.write(s.name, values);
        parameterCount += values.length;
      }
      await writer.close();
    } finally {
      await writer.abort();
    }

    const special = fixtureSpecialTokens;
    const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
    const configText = configJson({ ...config, extra: { taxonomy_studio_fixture: { size, seed, std } } });
    config.raw = JSON.parse(configText) as Record<string, unknown>;
    const files: [string, string][] = [
      ['config.json', configText],
      ['generation_config.json', json({ bos_token_id: config.bosTokenId, eos_token_id: config.eosTokenId, pad_token_id: config.padTokenId })],
      ['tokenizer.json', json(tokenizerJson(tokenizer))],
      ['tokenizer_config.json', json(tokenizerConfigJson(tokenizer, { special, chatTemplate: defaultChatTemplate, modelMaxLength: config.maxPositionEmbeddings }))],
      ['special_tokens_map.json', json(specialTokensMapJson(special))],
    ];
    for (const [name, text] of files) await writeFile(join(temp, name), text);

    if (existing !== undefined) {
      if (existing.length) {
        const old = join(dirname(dir), `.${basename(dir)}.${randomBytes(4).toString('hex')}.old`);
        await rename(dir, old);
        await rename(temp, dir);
        await rm(old, { recursive: true, force: true });
      } else {
        await rmdir(dir);
        await rename(temp, dir);
      }
    } else {
      await rename(temp, dir);
    }
    const weightBytes = parameterCount * { F32: 4, F16: 2, BF16: 2 }[dtype];
    return { dir, config, files: ['model.safetensors', ...files.map(([n]) => n)].sort(), parameterCount, weightBytes };
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
}
