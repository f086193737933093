// `taxonomy-studio pipeline TAXONOMY --teacher MODEL.gguf|URL --student HF_DIR --out RUN_DIR`: the whole loop (check,
// generate, train, export, serve + evaluate, report) as the `pipeline` job (engine/pipeline/job.ts) in this terminal.
import { resolve } from 'node:path';
import { JobArgsError, RunDirError, UnknownJobKindError } from '../../jobs/errors';
import { readRunRecord } from '../../jobs/runDir';
import { runJobInTerminal } from '../../jobs/terminal';
import { pipelineJob } from '../../pipeline/job';
import { UsageError } from '../args';
import { defineCommand } from './command';

const options = {
  teacher: { type: 'string', short: 't', valueName: '<model.gguf|url>', description: 'Teacher: a GGUF model file, or OpenAI-compatible server URLs (comma-separated)' },
  student: { type: 'string', short: 's', valueName: '<hf-dir>', description: 'Student: the Hugging Face folder of the model to train' },
  'student-gguf': { type: 'string', valueName: '<file.gguf>', description: 'A GGUF of the student to serve (default: convert the student to F16)' },
  out: { type: 'string', short: 'o', valueName: '<run-dir>', description: 'Run folder (new or empty; with --resume, the run to continue)' },
  resume: { type: 'boolean', description: 'Continue the run in --out at its first unfinished stage' },
  leaf: { type: 'string', multiple: true, valueName: '<path>', description: 'Train on the leaves under this file or folder (repeatable, or comma-separated)' },
  all: { type: 'boolean', description: 'Train on every leaf (default: the leaves changed against the git base)' },
  'git-base': { type: 'string', valueName: '<ref>', description: 'Git base of the changed leaves (default origin/main, then main, master)' },
  'allow-errors': { type: 'boolean', description: 'Go on when selected leaves have errors, leaving those leaves out' },
  'samples-per-seed': { type: 'string', valueName: '<n>', description: 'Samples to generate per seed example (default 30)' },
  epochs: { type: 'string', short: 'e', valueName: '<n>', description: 'Epochs per training phase (default 1)' },
  rank: { type: 'string', short: 'r', valueName: '<n>', description: 'LoRA rank (default 8)' },
  qlora: { type: 'boolean', description: 'Hold the frozen student in 4 bits while training' },
  seed: { type: 'string', valueName: '<n>', description: 'Seed of generation, training and evaluation (default 42)' },
  'system-prompt': { type: 'string', valueName: '<text>', description: 'System prompt of the datasets and the evaluation' },
  'eval-max-tokens': { type: 'string', valueName: '<n>', description: 'Most tokens of an answer in the evaluation (default 256)' },
  threads: { type: 'string', valueName: '<n>', description: 'CPU threads of the local teacher, the conversion and the server' },
  gpu: { type: 'string', valueName: '<auto|off>', description: 'Offload the teacher and the server to a GPU when there is one (auto, default) or not' },
  parallel: { type: 'string', short: 'p', valueName: '<n>', description: 'Teacher calls at once (default 4)' },
  'ctx-size': { type: 'string', valueName: '<n>', description: "Local teacher: tokens per sequence (default the model's, at most 4096)" },
  'max-tokens': { type: 'string', valueName: '<n>', description: 'Most tokens of a generated answer (judges get a quarter)' },
  'max-chars': { type: 'string', valueName: '<n>', description: 'Most characters of a generated question, context or answer' },
  calibrate: { type: 'string', valueName: '<n>', description: 'Generation units run first to estimate the rest (default --parallel; 0 none)' },
  'api-key-env': { type: 'string', valueName: '<name>', description: "Environment variable holding the teacher server's API key" },
  model: { type: 'string', valueName: '<name>', description: 'Model name to ask the teacher server for' },
  lr: { type: 'string', valueName: '<x>', description: 'Peak learning rate (default 0.0002)' },
  'batch-tokens': { type: 'string', valueName: '<n>', description: 'Padded tokens per training micro-batch (default 4096)' },
  'max-seq-len': { type: 'string', valueName: '<n>', description: 'Longest training sample in tokens (default 1024)' },
  'eval-fraction': { type: 'string', valueName: '<x>', description: 'Share of samples held out for the loss (default 0.05)' },
  'eval-parallel': { type: 'string', valueName: '<n>', description: 'Evaluation questions asked at once (default 2)' },
  'eval-ctx-size': { type: 'string', valueName: '<n>', description: 'Server tokens per sequence in the evaluation' },
  'repo-cache': { type: 'string', valueName: '<dir>', description: 'Where clones of remote document repos are' },
  json: { type: 'boolean', description: 'Print the outcome as JSON on stdout (instead of the report path)' },
  verbose: { type: 'boolean', short: 'v', description: 'Show debug log lines' },
  help: { type: 'boolean', short: 'h', description: 'Show this help' },
} as const;

type Values = { [K in keyof typeof options]?: (typeof options)[K]['type'] extends 'boolean' ? boolean : (typeof options)[K] extends { multiple: true } ? string[] : string };

function whole(flag: string, text: string | undefined, min = 1): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError(`--${flag} takes a whole number of ${min} or more, got '${text}'`);
  return Number(text);
}

function decimal(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0) throw new UsageError(`--${flag} takes a non-negative number, got '${text}'`);
  return v;
}

function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** The job's args from the command line; undefined without a taxonomy (a --resume of the recorded run). */
export function pipelineArgs(values: Values, positionals: string[], cwd: string): Record<string, unknown> | undefined {
  const [taxonomy, ...rest] = positionals;
  if (taxonomy === undefined) return undefined;
  if (rest.length) throw new UsageError(`pipeline takes one taxonomy folder; unexpected '${rest[0]}' (give leaves with --leaf)`);
  if (!values.student) throw new UsageError('pipeline needs --student <hf-dir>, the Hugging Face folder of the model to train');
  const leaves = (values.leaf ?? []).flatMap((l) => l.split(',')).map((p) => p.trim()).filter(Boolean).map((p) => resolve(cwd, p));
  if (values.all && leaves.length) throw new UsageError('give either --leaf or --all, not both');
  return defined({
    taxonomy: resolve(cwd, taxonomy),
    student: resolve(cwd, values.student),
    studentGguf: values['student-gguf'] ? resolve(cwd, values['student-gguf']) : undefined,
    leaves,
    all: values.all === true,
    gitBase: values['git-base'],
    allowErrors: values['allow-errors'] === true,
    perSeed: whole('samples-per-seed', values['samples-per-seed']),
    seed: whole('seed', values.seed, 0),
    systemPrompt: values['system-prompt'],
    epochs: whole('epochs', values.epochs),
    rank: whole('rank', values.rank),
    qlora: values.qlora === true,
    evalMaxTokens: whole('eval-max-tokens', values['eval-max-tokens']),
  });
}

/** The job's settings given on the command line (stage settings as nested objects); empty objects left out. */
export function pipelineSettings(values: Values, cwd: string): Record<string, unknown> {
  if (values.gpu !== undefined && values.gpu !== 'auto' && values.gpu !== 'off') throw new UsageError(`--gpu takes auto or off, got '${values.gpu}'`);
  const generate = defined({
    parallel: whole('parallel', values.parallel),
    contextSize: whole('ctx-size', values['ctx-size']),
    maxTokens: whole('max-tokens', values['max-tokens']),
    maxChars: whole('max-chars', values['max-chars']),
    calibrate: whole('calibrate', values.calibrate, 0),
    apiKeyEnv: values['api-key-env'],
    model: values.model,
  });
  const train = defined({
    lr: decimal('lr', values.lr),
    batchTokens: whole('batch-tokens', values['batch-tokens']),
    maxSeqLen: whole('max-seq-len', values['max-seq-len'], 2),
    evalFraction: decimal('eval-fraction', values['eval-fraction']),
  });
  const evaluate = defined({ parallel: whole('eval-parallel', values['eval-parallel']), contextSize: whole('eval-ctx-size', values['eval-ctx-size'], 16) });
  return defined({
    teacher: values.teacher && !/^https?:\/\//i.test(values.teacher) ? resolve(cwd, values.teacher) : values.teacher,
    repoCache: values['repo-cache'] ? resolve(cwd, values['repo-cache']) : undefined,
    threads: whole('threads', values.threads),
    gpu: values.gpu,
    generate: Object.keys(generate).length ? generate : undefined,
    train: Object.keys(train).length ? train : undefined,
    evaluate: Object.keys(evaluate).length ? evaluate : undefined,
  });
}

/** Settings given on resume over the recorded ones; the stage objects (generate, train, evaluate) merge key by key. */
export function mergeSettings(recorded: Record<string, unknown>, given: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...recorded, ...given };
  for (const stage of ['generate', 'train', 'evaluate']) {
    const [r, g] = [recorded[stage], given[stage]] as (Record<string, unknown> | undefined)[];
    if (r && g) out[stage] = { ...r, ...g };
  }
  return out;
}

export const pipelineCommand = defineCommand({
  name: 'pipeline',
  summary: 'Run the whole loop: check, generate, train, export to GGUF, serve and evaluate, with a report',
  usage:
    'pipeline <taxonomy> --teacher <model.gguf|url> --student <hf-dir> --out <run-dir> [--resume] [--leaf <path> …] [--all] [--epochs <n>] [--rank <n>] [--qlora] [--samples-per-seed <n>]',
  description: [
    'Runs the LAB loop on a taxonomy in one run folder, one sub-folder per stage:',
    '  check/     the leaves changed against the git base (or --leaf paths, or --all), checked as the editor does;',
    '             errors stop the pipeline with the findings (--allow-errors leaves those leaves out instead)',
    '  generate/  synthetic data for those leaves with the teacher (as `taxonomy-studio generate`)',
    '  train/     a LoRA adapter on the student (as `taxonomy-studio train`)',
    '  export/    the adapter as a GGUF LoRA adapter, and the student as GGUF unless --student-gguf is given',
    '  evaluate/  a server started in this process with the student as "base" and with the adapter as "tuned";',
    "             each leaf's seed questions asked to both and the answers scored against the seed answers",
    '             (token-set F1)',
    'and then report.md with the stages, their times, the data per leaf, the loss curve (loss.png) and the',
    'evaluation table. The path of report.md is printed on stdout.',
    '',
    'Every stage is a job with its own ledger: Ctrl+C, a kill or a failure keeps what is finished, and the same',
    'command with --resume (or `pipeline --resume --out <run-dir>`) starts at the first unfinished stage, which',
    'itself goes on where it stopped. Settings (teacher, threads, parallel, ...) may change on resume.',
    '',
    'Exit status: 0 done, 1 a stage failed (finished work kept), 2 bad usage, 130 cancelled.',
  ].join('\n'),
  options,
  async run({ values, positionals }, ctx) {
    if (!values.out) throw new UsageError('pipeline needs --out <run-dir>');
    const runDir = resolve(ctx.cwd, values.out);
    let args: Record<string, unknown> | undefined;
    let settings: Record<string, unknown> | undefined;
    try {
      args = pipelineArgs(values, positionals, ctx.cwd);
      if (args) pipelineJob.parseArgs(args);
      const given = pipelineSettings(values, ctx.cwd);
      if (values.resume) {
        const record = await readRunRecord(runDir).catch((err: unknown) => {
          if (err instanceof RunDirError) return undefined;
          throw err;
        });
        if (!record) throw new UsageError(`nothing to resume in ${values.out} (no job.json there); start a run without --resume`);
        if (record.kind !== 'pipeline') throw new UsageError(`${values.out} holds a ${record.kind} run, not a pipeline run`);
        settings = Object.keys(given).length ? mergeSettings(record.settings, given) : undefined;
        if (settings) pipelineJob.parseSettings(settings);
      } else {
        if (!args) throw new UsageError('pipeline needs the taxonomy folder');
        if (!values.teacher) throw new UsageError('pipeline needs --teacher <model.gguf|url>');
        pipelineJob.parseSettings(given);
        settings = given;
      }
    } catch (err) {
      if (err instanceof JobArgsError) throw new UsageError(err.message);
      throw err;
    }
    const stderr = process.stderr;
    let outcome: { summary?: { report?: string } } | undefined;
    try {
      const code = await runJobInTerminal(
        { kind: 'pipeline', runDir, resume: values.resume === true, ...(args ? { args } : {}), ...(settings ? { settings } : {}) },
        {
          signal: ctx.signal,
          out: { write: ctx.stderr, isTTY: ctx.env.TERM !== 'dumb' && stderr.isTTY === true, columns: stderr.columns, verbose: values.verbose === true },
          json: (text) => {
            outcome = JSON.parse(text) as typeof outcome;
            if (values.json) ctx.stdout(text);
          },
          commandName: 'taxonomy-studio pipeline',
        },
      );
      if (code === 0 && !values.json && outcome?.summary?.report) ctx.stdout(`${outcome.summary.report}\n`);
      return code;
    } catch (err) {
      if (err instanceof UnknownJobKindError || err instanceof JobArgsError) throw new UsageError(err.message);
      if (err instanceof RunDirError) {
        ctx.stderr(`taxonomy-studio pipeline: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  },
});
