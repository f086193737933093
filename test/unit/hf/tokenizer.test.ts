import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelFolderError } from '../../../engine/hf/errors';
import { exampleCorpus } from '../../../engine/hf/corpus';
import { ByteLevelBpe, type BpeModel } from '../../../engine/hf/tokenizer/bpe';
import { byteToChar, fromByteLevel, preTokenize, toByteLevel } from '../../../engine/hf/tokenizer/byteLevel';
import { parseTokenizerJson, tokenizerConfigJson, tokenizerJson } from '../../../engine/hf/tokenizer/files';
import { trainByteLevelBpe } from '../../../engine/hf/tokenizer/train';
import { defaultChatTemplate } from '../../../engine/hf/chatTemplate';
import { fixtureSpecialTokens } from '../../../engine/hf/fixtureModel';

const specials = [fixtureSpecialTokens.bos, fixtureSpecialTokens.eos, fixtureSpecialTokens.pad, ...fixtureSpecialTokens.additional];

describe('byte level', () => {
  test("GPT-2's byte table: printable bytes stand for themselves, the rest count up from U+0100", () => {
    assert.equal(byteToChar[0x61], 'a');
    assert.equal(byteToChar[0x20], '\u0120'); // Ġ
    assert.equal(byteToChar[0x0a], '\u010a'); // Ċ
    assert.equal(byteToChar[0x00], '\u0100');
    assert.equal(byteToChar[0x7f], '\u0121');
    assert.equal(byteToChar[0xa0], '\u0142');
    assert.equal(byteToChar[0xad], '\u0143');
    assert.equal(new Set(byteToChar).size, 256);
    assert.equal(toByteLevel('é 😀'), 'Ã©ĠðŁĺĢ');
    assert.deepEqual([...fromByteLevel('Ã©Ġ')], [0xc3, 0xa9, 0x20]);
    assert.throws(() => fromByteLevel('a b'), /'a b' is not a byte-level token: character U\+0020 stands for no byte/);
  });

  test("GPT-2 pre-tokenization: contractions, one leading space per word, whitespace before a word stays apart", () => {
    assert.deepEqual(preTokenize("Hello  world's 42 cats!!\n\n  ok"), ['Hello', ' ', ' world', "'s", ' 42', ' cats', '!!', '\n\n ', ' ok']);
    assert.deepEqual(preTokenize('a   '), ['a', '   ']);
    assert.deepEqual(preTokenize(''), []);
  });
});

describe('training', () => {
  test('merges the most frequent pair first; ties go to the smaller left id, then right id', () => {
    const model = trainByteLevelBpe(['ab ab ab cd cd'], { vocabSize: 256 + 4 + 1, specialTokens: ['<|x|>'] });
    assert.deepEqual(model.merges, [
      ['a', 'b'], // 3 times
      ['Ġ', 'c'], // 2 times, like (Ġ, ab) and (c, d): Ġ (32) is the smallest left id, c (99) < ab (256)
      ['Ġ', 'ab'], // (32, 256) before (Ġc = 257, d)
      ['Ġc', 'd'],
    ]);
    assert.deepEqual(model.vocab.slice(256), ['ab', 'Ġc', 'Ġab', 'Ġcd', '<|x|>']);
    assert.deepEqual(model.addedTokens, [{ id: 260, content: '<|x|>', special: true }]);
  });

  test('stops early when no pair occurs minFrequency times, and never learns a special token from the text', () => {
    const model = trainByteLevelBpe(['<|x|><|x|> xyz'], { vocabSize: 1000, specialTokens: ['<|x|>'] });
    assert.deepEqual(model.merges, []);
    assert.equal(model.vocab.length, 257);
    assert.throws(() => trainByteLevelBpe([], { vocabSize: 258, specialTokens: ['a', 'b', 'c'] }), /vocabSize 258 leaves no room: a byte-level vocabulary needs 256 byte tokens plus 3 special tokens/);
  });

  test('is deterministic', async () => {
    const { texts } = await exampleCorpus();
    const a = trainByteLevelBpe(texts, { vocabSize: 400, specialTokens: specials });
    const b = trainByteLevelBpe([...texts], { vocabSize: 400, specialTokens: specials });
    assert.deepEqual(a, b);
    assert.equal(a.vocab.length, 400);
  });
});

describe('agrees with @huggingface/tokenizers', () => {
  let model: BpeModel;
  let ours: ByteLevelBpe;
  let theirs: Tokenizer;
  let texts: string[];
  before(async () => {
    texts = (await exampleCorpus()).texts;
    model = trainByteLevelBpe(texts, { vocabSize: 1024, specialTokens: specials });
    const json = JSON.parse(JSON.stringify(tokenizerJson(model)));
    const config = JSON.parse(JSON.stringify(tokenizerConfigJson(model, { special: fixtureSpecialTokens, chatTemplate: defaultChatTemplate, modelMaxLength: 4096 })));
    ours = parseTokenizerJson(json);
    theirs = new Tokenizer(json, config);
  });

  function check(text: string): void {
    const ids = ours.encode(text);
    assert.deepEqual(ids, theirs.encode(text).ids, `ids of ${JSON.stringify(text)}`);
    assert.equal(ours.decode(ids), text, `our round trip of ${JSON.stringify(text)}`);
    if (ids.length) assert.equal(theirs.decode(ids), text, `their round trip of ${JSON.stringify(text)}`);
  }

  test('on every file of the example taxonomy (the text it was trained on)', () => {
    for (const text of texts) check(text);
    assert.ok(ours.encode(texts.join('')).length < texts.join('').length / 2, 'the learned merges compress the training text');
  });

  test('on chat text with special tokens, which become single ids', () => {
    const text = '<|system|>\nBe brief.\n<|user|>\nWhat is a qna.yaml?\n<|assistant|>\nA leaf.<|end_of_text|>';
    check(text);
    const ids = ours.encode(text);
    assert.equal(ids[0], ours.tokenToId('<|system|>'));
    assert.equal(ids.at(-1), ours.tokenToId('<|end_of_text|>'));
    assert.equal(ours.decode(ids, { skipSpecialTokens: true }), '\nBe brief.\n\nWhat is a qna.yaml?\n\nA leaf.');
    // Without special-token parsing (llama.cpp's parse_special off) the markers are plain text.
    const plain = ours.encode(text, { special: false });
    assert.ok(!plain.includes(ours.tokenToId('<|system|>')!));
    assert.equal(ours.decode(plain), text);
  });

  test('on arbitrary unicode: emoji, combining marks, CJK, astral planes, controls, whitespace runs (property)', () => {
    check('👩‍👩‍👧 naïve café — ﬁ 漢字 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u0000\u0007\t\r\n   x\u200b\u00a0\ufeff');
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string({ unit: 'binary', maxLength: 12 }),
            fc.string({ unit: 'grapheme', maxLength: 12 }),
            fc.constantFrom(...specials, ' ', '  ', '\n', "'s", "'ll", '123', 'the', ' taxonomy'),
          ),
          { maxLength: 12 },
        ),
        (parts) => check(parts.join('')),
      ),
      { numRuns: 1500 },
    );
  });
});

describe('reading tokenizer.json', () => {
  test('refuses kinds it cannot tokenize exactly, saying what they are', () => {
    const base = tokenizerJson(trainByteLevelBpe(['aa'], { vocabSize: 258, specialTokens: ['<s>'] }));
    const variant = (patch: Record<string, unknown>) => ({ ...base, ...patch });
    const expectError = (json: unknown, message: RegExp) =>
      assert.throws(() => parseTokenizerJson(json, 'x/tokenizer.json'), (err: unknown) => err instanceof ModelFolderError && message.test(err.message));
    expectError(variant({ model: { type: 'Unigram' } }), /^x\/tokenizer\.json: the model type is "Unigram", not BPE; this reader handles byte-level BPE tokenizers with GPT-2 pre-tokenization only \(use @huggingface\/tokenizers for other kinds\)$/);
    expectError(variant({ pre_tokenizer: { type: 'Metaspace' } }), /the pre-tokenizer is "Metaspace"/);
    expectError(variant({ pre_tokenizer: { type: 'ByteLevel', use_regex: false } }), /the pre-tokenizer is "ByteLevel" without the GPT-2 pattern or with a prefix space/);
    expectError(variant({ model: { ...(base.model as object), merges: ['ab'] } }), /merge 0 is "ab", not "left right" or \[left, right\]/);
    expectError(variant({ model: { ...(base.model as object), merges: ['a q'] } }), /merge 0 \('a' 'q'\) uses a token missing from the vocabulary: 'aq'/);
  });

  test('accepts merges as pairs (the newer format) with the same result', () => {
    const model = trainByteLevelBpe(['abc abc abc'], { vocabSize: 262, specialTokens: [] });
    const json = tokenizerJson(model) as { model: { merges: string[] } };
    const pairs = { ...json, model: { ...json.model, merges: json.model.merges.map((m) => m.split(' ')) } };
    assert.deepEqual(parseTokenizerJson(pairs).encode('abc abcabc'), parseTokenizerJson(json).encode('abc abcabc'));
  });
});
