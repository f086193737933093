// A Hugging Face model folder read as a whole, for converters and trainers: config.json checked, the tokenizer's
// vocabulary, merges and special tokens, the chat template (with the default and a warning when there is none),
// and the weights opened on demand. Problems that do not stop a conversion come back as warnings.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chatTemplateOf, type FolderChatTemplate } from './chatTemplate';
import { readModelConfig, type LlamaFamilyConfig } from './config';
import { ModelFolderError } from './errors';
import { openModelWeights, type ModelWeights } from './modelWeights';

export interface SpecialToken {
  id: number;
  content: string;
}

export interface TokenizerVocabulary {
  /** Every token by id, added tokens included (their content as written); ids no token has are "". */
  tokens: string[];
  /** Ids of added tokens marked special (control tokens, in llama.cpp's terms). */
  specialIds: number[];
  /** Ids of added tokens not marked special (user-defined tokens). */
  addedIds: number[];
  /** BPE merges as "left right". */
  merges: string[];
  /**
   * llama.cpp's name (GGUF tokenizer.ggml.pre) for the pre-tokenizer that splits text exactly as this tokenizer does:
   * "gpt-2" for GPT-2's byte-level pattern; undefined when this reader cannot tell.
   */
  preTokenizer?: 'gpt-2';
}

export interface ModelFolder {
  folder: string;
  config: LlamaFamilyConfig;
  vocabulary: TokenizerVocabulary;
  bos?: SpecialToken;
  eos?: SpecialToken;
  pad?: SpecialToken;
  addBosToken: boolean;
  addEosToken: boolean;
  chatTemplate: FolderChatTemplate;
  /** tokenizer.json and tokenizer_config.json as read ({} when the config is missing), for anything not mapped here. */
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  /** Sentences for the user: what was assumed or will not carry over. */
  warnings: string[];
  openWeights(): Promise<ModelWeights>;
}

export async function readModelFolder(folder: string): Promise<ModelFolder> {
  const config = await readModelConfig(folder);
  const warnings: string[] = [];

  const tokenizerFile = join(folder, 'tokenizer.json');
  const tokenizerJson = await readJson(tokenizerFile, 'a Hugging Face model folder has tokenizer.json beside config.json; copy it from the model you started from');
  const configFile = join(folder, 'tokenizer_config.json');
  let tokenizerConfig: Record<string, unknown> = {};
  try {
    tokenizerConfig = await readJson(configFile, '');
  } catch (err) {
    if (!(err instanceof ModelFolderError && err.what === 'not found')) throw err;
    warnings.push(`${configFile} not found; special tokens are taken from config.json`);
  }

  const vocabulary = vocabularyOf(tokenizerJson, tokenizerFile);
  if (vocabulary.tokens.length > config.vocabSize) {
    throw new ModelFolderError(folder, `the tokenizer has ${vocabulary.tokens.length} tokens but config.json's vocab_size is ${config.vocabSize}`, 'the embedding has a row per token; the tokenizer does not belong to these weights');
  }
  if (vocabulary.tokens.length < config.vocabSize) {
    warnings.push(`the tokenizer has ${vocabulary.tokens.length} tokens and the embedding ${config.vocabSize} rows; the extra rows have no token`);
  }

  const idOf = new Map<string, number>();
  vocabulary.tokens.forEach((t, id) => {
    if (t && !idOf.has(t)) idOf.set(t, id);
  });
  const special = (key: 'bos_token' | 'eos_token' | 'pad_token', fallbackId: number | null): SpecialToken | undefined => {
    const v = tokenizerConfig[key];
    const content = typeof v === 'string' ? v : typeof (v as { content?: unknown } | null)?.content === 'string' ? (v as { content: string }).content : undefined;
    if (content !== undefined) {
      const id = idOf.get(content);
      if (id === undefined) throw new ModelFolderError(configFile, `${key} ${JSON.stringify(content)} is not a token of tokenizer.json`, 'fix the token or the tokenizer', key);
      return { id, content };
    }
    if (fallbackId !== null && fallbackId < vocabulary.tokens.length) return { id: fallbackId, content: vocabulary.tokens[fallbackId] };
    return undefined;
  };
  const eosIds = config.eosTokenId;
  const bos = special('bos_token', config.bosTokenId);
  const eos = special('eos_token', Array.isArray(eosIds) ? (eosIds[0] ?? null) : eosIds);
  const pad = special('pad_token', config.padTokenId);

  const chatTemplate = await chatTemplateOf(folder);
  if (chatTemplate.warning) warnings.push(chatTemplate.warning);
  if (!vocabulary.preTokenizer) warnings.push(`${tokenizerFile}: its pre-tokenizer is not GPT-2's byte-level pattern; llama.cpp needs a matching pre-tokenizer name to split text the same way`);

  return {
    folder,
    config,
    vocabulary,
    ...(bos && { bos }),
    ...(eos && { eos }),
    ...(pad && { pad }),
    addBosToken: tokenizerConfig.add_bos_token === true,
    addEosToken: tokenizerConfig.add_eos_token === true,
    chatTemplate,
    tokenizerJson,
    tokenizerConfig,
    warnings,
    openWeights: () => openModelWeights(folder),
  };
}

/** The vocabulary of a BPE tokenizer.json (byte-level or not), with added tokens merged in by id. */
export function vocabularyOf(json: Record<string, unknown>, file = 'tokenizer.json'): TokenizerVocabulary {
  const model = json.model as { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[] } | undefined;
  if (!model || model.type !== 'BPE' || typeof model.vocab !== 'object' || model.vocab === null) {
    throw new ModelFolderError(file, `the tokenizer model is ${JSON.stringify(model?.type ?? null)}, not BPE with a vocab`, 'only BPE tokenizers (llama 3, mistral nemo, granite, qwen2 and the like) are supported');
  }
  const tokens: string[] = [];
  for (const [token, id] of Object.entries(model.vocab)) tokens[id] = token;
  const specialIds: number[] = [];
  const addedIds: number[] = [];
  for (const t of (json.added_tokens ?? []) as { id: number; content: string; special?: boolean }[]) {
    tokens[t.id] = t.content;
    (t.special ? specialIds : addedIds).push(t.id);
  }
  for (let i = 0; i < tokens.length; i++) tokens[i] ??= '';
  const merges = (model.merges ?? []).map((m) => (Array.isArray(m) ? `${m[0]} ${m[1]}` : m));
  const pre = json.pre_tokenizer as { type?: string; use_regex?: boolean; add_prefix_space?: boolean } | null | undefined;
  const gpt2 = pre?.type === 'ByteLevel' && pre.use_regex !== false && !pre.add_prefix_space && json.normalizer == null;
  return { tokens, specialIds, addedIds, merges, ...(gpt2 ? { preTokenizer: 'gpt-2' as const } : {}) };
}

async function readJson(file: string, hint: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ModelFolderError(file, 'not found', hint || undefined);
    throw new ModelFolderError(file, `cannot read: ${(err as Error).message}`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new ModelFolderError(file, `is not valid JSON: ${(err as Error).message}`, 'fix the file or copy it again from the model');
  }
}
