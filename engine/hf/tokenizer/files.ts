// tokenizer.json (the Hugging Face `tokenizers` format), tokenizer_config.json and special_tokens_map.json for a
// byte-level BPE model, and reading tokenizer.json back into our encoder. The JSON written is what transformers saves
// for GPT-2-style tokenizers: ByteLevel pre-tokenizer (add_prefix_space false, use_regex true), BPE model with
// "left right" merges, ByteLevel decoder, added tokens marked special.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelFolderError } from '../errors';
import { ByteLevelBpe, type AddedToken, type BpeModel } from './bpe';

/** The special tokens of a tokenizer this project writes: which content plays which part. */
export interface SpecialTokens {
  bos: string;
  eos: string;
  pad: string;
  /** Further special tokens (chat roles), listed as additional_special_tokens. */
  additional: readonly string[];
}

export interface TokenizerConfigOptions {
  special: SpecialTokens;
  chatTemplate: string;
  modelMaxLength: number;
}

/** tokenizer.json as an object. Added tokens keep their ids; the model's vocab lists them too, as GPT-2's does. */
export function tokenizerJson(model: BpeModel): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  model.vocab.forEach((token, id) => {
    if (token !== undefined && !(token in vocab)) vocab[token] = id;
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: model.addedTokens.map((t) => addedTokenJson(t)),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: model.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

function addedTokenJson(t: AddedToken, withId = true): Record<string, unknown> {
  return {
    ...(withId ? { id: t.id } : {}),
    content: t.content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: t.special,
  };
}

/**
 * tokenizer_config.json as an object. No BOS is added when encoding (add_bos_token false, and tokenizer.json has no
 * template post-processor), so HF, tokenizers.js and llama.cpp (tokenizer.ggml.add_bos_token false) agree on ids;
 * the chat template writes every token the model sees. clean_up_tokenization_spaces is false so decode(encode(x)) is x.
 */
export function tokenizerConfigJson(model: BpeModel, options: TokenizerConfigOptions): Record<string, unknown> {
  return {
    add_bos_token: false,
    add_eos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries(model.addedTokens.map((t) => [String(t.id), addedTokenJson(t, false)])),
    additional_special_tokens: [...options.special.additional],
    bos_token: options.special.bos,
    chat_template: options.chatTemplate,
    clean_up_tokenization_spaces: false,
    eos_token: options.special.eos,
    model_max_length: options.modelMaxLength,
    pad_token: options.special.pad,
    tokenizer_class: 'PreTrainedTokenizerFast',
    unk_token: null,
  };
}

export function specialTokensMapJson(special: SpecialTokens): Record<string, unknown> {
  return { additional_special_tokens: [...special.additional], bos_token: special.bos, eos_token: special.eos, pad_token: special.pad };
}

/** Reads `<folder>/tokenizer.json` as a byte-level BPE tokenizer; other kinds are refused, saying what they are. */
export async function loadTokenizer(folder: string): Promise<ByteLevelBpe> {
  const file = join(folder, 'tokenizer.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      const spm = await readFile(join(folder, 'tokenizer.model')).then(
        () => true,
        () => false,
      );
      throw new ModelFolderError(
        file,
        'not found',
        spm
          ? 'the folder has only a SentencePiece tokenizer.model; save the tokenizer with transformers (tokenizer.save_pretrained) to get tokenizer.json'
          : 'a Hugging Face model folder has tokenizer.json beside config.json; copy it from the model you started from',
      );
    }
    throw new ModelFolderError(file, `cannot read: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelFolderError(file, `is not valid JSON: ${(err as Error).message}`, 'fix the file or copy it again');
  }
  return parseTokenizerJson(json, file);
}

/** A tokenizer.json object as our encoder; `file` names it in errors. */
export function parseTokenizerJson(json: unknown, file = 'tokenizer.json'): ByteLevelBpe {
  const unsupported = (what: string) =>
    new ModelFolderError(file, `${what}; this reader handles byte-level BPE tokenizers with GPT-2 pre-tokenization only`, 'use @huggingface/tokenizers for other kinds');
  const root = json as {
    model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[]; byte_fallback?: boolean; ignore_merges?: boolean };
    pre_tokenizer?: { type?: string; use_regex?: boolean; add_prefix_space?: boolean } | null;
    normalizer?: unknown;
    added_tokens?: { id: number; content: string; special?: boolean; lstrip?: boolean; rstrip?: boolean; single_word?: boolean; normalized?: boolean }[];
  };
  if (typeof root !== 'object' || root === null || typeof root.model !== 'object' || root.model === null) throw new ModelFolderError(file, 'has no model object');
  if (root.model.type !== 'BPE') throw unsupported(`the model type is ${JSON.stringify(root.model.type)}, not BPE`);
  if (root.model.byte_fallback || root.model.ignore_merges) throw unsupported(`the BPE model uses ${root.model.byte_fallback ? 'byte_fallback' : 'ignore_merges'}`);
  const pre = root.pre_tokenizer;
  if (!pre || pre.type !== 'ByteLevel' || pre.use_regex === false || pre.add_prefix_space) {
    throw unsupported(`the pre-tokenizer is ${JSON.stringify(pre?.type ?? null)}${pre?.type === 'ByteLevel' ? ' without the GPT-2 pattern or with a prefix space' : ''}`);
  }
  if (root.normalizer != null) throw unsupported('it has a normalizer');
  const vocabObj = root.model.vocab;
  if (typeof vocabObj !== 'object' || vocabObj === null) throw new ModelFolderError(file, 'model.vocab is missing');
  const vocab: string[] = [];
  for (const [token, id] of Object.entries(vocabObj)) vocab[id] = token;
  const added: AddedToken[] = [];
  for (const t of root.added_tokens ?? []) {
    if (t.lstrip || t.rstrip || t.single_word || (t.normalized && root.normalizer != null)) throw unsupported(`added token ${JSON.stringify(t.content)} uses lstrip, rstrip or single_word`);
    added.push({ id: t.id, content: t.content, special: t.special ?? false });
    if (vocab[t.id] === undefined) vocab[t.id] = t.content;
  }
  const merges = (root.model.merges ?? []).map((m, i): [string, string] => {
    if (Array.isArray(m) && m.length === 2) return [m[0], m[1]];
    if (typeof m === 'string') {
      const space = m.indexOf(' ');
      if (space > 0) return [m.slice(0, space), m.slice(space + 1)];
    }
    throw new ModelFolderError(file, `merge ${i} is ${JSON.stringify(m)}, not "left right" or [left, right]`);
  });
  try {
    return new ByteLevelBpe({ vocab, merges, addedTokens: added });
  } catch (err) {
    throw new ModelFolderError(file, (err as Error).message);
  }
}
