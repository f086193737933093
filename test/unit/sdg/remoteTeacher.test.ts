// The remote teacher against a real local OpenAI-compatible server with injected faults. Retry waits run on a
// virtual clock; concurrency is observed through the server's in-flight count (requests held on a gate), never by
// sleeping.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { RemoteTeacher, normalizeBaseUrl, retryAfterMs, type RemoteTeacherEvent, type RemoteTeacherOptions } from '../../../engine/sdg/teachers/remote';
import { TeacherContextOverflowError, TeacherError, TeacherInvalidJsonError, invalidJsonReason, isTeacherError } from '../../../engine/sdg/teachers/errors';
import type { ChatOptions } from '../../../engine/sdg/teachers/teacher';
import { jsonCandidates, parseJsonAnswer } from '../../../engine/sdg/teachers/jsonAnswer';
import { defaultModel, readChatStream, startOpenAIServer, type ChatReply, type OpenAIServer, type OpenAIServerOptions } from '../../support/openaiServer';
import { VirtualClock } from './virtualClock';

const servers: OpenAIServer[] = [];
async function server(options: OpenAIServerOptions = {}): Promise<OpenAIServer> {
  const s = await startOpenAIServer(options);
  servers.push(s);
  return s;
}
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** A port nothing listens on: bound by us, then released. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function teacher(endpoints: RemoteTeacherOptions['endpoints'], extra: Partial<RemoteTeacherOptions> = {}): { t: RemoteTeacher; clock: VirtualClock; events: RemoteTeacherEvent[] } {
  const clock = new VirtualClock();
  const events: RemoteTeacherEvent[] = [];
  const t = new RemoteTeacher({
    endpoints,
    clock,
    random: () => 0.5,
    backoffBaseMs: 100,
    downBaseMs: 1000,
    maxAttempts: 4,
    timeoutMs: 10_000,
    onEvent: (e) => events.push(e),
    ...extra,
  });
  return { t, clock, events };
}

const opts: ChatOptions = { maxTokens: 64, temperature: 0.7 };
const user = (content: string) => [{ role: 'user' as const, content }];

/** Rejections of `p`, for asserting on the error object. */
async function failure(p: Promise<unknown>): Promise<TeacherError> {
  try {
    await p;
  } catch (e) {
    return e as TeacherError;
  }
  assert.fail('expected the call to fail');
}

/** A handler whose answers wait until release() is called. */
function gate(): { handler: (r: { messages: { content: string }[] }) => Promise<string>; release: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return {
    handler: async (r) => {
      await opened;
      return `answer to ${r.messages[r.messages.length - 1].content}`;
    },
    release: () => open(),
  };
}

describe('normalizeBaseUrl and Retry-After', () => {
  test('adds /v1 to a bare server, keeps a path, cuts a pasted endpoint path', () => {
    assert.equal(normalizeBaseUrl('http://127.0.0.1:8080'), 'http://127.0.0.1:8080/v1');
    assert.equal(normalizeBaseUrl('http://127.0.0.1:8080/'), 'http://127.0.0.1:8080/v1');
    assert.equal(normalizeBaseUrl('https://api.example.com/openai/v1/'), 'https://api.example.com/openai/v1');
    assert.equal(normalizeBaseUrl('http://h:1/v1/chat/completions'), 'http://h:1/v1');
    assert.equal(normalizeBaseUrl(' http://h:1/v1?x=1#y '), 'http://h:1/v1');
    assert.throws(() => normalizeBaseUrl('ftp://h/v1'), /starts with http:\/\/ or https:\/\//);
    assert.throws(() => normalizeBaseUrl('localhost 8080'), /is not a URL/);
  });

  test('reads seconds, an HTTP date and retry-after-ms', () => {
    assert.equal(retryAfterMs(new Headers({ 'retry-after': '3' }), 0), 3000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': '0.25' }), 0), 250);
    assert.equal(retryAfterMs(new Headers({ 'retry-after-ms': '1500', 'retry-after': '9' }), 0), 1500);
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(retryAfterMs(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:07 GMT' }), now), 7000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now), undefined);
    assert.equal(retryAfterMs(new Headers(), now), undefined);
  });
});

describe('parseJsonAnswer', () => {
  const schema = { type: 'object', properties: { a: { type: 'number' } }, required: ['a'] };

  test('bare JSON, a fenced block, JSON inside a sentence', () => {
    assert.deepEqual(parseJsonAnswer(' {"a": 1} ', schema), { a: 1 });
    assert.deepEqual(parseJsonAnswer('Here it is:\n```json\n{"a": 2}\n```\nDone.', schema), { a: 2 });
    assert.deepEqual(parseJsonAnswer('Sure. {"a": 3} Hope this helps!', schema), { a: 3 });
    assert.deepEqual(parseJsonAnswer('[1, 2]', { type: 'array', items: { type: 'number' } }), [1, 2]);
    assert.deepEqual(jsonCandidates('x {"a": 1} y'), ['x {"a": 1} y', '{"a": 1}']);
  });

  test('the first parse error is the one reported; the endpoint is named', () => {
    assert.throws(
      () => parseJsonAnswer('{"a": }', schema, { endpoint: 'http://h/v1' }),
      (e) => e instanceof TeacherInvalidJsonError && e.message.startsWith('teacher returned invalid JSON (http://h/v1): not JSON: Unexpected token'),
    );
  });
});

describe('the test server', () => {
  test('streams a chat completion over SSE, with usage when asked', async () => {
    const s = await server({ handler: () => 'The dome closes when it rains.' });
    const res = await fetch(`${s.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: defaultModel, messages: [{ role: 'user', content: 'When does the dome close?' }], stream: true, stream_options: { include_usage: true } }),
    });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const r = await readChatStream(res);
    assert.equal(r.content, 'The dome closes when it rains.');
    assert.equal(r.finishReason, 'stop');
    assert.equal(r.done, true);
    // role chunk + 6 words + finish chunk + usage chunk
    assert.equal(r.chunks, 9);
    assert.deepEqual(r.usage, { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 });
  });

  test('answers /v1/models and 404s unknown paths and models', async () => {
    const s = await server({ models: [{ id: 'a', contextSize: 2048 }, { id: 'b' }] });
    const list = (await (await fetch(`${s.url}/models`)).json()) as { data: { id: string; max_model_len?: number }[] };
    assert.deepEqual(
      list.data.map((m) => [m.id, m.max_model_len]),
      [
        ['a', 2048],
        ['b', undefined],
      ],
    );
    assert.equal((await fetch(`${s.origin}/nowhere`)).status, 404);
    const r = await fetch(`${s.url}/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'c', messages: [{ role: 'user', content: 'x' }] }) });
    assert.equal(r.status, 404);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'model_not_found');
    assert.deepEqual(s.counts, { total: 3, models: 1, chat: 1, props: 0 });
  });
});

describe('RemoteTeacher.chat', () => {
  test('sends an OpenAI chat request and returns text, tokens and where it was answered', async () => {
    const s = await server({ handler: (r) => ({ content: `seen ${r.messages.length} messages`, promptTokens: 11, completionTokens: 3 }) });
    const { t } = teacher([s.url], { model: defaultModel });
    const r = await t.chat(
      [
        { role: 'system', content: 'You are a teacher.' },
        { role: 'user', content: 'Hi' },
      ],
      { ...opts, seed: 42 },
    );
    assert.equal(r.text, 'seen 2 messages');
    assert.equal(r.promptTokens, 11);
    assert.equal(r.completionTokens, 3);
    assert.equal(r.finishReason, 'stop');
    assert.equal(r.endpoint, s.url);
    assert.equal(r.attempts, 1);
    assert.equal(r.json, undefined);
    assert.deepEqual(s.requests.at(-1)!.body, {
      model: defaultModel,
      messages: [
        { role: 'system', content: 'You are a teacher.' },
        { role: 'user', content: 'Hi' },
      ],
      max_tokens: 64,
      temperature: 0.7,
      stream: false,
      seed: 42,
    });
    assert.equal(s.requests.at(-1)!.path, '/v1/chat/completions');
  });

  test('without a model name, uses the first model the server lists (asked once)', async () => {
    const s = await server({ models: [{ id: 'granite-teacher' }, { id: 'other' }] });
    const { t } = teacher([s.origin]);
    await t.chat(user('one'), opts);
    await t.chat(user('two'), opts);
    assert.equal(s.counts.models, 1);
    assert.deepEqual(
      s.requests.filter((r) => r.path === '/v1/chat/completions').map((r) => (r.body as { model: string }).model),
      ['granite-teacher', 'granite-teacher'],
    );
  });

  test('asks for json_schema output and returns the parsed, validated value', async () => {
    const schema = { type: 'object', properties: { question: { type: 'string' }, answer: { type: 'string' } }, required: ['question', 'answer'] };
    const s = await server({ handler: () => '```json\n{"question": "Q?", "answer": "A."}\n```' });
    const { t } = teacher([s.url], { model: defaultModel });
    const r = await t.chat(user('make a pair'), { ...opts, jsonSchema: { name: 'qa_pair', schema } });
    assert.deepEqual(r.json, { question: 'Q?', answer: 'A.' });
    assert.deepEqual((s.requests.at(-1)!.body as { response_format: unknown }).response_format, {
      type: 'json_schema',
      json_schema: { name: 'qa_pair', schema, strict: true },
    });
  });

  test('an answer that is not JSON of the schema is a TeacherInvalidJsonError, not retried', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
    const answers: ChatReply[] = [
      { content: 'Sure! Here is your answer: the dome.' },
      { content: '{"answer": 7}' },
      { content: '{"reply": "x"}' },
      { content: '{"answer": "The dome clo', finishReason: 'length' },
    ];
    const s = await server({ handler: (r) => answers[r.index] });
    const { t } = teacher([s.url], { model: defaultModel });
    const problems: string[] = [];
    for (let i = 0; i < answers.length; i++) {
      const e = await failure(t.chat(user('q'), { ...opts, jsonSchema: { name: 'a', schema } }));
      assert.ok(e instanceof TeacherInvalidJsonError, String(e));
      assert.equal(e.kind, 'invalid-json');
      assert.equal(e.reason, invalidJsonReason);
      assert.equal(e.text, answers[i].content);
      assert.equal(e.attempts, 1);
      assert.equal(e.retryable, false);
      problems.push(e.problem);
    }
    assert.match(problems[0], /^not JSON: /);
    assert.equal(problems[1], '/answer: must be string');
    assert.equal(problems[2], "(the answer): must have required property 'answer'");
    assert.equal(problems[3], 'the answer was cut off at maxTokens before the JSON ended (raise maxTokens or shorten the prompt)');
    assert.equal(s.counts.chat, 4);
  });

  test('retries 500 and 503 with exponential backoff and jitter, then answers', async () => {
    const s = await server();
    s.failNext({ type: 'status', status: 500 }, { type: 'status', status: 503, body: { error: { message: 'Loading model' } } });
    const { t, clock, events } = teacher([s.url], { model: defaultModel });
    const r = await t.chat(user('hello'), opts);
    assert.equal(r.text, 'echo: hello');
    assert.equal(r.attempts, 3);
    // base 100 ms doubling, equal jitter with random() = 0.5: 0.75 of 100, then of 200
    assert.deepEqual(clock.sleeps, [75, 150]);
    assert.equal(r.ms, 225);
    assert.deepEqual(
      events.map((e) => (e.type === 'retry' ? [e.attempt, e.delayMs, e.problem] : e.type)),
      [
        [1, 75, `${s.url} failed on POST /chat/completions (HTTP 500: injected HTTP 500)`],
        [2, 150, `${s.url} failed on POST /chat/completions (HTTP 503: Loading model)`],
      ],
    );
    assert.equal(s.counts.chat, 3);
  });

  test("a 400 saying the prompt exceeds the context is a context overflow (not retried); another 400 is not", async () => {
    const s = await server();
    const { t } = teacher([s.url], { model: defaultModel });
    s.failNext({ type: 'status', status: 400, body: { error: { message: 'the request exceeds the available context size, try increasing it', type: 'exceed_context_size_error' } } });
    const e = await failure(t.chat(user('x'), opts));
    assert.ok(e instanceof TeacherContextOverflowError, e.message);
    assert.equal(s.counts.chat, 1);
    s.failNext({ type: 'status', status: 400, body: { error: { message: "This model's maximum context length is 4096 tokens", code: 'context_length_exceeded' } } });
    assert.ok((await failure(t.chat(user('x'), opts))) instanceof TeacherContextOverflowError);
    s.failNext({ type: 'status', status: 400, body: { error: { message: 'temperature must be at most 2' } } });
    const other = await failure(t.chat(user('x'), opts));
    assert.ok(isTeacherError(other, 'request') && !(other instanceof TeacherContextOverflowError), other.message);
  });

  test('gives up after maxAttempts with the last error', async () => {
    const s = await server({ faultRule: (c) => (c.chatIndex !== undefined ? { type: 'status', status: 502 } : undefined) });
    const { t, clock } = teacher([s.url], { model: defaultModel, maxAttempts: 3 });
    const e = await failure(t.chat(user('x'), opts));
    assert.ok(isTeacherError(e, 'server'));
    assert.equal(e.status, 502);
    assert.equal(e.attempts, 3);
    assert.equal(e.message, `${s.url} failed on POST /chat/completions (HTTP 502: injected HTTP 502) (gave up after 3 attempts)`);
    assert.deepEqual(clock.sleeps, [75, 150]);
    assert.equal(s.counts.chat, 3);
  });

  test('honours Retry-After on 429 (seconds and retry-after-ms)', async () => {
    const s = await server();
    s.failNext({ type: 'rate-limit', retryAfter: 2 }, { type: 'rate-limit', retryAfterMs: 750 });
    const { t, clock } = teacher([s.url], { model: defaultModel });
    const start = clock.now();
    const r = await t.chat(user('hi'), opts);
    assert.equal(r.attempts, 3);
    assert.deepEqual(clock.sleeps, [2000, 750]);
    assert.equal(clock.now() - start, 2750);
    assert.equal(r.ms, 2750);
  });

  test('a 429 on one endpoint sends the retry to another at once', async () => {
    const a = await server();
    const b = await server();
    a.failNext({ type: 'rate-limit', retryAfter: 30 });
    const { t, clock } = teacher([a.url, b.url], { model: defaultModel, policy: 'round-robin' });
    const r = await t.chat(user('hi'), opts);
    assert.equal(r.endpoint, b.url);
    assert.equal(r.attempts, 2);
    assert.deepEqual(clock.sleeps, []);
    // a is cooling down: the next request goes to b too
    assert.equal((await t.chat(user('again'), opts)).endpoint, b.url);
    assert.equal(a.counts.chat, 1);
  });

  test('a dropped connection and a body that is not JSON are retried', async () => {
    const s = await server();
    s.failNext({ type: 'close' }, { type: 'invalid-json' });
    const { t, events } = teacher([s.url], { model: defaultModel });
    const r = await t.chat(user('x'), opts);
    assert.equal(r.text, 'echo: x');
    assert.equal(r.attempts, 3);
    const problems = events.filter((e) => e.type === 'retry').map((e) => (e as { problem: string }).problem);
    assert.match(problems[0], new RegExp(`^${s.url.replace(/[./]/g, '\\$&')} closed the connection before answering \\(`));
    assert.match(problems[1], /answered \/chat\/completions with something that is not JSON: \{"id": "chatcmpl-broken"/);
    assert.deepEqual(
      events.map((e) => e.type),
      ['endpoint-down', 'retry', 'retry', 'endpoint-up'],
    );
  });

  test('no server at the URL: a clear error after the retries', async () => {
    const port = await deadPort();
    const { t, clock, events } = teacher([`http://127.0.0.1:${port}`], { model: 'm', maxAttempts: 3 });
    const e = await failure(t.chat(user('x'), opts));
    assert.ok(isTeacherError(e, 'unreachable'));
    assert.equal(e.message, `no server at http://127.0.0.1:${port}/v1: start it or check --teacher (gave up after 3 attempts)`);
    assert.equal(e.attempts, 3);
    // marked down 1 s, then 2 s: the request waits for it to come back each time
    assert.deepEqual(
      events.filter((x) => x.type === 'endpoint-down').map((x) => (x as { forMs: number }).forMs),
      [1000, 2000, 4000],
    );
    assert.equal(clock.now() - 1_000_000, 3000);
  });

  test('a dead endpoint among live ones: the others carry on', async () => {
    const port = await deadPort();
    const live = await server();
    const dead = `http://127.0.0.1:${port}/v1`;
    const { t, events } = teacher([dead, live.url], { model: defaultModel, policy: 'round-robin' });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await t.chat(user(`q${i}`), opts));
    assert.deepEqual(
      results.map((r) => r.endpoint),
      [live.url, live.url, live.url, live.url],
    );
    assert.equal(results[0].attempts, 2);
    assert.deepEqual(results.slice(1).map((r) => r.attempts), [1, 1, 1]);
    assert.deepEqual(
      events.map((e) => [e.type, e.endpoint]),
      [
        ['endpoint-down', dead],
        ['retry', dead],
      ],
    );
    assert.equal(live.counts.chat, 4);
  });

  test('per-request timeout: a server that never answers is a timeout error, and the server sees the request end', async () => {
    const s = await server();
    s.failNext({ type: 'hang' });
    const { t } = teacher([s.url], { model: defaultModel, timeoutMs: 50, maxAttempts: 1 });
    const e = await failure(t.chat(user('x'), opts));
    assert.ok(isTeacherError(e, 'timeout'));
    assert.equal(e.message, `${s.url} did not answer within 50 ms: the server may be overloaded; lower the concurrency or raise the timeout`);
    // The next request gets an answer: the hung one did not hold anything.
    s.failNext({ type: 'hang' });
    const { t: t2 } = teacher([s.url], { model: defaultModel, timeoutMs: 50, maxAttempts: 2 });
    const r = await t2.chat(user('y'), opts);
    assert.equal(r.attempts, 2);
    assert.equal(r.text, 'echo: y');
  });

  test('a slow answer within the timeout is an answer; a slower one times out and the server stops waiting', async () => {
    const s = await server();
    s.failNext({ type: 'delay', ms: 20 });
    const { t } = teacher([s.url], { model: defaultModel, timeoutMs: 10_000 });
    const r = await t.chat(user('slow'), opts);
    assert.equal(r.text, 'echo: slow');
    assert.equal(r.attempts, 1);
    s.failNext({ type: 'delay', ms: 60_000 });
    const { t: impatient } = teacher([s.url], { model: defaultModel, timeoutMs: 30, maxAttempts: 1 });
    const e = await failure(impatient.chat(user('x'), opts));
    assert.ok(isTeacherError(e, 'timeout'));
    assert.equal(s.requests.at(-1)!.fault, 'delay');
  });

  test("the caller's abort ends the call with the abort reason and is not retried", async () => {
    const s = await server();
    s.failNext({ type: 'hang' });
    const { t } = teacher([s.url], { model: defaultModel });
    const ac = new AbortController();
    const p = t.chat(user('x'), { ...opts, signal: ac.signal });
    await s.waitForInFlight(1);
    const reason = new Error('job cancelled');
    ac.abort(reason);
    await assert.rejects(p, (e) => e === reason);
    assert.equal(s.counts.chat, 1);
    assert.equal(t.inFlight, 0);
    await assert.rejects(t.chat(user('x'), { ...opts, signal: ac.signal }), (e) => e === reason);
  });

  test('never more requests in flight than the concurrency', async () => {
    const g = gate();
    const s = await server({ handler: g.handler });
    const { t } = teacher([s.url], { model: defaultModel, concurrency: 3 });
    const calls = Array.from({ length: 10 }, (_, i) => t.chat(user(`q${i}`), opts));
    await s.waitForInFlight(3);
    assert.equal(s.inFlight, 3);
    assert.equal(t.inFlight, 3);
    g.release();
    const results = await Promise.all(calls);
    assert.deepEqual(
      results.map((r) => r.text),
      Array.from({ length: 10 }, (_, i) => `answer to q${i}`),
    );
    assert.equal(s.maxInFlight, 3);
    assert.equal(s.counts.chat, 10);
  });

  test('least busy: requests spread over endpoints by their share of each limit', async () => {
    const ga = gate();
    const gb = gate();
    const a = await server({ handler: ga.handler });
    const b = await server({ handler: gb.handler });
    const { t } = teacher([{ url: a.url, concurrency: 2 }, { url: b.url, concurrency: 6 }], { model: defaultModel });
    const calls = Array.from({ length: 4 }, (_, i) => t.chat(user(`q${i}`), opts));
    await a.waitForInFlight(1);
    await b.waitForInFlight(3);
    // a: 1 of 2 is as busy as b: 3 of 6
    assert.equal(a.inFlight, 1);
    assert.equal(b.inFlight, 3);
    const more = Array.from({ length: 6 }, (_, i) => t.chat(user(`r${i}`), opts));
    await a.waitForInFlight(2);
    await b.waitForInFlight(6);
    assert.equal(t.inFlight, 8);
    ga.release();
    gb.release();
    const results = await Promise.all([...calls, ...more]);
    assert.equal(a.maxInFlight, 2);
    assert.equal(b.maxInFlight, 6);
    assert.equal(a.counts.chat + b.counts.chat, 10);
    assert.ok(results.every((r) => r.endpoint === a.url || r.endpoint === b.url));
  });

  test('round robin: one request after another alternates endpoints', async () => {
    const a = await server();
    const b = await server();
    const { t } = teacher([a.url, b.url], { model: defaultModel, policy: 'round-robin' });
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push((await t.chat(user('x'), opts)).endpoint);
    assert.deepEqual(seen, [a.url, b.url, a.url, b.url]);
  });
});

describe('API keys', () => {
  const key = 'sk-test-0123456789abcdef';

  test('sent as a Bearer token from the named environment variable', async () => {
    const s = await server({ apiKey: key });
    const { t } = teacher([s.url], { model: defaultModel, apiKeyEnv: 'TEACHER_KEY', env: { TEACHER_KEY: key } });
    assert.equal((await t.chat(user('x'), opts)).text, 'echo: x');
    assert.equal(s.requests.at(-1)!.authorization, `Bearer ${key}`);
    assert.ok(!t.description.includes(key));
  });

  test('an unset variable is refused up front, naming the variable', () => {
    assert.throws(
      () => new RemoteTeacher({ endpoints: ['http://127.0.0.1:1'], apiKeyEnv: 'MISSING_TEACHER_KEY', env: {} }),
      (e) =>
        isTeacherError(e, 'unauthorized') &&
        e.message === "the environment variable MISSING_TEACHER_KEY that should hold the teacher's API key is not set: set it in the environment that starts taxonomy-studio",
    );
  });

  test('401 is not retried and says which variable to check; the key never shows', async () => {
    const s = await server({ apiKey: 'the-right-key-000' });
    const { t } = teacher([s.url], { model: defaultModel, apiKeyEnv: 'TEACHER_KEY', env: { TEACHER_KEY: key } });
    const e = await failure(t.chat(user('x'), opts));
    assert.ok(isTeacherError(e, 'unauthorized'));
    assert.equal(e.message, `${s.url} refused the request (HTTP 401: Incorrect API key provided.): check the key in the environment variable TEACHER_KEY`);
    assert.equal(s.counts.chat, 1);
    const { t: anonymous } = teacher([s.url], { model: defaultModel });
    const e2 = await failure(anonymous.chat(user('x'), opts));
    assert.match(e2.message, /HTTP 401: You didn't provide an API key\.\): this server needs an API key/);
  });

  test('a server that echoes the key in an error or a retry event gets it redacted', async () => {
    const s = await server();
    s.failNext(
      { type: 'status', status: 500, body: { error: { message: `bad key ${key} for org` } } },
      { type: 'status', status: 400, body: { error: { message: `prompt too long (key ${key})` } } },
    );
    const { t, events } = teacher([s.url], { model: defaultModel, apiKeyEnv: 'K', env: { K: key } });
    const e = await failure(t.chat(user('x'), opts));
    assert.ok(isTeacherError(e, 'request'));
    assert.equal(e.message, `${s.url} rejected POST /chat/completions (HTTP 400: prompt too long (key [redacted]))`);
    const retry = events.find((x) => x.type === 'retry') as { problem: string };
    assert.equal(retry.problem, `${s.url} failed on POST /chat/completions (HTTP 500: bad key [redacted] for org)`);
    assert.ok(!JSON.stringify(events).includes(key));
  });

  test('credentials in the URL become a Basic header and are not shown', async () => {
    const s = await server();
    const url = s.url.replace('http://', 'http://user:s3cret-pass@');
    const { t } = teacher([url], { model: defaultModel });
    const r = await t.chat(user('x'), opts);
    assert.equal(r.endpoint, s.url);
    assert.equal(s.requests.at(-1)!.authorization, `Basic ${Buffer.from('user:s3cret-pass').toString('base64')}`);
    assert.ok(!t.description.includes('s3cret'));
  });
});

describe('model not found', () => {
  test('names the model and what the server serves, without retrying', async () => {
    const s = await server({ models: [{ id: 'granite-7b' }, { id: 'mixtral' }] });
    const { t } = teacher([s.url], { model: 'llama-70b' });
    const e = await failure(t.chat(user('x'), opts));
    assert.ok(isTeacherError(e, 'model-not-found'));
    assert.equal(e.message, `${s.url} does not serve the model "llama-70b"; it serves "granite-7b", "mixtral"`);
    assert.equal(s.counts.chat, 1);
  });

  test('a 404 that is not about a model points at the base URL', async () => {
    const s = await server();
    const { t } = teacher([`${s.origin}/api`], { model: defaultModel });
    const e = await failure(t.chat(user('x'), opts));
    assert.ok(isTeacherError(e, 'request'));
    assert.equal(e.message, `${s.origin}/api has no /chat/completions (HTTP 404): is it an OpenAI-compatible base URL? It usually ends in /v1`);
  });
});

describe('RemoteTeacher.health', () => {
  test('reachable, serving the model, answering: ok with the context size (vLLM max_model_len)', async () => {
    const s = await server({ models: [{ id: 'granite', contextSize: 8192 }] });
    const { t } = teacher([s.url]);
    const h = await t.health();
    assert.equal(h.ok, true);
    assert.equal(h.model, 'granite');
    assert.equal(h.contextSize, 8192);
    assert.equal(h.problem, undefined);
    assert.equal(s.counts.chat, 1);
    assert.deepEqual(
      h.endpoints!.map((e) => [e.endpoint, e.ok, e.model, e.contextSize]),
      [[s.url, true, 'granite', 8192]],
    );
  });

  test("llama.cpp's context size comes from GET /props", async () => {
    const s = await server({ models: [{ id: 'teacher.gguf', ownedBy: 'llamacpp', contextSize: 131072 }], llamaCppContext: 4096 });
    const { t } = teacher([s.origin]);
    const h = await t.health();
    assert.equal(h.contextSize, 4096);
    assert.equal(s.counts.props, 1);
  });

  test('dead endpoint, wrong model, failing /models: not ok, each said plainly', async () => {
    const port = await deadPort();
    const { t } = teacher([`http://127.0.0.1:${port}`], { model: 'm' });
    const h = await t.health();
    assert.equal(h.ok, false);
    assert.equal(h.problem, `no server at http://127.0.0.1:${port}/v1: start it or check --teacher`);

    const s = await server({ models: [{ id: 'granite' }] });
    const wrong = await teacher([s.url], { model: 'mixtral' }).t.health();
    assert.equal(wrong.ok, false);
    assert.equal(wrong.problem, `${s.url} does not serve the model "mixtral"; it serves "granite"`);

    const broken = await server({ faultRule: (c) => (c.path === '/v1/models' ? { type: 'status', status: 500 } : undefined) });
    const b = await teacher([broken.url]).t.health();
    assert.equal(b.ok, false);
    assert.equal(b.problem, `${broken.url} failed on GET /models (HTTP 500: injected HTTP 500)`);
  });

  test('one dead endpoint of two: ok with a warning, and requests skip it', async () => {
    const port = await deadPort();
    const live = await server();
    const dead = `http://127.0.0.1:${port}/v1`;
    const { t } = teacher([dead, live.url], { model: defaultModel, policy: 'round-robin' });
    const h = await t.health();
    assert.equal(h.ok, true);
    assert.deepEqual(h.warnings, [`no server at ${dead}: start it or check --teacher (the other endpoints carry on)`]);
    const r = await t.chat(user('x'), opts);
    assert.equal(r.endpoint, live.url);
    assert.equal(r.attempts, 1);
  });

  test('a server that refuses to answer the probe chat is not ok', async () => {
    const s = await server({ faultRule: (c) => (c.chatIndex !== undefined ? { type: 'status', status: 400, body: { error: { message: 'context overflow' } } } : undefined) });
    const h = await teacher([s.url]).t.health();
    assert.equal(h.ok, false);
    assert.equal(h.problem, `${s.url} rejected POST /chat/completions (HTTP 400: context overflow)`);
  });
});

describe('dispose', () => {
  test('ends requests in flight and refuses new ones; safe twice', async () => {
    const s = await server();
    s.failNext({ type: 'hang' });
    const { t } = teacher([s.url], { model: defaultModel });
    const p = t.chat(user('x'), opts);
    await s.waitForInFlight(1);
    await t.dispose();
    await t.dispose();
    const e = await failure(p);
    assert.ok(e instanceof TeacherError);
    assert.match(e.message, /disposed/);
    await assert.rejects(t.chat(user('y'), opts), /disposed/);
  });
});

