// `taxonomy-studio serve --model model.gguf [--adapter adapter.gguf[=name] …]`: the model (and models with LoRA
// adapters) behind an OpenAI-compatible HTTP API until Ctrl+C.
import { basename, resolve } from 'node:path';
import { ServeError } from '../../serve/errors';
import type { AdapterSpec } from '../../serve/modelHost';
import { isLoopback, startServer } from '../../serve/server';
import { UsageError } from '../args';
import { defineCommand } from './command';

export const serveCommand = defineCommand({
  name: 'serve',
  summary: 'Serve a GGUF model (and LoRA adapters) over an OpenAI-compatible HTTP API',
  usage:
    'serve --model <model.gguf> [--adapter <adapter.gguf>[=<name>] …] [--host 127.0.0.1] [--port 8000] [--api-key-env <VAR>] [--parallel <n>] [--queue <n>] [--ctx-size <n>] [--gpu auto|off]',
  description: [
    'Loads the model once with node-llama-cpp and answers GET /v1/models, POST /v1/chat/completions (streaming over',
    'server-sent events or not), POST /v1/completions and GET /health, as OpenAI\'s API does, so any OpenAI client',
    'works against http://HOST:PORT/v1. Chat messages go through the chat template in the model\'s metadata.',
    '',
    'The model is served as "base"; each --adapter (a GGUF LoRA adapter from export-adapter) is served on top of the',
    'same weights under its own id: the name after "=", or "tuned" for a single unnamed adapter (the file name for',
    'several). Repeat --adapter for several (a comma list in one --adapter works too).',
    '',
    'Each model id decodes up to --parallel requests together (default 4), each with --ctx-size tokens of prompt and',
    'completion (default the model\'s training context, at most 4096). Up to --queue more wait (default 32); past that',
    'a request gets 429. A client that disconnects stops its generation.',
    '',
    'Binds 127.0.0.1. Another --host needs --api-key-env VAR: clients then send "Authorization: Bearer $VAR". A port in',
    'use moves to the next free one. Layers go to the GPU when llama.cpp finds one (--gpu off: CPU only).',
    '',
    'Prints the URL when ready, and runs until Ctrl+C or SIGTERM. Exit status: 0 stopped, 1 the model or an adapter',
    'could not be loaded or the address bound, 2 bad usage.',
  ].join('\n'),
  options: {
    model: { type: 'string', short: 'm', valueName: '<file>', description: 'GGUF model file' },
    adapter: { type: 'string', short: 'a', multiple: true, valueName: '<file>[=<name>]', description: 'GGUF LoRA adapter served as its own model id (repeatable)' },
    host: { type: 'string', valueName: '<address>', description: 'Address to bind (default 127.0.0.1)' },
    port: { type: 'string', short: 'p', valueName: '<n>', description: 'Port (default 8000; the next free one if taken; 0: any)' },
    'api-key-env': { type: 'string', valueName: '<VAR>', description: 'Environment variable holding the API key clients must send' },
    parallel: { type: 'string', valueName: '<n>', description: 'Requests generated together per model id (default 4)' },
    queue: { type: 'string', valueName: '<n>', description: 'Requests that may wait per model id before 429 (default 32)' },
    'ctx-size': { type: 'string', valueName: '<n>', description: 'Tokens per request, prompt and completion (default: model, at most 4096)' },
    threads: { type: 'string', valueName: '<n>', description: 'CPU threads (default: all cores)' },
    gpu: { type: 'string', valueName: 'auto|off', description: 'Offload to a GPU when found (auto, default) or CPU only (off)' },
    help: { type: 'boolean', short: 'h', description: 'Show this help' },
  },
  async run({ values, positionals }, ctx) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}' (the model goes after --model)`);
    if (!values.model) throw new UsageError('serve needs --model <model.gguf>');
    const gpu = values.gpu ?? 'auto';
    if (gpu !== 'auto' && gpu !== 'off') throw new UsageError(`--gpu must be auto or off, not '${gpu}'`);
    const host = values.host ?? '127.0.0.1';
    if (!isLoopback(host) && values['api-key-env'] === undefined) {
      throw new UsageError(`--host ${host} makes the model reachable from other machines: give --api-key-env VAR with the key in $VAR (clients send it as a bearer token), or leave --host at 127.0.0.1`);
    }
    let apiKey: string | undefined;
    const keyVar = values['api-key-env'];
    if (keyVar !== undefined) {
      apiKey = ctx.env[keyVar];
      if (!apiKey) throw new UsageError(`--api-key-env ${keyVar}: the environment variable ${keyVar} is not set or empty; put the API key in it`);
    }
    const options = {
      modelPath: resolve(ctx.cwd, values.model),
      adapters: parseAdapters(values.adapter, ctx.cwd),
      host,
      port: whole(values.port, '--port', 0, 65535) ?? 8000,
      ...(apiKey ? { apiKey } : {}),
      parallel: whole(values.parallel, '--parallel', 1, 256) ?? 4,
      queue: whole(values.queue, '--queue', 0, 100_000) ?? 32,
      ...(values['ctx-size'] ? { contextSize: whole(values['ctx-size'], '--ctx-size', 16, 1 << 24) } : {}),
      ...(values.threads ? { threads: whole(values.threads, '--threads', 1, 1024) } : {}),
      gpu: gpu as 'auto' | 'off',
      log: (line: string) => ctx.stderr(`serve: ${line}\n`),
    };

    let server;
    try {
      server = await startServer(options);
    } catch (err) {
      if (err instanceof ServeError) {
        ctx.stderr(`taxonomy-studio serve: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
    ctx.stdout(`serving ${server.models.ids.join(', ')} at ${server.url}\n`);
    // node-llama-cpp loads signal-exit, which re-raises SIGINT/SIGTERM once it is the signal's only listener, and
    // main.ts listens with once(): without a listener of our own the process would die before the model is freed.
    // A second signal while stopping ends the process at once.
    let signals = 0;
    const onSignal = () => {
      if (++signals > 1) process.exit(130);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      await new Promise<void>((done) => {
        if (!ctx.signal) return; // no way to be stopped: serve until the process ends
        if (ctx.signal.aborted) return done();
        // A pending promise does not keep Node alive; the listening server does.
        ctx.signal.addEventListener('abort', () => done(), { once: true });
      });
      ctx.stderr('serve: stopping\n');
      await server.close();
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    return 0;
  },
});

/**
 * Each --adapter ("a.gguf=tuned", or a comma list "a.gguf,b.gguf") → adapter specs; an unnamed single adapter is
 * "tuned", several are named by file.
 */
export function parseAdapters(values: readonly string[] | string | undefined, cwd: string): AdapterSpec[] {
  if (!values) return [];
  const parts = (typeof values === 'string' ? [values] : values).flatMap((v) => v.split(',')).filter((p) => p.trim() !== '');
  return parts.map((part) => {
    const eq = part.lastIndexOf('=');
    const file = eq > 0 ? part.slice(0, eq) : part;
    const name = eq > 0 ? part.slice(eq + 1) : parts.length === 1 ? 'tuned' : basename(file).replace(/\.gguf$/i, '');
    if (!/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(name)) throw new UsageError(`--adapter ${part}: the model id '${name}' may use letters, digits, '.', '_', ':' and '-'`);
    if (name === 'base') throw new UsageError(`--adapter ${part}: 'base' is the model without adapters; name the adapter otherwise`);
    return { id: name, path: resolve(cwd, file) };
  });
}

function whole(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not '${value}'`);
  return n;
}
