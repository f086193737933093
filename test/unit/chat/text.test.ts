// Pure parts of the chat: messages and sampling, the similarity score, the Ask-this-leaf table's CSV and markdown,
// the leaf's questions, adapter ids for Serve Model, the endpoints setting, and the webview's HTML and CSP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { leafQuestions } from '../../../extension/chat/askLeaf';
import { apiKeySecretName, parseEndpoints } from '../../../extension/chat/endpoints';
import { chatHtml, contentSecurityPolicy, makeNonce } from '../../../extension/chat/html';
import { buildMessages, chatRequestBody, defaultSampling, normaliseSampling } from '../../../extension/chat/messages';
import { meanScores, toCsv, toMarkdown, type AskReport } from '../../../extension/chat/report';
import { adapterSpecs } from '../../../extension/chat/serveArgs';
import { tokenSet, tokenSetF1 } from '../../../engine/eval/similarity';

const repo = resolve(__dirname, '../../..');

test('messages: system prompt first when not blank, earlier answers as assistant turns, the last user message last', () => {
  assert.deepEqual(buildMessages('  ', [{ user: 'hi' }]), [{ role: 'user', content: 'hi' }]);
  assert.deepEqual(
    buildMessages('Be brief.', [
      { user: 'one', answer: 'first' },
      { user: 'two' }, // stopped before any text: the question stays
      { user: 'three', answer: 'ignored: it is the one being answered' },
    ]),
    [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'one' },
      { role: 'assistant', content: 'first' },
      { role: 'user', content: 'two' },
      { role: 'user', content: 'three' },
    ],
  );
  assert.throws(() => buildMessages('', []), /no user message/);
});

test('sampling: clamped to OpenAI bounds, numbers from strings, defaults for junk; the body streams with usage', () => {
  assert.deepEqual(normaliseSampling({ temperature: 3, top_p: -1, max_tokens: 12.6 }), { temperature: 2, top_p: 0, max_tokens: 13 });
  assert.deepEqual(normaliseSampling({ temperature: '0.2', top_p: 'x', max_tokens: null }), { temperature: 0.2, top_p: defaultSampling.top_p, max_tokens: defaultSampling.max_tokens });
  assert.deepEqual(normaliseSampling(undefined), defaultSampling);
  const body = chatRequestBody('tuned', [{ role: 'user', content: 'q' }], { temperature: 0, top_p: 1, max_tokens: 5 });
  assert.deepEqual(body, { model: 'tuned', messages: [{ role: 'user', content: 'q' }], temperature: 0, top_p: 1, max_tokens: 5, stream: true, stream_options: { include_usage: true } });
  assert.equal(chatRequestBody('m', [], defaultSampling, false).stream_options, undefined);
});

test('token-set F1: case, punctuation and repeats do not count; word overlap does', () => {
  assert.deepEqual([...tokenSet('The Moon, the MOON! 42 km — Ünïcode')], ['the', 'moon', '42', 'km', 'ünïcode']);
  assert.equal(tokenSetF1('The observatory opened in 1932.', 'the observatory OPENED in 1932').f1, 1);
  assert.equal(tokenSetF1('nothing shared', 'entirely different').f1, 0);
  assert.equal(tokenSetF1('', '').f1, 1);
  assert.equal(tokenSetF1('', 'expected').f1, 0);
  // answer {it, opened, in, 1932}, expected {the, observatory, opened, in, 1932}: 3 shared, P 3/4, R 3/5.
  const s = tokenSetF1('It opened in 1932', 'The observatory opened in 1932');
  assert.equal(s.precision, 0.75);
  assert.equal(s.recall, 0.6);
  assert.ok(Math.abs(s.f1 - (2 * 0.75 * 0.6) / 1.35) < 1e-12);
  // Full-width digits normalise (NFKC) to the same token.
  assert.equal(tokenSetF1('１９３２', '1932').f1, 1);
});

const report: AskReport = {
  leaf: 'knowledge/a/qna.yaml',
  models: ['base', 'tuned'],
  rows: [
    { seed: 1, question: 'When, "exactly"?', expected: 'In 1932.', prompt: 'When?', line: 4, answers: { base: { text: 'Maybe 1900', score: 0 }, tuned: { text: 'In 1932.\nA | pipe <b>', score: 1 } } },
    { seed: 2, question: 'Who?', expected: 'Ada', prompt: 'Who?', line: 9, answers: { base: { text: '', error: 'cannot reach http://x' }, tuned: { text: 'Ada', score: 0.5 } } },
  ],
};

test('CSV export: RFC 4180 quoting, CRLF rows, every model an answer and a score column', () => {
  assert.equal(
    toCsv(report),
    'seed,question,expected,base answer,base F1,tuned answer,tuned F1\r\n' +
      '1,"When, ""exactly""?",In 1932.,Maybe 1900,0.000,"In 1932.\nA | pipe <b>",1.000\r\n' +
      '2,Who?,Ada,error: cannot reach http://x,,Ada,0.500\r\n',
  );
});

test('markdown export: pipes and HTML escaped, line breaks as <br>, mean scores at the end', () => {
  const md = toMarkdown(report);
  assert.match(md, /^# Ask this leaf: knowledge\/a\/qna\.yaml\n\n\| seed \| question \| expected \| base answer \| base F1 \| tuned answer \| tuned F1 \|\n\| --- \|/);
  assert.ok(md.includes('| 1 | When, "exactly"? | In 1932. | Maybe 1900 | 0.000 | In 1932.<br>A \\| pipe &lt;b&gt; | 1.000 |'), md);
  assert.ok(md.includes('Mean token-set F1: base 0.000, tuned 0.750.'));
  assert.deepEqual(meanScores(report), { base: 0, tuned: 0.75 });
});

test("a knowledge leaf's questions are asked alone; a grounded skill's question comes after its context", () => {
  const knowledge = 'examples/taxonomy/knowledge/astronomy/observatories/kestrel_hill/history/qna.yaml';
  const k = leafQuestions(readFileSync(join(repo, knowledge), 'utf8'), join(repo, knowledge));
  assert.equal(k.kind, 'knowledge');
  assert.ok(k.questions.length >= 15, `${k.questions.length} questions`);
  for (const q of k.questions) {
    assert.equal(q.prompt, q.question);
    assert.ok(q.expected.length > 0);
  }
  const text = readFileSync(join(repo, knowledge), 'utf8').split('\n');
  assert.ok(text[k.questions[0].line!].includes(k.questions[0].question.split('\n')[0].slice(0, 20)), 'line points at the question');

  const skill = 'version: 3\ntask_description: t\ncreated_by: me\nseed_examples:\n  - context: The log says pump 3 leaks.\n    question: What leaks?\n    answer: Pump 3.\n  - question: No context here?\n    answer: Right.\n  - question: ""\n    answer: skipped\n';
  const s = leafQuestions(skill, '/t/compositional_skills/x/qna.yaml');
  assert.deepEqual(
    s.questions.map((q) => [q.seed, q.prompt, q.expected, q.line]),
    [
      [1, 'The log says pump 3 leaks.\n\nWhat leaks?', 'Pump 3.', 5],
      [2, 'No context here?', 'Right.', 7],
    ],
  );
});

test('Serve Model adapter ids: one adapter is "tuned"; several are named by file, made unique, never "base"', () => {
  assert.deepEqual(adapterSpecs(['/m/lora.gguf']), [{ id: 'tuned', path: '/m/lora.gguf' }]);
  assert.deepEqual(
    adapterSpecs(['/a/my lora.gguf', '/b/my lora.gguf', '/c/base.GGUF']).map((a) => a.id),
    ['my-lora', 'my-lora-2', 'base-2'],
  );
  assert.deepEqual(adapterSpecs([]), []);
});

test('endpoints setting: usable entries kept, each bad one named with what to fix; key names per endpoint', () => {
  const { endpoints, problems } = parseEndpoints([
    { name: 'vLLM', url: 'http://gpu:8000/v1/' },
    { name: 'hosted', url: 'https://api.example.com/v1', models: ['big', 3] },
    { url: 'http://x/v1' },
    { name: 'vLLM', url: 'http://other/v1' },
    { name: 'Served', url: 'http://x/v1' },
    { name: 'bad', url: 'not a url' },
    { name: 'ftp', url: 'ftp://x/v1' },
  ]);
  assert.deepEqual(endpoints, [
    { name: 'vLLM', url: 'http://gpu:8000/v1' },
    { name: 'hosted', url: 'https://api.example.com/v1', models: ['big'] },
  ]);
  assert.deepEqual(
    problems.map((p) => p.replace(/:.*/, '')),
    ['taxonomyStudio.chat.endpoints[2]', 'taxonomyStudio.chat.endpoints[3]', 'taxonomyStudio.chat.endpoints[4]', 'taxonomyStudio.chat.endpoints[5]', 'taxonomyStudio.chat.endpoints[6]'],
  );
  assert.match(problems[0], /"name" is missing/);
  assert.match(problems[3], /not a URL/);
  assert.deepEqual(parseEndpoints({ name: 'x' }).problems, ['taxonomyStudio.chat.endpoints: expected a list of {"name", "url"} objects']);
  assert.notEqual(apiKeySecretName('a'), apiKeySecretName('b'));
});

test('webview HTML: default-src none, the script only by nonce, styles only from the extension, nothing remote', () => {
  const nonce = makeNonce();
  assert.notEqual(nonce, makeNonce());
  const csp = 'https://file+.vscode-resource.vscode-cdn.net';
  const html = chatHtml({ cspSource: csp, nonce, scriptUri: `${csp}/ext/dist/chat-webview.js`, styleUri: `${csp}/ext/media/chat/chat.css`, layout: 'panel' });
  const policy = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
  assert.equal(policy, contentSecurityPolicy(csp, nonce));
  const directives = new Map(policy!.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
  assert.deepEqual(directives.get('default-src'), ["'none'"]);
  assert.deepEqual(directives.get('script-src'), [`'nonce-${nonce}'`]);
  assert.deepEqual(directives.get('style-src'), [csp], 'no unsafe-inline styles');
  for (const [name, sources] of directives) {
    assert.ok(!sources.some((s) => s.includes('unsafe') || s === '*' || s === 'https:' || s === 'http:' || s === 'data:'), `${name} allows nothing loose`);
  }
  // Every script carries the nonce; every URL the page names is the extension's own.
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  assert.equal(scripts.length, 1);
  assert.ok(scripts[0].includes(`nonce="${nonce}"`));
  for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) assert.ok(m[1].startsWith(csp), `${m[1]} is the extension's`);
  assert.doesNotMatch(html, /<style|\sstyle="|\son\w+="/, 'no inline style or handlers');
  assert.throws(() => chatHtml({ cspSource: csp, nonce: "x' 'unsafe-inline", scriptUri: '', styleUri: '', layout: 'view' }), /base64/);
});
