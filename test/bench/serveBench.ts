// `npm run bench -- serve [--serve-tokens=N] [--serve-size=tiny|small|medium] [--serve-threads=N] [--serve-gpu=auto|off]`:
// the model server's overhead and batching. Same run, same GGUF (the small fixture model as Q8_0), same context
// settings:
//   direct   node-llama-cpp called in this process: one sequence, greedy, EOS banned, N tokens
//   http     one streamed request through the server with the official openai client, same prompt and N tokens
// generated tokens/s (first token to last), time to first token, and the aggregate tokens/s of 1, 4 and 8 concurrent
// streams (targets: http ≥ 95% of direct; 8 streams ≥ 3× one).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { convertHfToGguf } from '../../engine/gguf/convert/index';
import { writeFixtureModel, type FixtureSize } from '../../engine/hf/fixtureModel';
import { contextThreads } from '../../engine/llama/threads';
import { startServer } from '../../engine/serve/server';
import { printTable, type Row } from './table';

const prompt = 'Knowledge leaves in a taxonomy hold documents and question and answer pairs that';

interface Run {
  ttftMs: number;
  /** Tokens after the first, per second of the time from first to last. */
  tokensPerSecond: number;
}

function flag(args: string[], name: string): string | undefined {
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

export async function runServeBench(args: string[]): Promise<void> {
  const tokens = Number(flag(args, 'serve-tokens') ?? 128);
  const size = (flag(args, 'serve-size') ?? 'small') as FixtureSize;
  const threads = flag(args, 'serve-threads') ? Number(flag(args, 'serve-threads')) : undefined;
  const gpu = (flag(args, 'serve-gpu') ?? 'auto') as 'auto' | 'off';
  const contextSize = 512;
  const dir = mkdtempSync(join(tmpdir(), 'serve-bench-'));
  try {
    await writeFixtureModel(join(dir, 'hf'), { size, seed: 1, std: 0.1 });
    const modelPath = join(dir, `${size}-q8_0.gguf`);
    await convertHfToGguf(join(dir, 'hf'), modelPath, 'q8_0');

    const direct = await directRuns(modelPath, tokens, contextSize, threads, gpu);
    const server = await startServer({ modelPath, port: 0, parallel: 8, queue: 8, contextSize, gpu, ...(threads ? { threads } : {}) });
    const client = new OpenAI({ baseURL: server.url, apiKey: 'x', maxRetries: 0 });
    const device = server.models.llama.gpu === false ? 'CPU' : `${server.models.llama.gpu} (${server.models.model.gpuLayers} layers)`;
    try {
      await stream(client, tokens); // warm-up
      const http: Run[] = [];
      for (let i = 0; i < 3; i++) http.push(await stream(client, tokens));
      const best = (runs: Run[]) => ({ tps: Math.max(...runs.map((r) => r.tokensPerSecond)), ttft: Math.min(...runs.map((r) => r.ttftMs)) });
      const d = best(direct);
      const h = best(http);
      printTable(`serve: one stream, ${tokens} tokens, ${size} fixture Q8_0, ${device} (best of 3)`, [
        { path: 'node-llama-cpp direct', 'tokens/s': d.tps, 'TTFT ms': d.ttft, 'of direct': '100%' },
        { path: 'HTTP API (SSE, openai client)', 'tokens/s': h.tps, 'TTFT ms': h.ttft, 'of direct': `${((100 * h.tps) / d.tps).toFixed(1)}%` },
      ]);

      const rows: Row[] = [];
      let single = 0;
      for (const n of [1, 4, 8]) {
        const start = performance.now();
        const runs = await Promise.all(Array.from({ length: n }, (_, i) => stream(client, tokens, i)));
        const seconds = (performance.now() - start) / 1000;
        const aggregate = (n * tokens) / seconds;
        if (n === 1) single = aggregate;
        rows.push({ streams: n, 'aggregate tokens/s': aggregate, 'per stream tokens/s': aggregate / n, 'TTFT ms (max)': Math.max(...runs.map((r) => r.ttftMs)), 'vs 1 stream': `${(aggregate / single).toFixed(2)}×` });
      }
      printTable(`serve: concurrent streams (--parallel 8), ${tokens} tokens each, wall time of the whole burst`, rows);
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function stream(client: OpenAI, tokens: number, variant = 0): Promise<Run> {
  const start = performance.now();
  let first = 0;
  let last = 0;
  let pieces = 0;
  const s = await client.completions.create({ model: 'base', prompt: `${prompt} ${variant}`, temperature: 0, max_tokens: tokens, stream: true, ignore_eos: true } as never);
  for await (const c of s as unknown as AsyncIterable<OpenAI.Completions.Completion>) {
    if (!c.choices[0]?.text) continue;
    last = performance.now();
    if (!first) first = last;
    pieces++;
  }
  if (pieces === 0) throw new Error('the server streamed no text');
  // Chunks are held back while a character is incomplete, so time the tokens, not the chunks: N-1 after the first.
  return { ttftMs: first - start, tokensPerSecond: (tokens - 1) / ((last - first) / 1000) };
}

async function directRuns(modelPath: string, tokens: number, contextSize: number, threads: number | undefined, gpu: 'auto' | 'off'): Promise<Run[]> {
  const { getLlama, LlamaLogLevel, TokenBias } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: gpu === 'off' ? false : 'auto', build: 'never', logLevel: LlamaLogLevel.error, progressLogs: false });
  const model = await llama.loadModel({ modelPath, ...(gpu === 'off' ? { gpuLayers: 0 } : {}) });
  // The same thread count the server picks (engine/llama/threads.ts), so the two paths differ only by the server.
  const contextThreadCount = contextThreads(llama, threads);
  const context = await model.createContext({ contextSize, sequences: 1, ...(contextThreadCount !== undefined ? { threads: contextThreadCount } : {}) });
  try {
    const sequence = context.getSequence();
    const bias = new TokenBias(model.tokenizer);
    for (const t of [model.tokens.eos, model.tokens.eot]) if (t !== null) bias.set(t, 'never');
    const runs: Run[] = [];
    for (let i = 0; i < 4; i++) {
      await sequence.clearHistory();
      const start = performance.now();
      const input = model.tokenize(`${prompt} 0`, false);
      let first = 0;
      let n = 0;
      for await (const _ of sequence.evaluate(input, { temperature: 0, topK: 0, topP: 1, tokenBias: bias, yieldEogToken: true })) {
        if (!first) first = performance.now();
        if (++n >= tokens) break;
      }
      const end = performance.now();
      if (i > 0) runs.push({ ttftMs: first - start, tokensPerSecond: (tokens - 1) / ((end - first) / 1000) }); // the first run warms up
    }
    return runs;
  } finally {
    await context.dispose();
    await model.dispose();
  }
}
