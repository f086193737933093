// The tokenizer of a Hugging Face folder as GGUF metadata, the way llama.cpp reads a byte-level BPE vocabulary
// (tokenizer.ggml.model "gpt2"): every token by id with its type, the merges, the special token ids, whether BOS/EOS
// are added, the pre-tokenizer name and the chat template.
//
// llama.cpp splits text before BPE with a pattern it picks by tokenizer.ggml.pre. Its own converter recognises a
// tokenizer by hashing how it tokenizes a probe text; without transformers we recognise the pre-tokenizer from
// tokenizer.json instead (GPT-2's ByteLevel pattern, llama 3's and qwen2's Split patterns, GPT-2 with single digits)
// and fall back to "default" with a warning for anything else.
import { meta, type GgufValue } from '../format';
import type { ModelFolder } from '../../hf/modelFolder';
import { ConvertError } from './errors';

/** llama.cpp's token types (llama_token_type / gguf-py TokenType). */
export const TokenType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;

/** Split patterns of tokenizer.json pre-tokenizers and the llama.cpp pre-tokenizer that splits text the same way. */
const splitPatterns: Record<string, string> = {
  // llama 3 (and 3.1/3.2): digits in runs of up to three.
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+": 'llama-bpe',
  // qwen2 / qwen2.5: single digits.
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+": 'qwen2',
};

export interface PreTokenizerChoice {
  name: string;
  /** Set when the tokenizer was not recognised. */
  warning?: string;
}

/** The tokenizer.ggml.pre name for a tokenizer.json (see the module comment). */
export function preTokenizerName(tokenizerJson: Record<string, unknown>, file = 'tokenizer.json'): PreTokenizerChoice {
  const pre = tokenizerJson.pre_tokenizer as PreTokenizer | null | undefined;
  const normalizer = tokenizerJson.normalizer as { type?: string } | null | undefined;
  // NFC leaves the text of every tokenizer we recognise unchanged except for combining sequences; qwen2 ships it.
  const plainNormalizer = normalizer == null || normalizer.type === 'NFC';
  if (pre && plainNormalizer) {
    if (isGpt2ByteLevel(pre) && normalizer == null) return { name: 'gpt-2' };
    if (pre.type === 'Sequence' && Array.isArray(pre.pretokenizers)) {
      const [first, second, ...rest] = pre.pretokenizers;
      if (rest.length === 0 && second && second.type === 'ByteLevel' && !second.add_prefix_space) {
        if (first.type === 'Split' && second.use_regex === false) {
          const name = splitPatterns[first.pattern?.Regex ?? ''];
          if (name) return { name };
        }
        // GPT-2's pattern after splitting off every digit: llama.cpp's "refact" pre-tokenizer (granite 3 and others).
        if (first.type === 'Digits' && first.individual_digits === true && second.use_regex !== false && normalizer == null) return { name: 'refact' };
      }
    }
  }
  return {
    name: 'default',
    warning:
      `${file}: the pre-tokenizer (${describePre(pre)}) is not one this converter recognises; wrote tokenizer.ggml.pre "default", ` +
      'so llama.cpp may split some text differently from the original tokenizer (check tokenization of your prompts)',
  };
}

interface PreTokenizer {
  type?: string;
  use_regex?: boolean;
  add_prefix_space?: boolean;
  individual_digits?: boolean;
  pattern?: { Regex?: string; String?: string };
  pretokenizers?: PreTokenizer[];
}

function isGpt2ByteLevel(pre: PreTokenizer): boolean {
  return pre.type === 'ByteLevel' && pre.use_regex !== false && !pre.add_prefix_space;
}

function describePre(pre: PreTokenizer | null | undefined): string {
  if (!pre) return 'none';
  if (pre.type === 'Sequence') return `Sequence of ${(pre.pretokenizers ?? []).map((p) => p.type).join(', ')}`;
  return String(pre.type);
}

/** llama.cpp treats "<|...|>"-style added tokens as control tokens even when tokenizer.json does not mark them special. */
function looksSpecial(token: string): boolean {
  return /^<\|.*\|>$/s.test(token) || /^<(s|\/s|unk|pad|eos|bos|mask)>$/.test(token);
}

export interface VocabMetadata {
  entries: [string, GgufValue][];
  warnings: string[];
  /** The number of tokens written (config.json's vocab_size). */
  size: number;
}

/**
 * The tokenizer.* metadata of a model folder. `vocabSize` is the embedding's row count: the token list is padded to it
 * with "[PADn]" tokens, since llama.cpp expects one token per row.
 */
export function vocabMetadata(folder: ModelFolder, vocabSize: number): VocabMetadata {
  const warnings: string[] = [];
  const tokenizerFile = `${folder.folder}/tokenizer.json`;
  checkByteLevel(folder.tokenizerJson, tokenizerFile);
  const { vocabulary } = folder;
  if (vocabulary.tokens.length > vocabSize) {
    throw new ConvertError(tokenizerFile, `has ${vocabulary.tokens.length} tokens but the embedding has ${vocabSize} rows`, 'the tokenizer does not belong to these weights');
  }
  const special = new Set(vocabulary.specialIds);
  const added = new Set(vocabulary.addedIds);
  const tokens: string[] = [];
  const types: number[] = [];
  for (let id = 0; id < vocabSize; id++) {
    const token = vocabulary.tokens[id];
    if (token === undefined || token === '') {
      tokens.push(`[PAD${id}]`);
      types.push(TokenType.USER_DEFINED);
    } else if (special.has(id) || (added.has(id) && looksSpecial(token))) {
      tokens.push(token);
      types.push(TokenType.CONTROL);
    } else if (added.has(id)) {
      tokens.push(token);
      types.push(TokenType.USER_DEFINED);
    } else {
      tokens.push(token);
      types.push(TokenType.NORMAL);
    }
  }

  const pre = preTokenizerName(folder.tokenizerJson, tokenizerFile);
  if (pre.warning) warnings.push(pre.warning);

  const entries: [string, GgufValue][] = [
    ['tokenizer.ggml.model', meta.string('gpt2')],
    ['tokenizer.ggml.pre', meta.string(pre.name)],
    ['tokenizer.ggml.tokens', meta.strings(tokens)],
    ['tokenizer.ggml.token_type', meta.i32s(types)],
    ['tokenizer.ggml.merges', meta.strings(vocabulary.merges)],
  ];
  if (folder.bos) entries.push(['tokenizer.ggml.bos_token_id', meta.u32(folder.bos.id)]);
  if (folder.eos) entries.push(['tokenizer.ggml.eos_token_id', meta.u32(folder.eos.id)]);
  if (folder.pad) entries.push(['tokenizer.ggml.padding_token_id', meta.u32(folder.pad.id)]);
  const addBos = addsBos(folder);
  entries.push(['tokenizer.ggml.add_bos_token', meta.bool(addBos)]);
  entries.push(['tokenizer.ggml.add_eos_token', meta.bool(folder.addEosToken)]);
  if (addBos && !folder.bos) warnings.push(`${folder.folder}: the tokenizer adds a BOS token but names none; llama.cpp will not add one`);

  // chatTemplateOf already chose the default template, with a warning, when the folder has none.
  entries.push(['tokenizer.chat_template', meta.string(folder.chatTemplate.template)]);
  return { entries, warnings, size: vocabSize };
}

/**
 * Whether encoding adds BOS: tokenizer_config.json's add_bos_token when it says, else whether tokenizer.json's
 * post-processor template starts with the BOS token (llama 3 says it only there).
 */
function addsBos(folder: ModelFolder): boolean {
  const flag = folder.tokenizerConfig.add_bos_token;
  if (typeof flag === 'boolean') return flag;
  const post = folder.tokenizerJson.post_processor as { type?: string; single?: { SpecialToken?: { id?: string } }[]; processors?: unknown[] } | null | undefined;
  const templates = post?.type === 'Sequence' ? ((post.processors ?? []) as (typeof post)[]) : [post];
  for (const p of templates) {
    if (p?.type !== 'TemplateProcessing') continue;
    const first = p.single?.[0]?.SpecialToken?.id;
    if (first !== undefined) return first === folder.bos?.content;
  }
  return false;
}

/** Refuses tokenizers whose tokens are not byte-level BPE strings (SentencePiece-style BPE needs another vocab type). */
function checkByteLevel(json: Record<string, unknown>, file: string): void {
  const model = json.model as { byte_fallback?: boolean } | undefined;
  const decoder = json.decoder as { type?: string; decoders?: { type?: string }[] } | null | undefined;
  const decoders = decoder?.type === 'Sequence' ? (decoder.decoders ?? []) : decoder ? [decoder] : [];
  const sentencePiece = model?.byte_fallback === true || decoders.some((d) => d.type === 'Metaspace' || d.type === 'ByteFallback');
  if (sentencePiece) {
    throw new ConvertError(
      file,
      'is a SentencePiece-style BPE tokenizer (byte_fallback / Metaspace), as llama 2 and mistral 7B v0.x use',
      'this converter writes byte-level BPE vocabularies (llama 3, mistral nemo, granite 3, qwen2); use llama.cpp\'s convert_hf_to_gguf.py for this model',
    );
  }
}
