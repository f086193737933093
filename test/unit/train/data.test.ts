import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultChatTemplate } from '../../../engine/hf/chatTemplate';
import { loadTokenizer } from '../../../engine/hf/tokenizer/files';
import { Tokenizer } from '@huggingface/tokenizers';
import { readFileSync } from 'node:fs';
import { ignoreIndex } from '../../../engine/train/batch';
import {
  batchOf,
  DataError,
  planEpoch,
  prepareSamples,
  readMessagesJsonl,
  rngFor,
  splitHeldOut,
  tokenizeConversation,
  type ChatFormat,
  type Sample,
} from '../../../engine/train/data';
import { tinyModel } from './helpers';

async function format(): Promise<{ fmt: ChatFormat; dir: string }> {
  const { dir } = await tinyModel();
  return { fmt: { template: defaultChatTemplate, bosToken: '<|begin_of_text|>', eosToken: '<|end_of_text|>', tokenizer: await loadTokenizer(dir) }, dir };
}

const conversation = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'What is a leaf?' },
  { role: 'assistant', content: 'A qna file.' },
  { role: 'user', content: 'Where?' },
  { role: 'assistant', content: 'In the tree.' },
];

test('a conversation renders with the chat template and only assistant turns (with their EOS) are trained', async () => {
  const { fmt, dir } = await format();
  const r = tokenizeConversation(fmt, { messages: conversation, unmask: false });
  assert.equal(r.text, '<|system|>\nBe brief.\n<|user|>\nWhat is a leaf?\n<|assistant|>\nA qna file.<|end_of_text|>\n<|user|>\nWhere?\n<|assistant|>\nIn the tree.<|end_of_text|>');
  assert.deepEqual(r.spans.map(([s, e]) => r.text.slice(s, e)), ['A qna file.<|end_of_text|>', 'In the tree.<|end_of_text|>']);
  // Ids equal Hugging Face's tokenizer on the same text.
  const hf = new Tokenizer(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')));
  assert.deepEqual(r.ids, hf.encode(r.text, { add_special_tokens: false }).ids);
  const trained = r.ids.filter((_, i) => r.lossMask[i]);
  assert.equal(fmt.tokenizer.decode(trained), 'A qna file.<|end_of_text|>In the tree.<|end_of_text|>');
  // The tokens just before each span (the role marker and its newline) are prompt.
  const first = r.lossMask.indexOf(1);
  assert.equal(fmt.tokenizer.decode(r.ids.slice(first - 2, first)), '<|assistant|>\n');
  assert.equal(r.lossMask[0], 0);

  const all = tokenizeConversation(fmt, { messages: conversation, unmask: true });
  assert.deepEqual(all.lossMask, r.ids.map((_, i) => (i === 0 ? 0 : 1)));
});

test('a template whose prefixes do not render as prefixes still finds the assistant content', async () => {
  const { fmt } = await format();
  // Ignores add_generation_prompt and closes every rendering with END: the rendering before a turn is not a prefix
  // of the whole, so the first turn is found by its content; the last turn's rendering is the whole, END included.
  const template = "{%- for m in messages -%}{{ '[' + m['role'] + '] ' + m['content'] + ' ' }}{%- endfor -%}{{ 'END' }}";
  const r = tokenizeConversation({ ...fmt, template }, { messages: conversation.slice(1), unmask: false });
  assert.equal(r.text, '[user] What is a leaf? [assistant] A qna file. [user] Where? [assistant] In the tree. END');
  assert.deepEqual(r.spans.map(([s, e]) => r.text.slice(s, e)), ['A qna file.', 'In the tree. END']);
  assert.equal(fmt.tokenizer.decode(r.ids.filter((_, i) => r.lossMask[i])), ' A qna file. In the tree. END');
});

test('bad lines are skipped with file:line and reason, or stop the read with strict', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'train-data-'));
  try {
    const file = join(dir, 'd.jsonl');
    const good = JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] });
    writeFileSync(
      file,
      [
        good,
        '',
        '{"messages": [',
        JSON.stringify({ messages: [] }),
        JSON.stringify({ messages: [{ role: 'user', content: 'only a question' }] }),
        JSON.stringify({ messages: [{ role: 'user', content: 3 }] }),
        JSON.stringify([1]),
        JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }], unmask: 'yes' }),
        good,
      ].join('\n'),
    );
    const r = await readMessagesJsonl(file);
    assert.deepEqual(r.conversations.map((c) => c.line), [1, 9]);
    assert.deepEqual(
      r.problems.map((p) => `${p.line}: ${p.reason.replace(/: .*/, '')}`),
      ['3: not valid JSON', '4: "messages" is empty', '5: no assistant message', '6: messages[0].content is missing or not a string', '7: expected a JSON object with "messages"', '8: "unmask" is not true or false'],
    );
    assert.equal(r.problems[0].file, file);
    await assert.rejects(readMessagesJsonl(file, { strict: true }), (err: unknown) => err instanceof DataError && err.line === 3 && /d\.jsonl:3: not valid JSON/.test(err.message));
    await assert.rejects(readMessagesJsonl(join(dir, 'missing.jsonl')), /missing\.jsonl: not found/);

    // A role the template refuses is a problem of that line, not of the run.
    const { fmt } = await format();
    const odd = { file, line: 7, unmask: false, messages: [{ role: 'tool', content: 'x' }, { role: 'assistant', content: 'a' }] };
    const prep = prepareSamples(fmt, [odd, { ...r.conversations[0] }], { maxSeqLen: 64 });
    assert.equal(prep.samples.length, 1);
    assert.match(prep.problems[0].reason, /unknown role tool/);
    assert.equal(prep.problems[0].line, 7);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('samples longer than max-seq-len are cut (or dropped), and counted', async () => {
  const { fmt } = await format();
  const long = { file: 'f', line: 1, unmask: false, messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'word '.repeat(40) }] };
  const promptOnly = { ...long, line: 2, messages: [{ role: 'user', content: 'word '.repeat(40) }, { role: 'assistant', content: 'a' }] };
  const full = tokenizeConversation(fmt, long).ids.length;
  const cut = prepareSamples(fmt, [long, promptOnly], { maxSeqLen: 20 });
  assert.equal(cut.samples.length, 1);
  assert.equal(cut.samples[0].ids.length, 20);
  assert.deepEqual([cut.truncated, cut.droppedTooLong], [1, 1]);
  const dropped = prepareSamples(fmt, [long], { maxSeqLen: 20, overlong: 'drop' });
  assert.deepEqual([dropped.samples.length, dropped.droppedTooLong], [0, 1]);
  assert.ok(full > 40);
});

function fakeSamples(lengths: number[]): Sample[] {
  return lengths.map((n, k) => ({ ids: Int32Array.from({ length: n }, (_, i) => 10 + k * 7 + i), lossMask: Uint8Array.from({ length: n }, (_, i) => (i >= 2 ? 1 : 0)), source: `f:${k + 1}` }));
}

test('length-grouped batches stay within batch-tokens, cover every sample once, and repeat by seed', () => {
  const lengths = [5, 30, 7, 12, 29, 6, 13, 31, 8, 11];
  const plan = planEpoch(lengths, { batchTokens: 40, maxSeqLen: 32 }, rngFor(1, 'e0'));
  assert.deepEqual(plan.flat(2).sort((a, b) => a - b), lengths.map((_, i) => i));
  for (const b of plan) assert.ok(b.length * Math.max(...b.map(([i]) => lengths[i])) <= 40 || b.length === 1);
  assert.deepEqual(planEpoch(lengths, { batchTokens: 40, maxSeqLen: 32 }, rngFor(1, 'e0')), plan);
  assert.notDeepEqual(planEpoch(lengths, { batchTokens: 40, maxSeqLen: 32 }, rngFor(1, 'e1')), plan);
  const split = splitHeldOut(lengths, 0.2, 3);
  assert.deepEqual([split.train.length, split.heldOut.length], [8, 2]);
  assert.deepEqual(splitHeldOut(lengths, 0.2, 3), split);
});

test('packed rows keep samples apart: positions restart, attention stays in a sample, no target crosses samples', () => {
  const samples = fakeSamples([4, 3, 5]);
  const plan = planEpoch([4, 3, 5], { batchTokens: 16, maxSeqLen: 8, packing: true }, rngFor(2, 'p'));
  assert.deepEqual(plan.flat(2).sort(), [0, 1, 2]);
  const row = [0, 1];
  const batch = batchOf(samples, [row], 0);
  assert.equal(batch.seq, 7);
  assert.deepEqual([...batch.positions!], [0, 1, 2, 3, 0, 1, 2]);
  assert.deepEqual([...batch.segments!], [0, 0, 0, 0, 1, 1, 1]);
  // Targets: sample 0 predicts its tokens 2..3 (positions 1..2); its last token does not predict sample 1's first.
  assert.deepEqual([...batch.targets], [ignoreIndex, 12, 13, ignoreIndex, ignoreIndex, 19, ignoreIndex]);
  const padded = batchOf(samples, [[0], [2]], 0);
  assert.deepEqual([padded.batch, padded.seq], [2, 5]);
  assert.deepEqual([...padded.ids.slice(0, 5)], [10, 11, 12, 13, 0]);
});
