// The model server against the official `openai` client, on the tiny fixture model (weights std 0.1, so greedy text
// varies) converted to F16 by our converter, with a fixture LoRA adapter served as "tuned". Texts are checked against
// greedy decoding done here with node-llama-cpp directly (test/support/llama.ts), token counts against the chat
// template rendered with @huggingface/jinja, so the server is compared with independent parts, not with itself.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { runCli } from '../../../engine/cli/run';
import { startJob } from '../../../engine/jobs/runner';
import { convertHfToGguf } from '../../../engine/gguf/convert/index';
import { exportLoraAdapter } from '../../../engine/gguf/lora/export';
import { writeFixtureAdapter } from '../../../engine/gguf/lora/fixtureAdapter';
import { chatTemplateOf, renderChatTemplate } from '../../../engine/hf/chatTemplate';
import { fixtureSpecialTokens, writeFixtureModel } from '../../../engine/hf/fixtureModel';
import { argmax } from '../../../engine/model/metrics';
import { ServeError } from '../../../engine/serve/errors';
import { serveJob, type ServeListening } from '../../../engine/serve/job';
import { startServer, type RunningServer, type ServeOptions } from '../../../engine/serve/server';
import { openLlamaModel, type LlamaTestModel } from '../../support/llama';
import { Recorder } from '../jobs/helpers';

const tmp = mkdtempSync(join(tmpdir(), 'serve-'));
const hfDir = join(tmp, 'hf');
const modelPath = join(tmp, 'tiny-f16.gguf');
const adapterPath = join(tmp, 'tuned.gguf');
const contextSize = 256;
let server: RunningServer;
let client: OpenAI;
let template: string;
const direct: LlamaTestModel[] = [];

const question = 'What is a leaf in the taxonomy?';
// Extra body fields the openai client passes through unchanged (vLLM's and llama.cpp's ignore_eos).
const noEos = { ignore_eos: true } as Record<string, unknown>;

function options(extra: Partial<ServeOptions> = {}): ServeOptions {
  return { modelPath, port: 0, parallel: 4, queue: 8, threads: 1, contextSize, gpu: 'off', ...extra };
}

function clientFor(s: RunningServer, apiKey = 'x'): OpenAI {
  return new OpenAI({ baseURL: s.url, apiKey, maxRetries: 0 });
}

before(async () => {
  await writeFixtureModel(hfDir, { size: 'tiny', seed: 7, std: 0.1 });
  await convertHfToGguf(hfDir, modelPath, 'f16', { threads: 1 });
  await writeFixtureAdapter(join(tmp, 'peft'), hfDir, { seed: 5, std: 0.1 });
  await exportLoraAdapter({ peftDir: join(tmp, 'peft'), baseDir: hfDir, out: adapterPath });
  template = (await chatTemplateOf(hfDir)).template;
  server = await startServer(options({ adapters: [{ id: 'tuned', path: adapterPath }] }));
  client = clientFor(server);
});

after(async () => {
  await server?.close();
  for (const m of direct) await m.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

/** Greedy tokens after `prompt` (ids), computed by node-llama-cpp directly, EOS/EOT excluded as ignore_eos does. */
async function directGreedy(prompt: number[], n: number, lora?: string): Promise<string> {
  const m = await openLlamaModel(modelPath, { contextSize, threads: 1, ...(lora ? { lora: { path: lora } } : {}) });
  direct.push(m);
  const banned = [m.model.tokens.eos, m.model.tokens.eot].filter((t) => t !== null) as number[];
  const ids = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const [row] = await m.nextTokenLogits(ids, [ids.length - 1]);
    for (const b of banned) row[b] = Number.NEGATIVE_INFINITY;
    const next = argmax(row);
    ids.push(next);
    out.push(next);
  }
  return m.detokenize(out);
}

/** The chat prompt's token ids, rendered with jinja (not node-llama-cpp's wrapper) and tokenized by llama.cpp. */
async function chatPromptIds(content: string): Promise<number[]> {
  const text = renderChatTemplate(template, [{ role: 'user', content }], { addGenerationPrompt: true, eosToken: fixtureSpecialTokens.eos });
  const m = direct[0] ?? (await openLlamaModel(modelPath, { contextSize, threads: 1 }));
  if (!direct.includes(m)) direct.push(m);
  return m.tokenize(text, true);
}

async function health(s: RunningServer): Promise<{ status: string; models: { id: string; busy: number; queued: number; completed: number; aborted: number }[] }> {
  return (await fetch(s.url.replace(/\/v1$/, '/health'))).json() as never;
}

/** Polls /health until `ok` holds for model `id`, with a deadline (readiness, not a fixed sleep). */
async function waitForModel(s: RunningServer, id: string, ok: (m: { busy: number; aborted: number }) => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const m = (await health(s)).models.find((x) => x.id === id)!;
    if (ok(m)) return;
    if (Date.now() > deadline) assert.fail(`model ${id} never reached the expected state: ${JSON.stringify(m)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('serve: OpenAI API with the official client', () => {
  test('GET /v1/models lists base and the adapter', async () => {
    const models = [];
    for await (const m of client.models.list()) models.push(m);
    assert.deepEqual(
      models.map((m) => [m.id, m.object, m.owned_by]),
      [
        ['base', 'model', 'taxonomy-studio'],
        ['tuned', 'model', 'taxonomy-studio'],
      ],
    );
    assert.equal((await client.models.retrieve('tuned')).id, 'tuned');
  });

  test('chat, not streamed: greedy text as node-llama-cpp gives it, usage counted, finish_reason length at max_tokens', async () => {
    const r = await client.chat.completions.create({ model: 'base', messages: [{ role: 'user', content: question }], temperature: 0, max_tokens: 20, ...noEos });
    const ids = await chatPromptIds(question);
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.choices[0].message.role, 'assistant');
    assert.equal(r.choices[0].finish_reason, 'length');
    assert.deepEqual(r.usage && { p: r.usage.prompt_tokens, c: r.usage.completion_tokens, t: r.usage.total_tokens }, { p: ids.length, c: 20, t: ids.length + 20 });
    assert.equal(r.choices[0].message.content, await directGreedy(ids, 20));
  });

  test('chat streamed over SSE: the chunks join to the non-streamed text, with the same finish and usage', async () => {
    const body = { model: 'base', messages: [{ role: 'user' as const, content: question }], temperature: 0, seed: 11, max_tokens: 24 };
    const whole = await client.chat.completions.create(body);
    const stream = await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null = null;
    let usage;
    let chunks = 0;
    let role;
    for await (const c of stream) {
      chunks++;
      assert.equal(c.object, 'chat.completion.chunk');
      role ??= c.choices[0]?.delta.role;
      text += c.choices[0]?.delta.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
      usage = c.usage ?? usage;
    }
    assert.equal(role, 'assistant');
    assert.ok(chunks > 3, `expected the text in several chunks, got ${chunks}`);
    assert.equal(text, whole.choices[0].message.content);
    assert.equal(finish, whole.choices[0].finish_reason);
    assert.deepEqual(usage, whole.usage);
  });

  test('stop sequences end the text before them (string and array, streamed and not)', async () => {
    const body = { model: 'base', messages: [{ role: 'user' as const, content: question }], temperature: 0, max_tokens: 30, ...noEos };
    const full = (await client.chat.completions.create(body)).choices[0].message.content!;
    const stop = full.slice(8, 11);
    const expected = full.slice(0, full.indexOf(stop));
    assert.ok(stop.length === 3 && expected.length >= 1, `the fixture's text is too short to test stops: ${JSON.stringify(full)}`);

    const one = await client.chat.completions.create({ ...body, stop });
    assert.equal(one.choices[0].message.content, expected);
    assert.equal(one.choices[0].finish_reason, 'stop');
    assert.ok(one.usage!.completion_tokens < 30);

    const many = await client.chat.completions.create({ ...body, stop: ['never appears §', stop] });
    assert.equal(many.choices[0].message.content, expected);

    let streamed = '';
    let finish;
    for await (const c of await client.chat.completions.create({ ...body, stop: [stop], stream: true })) {
      streamed += c.choices[0]?.delta.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    assert.deepEqual([streamed, finish], [expected, 'stop']);
  });

  test('/v1/completions: a raw prompt, usage, streamed and not', async () => {
    const r = await client.completions.create({ model: 'base', prompt: 'Knowledge leaves hold', temperature: 0, max_tokens: 12, ...noEos });
    const m = direct[0] ?? (await openLlamaModel(modelPath, { contextSize, threads: 1 }));
    if (!direct.includes(m)) direct.push(m);
    // BOS as llama.cpp's server adds it: when the model's metadata asks for it (tokenizer.ggml.add_bos_token).
    const bos = m.model.tokens.shouldPrependBosToken ? [m.model.tokens.bos!] : [];
    const ids = [...bos, ...m.tokenize('Knowledge leaves hold')];
    assert.equal(r.object, 'text_completion');
    assert.deepEqual([r.choices[0].finish_reason, r.usage?.prompt_tokens, r.usage?.completion_tokens], ['length', ids.length, 12]);
    assert.equal(r.choices[0].text, await directGreedy(ids, 12));
    let text = '';
    for await (const c of await client.completions.create({ model: 'base', prompt: 'Knowledge leaves hold', temperature: 0, max_tokens: 12, stream: true, ...noEos })) text += c.choices[0]?.text ?? '';
    assert.equal(text, r.choices[0].text);
  });

  test('seeded sampling repeats itself; another seed gives another text', async () => {
    const body = { model: 'base', prompt: 'A taxonomy', temperature: 1, max_tokens: 16, ...noEos };
    const a = await client.completions.create({ ...body, seed: 1 });
    const b = await client.completions.create({ ...body, seed: 1 });
    const c = await client.completions.create({ ...body, seed: 2 });
    assert.equal(a.choices[0].text, b.choices[0].text);
    assert.notEqual(a.choices[0].text, c.choices[0].text);
  });

  test('4 concurrent requests all succeed with the text each gets alone', async () => {
    const prompts = ['First question', 'Second one here', 'A third', 'And the fourth prompt'];
    const ask = (prompt: string) => client.completions.create({ model: 'base', prompt, temperature: 0, max_tokens: 16, ...noEos }).then((r) => r.choices[0].text);
    const together = await Promise.all(prompts.map(ask));
    const alone: string[] = [];
    for (const p of prompts) alone.push(await ask(p));
    assert.deepEqual(together, alone);
    assert.ok(together.every((t) => t.length > 0));
  });

  test('the adapter id gives the adapted model: not base, and what node-llama-cpp gives with the LoRA applied', async () => {
    const body = { messages: [{ role: 'user' as const, content: question }], temperature: 0, max_tokens: 16, ...noEos };
    const base = (await client.chat.completions.create({ ...body, model: 'base' })).choices[0].message.content;
    const tuned = (await client.chat.completions.create({ ...body, model: 'tuned' })).choices[0].message.content;
    assert.notEqual(tuned, base);
    assert.equal(tuned, await directGreedy(await chatPromptIds(question), 16, adapterPath));
  });

  test('a client that disconnects stops its generation and frees the sequence', async () => {
    const before = (await health(server)).models.find((m) => m.id === 'base')!;
    const controller = new AbortController();
    const stream = await client.completions.create(
      { model: 'base', prompt: 'Go on forever', temperature: 0, max_tokens: 230, stream: true, ...noEos },
      { signal: controller.signal },
    );
    // The client stops reading at the first text and drops the connection (the stream then ends on its side).
    try {
      for await (const c of stream) if (c.choices[0]?.text) controller.abort();
    } catch (err) {
      assert.ok(err instanceof OpenAI.APIUserAbortError, String(err));
    }
    await waitForModel(server, 'base', (m) => m.busy === 0 && m.aborted === before.aborted + 1);
    // Every sequence is free again: a burst of `parallel` requests all get one.
    const burst = await Promise.all([1, 2, 3, 4].map((i) => client.completions.create({ model: 'base', prompt: `Burst ${i}`, max_tokens: 4, temperature: 0, ...noEos })));
    assert.deepEqual(burst.map((r) => r.usage?.completion_tokens), [4, 4, 4, 4]);
  });
});

describe('serve: errors in OpenAI shape', () => {
  test('malformed JSON: 400 invalid_json', async () => {
    const res = await fetch(`${server.url}/chat/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"model": "base", "messages": [' });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    assert.deepEqual([body.error.type, body.error.code, body.error.param], ['invalid_request_error', 'invalid_json', null]);
    assert.match(String(body.error.message), /could not parse the JSON body/);
  });

  test('unknown model: 404 model_not_found naming the served ids', async () => {
    const err = await client.chat.completions.create({ model: 'gpt-9', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.NotFoundError, String(err));
    assert.equal(err.status, 404);
    assert.equal(err.code, 'model_not_found');
    assert.match(err.message, /'gpt-9' does not exist.*'base', 'tuned'/);
  });

  test('a prompt longer than the context, or prompt + max_tokens: 400 context_length_exceeded', async () => {
    const long = 'leaf '.repeat(400);
    const err = await client.chat.completions.create({ model: 'base', messages: [{ role: 'user', content: long }] }).catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.code, 'context_length_exceeded');
    assert.match(err.message, new RegExp(`maximum context length is ${contextSize} tokens`));
    const err2 = await client.completions.create({ model: 'base', prompt: 'short', max_tokens: contextSize }).catch((e: unknown) => e);
    assert.ok(err2 instanceof OpenAI.BadRequestError, String(err2));
    assert.equal(err2.code, 'context_length_exceeded');
    assert.match(err2.message, /for the completion/);
  });

  test('bad fields name their param', async () => {
    const err = await client.chat.completions.create({ model: 'base', messages: [{ role: 'user', content: 'hi' }], temperature: 7 }).catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.param, 'temperature');
    const err2 = await client.chat.completions.create({ model: 'base', messages: [] }).catch((e: unknown) => e);
    assert.ok(err2 instanceof OpenAI.BadRequestError);
    assert.equal(err2.param, 'messages');
  });

  test('overloaded: with --parallel 1 and no queue, a second request gets 429 while the first generates', async () => {
    const busy = await startServer(options({ parallel: 1, queue: 0 }));
    try {
      const c = clientFor(busy);
      const controller = new AbortController();
      const stream = await c.completions.create({ model: 'base', prompt: 'Hold the only sequence', temperature: 0, max_tokens: 230, stream: true, ...noEos }, { signal: controller.signal });
      const it = stream[Symbol.asyncIterator]();
      await it.next(); // generating now: the sequence is taken
      const err = await c.completions.create({ model: 'base', prompt: 'me too', max_tokens: 2 }).catch((e: unknown) => e);
      assert.ok(err instanceof OpenAI.RateLimitError, String(err));
      assert.equal(err.status, 429);
      assert.equal(err.code, 'server_overloaded');
      assert.match(err.message, /queue is full.*--parallel/);
      controller.abort();
      await it.return?.();
      await waitForModel(busy, 'base', (m) => m.busy === 0);
      const ok = await c.completions.create({ model: 'base', prompt: 'now', max_tokens: 2, ...noEos });
      assert.equal(ok.usage?.completion_tokens, 2);
    } finally {
      await busy.close();
    }
  });

  test('binding 0.0.0.0 needs an API key, then checks the bearer token', async () => {
    await assert.rejects(startServer(options({ host: '0.0.0.0' })), (e: unknown) => e instanceof ServeError && /API key/.test(e.message));
    const open = await startServer(options({ host: '0.0.0.0', apiKey: 'sekret' }));
    try {
      const local = { ...open, url: `http://127.0.0.1:${open.port}/v1` } as RunningServer;
      const wrong = await clientFor(local, 'nope').models.list().catch((e: unknown) => e);
      assert.ok(wrong instanceof OpenAI.AuthenticationError, String(wrong));
      assert.equal(wrong.status, 401);
      assert.equal(wrong.code, 'invalid_api_key');
      const ids = [];
      for await (const m of clientFor(local, 'sekret').models.list()) ids.push(m.id);
      assert.deepEqual(ids, ['base']);
    } finally {
      await open.close();
    }
  });
});

describe('taxonomy-studio serve', () => {
  function cli(argv: string[], signal?: AbortSignal) {
    const out: string[] = [];
    const err: string[] = [];
    const done = runCli(argv, { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), cwd: tmp, env: { KEY: 'k1' }, ...(signal ? { signal } : {}) });
    return { done, out, err };
  }

  test('a missing model file: exit 1 naming the file and what to do', async () => {
    const r = cli(['serve', '--model', 'nope.gguf']);
    assert.equal(await r.done, 1);
    assert.match(r.err.join(''), /^taxonomy-studio serve: .*nope\.gguf: no such file \(the model must be a GGUF file: taxonomy-studio convert writes one\)/);
  });

  test('a file that is not a model: exit 1 saying llama.cpp could not load it', async () => {
    const r = cli(['serve', '--model', join(hfDir, 'config.json'), '--gpu', 'off']);
    assert.equal(await r.done, 1);
    assert.match(r.err.join(''), /config\.json: llama\.cpp could not load the model/);
  });

  test('another host without --api-key-env is refused before loading anything', async () => {
    const r = cli(['serve', '--model', modelPath, '--host', '0.0.0.0']);
    assert.equal(await r.done, 2);
    assert.match(r.err.join(''), /--host 0\.0\.0\.0 makes the model reachable from other machines: give --api-key-env VAR/);
    const unset = cli(['serve', '--model', modelPath, '--host', '0.0.0.0', '--api-key-env', 'NOT_SET']);
    assert.equal(await unset.done, 2);
    assert.match(unset.err.join(''), /NOT_SET is not set or empty/);
  });

  test('a port in use moves to the next free one and says so; abort stops it with exit 0', async () => {
    const blocker: NetServer = createNetServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as { port: number }).port;
    const stop = new AbortController();
    const r = cli(['serve', '--model', modelPath, '--adapter', `${adapterPath}=mine`, '--port', String(taken), '--threads', '1', '--ctx-size', '128', '--gpu', 'off', '--parallel', '2'], stop.signal);
    try {
      const deadline = Date.now() + 30_000;
      while (!r.out.join('').includes('serving')) {
        if (Date.now() > deadline) assert.fail(`serve never printed its URL; stderr: ${r.err.join('')}`);
        await new Promise((res) => setTimeout(res, 20));
      }
      const url = /serving base, mine at (http:\/\/127\.0\.0\.1:(\d+)\/v1)/.exec(r.out.join(''));
      assert.ok(url, r.out.join(''));
      assert.notEqual(Number(url[2]), taken);
      assert.match(r.err.join(''), new RegExp(`port ${taken} is in use; listening on ${url[2]} instead`));
      const reply = await new OpenAI({ baseURL: url[1], apiKey: 'x', maxRetries: 0 }).completions.create({ model: 'mine', prompt: 'hi', max_tokens: 3, ...noEos });
      assert.equal(reply.usage?.completion_tokens, 3);
    } finally {
      stop.abort();
      blocker.close();
    }
    assert.equal(await r.done, 0);
    assert.match(r.err.join(''), /serve: stopping/);
  });
});

describe('serve as an engine job', () => {
  test('reports its URL as the partial "listening", serves, and stops when cancelled', async () => {
    const events = new Recorder();
    const job = await startJob(
      { kind: 'serve', args: { model: modelPath, adapters: [{ id: 'tuned', path: adapterPath }] }, settings: { port: 0, threads: 1, contextSize: 128, parallel: 1, gpu: 'off' }, runDir: join(tmp, 'serve-job') },
      events,
      { table: [serveJob] },
    );
    await events.waitFor(() => events.partials.some((p) => p.name === 'listening'));
    const listening = events.partials.find((p) => p.name === 'listening')!.data as ServeListening;
    assert.deepEqual(listening.models, ['base', 'tuned']);
    assert.match(listening.url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    assert.ok(events.logs.some((l) => l.text === `serving base, tuned at ${listening.url}`));
    const reply = await new OpenAI({ baseURL: listening.url, apiKey: 'x', maxRetries: 0 }).completions.create({ model: 'tuned', prompt: 'hi', max_tokens: 2, ...noEos });
    assert.equal(reply.usage?.completion_tokens, 2);
    assert.equal(job.cancel(), true);
    assert.equal((await job.outcome).status, 'cancelled');
    await assert.rejects(fetch(`${listening.url}/models`), 'the server stopped with the job');
  });

  test('a host other than loopback without apiKeyEnv is refused before the job starts', async () => {
    assert.throws(() => serveJob.parseSettings({ host: '0.0.0.0' }), /apiKeyEnv/);
    assert.throws(() => serveJob.parseArgs({ model: modelPath, adapters: [{ id: 'base', path: adapterPath }] }), /adapters\[0\]\.id/);
  });
});
