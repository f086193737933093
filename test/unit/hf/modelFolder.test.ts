import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultChatTemplate } from '../../../engine/hf/chatTemplate';
import { writeFixtureModel } from '../../../engine/hf/fixtureModel';
import { readModelFolder, vocabularyOf } from '../../../engine/hf/modelFolder';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ts-folder-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function fixture(name: string): Promise<string> {
  const f = join(dir, name);
  await writeFixtureModel(f);
  return f;
}

test('without tokenizer_config.json: special tokens from config.json, the default chat template, and warnings saying so', async () => {
  const f = await fixture('no-config');
  unlinkSync(join(f, 'tokenizer_config.json'));
  const m = await readModelFolder(f);
  assert.deepEqual(m.eos, { id: 507, content: '<|end_of_text|>' });
  assert.equal(m.chatTemplate.template, defaultChatTemplate);
  assert.deepEqual(m.warnings, [
    `${join(f, 'tokenizer_config.json')} not found; special tokens are taken from config.json`,
    `${join(f, 'tokenizer_config.json')} not found; using the default <|system|>/<|user|>/<|assistant|> template. Prompts will not match how the model was tuned unless it used this format: add its chat_template to tokenizer_config.json.`,
  ]);
});

test('a missing tokenizer.json, a tokenizer bigger than the embedding, an unknown special token', async () => {
  const f = await fixture('broken');
  const tokenizer = readFileSync(join(f, 'tokenizer.json'), 'utf8');
  unlinkSync(join(f, 'tokenizer.json'));
  await assert.rejects(readModelFolder(f), {
    name: 'ModelFolderError',
    message: `${join(f, 'tokenizer.json')}: not found (a Hugging Face model folder has tokenizer.json beside config.json; copy it from the model you started from)`,
  });
  writeFileSync(join(f, 'tokenizer.json'), tokenizer);
  const config = JSON.parse(readFileSync(join(f, 'config.json'), 'utf8'));
  writeFileSync(join(f, 'config.json'), JSON.stringify({ ...config, vocab_size: 500, bos_token_id: 1, eos_token_id: 2, pad_token_id: null }));
  await assert.rejects(readModelFolder(f), {
    message: `${f}: the tokenizer has 512 tokens but config.json's vocab_size is 500 (the embedding has a row per token; the tokenizer does not belong to these weights)`,
  });
  writeFileSync(join(f, 'config.json'), JSON.stringify({ ...config, vocab_size: 520 }));
  assert.deepEqual((await readModelFolder(f)).warnings, ['the tokenizer has 512 tokens and the embedding 520 rows; the extra rows have no token']);
  const tc = JSON.parse(readFileSync(join(f, 'tokenizer_config.json'), 'utf8'));
  writeFileSync(join(f, 'tokenizer_config.json'), JSON.stringify({ ...tc, eos_token: '</s>' }));
  await assert.rejects(readModelFolder(f), { message: `${join(f, 'tokenizer_config.json')}: eos_token "</s>" is not a token of tokenizer.json (fix the token or the tokenizer)` });
});

test('vocabularyOf: a Llama-3-style tokenizer (Split + ByteLevel without regex, added tokens outside the vocab) is read but not called gpt-2', () => {
  const v = vocabularyOf({
    model: { type: 'BPE', vocab: { a: 0, b: 1, ab: 2 }, merges: [['a', 'b']] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Split' }, { type: 'ByteLevel', use_regex: false }] },
    added_tokens: [
      { id: 4, content: '<|eot_id|>', special: true },
      { id: 3, content: 'extra', special: false },
    ],
  });
  assert.deepEqual(v, { tokens: ['a', 'b', 'ab', 'extra', '<|eot_id|>'], specialIds: [4], addedIds: [3], merges: ['a b'] });
  assert.throws(() => vocabularyOf({ model: { type: 'Unigram' } }, 't.json'), { message: 't.json: the tokenizer model is "Unigram", not BPE with a vocab (only BPE tokenizers (llama 3, mistral nemo, granite, qwen2 and the like) are supported)' });
});
