// The host's HTTP side against a real local OpenAI-compatible server (test/support/openaiServer.ts): model lists,
// streamed answers piece by piece, stop, error shapes, a dropped connection and a dead server; a ChatSession driven
// through a test double webview; Ask this leaf end to end.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runAskLeaf, newReport } from '../../../extension/chat/askRunner';
import { ChatRequestError, listModels, streamChat } from '../../../extension/chat/client';
import { chatRequestBody } from '../../../extension/chat/messages';
import { modelKey, type ToWebview } from '../../../extension/chat/protocol';
import { ChatSession, type ChatBackend, type ResolvedModel } from '../../../extension/chat/session';
import { startOpenAIServer, type OpenAIServer } from '../../support/openaiServer';

let server: OpenAIServer;
/** A port nothing listens on: a server started and closed. */
let deadUrl: string;

before(async () => {
  server = await startOpenAIServer({
    models: [{ id: 'base' }, { id: 'tuned' }],
    handler: (r) => {
      const last = r.messages[r.messages.length - 1].content;
      if (r.model === 'tuned') return `The observatory opened in 1932.`;
      return `${r.model} heard: ${last} (${r.messages.length} messages)`;
    },
  });
  const dead = await startOpenAIServer();
  deadUrl = dead.url;
  await dead.close();
});
after(() => server.close());

const body = (model: string, content = 'hello there') => chatRequestBody(model, [{ role: 'user', content }], { temperature: 0, top_p: 1, max_tokens: 16 });

describe('client', () => {
  test('lists the models', async () => {
    assert.deepEqual(await listModels({ url: server.url }), ['base', 'tuned']);
  });

  test('streams the answer piece by piece, with finish reason and usage', async () => {
    const pieces: string[] = [];
    const result = await streamChat({ url: server.url }, body('base'), { onDelta: (t) => pieces.push(t) });
    assert.equal(result.text, 'base heard: hello there (1 messages)');
    assert.deepEqual(pieces, ['base', ' heard:', ' hello', ' there', ' (1', ' messages)']);
    assert.equal(result.finishReason, 'stop');
    assert.deepEqual(result.usage, { promptTokens: 2, completionTokens: 6 });
    const sent = server.requests.at(-1)!.body as Record<string, unknown>;
    assert.equal(sent.stream, true);
    assert.deepEqual(sent.stream_options, { include_usage: true });
  });

  test('an unknown model and a missing key are HTTP errors naming the endpoint, with a hint', async () => {
    await assert.rejects(streamChat({ url: server.url }, body('nope')), (e: unknown) => e instanceof ChatRequestError && e.kind === 'http' && e.status === 404 && e.message.includes(server.url) && /does not exist/.test(e.message) && /model list/.test(e.message));
    const keyed = await startOpenAIServer({ apiKey: 'sekrit' });
    try {
      await assert.rejects(listModels({ url: keyed.url }), (e: unknown) => e instanceof ChatRequestError && e.status === 401 && /Set Chat Endpoint API Key/.test(e.message));
      assert.deepEqual(await listModels({ url: keyed.url, apiKey: 'sekrit' }), ['test-teacher']);
      assert.equal(keyed.requests.at(-1)!.authorization, 'Bearer sekrit');
    } finally {
      await keyed.close();
    }
  });

  test('a dead server and a dropped connection are "unreachable"', async () => {
    await assert.rejects(streamChat({ url: deadUrl }, body('base')), (e: unknown) => e instanceof ChatRequestError && e.kind === 'unreachable' && /connection refused/.test(e.message) && e.message.includes(deadUrl));
    await assert.rejects(listModels({ url: deadUrl }), (e: unknown) => e instanceof ChatRequestError && e.kind === 'unreachable');
    server.failNext({ type: 'close' });
    await assert.rejects(streamChat({ url: server.url }, body('base')), (e: unknown) => e instanceof ChatRequestError && e.kind === 'unreachable');
  });

  test('stop aborts a request in flight and the server sees the client go', async () => {
    server.failNext({ type: 'hang' });
    const controller = new AbortController();
    const pending = streamChat({ url: server.url }, body('base'), { signal: controller.signal });
    await server.waitForInFlight(1);
    controller.abort();
    await assert.rejects(pending, (e: unknown) => e instanceof ChatRequestError && e.kind === 'aborted');
  });
});

/** A webview test double: records what the host posts, and lets the test send what the webview would. */
class FakeWebview {
  readonly posted: ToWebview[] = [];
  private listener: ((m: unknown) => void) | undefined;
  private waiters: { until: (m: ToWebview) => boolean; resolve: (m: ToWebview) => void }[] = [];
  postMessage(m: ToWebview) {
    this.posted.push(m);
    for (const w of this.waiters.filter((x) => x.until(m))) {
      w.resolve(m);
      this.waiters.splice(this.waiters.indexOf(w), 1);
    }
    return Promise.resolve(true);
  }
  onDidReceiveMessage(listener: (m: unknown) => void) {
    this.listener = listener;
    return { dispose: () => (this.listener = undefined) };
  }
  send(m: unknown) {
    this.listener?.(m);
  }
  next(until: (m: ToWebview) => boolean): Promise<ToWebview> {
    const seen = this.posted.find(until);
    return seen ? Promise.resolve(seen) : new Promise((resolve) => this.waiters.push({ until, resolve }));
  }
}

function backend(overrides: Partial<ChatBackend> = {}): ChatBackend & { restarts: number } {
  const b = {
    restarts: 0,
    async models() {
      return { models: ['base', 'tuned'].map((m) => ({ key: modelKey('Served', m), endpoint: 'Served', model: m, label: `${m} · Served` })), problems: [], compare: [modelKey('Served', 'base'), modelKey('Served', 'tuned')] as [string, string] };
    },
    async resolve(key: string): Promise<ResolvedModel> {
      const [endpoint, model] = JSON.parse(key) as string[];
      return { endpoint: { url: endpoint === 'Dead' ? deadUrl : server.url }, model, served: true };
    },
    canRestartServer: () => true,
    async restartServer() {
      b.restarts++;
    },
    async exportReport() {},
    ...overrides,
  };
  return b;
}

describe('chat session', () => {
  test('ready sends the models and compare pair; generate streams deltas then done, with the history built', async () => {
    const webview = new FakeWebview();
    const session = new ChatSession(webview, backend());
    webview.send({ type: 'ready' });
    const models = await webview.next((m) => m.type === 'models');
    assert.deepEqual(models.type === 'models' && models.compare, [modelKey('Served', 'base'), modelKey('Served', 'tuned')]);
    webview.send({ type: 'generate', id: '1:0', model: modelKey('Served', 'base'), system: 'Be kind.', exchanges: [{ user: 'a', answer: 'b' }, { user: 'again' }], sampling: { temperature: 0, top_p: 1, max_tokens: 8 } });
    const done = await webview.next((m) => m.type === 'done' && m.id === '1:0');
    const text = webview.posted.filter((m): m is Extract<ToWebview, { type: 'delta' }> => m.type === 'delta' && m.id === '1:0').map((m) => m.text);
    assert.ok(text.length > 1, 'several deltas');
    assert.equal(text.join(''), 'base heard: again (4 messages)');
    assert.equal(done.type === 'done' && done.finishReason, 'stop');
    session.dispose();
  });

  test('stop ends an answer as "stopped"; a dead served endpoint fails as unreachable and offers a restart', async () => {
    const webview = new FakeWebview();
    const b = backend();
    const session = new ChatSession(webview, b);
    server.failNext({ type: 'hang' });
    webview.send({ type: 'generate', id: '2:0', model: modelKey('Served', 'base'), system: '', exchanges: [{ user: 'x' }], sampling: {} });
    await server.waitForInFlight(1);
    webview.send({ type: 'stop' });
    await webview.next((m) => m.type === 'stopped' && m.id === '2:0');

    webview.send({ type: 'generate', id: '3:0', model: modelKey('Dead', 'base'), system: '', exchanges: [{ user: 'x' }], sampling: {} });
    const failed = await webview.next((m) => m.type === 'failed' && m.id === '3:0');
    assert.ok(failed.type === 'failed' && failed.unreachable && failed.canRestart, JSON.stringify(failed));
    assert.match(failed.type === 'failed' ? failed.message : '', /cannot reach .*connection refused/);
    webview.send({ type: 'restartServer' });
    await new Promise((r) => setImmediate(r));
    assert.equal(b.restarts, 1);
    session.dispose();
  });
});

test('Ask this leaf: every question to base and tuned, greedy, scored against the expected answer', async () => {
  const questions = [
    { seed: 1, question: 'When did it open?', expected: 'It opened in 1932.', prompt: 'When did it open?', line: 3 },
    { seed: 2, question: 'Who built it?', expected: 'Ada Kestrel', prompt: 'Who built it?', line: 8 },
  ];
  const report = newReport('knowledge/x/qna.yaml', questions, ['base', 'tuned']);
  const updates: number[] = [];
  const before = server.counts.chat;
  await runAskLeaf(report, { base: { endpoint: { url: server.url }, model: 'base', served: true }, tuned: { endpoint: { url: server.url }, model: 'tuned', served: true } }, { onUpdate: (r) => updates.push(r.rows.flatMap((x) => Object.keys(x.answers)).length) });
  assert.equal(server.counts.chat - before, 4);
  assert.deepEqual(updates, [1, 2, 3, 4]);
  // tuned {the, observatory, opened, in, 1932} vs {it, opened, in, 1932}: P 3/5, R 3/4, F1 2/3.
  assert.ok(Math.abs(report.rows[0].answers.tuned.score! - 2 / 3) < 1e-12);
  // base {base, heard, when, did, it, open, 1, messages} shares "it": P 1/8, R 1/4, F1 1/6.
  assert.equal(report.rows[0].answers.base.text, 'base heard: When did it open? (1 messages)');
  assert.ok(Math.abs(report.rows[0].answers.base.score! - 1 / 6) < 1e-12);
  assert.equal(report.rows[1].answers.tuned.score, 0);
  for (const r of server.requests.slice(-4)) assert.equal((r.body as { temperature: number }).temperature, 0);
  // A dead model fills its column with errors; the others still answer.
  const half = newReport('x', questions.slice(0, 1), ['base', 'gone']);
  await runAskLeaf(half, { base: { endpoint: { url: server.url }, model: 'base', served: true }, gone: { endpoint: { url: deadUrl }, model: 'tuned', served: true } });
  assert.ok(half.rows[0].answers.base.score !== undefined);
  assert.match(half.rows[0].answers.gone.error ?? '', /cannot reach/);
});
