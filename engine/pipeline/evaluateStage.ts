// The pipeline's serve and evaluate stages, in one run folder: the model server started in this process with the
// student's GGUF as "base" and the trained adapter on it as "tuned", then every seed question of the selected
// leaves asked to both (greedy, the same seed) over the OpenAI-compatible API, and each answer scored against the
// leaf's expected answer with token-set F1 (score.ts). Knowledge questions are asked closed-book (the point of
// knowledge training is that the model knows it); skill questions carry their context, as the datasets do. Each
// question is a unit: its two answers and scores are committed together, so a resumed stage asks only the rest.
import { readFile } from 'node:fs/promises';
import { onlyKnown, wholeNumber } from '../jobs/args';
import { JobArgsError, JobFailure } from '../jobs/errors';
import { defineJob, type JobContext } from '../jobs/job';
import { seedPairs } from '../sdg/pipelines/plan';
import { parseLeaf } from '../taxonomy/leaf';
import { requiredText, textList } from './fields';
import { mean, tokenSetF1 } from './score';

export interface EvaluateStageArgs {
  /** GGUF of the student. */
  model: string;
  /** GGUF LoRA adapter of the trained student. */
  adapter: string;
  /** Absolute qna.yaml files. */
  leaves: string[];
  systemPrompt: string;
  maxTokens: number;
  seed: number;
}

export interface EvaluateStageSettings {
  /** Questions asked at once (each to both models); also the server's sequences per model. */
  parallel: number;
  contextSize?: number;
  threads?: number;
  gpu: 'auto' | 'off';
}

/** One question asked to both models (a line of answers.jsonl). */
export interface EvaluatedQuestion {
  leaf: string;
  kind: string;
  index: number;
  question: string;
  expected: string;
  base?: string;
  tuned?: string;
  baseF1?: number;
  tunedF1?: number;
  /** Why the question could not be asked (a prompt longer than the context, say); left out of the means. */
  error?: string;
}

export interface LeafEvaluation {
  leaf: string;
  kind: string;
  questions: number;
  /** Questions that could not be asked. */
  skipped: number;
  base: number;
  tuned: number;
  /** tuned - base. */
  delta: number;
  /** Questions where tuned scored higher than base, and lower. */
  better: number;
  worse: number;
}

export interface EvaluateStageSummary extends Record<string, unknown> {
  leaves: LeafEvaluation[];
  questions: number;
  base: number;
  tuned: number;
  /** Seconds the server took to start (load the model, create both contexts) in the attempt that asked the last question; 0 when no question was left. */
  serveSeconds: number;
  answers: string;
  evaluation: string;
}

export const answersFile = 'answers.jsonl';
export const evaluationFile = 'evaluation.json';
export const baseModelId = 'base';
export const tunedModelId = 'tuned';

interface Question {
  key: string;
  leaf: string;
  kind: string;
  index: number;
  /** The user turn: the question, behind its context for skills. */
  prompt: string;
  question: string;
  expected: string;
}

/** Every seed question of the leaves, in leaf order. */
export async function seedQuestions(files: readonly string[]): Promise<Question[]> {
  const out: Question[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new JobFailure(`${file}: cannot read the leaf (${(err as Error).message})`, file);
    }
    const leaf = parseLeaf(text, file);
    const path = leaf.location.leafPath ?? file;
    let index = 0;
    for (const seed of seedPairs(leaf)) {
      for (const pair of seed) {
        const prompt = leaf.kind !== 'knowledge' && pair.context ? `${pair.context}\n\n${pair.question}` : pair.question;
        out.push({ key: `${path}#${index}`, leaf: path, kind: leaf.kind, index, prompt, question: pair.question, expected: pair.answer });
        index++;
      }
    }
  }
  return out;
}

/** Per-leaf means over the questions that were asked; leaves in the order given. */
export function summarize(results: readonly EvaluatedQuestion[]): LeafEvaluation[] {
  const byLeaf = new Map<string, EvaluatedQuestion[]>();
  for (const r of results) byLeaf.set(r.leaf, [...(byLeaf.get(r.leaf) ?? []), r]);
  return [...byLeaf.entries()].map(([leaf, rs]) => {
    const asked = rs.filter((r) => r.error === undefined);
    const base = mean(asked.map((r) => r.baseF1 ?? 0));
    const tuned = mean(asked.map((r) => r.tunedF1 ?? 0));
    return {
      leaf,
      kind: rs[0].kind,
      questions: asked.length,
      skipped: rs.length - asked.length,
      base,
      tuned,
      delta: tuned - base,
      better: asked.filter((r) => (r.tunedF1 ?? 0) > (r.baseF1 ?? 0)).length,
      worse: asked.filter((r) => (r.tunedF1 ?? 0) < (r.baseF1 ?? 0)).length,
    };
  });
}

class AskError extends Error {
  constructor(
    message: string,
    /** The request was refused for what it asked (400: too long for the context): skip the question, go on. */
    readonly perQuestion: boolean,
  ) {
    super(message);
  }
}

async function ask(url: string, model: string, system: string, user: string, args: EvaluateStageArgs, signal: AbortSignal): Promise<string> {
  let res: Response;
  try {
    res = await fetch(`${url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'system', content: system }, { role: 'user', content: user }], max_tokens: args.maxTokens, temperature: 0, seed: args.seed }),
      signal,
    });
  } catch (err) {
    signal.throwIfAborted();
    throw new AskError(`the server at ${url} did not answer (${(err as Error).message})`, false);
  }
  const body = (await res.json().catch(() => undefined)) as { choices?: { message?: { content?: string } }[]; error?: { message?: string } } | undefined;
  if (!res.ok) throw new AskError(`${model}: ${res.status} ${body?.error?.message ?? res.statusText}`, res.status === 400);
  const text = body?.choices?.[0]?.message?.content;
  if (typeof text !== 'string') throw new AskError(`${model}: the answer has no choices[0].message.content`, false);
  return text;
}

export const evaluateStageJob = defineJob({
  kind: 'pipeline-evaluate',
  title: 'Evaluating base and tuned',
  description:
    'pipeline stage: serve the student GGUF as "base" and with the adapter as "tuned", ask both every seed question of the leaves and score the answers (args: model, adapter, leaves, systemPrompt, maxTokens, seed; settings: parallel, contextSize, threads, gpu).',
  unit: 'questions',
  parseArgs(raw): EvaluateStageArgs {
    onlyKnown(raw, ['model', 'adapter', 'leaves', 'systemPrompt', 'maxTokens', 'seed'], 'args');
    const leaves = textList(raw, 'leaves');
    if (leaves.length === 0) throw new JobArgsError('leaves: required (the qna.yaml files whose seed questions are asked)');
    return {
      model: requiredText(raw, 'model', 'the GGUF of the student'),
      adapter: requiredText(raw, 'adapter', 'the GGUF LoRA adapter'),
      leaves,
      systemPrompt: requiredText(raw, 'systemPrompt', 'the system prompt of the datasets'),
      maxTokens: wholeNumber(raw, 'maxTokens', { min: 1, max: 1 << 20 }) ?? 256,
      seed: wholeNumber(raw, 'seed') ?? 42,
    };
  },
  parseSettings(raw): EvaluateStageSettings {
    onlyKnown(raw, ['parallel', 'contextSize', 'threads', 'gpu'], 'settings');
    const gpu = raw.gpu ?? 'auto';
    if (gpu !== 'auto' && gpu !== 'off') throw new JobArgsError(`gpu: expected "auto" or "off", got ${JSON.stringify(gpu)}`);
    const contextSize = wholeNumber(raw, 'contextSize', { min: 16, max: 1 << 24 });
    const threads = wholeNumber(raw, 'threads', { min: 1, max: 1024 });
    return { parallel: wholeNumber(raw, 'parallel', { min: 1, max: 64 }) ?? 2, gpu, ...(contextSize ? { contextSize } : {}), ...(threads ? { threads } : {}) };
  },
  run: (ctx) => runEvaluate(ctx),
  describe: (s) => `${s.questions} questions: base ${s.base.toFixed(3)}, tuned ${s.tuned.toFixed(3)} (token-set F1)`,
});

async function runEvaluate(ctx: JobContext<EvaluateStageArgs, EvaluateStageSettings>): Promise<EvaluateStageSummary> {
  const { args, settings, run } = ctx;
  const questions = await seedQuestions(args.leaves);
  if (questions.length === 0) throw new JobFailure(`the selected leaves have no seed question with an answer to evaluate`, args.leaves[0]);
  const todo = questions.filter((q) => !run.isDone(q.key));
  let done = questions.length - todo.length;
  let serveSeconds = 0;
  if (todo.length) {
    ctx.progress({ done, total: questions.length, stage: `serving ${baseModelId} and ${tunedModelId}` });
    const started = performance.now();
    // Loaded on use: the server brings llama.cpp's native binding.
    const { startServer } = await import('../serve/server');
    const { ServeError } = await import('../serve/errors');
    let server;
    try {
      server = await startServer({
        modelPath: args.model,
        adapters: [{ id: tunedModelId, path: args.adapter }],
        host: '127.0.0.1',
        port: 0,
        parallel: settings.parallel,
        queue: settings.parallel * 2,
        gpu: settings.gpu,
        ...(settings.contextSize ? { contextSize: settings.contextSize } : {}),
        ...(settings.threads ? { threads: settings.threads } : {}),
        log: (line) => ctx.log('info', `serve: ${line}`),
      });
    } catch (err) {
      if (err instanceof ServeError) throw new JobFailure(`serve: ${err.message}`, args.model);
      throw err;
    }
    serveSeconds = (performance.now() - started) / 1000;
    try {
      ctx.log('info', `serving ${baseModelId} and ${tunedModelId} at ${server.url} (started in ${serveSeconds.toFixed(1)} s)`);
      ctx.progress({ done, total: questions.length, stage: 'asking base and tuned' });
      let next = 0;
      const worker = async () => {
        while (next < todo.length) {
          ctx.signal.throwIfAborted();
          const q = todo[next++];
          const line: EvaluatedQuestion = { leaf: q.leaf, kind: q.kind, index: q.index, question: q.question, expected: q.expected };
          try {
            const [base, tuned] = await Promise.all([baseModelId, tunedModelId].map((m) => ask(server.url, m, args.systemPrompt, q.prompt, args, ctx.signal)));
            Object.assign(line, { base, tuned, baseF1: tokenSetF1(base, q.expected), tunedF1: tokenSetF1(tuned, q.expected) });
          } catch (err) {
            if (!(err instanceof AskError)) throw err;
            if (!err.perQuestion) throw new JobFailure(`serve: ${err.message}; the ${run.completedKeys().size} questions answered are kept, --resume asks the rest`);
            line.error = err.message;
            ctx.log('warn', `${q.key}: not asked: ${err.message}`);
          }
          await run.commit(q.key, { [answersFile]: [line] });
          ctx.progress({ done: ++done, total: questions.length, stage: q.leaf });
        }
      };
      await Promise.all(Array.from({ length: Math.min(settings.parallel, todo.length) }, worker));
    } finally {
      await server.close();
    }
  }

  // Answers are committed as they come; read them back in question order, so the table does not depend on timing.
  const order = new Map(questions.map((q, i) => [q.key, i]));
  const rank = (r: EvaluatedQuestion) => order.get(`${r.leaf}#${r.index}`) ?? Number.MAX_SAFE_INTEGER;
  const results = ((await run.readJsonl(answersFile)) as EvaluatedQuestion[]).sort((a, b) => rank(a) - rank(b));
  const leaves = summarize(results);
  const asked = results.filter((r) => r.error === undefined);
  const summary: EvaluateStageSummary = {
    leaves,
    questions: asked.length,
    base: mean(asked.map((r) => r.baseF1 ?? 0)),
    tuned: mean(asked.map((r) => r.tunedF1 ?? 0)),
    serveSeconds,
    answers: answersFile,
    evaluation: evaluationFile,
  };
  await run.writeAtomic(evaluationFile, `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
