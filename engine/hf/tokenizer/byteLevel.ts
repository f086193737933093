// The byte level of GPT-2-style BPE: every UTF-8 byte is written as one printable character (so tokens are strings
// without spaces or control characters), and text is first split into pieces by GPT-2's pre-tokenization pattern.
// Hugging Face's ByteLevel pre-tokenizer (use_regex: true) and llama.cpp's "gpt-2" pre-tokenizer (GGUF
// tokenizer.ggml.model "gpt2", tokenizer.ggml.pre "gpt-2") both split text with this pattern, which is what makes a
// tokenizer written here tokenize alike in transformers, tokenizers.js and llama.cpp.

/** GPT-2's pre-tokenization pattern: contractions, letters, digits, other symbols, each with one optional leading space; whitespace runs. */
export const gpt2Pattern = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * The byte → character table: printable Latin-1 bytes stand for themselves, the other 68 bytes (controls, space,
 * DEL, NBSP, soft hyphen) take the code points from U+0100 up, in byte order. Space is therefore "Ġ", newline "Ċ".
 */
export const byteToChar: readonly string[] = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: string[] = [];
  let next = 0x100;
  for (let b = 0; b < 256; b++) table.push(String.fromCharCode(printable(b) ? b : next++));
  return table;
})();

/** The reverse table: character → byte, or undefined for characters that are not byte-level characters. */
export const charToByte: ReadonlyMap<string, number> = new Map(byteToChar.map((c, b) => [c, b]));

const encoder = new TextEncoder();

/** GPT-2 pre-tokenization: the pieces of `text`, in order; joined they give `text` back. */
export function preTokenize(text: string): string[] {
  return text.match(gpt2Pattern) ?? [];
}

/** A string's UTF-8 bytes written as byte-level characters. */
export function toByteLevel(text: string): string {
  let out = '';
  for (const b of encoder.encode(text)) out += byteToChar[b];
  return out;
}

/** The bytes a byte-level string stands for; throws on a character that is not a byte-level character. */
export function fromByteLevel(token: string): Uint8Array {
  const out = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const b = charToByte.get(token[i]);
    if (b === undefined) throw new Error(`'${token}' is not a byte-level token: character U+${token.charCodeAt(i).toString(16).padStart(4, '0')} stands for no byte`);
    out[i] = b;
  }
  return out;
}
