// The "serve" job: the model server as an engine job, so the editor starts it ("Serve model"), shows its URL in the
// Jobs view (a partial named "listening") and stops it by cancelling the job. The server runs until then.
import { onlyKnown, wholeNumber } from '../jobs/args';
import { JobArgsError, JobFailure } from '../jobs/errors';
import { defineJob, untilAborted } from '../jobs/job';
import { ServeError } from './errors';
import type { AdapterSpec } from './modelHost';
import { isLoopback, startServer } from './server';

export interface ServeJobArgs {
  model: string;
  adapters: AdapterSpec[];
}

export interface ServeJobSettings {
  host: string;
  port: number;
  parallel: number;
  queue: number;
  contextSize?: number;
  threads?: number;
  gpu: 'auto' | 'off';
  /** Name of the environment variable holding the API key (required for a host other than loopback). */
  apiKeyEnv?: string;
}

/** What the "listening" partial carries. */
export interface ServeListening {
  url: string;
  models: string[];
}

export const serveJob = defineJob({
  kind: 'serve',
  title: 'Serving model',
  description:
    'serve runs the OpenAI-compatible model server (args: model, a GGUF file; adapters, [{id, path, scale?}] of GGUF LoRA ' +
    'adapters served as their own model ids) until the job is cancelled. Settings: host (default 127.0.0.1; another ' +
    'needs apiKeyEnv, the name of the variable holding the key), port (default 8000, the next free one if taken), ' +
    'parallel (4), queue (32), contextSize, threads, gpu (auto|off). Its URL comes as the partial "listening".',
  unit: 'requests',
  parseArgs(raw): ServeJobArgs {
    onlyKnown(raw, ['model', 'adapters'], 'args');
    if (typeof raw.model !== 'string' || raw.model === '') throw new JobArgsError('model: required (the path of a GGUF model file)');
    const adapters = raw.adapters ?? [];
    if (!Array.isArray(adapters)) throw new JobArgsError('adapters: expected an array of {id, path, scale?}');
    return {
      model: raw.model,
      adapters: adapters.map((a: unknown, i) => {
        const { id, path, scale } = (a ?? {}) as Record<string, unknown>;
        if (typeof id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(id) || id === 'base') throw new JobArgsError(`adapters[${i}].id: expected a model id other than 'base' (letters, digits, . _ : -)`);
        if (typeof path !== 'string' || path === '') throw new JobArgsError(`adapters[${i}].path: expected the path of a GGUF LoRA adapter`);
        if (scale !== undefined && (typeof scale !== 'number' || !Number.isFinite(scale))) throw new JobArgsError(`adapters[${i}].scale: expected a number`);
        return { id, path, ...(scale === undefined ? {} : { scale }) };
      }),
    };
  },
  parseSettings(raw): ServeJobSettings {
    onlyKnown(raw, ['host', 'port', 'parallel', 'queue', 'contextSize', 'threads', 'gpu', 'apiKeyEnv'], 'settings');
    const host = raw.host ?? '127.0.0.1';
    if (typeof host !== 'string') throw new JobArgsError('host: expected an address');
    const gpu = raw.gpu ?? 'auto';
    if (gpu !== 'auto' && gpu !== 'off') throw new JobArgsError(`gpu: expected 'auto' or 'off', got ${JSON.stringify(gpu)}`);
    const apiKeyEnv = raw.apiKeyEnv;
    if (apiKeyEnv !== undefined && typeof apiKeyEnv !== 'string') throw new JobArgsError('apiKeyEnv: expected the name of an environment variable');
    if (!isLoopback(host) && !apiKeyEnv) throw new JobArgsError(`host: ${host} makes the model reachable from other machines; set apiKeyEnv too, or use 127.0.0.1`);
    const contextSize = wholeNumber(raw, 'contextSize', { min: 16, max: 1 << 24 });
    const threads = wholeNumber(raw, 'threads', { min: 1, max: 1024 });
    return {
      host,
      port: wholeNumber(raw, 'port', { max: 65535 }) ?? 8000,
      parallel: wholeNumber(raw, 'parallel', { min: 1, max: 256 }) ?? 4,
      queue: wholeNumber(raw, 'queue', { max: 100_000 }) ?? 32,
      ...(contextSize === undefined ? {} : { contextSize }),
      ...(threads === undefined ? {} : { threads }),
      gpu,
      ...(apiKeyEnv ? { apiKeyEnv } : {}),
    };
  },
  async run(ctx) {
    const { settings } = ctx;
    const apiKey = settings.apiKeyEnv ? process.env[settings.apiKeyEnv] : undefined;
    if (settings.apiKeyEnv && !apiKey) throw new JobFailure(`the environment variable ${settings.apiKeyEnv} (apiKeyEnv) is not set or empty; put the API key in it`);
    let server;
    try {
      server = await startServer({
        modelPath: ctx.args.model,
        adapters: ctx.args.adapters,
        ...settings,
        ...(apiKey ? { apiKey } : {}),
        log: (line) => ctx.log('info', line),
      });
    } catch (err) {
      if (err instanceof ServeError) throw new JobFailure(err.message);
      throw err;
    }
    try {
      const listening: ServeListening = { url: server.url, models: server.models.ids };
      ctx.log('info', `serving ${listening.models.join(', ')} at ${listening.url}`);
      ctx.partial('listening', listening);
      // The Jobs view shows the stage in the job's tooltip: where to point a client.
      ctx.progress({ done: 0, stage: `listening at ${listening.url}` });
      return await untilAborted(ctx.signal);
    } finally {
      await server.close();
    }
  },
  describe: () => 'server stopped',
});
