// `taxonomy-studio generate TAXONOMY --teacher MODEL.gguf|URL --out RUN_DIR [...]`: synthetic training data for a
// taxonomy, as the `generate` job (engine/sdg/generate.ts) run in this terminal; `--preview LEAF` instead prints a
// handful of samples for one leaf, to tune its seeds before a long run; `--estimate` prints what a run would cost
// (health check and calibration, nothing written); `--apply-review` applies an author's review.json to a finished run.
import { resolve } from 'node:path';
import { JobArgsError, RunDirError, UnknownJobKindError } from '../../jobs/errors';
import { readRunRecord } from '../../jobs/runDir';
import { runJobInTerminal } from '../../jobs/terminal';
import { generateJob, stepSettingsFor, type GenerateArgs, type GenerateSettings } from '../../sdg/generate';
import { applyReview, formatApplyReview } from '../../sdg/applyReview';
import { estimateRun } from '../../sdg/pipelines/estimate';
import { previewLeaf, formatPreviewMarkdown } from '../../sdg/pipelines/preview';
import { ReviewError } from '../../sdg/review';
import { UsageError } from '../args';
import { defineCommand, type CliContext } from './command';

const options = {
  teacher: { type: 'string', short: 't', valueName: '<model.gguf|url>', description: 'Teacher: a GGUF model file, or OpenAI-compatible server URLs (comma-separated)' },
  out: { type: 'string', short: 'o', valueName: '<run-dir>', description: 'Run folder (new or empty; with --resume, the run to continue)' },
  leaf: { type: 'string', valueName: '<path>', description: 'Only leaves under this file or folder (comma-separated; more paths may follow the taxonomy)' },
  changed: { type: 'boolean', description: 'Only leaves added or changed against the git base' },
  'git-base': { type: 'string', valueName: '<ref>', description: 'Git base for --changed (default origin/main, then main, master)' },
  'per-seed': { type: 'string', valueName: '<n>', description: 'Samples to generate per seed example (default 30)' },
  parallel: { type: 'string', short: 'p', valueName: '<n>', description: 'Teacher calls at once: sequences of a local model, requests per server (default 4)' },
  resume: { type: 'boolean', description: 'Continue the run in --out: finished units are kept, the rest generated' },
  strict: { type: 'boolean', description: 'Fail when a selected leaf has errors, instead of skipping it' },
  preview: { type: 'string', valueName: '<leaf>', description: 'Print a handful of samples for one leaf (no run folder)' },
  count: { type: 'string', valueName: '<n>', description: 'With --preview: samples to try (default 5)' },
  estimate: { type: 'boolean', description: 'Check the teacher, run the calibration units and print the estimate of the run (no run folder)' },
  'apply-review': { type: 'boolean', description: "Apply the run's review.json (rejected and edited samples) to its mixed training files (with --out)" },
  json: { type: 'boolean', description: 'Print the outcome (or the preview) as JSON on stdout' },
  seed: { type: 'string', valueName: '<n>', description: 'Seed of the sampling and the mixing (default 42)' },
  'system-prompt': { type: 'string', valueName: '<text>', description: 'System prompt of the datasets' },
  'api-key-env': { type: 'string', valueName: '<name>', description: "Environment variable holding the teacher server's API key" },
  model: { type: 'string', valueName: '<name>', description: 'Model name to ask the server for (default the first it lists)' },
  'ctx-size': { type: 'string', valueName: '<n>', description: 'Local teacher: tokens per sequence (default the model\'s, at most 4096)' },
  threads: { type: 'string', valueName: '<n>', description: 'Local teacher: CPU threads' },
  gpu: { type: 'string', valueName: '<auto|off>', description: 'Local teacher: offload to a GPU when there is one (auto, default) or not' },
  'max-tokens': { type: 'string', valueName: '<n>', description: 'Most tokens of a generated answer (judges get a quarter)' },
  'max-chars': { type: 'string', valueName: '<n>', description: 'Most characters of a generated question, context or answer' },
  calibrate: { type: 'string', valueName: '<n>', description: 'Units run first to estimate time and tokens (default --parallel; 0 none)' },
  retries: { type: 'string', valueName: '<n>', description: 'Remote teacher: requests per call before giving up (default 5)' },
  'retry-base-ms': { type: 'string', valueName: '<ms>', description: 'Remote teacher: first backoff between tries (default 500)' },
  timeout: { type: 'string', valueName: '<s>', description: 'Remote teacher: seconds per request (default 300)' },
  'repo-cache': { type: 'string', valueName: '<dir>', description: 'Where clones of remote document repos are' },
  verbose: { type: 'boolean', short: 'v', description: 'Show debug log lines' },
  help: { type: 'boolean', short: 'h', description: 'Show this help' },
} as const;

function whole(flag: string, text: string | undefined, min = 1): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError(`--${flag} takes a whole number of ${min} or more, got '${text}'`);
  return Number(text);
}

type Values = { [K in keyof typeof options]?: (typeof options)[K]['type'] extends 'boolean' ? boolean : string };

function buildArgs(values: Values, positionals: string[], cwd: string): GenerateArgs | undefined {
  const [taxonomy, ...more] = positionals;
  if (taxonomy === undefined) return undefined;
  const leaves = [...(values.leaf ? values.leaf.split(',') : []), ...more].map((p) => p.trim()).filter(Boolean).map((p) => resolve(cwd, p));
  const raw: Record<string, unknown> = {
    taxonomy: resolve(cwd, taxonomy),
    leaves,
    changed: values.changed === true,
    strict: values.strict === true,
    ...(values['git-base'] ? { gitBase: values['git-base'] } : {}),
    ...(values['per-seed'] ? { perSeed: whole('per-seed', values['per-seed']) } : {}),
    ...(values.seed ? { seed: whole('seed', values.seed, 0) } : {}),
    ...(values['system-prompt'] ? { systemPrompt: values['system-prompt'] } : {}),
  };
  return generateJob.parseArgs(raw);
}

function givenSettings(values: Values): Record<string, unknown> {
  if (values.gpu !== undefined && values.gpu !== 'auto' && values.gpu !== 'off') throw new UsageError(`--gpu takes auto or off, got '${values.gpu}'`);
  const timeout = whole('timeout', values.timeout);
  const s: Record<string, unknown> = {
    teacher: values.teacher,
    parallel: whole('parallel', values.parallel),
    apiKeyEnv: values['api-key-env'],
    model: values.model,
    contextSize: whole('ctx-size', values['ctx-size']),
    threads: whole('threads', values.threads),
    gpu: values.gpu,
    maxTokens: whole('max-tokens', values['max-tokens']),
    maxChars: whole('max-chars', values['max-chars']),
    calibrate: whole('calibrate', values.calibrate, 0),
    retries: whole('retries', values.retries),
    retryBaseMs: whole('retry-base-ms', values['retry-base-ms'], 0),
    timeoutMs: timeout === undefined ? undefined : timeout * 1000,
    repoCache: values['repo-cache'],
  };
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined));
}

export const generateCommand = defineCommand({
  name: 'generate',
  summary: 'Generate synthetic training data for a taxonomy with a teacher model',
  usage:
    'generate <taxonomy> --teacher <model.gguf|url> --out <run-dir> [--leaf <path>] [--changed] [--per-seed <n>] [--parallel <n>] [--resume] [--strict] [--preview <leaf>] [--estimate]\n' +
    '       generate --apply-review --out <run-dir>',
  description: [
    'Runs the LAB method\'s synthetic data generation over the taxonomy\'s leaves: freeform skills (new questions from',
    'the seeds, judged, answered, pairs judged), grounded skills (new contexts, questions about them, answers, judges)',
    'and knowledge (the leaf\'s documents in chunks of about 1,000 words, question-answer pairs per chunk, kept when the',
    'teacher judges them faithful to the chunk and relevant). Samples are deduplicated (exact and near) and written as',
    'InstructLab writes them: node_datasets_*/ per leaf, knowledge_train_msgs_*.jsonl and skills_train_msgs_*.jsonl',
    'with their recipes, and report.json (per leaf: generated, kept, dropped per reason, teacher tokens and time).',
    '',
    'The teacher is checked first (it loads, answers, its context size); the first --calibrate units then give an',
    'estimate of the time and tokens of the rest, printed before the bulk of the run. A leaf with errors is skipped',
    'with the reason (--strict fails instead). Ctrl+C, a kill or a dead teacher keep every finished unit: run the same',
    'command with --resume (or `generate --resume --out <run-dir>`, optionally with another --teacher or --parallel).',
    '',
    '--preview <leaf> tries --count units of one leaf and prints what passed the filters (markdown, or JSON with --json).',
    '--estimate checks the teacher and runs the calibration units of the selected leaves, then prints the estimate of',
    'the whole run (units, teacher tokens, time) without writing anything, for a person to decide before starting.',
    '--apply-review --out <run-dir> applies the review.json an author wrote for a finished run (rejected samples left',
    'out, edited ones changed): reviewed/ copies of the leaf datasets, and the mixed training files made from them.',
    '',
    'Exit status: 0 done, 1 failed (finished work kept), 2 bad usage, 130 cancelled.',
  ].join('\n'),
  options,
  async run({ values, positionals }, ctx) {
    if (values.preview !== undefined) return preview(values, positionals, ctx);
    if (values.estimate) return estimate(values, positionals, ctx);
    if (values['apply-review']) return applyReviewCommand(values, ctx);
    if (!values.out) throw new UsageError('generate needs --out <run-dir> (or --preview <leaf>)');
    const runDir = resolve(ctx.cwd, values.out);
    let args: GenerateArgs | undefined;
    let settings: Record<string, unknown> | undefined;
    try {
      args = buildArgs(values, positionals, ctx.cwd);
      const given = givenSettings(values);
      if (values.resume) {
        const record = await readRunRecord(runDir).catch((err: unknown) => {
          if (err instanceof RunDirError) return undefined;
          throw err;
        });
        if (!record) throw new UsageError(`nothing to resume in ${values.out} (no job.json there); start a run without --resume`);
        if (record.kind !== 'generate') throw new UsageError(`${values.out} holds a ${record.kind} run, not a generate run`);
        settings = Object.keys(given).length ? { ...record.settings, ...given } : undefined;
        if (settings) generateJob.parseSettings(settings);
      } else {
        if (!args) throw new UsageError('generate needs the taxonomy folder');
        if (!values.teacher) throw new UsageError('generate needs --teacher <model.gguf|url>');
        generateJob.parseSettings(given);
        settings = given;
      }
    } catch (err) {
      if (err instanceof JobArgsError) throw new UsageError(err.message);
      throw err;
    }
    const stderr = process.stderr;
    try {
      return await runJobInTerminal(
        { kind: 'generate', runDir, resume: values.resume === true, ...(args ? { args: { ...args } } : {}), ...(settings ? { settings: { ...settings } } : {}) },
        {
          signal: ctx.signal,
          out: { write: ctx.stderr, isTTY: ctx.env.TERM !== 'dumb' && stderr.isTTY === true, columns: stderr.columns, verbose: values.verbose === true },
          json: values.json ? ctx.stdout : undefined,
          commandName: 'taxonomy-studio generate',
        },
      );
    } catch (err) {
      if (err instanceof UnknownJobKindError || err instanceof JobArgsError) throw new UsageError(err.message);
      if (err instanceof RunDirError) return fail(ctx, err.message);
      throw err;
    }
  },
});

async function preview(values: Values, positionals: string[], ctx: CliContext): Promise<number> {
  if (!values.teacher) throw new UsageError('generate --preview needs --teacher <model.gguf|url>');
  const [taxonomy] = positionals;
  if (!taxonomy) throw new UsageError('generate --preview needs the taxonomy folder');
  let args: GenerateArgs;
  let settings: GenerateSettings;
  try {
    args = buildArgs({ ...values, leaf: values.preview }, [taxonomy], ctx.cwd)!;
    settings = generateJob.parseSettings(givenSettings(values));
  } catch (err) {
    if (err instanceof JobArgsError) throw new UsageError(err.message);
    throw err;
  }
  const count = whole('count', values.count) ?? 5;
  const result = await previewLeaf({ taxonomy: args.taxonomy, leaf: args.leaves[0], count, settings, steps: stepSettingsFor(args, settings), signal: ctx.signal, cwd: ctx.cwd, env: ctx.env });
  if ('problem' in result) return fail(ctx, result.problem);
  ctx.stdout(values.json ? `${JSON.stringify(result, null, 2)}\n` : formatPreviewMarkdown(result));
  return 0;
}

async function estimate(values: Values, positionals: string[], ctx: CliContext): Promise<number> {
  if (!values.teacher) throw new UsageError('generate --estimate needs --teacher <model.gguf|url>');
  let args: GenerateArgs | undefined;
  let settings: GenerateSettings;
  try {
    args = buildArgs(values, positionals, ctx.cwd);
    settings = generateJob.parseSettings(givenSettings(values));
  } catch (err) {
    if (err instanceof JobArgsError) throw new UsageError(err.message);
    throw err;
  }
  if (!args) throw new UsageError('generate --estimate needs the taxonomy folder');
  const result = await estimateRun({
    taxonomy: args.taxonomy,
    leaves: args.leaves,
    changed: args.changed,
    ...(args.gitBase ? { gitBase: args.gitBase } : {}),
    perSeed: args.perSeed,
    settings,
    steps: stepSettingsFor(args, settings),
    signal: ctx.signal,
    cwd: ctx.cwd,
    env: ctx.env,
  });
  if ('problem' in result) return fail(ctx, result.problem);
  if (values.json) ctx.stdout(`${JSON.stringify(result, null, 2)}\n`);
  else {
    const lines = [`teacher ${result.teacher}: ${result.model || 'model'} answers${result.contextSize ? `, context ${result.contextSize} tokens` : ''}`];
    for (const w of result.warnings) lines.push(`warning: ${w}`);
    lines.push(`${result.leaves.length} leaves, ${result.units.toLocaleString('en-US')} units`);
    for (const s of result.skipped) lines.push(`skipped ${s.leaf}: ${s.reason}`);
    lines.push(result.line);
    ctx.stdout(`${lines.join('\n')}\n`);
  }
  return 0;
}

async function applyReviewCommand(values: Values, ctx: CliContext): Promise<number> {
  if (!values.out) throw new UsageError('generate --apply-review needs --out <run-dir>');
  let summary;
  try {
    summary = await applyReview(resolve(ctx.cwd, values.out));
  } catch (err) {
    if (err instanceof ReviewError || err instanceof RunDirError || err instanceof JobArgsError) return fail(ctx, err.message);
    throw err;
  }
  ctx.stdout(values.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatApplyReview(summary)}\n`);
  return 0;
}

function fail(ctx: { stderr(text: string): void }, message: string): number {
  ctx.stderr(`taxonomy-studio generate: ${message}\n`);
  return 1;
}
