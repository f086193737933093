import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chatTemplateOf, defaultChatTemplate, renderChatTemplate } from '../../../engine/hf/chatTemplate';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ts-chat-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const conversation = [
  { role: 'system', content: 'You answer in one line.' },
  { role: 'user', content: 'What is a leaf?' },
  { role: 'assistant', content: 'A qna.yaml file.' },
  { role: 'user', content: 'And a seed?' },
];

test('the default template: role markers on their own lines, EOS after each assistant turn, generation prompt', () => {
  const text = renderChatTemplate(defaultChatTemplate, conversation, { eosToken: '<|end_of_text|>', addGenerationPrompt: true });
  assert.equal(
    text,
    '<|system|>\nYou answer in one line.\n<|user|>\nWhat is a leaf?\n<|assistant|>\nA qna.yaml file.<|end_of_text|>\n<|user|>\nAnd a seed?\n<|assistant|>\n',
  );
  // A finished conversation (training data) ends with the EOS token, no trailing newline, no open turn.
  assert.equal(
    renderChatTemplate(defaultChatTemplate, conversation.slice(1, 3), { eosToken: '</s>' }),
    '<|user|>\nWhat is a leaf?\n<|assistant|>\nA qna.yaml file.</s>',
  );
});

test('the default template refuses a role it does not know', () => {
  assert.throws(() => renderChatTemplate(defaultChatTemplate, [{ role: 'tool', content: 'x' }]), /unknown role tool: this template knows system, user and assistant/);
});

function folder(name: string, files: Record<string, string>): string {
  const p = join(dir, name);
  mkdirSync(p);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(p, f), text);
  return p;
}

test("chatTemplateOf: tokenizer_config.json's template, chat_template.jinja first, a named list's default", async () => {
  const a = folder('config', { 'tokenizer_config.json': JSON.stringify({ chat_template: '{{ messages[0].content }}' }) });
  assert.deepEqual(await chatTemplateOf(a), { template: '{{ messages[0].content }}', source: join(a, 'tokenizer_config.json') });
  const b = folder('jinja', { 'tokenizer_config.json': JSON.stringify({ chat_template: 'old' }), 'chat_template.jinja': 'new {{ x }}' });
  assert.deepEqual(await chatTemplateOf(b), { template: 'new {{ x }}', source: join(b, 'chat_template.jinja') });
  const c = folder('list', { 'tokenizer_config.json': JSON.stringify({ chat_template: [{ name: 'tool_use', template: 't' }, { name: 'default', template: 'd' }] }) });
  assert.equal((await chatTemplateOf(c)).template, 'd');
});

test('chatTemplateOf: no template falls back to the default and says so', async () => {
  const a = folder('none', { 'tokenizer_config.json': JSON.stringify({ eos_token: '</s>' }) });
  const got = await chatTemplateOf(a);
  assert.equal(got.template, defaultChatTemplate);
  assert.equal(got.source, 'default');
  assert.equal(
    got.warning,
    `${join(a, 'tokenizer_config.json')} has no chat_template; using the default <|system|>/<|user|>/<|assistant|> template. ` +
      'Prompts will not match how the model was tuned unless it used this format: add its chat_template to tokenizer_config.json.',
  );
  const b = folder('missing', {});
  assert.match((await chatTemplateOf(b)).warning!, new RegExp(`^${join(b, 'tokenizer_config.json')} not found; using the default`));
  const c = folder('list-without-default', { 'tokenizer_config.json': JSON.stringify({ chat_template: [{ name: 'rag', template: 'r' }] }) });
  assert.match((await chatTemplateOf(c)).warning!, /lists chat templates but none named "default"; using the default/);
  const d = folder('broken', { 'tokenizer_config.json': '{' });
  await assert.rejects(chatTemplateOf(d), { message: new RegExp(`^${join(d, 'tokenizer_config.json')}: is not valid JSON: .* \\(fix the file or copy it again from the model\\)$`) });
});
