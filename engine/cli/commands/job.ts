// `taxonomy-studio job <kind> [name=value ...] --out RUN_DIR [--resume]`: any job of the engine's job table, run in
// the terminal with a progress bar (plain lines when stderr is not a terminal); `job --resume --out RUN_DIR`
// continues whatever run the folder holds. The editor runs the same jobs through `taxonomy-studio rpc`.
import { resolve } from 'node:path';
import { JobArgsError, RunDirError, UnknownJobKindError } from '../../jobs/errors';
import { jobKinds } from '../../jobs/registry';
import { readRunRecord } from '../../jobs/runDir';
import { runJobInTerminal } from '../../jobs/terminal';
import { UsageError } from '../args';
import { defineCommand } from './command';

/** `n=20` -> ['n', 20]: the value as JSON when it reads as JSON (numbers, true, [..]), else as text. */
export function parseAssignment(text: string): [string, unknown] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`expected name=value, got '${text}'`);
  const raw = text.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // Plain text, e.g. a path.
  }
  return [text.slice(0, eq), value];
}

function jsonObject(option: string, text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${option} must be a JSON object: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${option} must be a JSON object like {"n": 20}`);
  return value as Record<string, unknown>;
}

export const jobCommand = defineCommand({
  name: 'job',
  summary: 'Run a job (demo-count, ...) in the terminal, or resume one from its run folder',
  usage: 'job <kind> [name=value ...] --out <run-dir> [--settings <json>] [--resume] [--json]',
  description: [
    'Runs a job of the engine in this terminal: progress on stderr (a bar on a terminal, a line per tenth of the work',
    'otherwise), its log lines, and a last line saying how it ended. Everything the job makes goes into the run folder:',
    'job.json (kind, args, settings, engine version, status), log.jsonl, ledger.jsonl (the finished units) and the',
    'outputs, written append-only or by atomic rename.',
    '',
    'name=value pairs are the job\'s args (a value that reads as JSON is taken as JSON: n=20 is a number); --args takes',
    'them as one JSON object instead. Settings (how it runs: delays, concurrency) may change on resume; args may not.',
    '',
    'Ctrl+C cancels: the unit in hand is dropped, the finished ones are kept, and the exit status is 130. Run the same',
    'command again with --resume (or just `job --resume --out <run-dir>`) to continue where it stopped, also after a',
    'crash or a kill.',
    '',
    'Jobs:',
    ...jobKinds.map((j) => `  ${j.kind}: ${j.description}`),
    '',
    'Exit status: 0 succeeded, 1 failed (the run folder keeps the finished work), 2 bad usage, 130 cancelled.',
  ].join('\n'),
  options: {
    out: { type: 'string', short: 'o', valueName: '<run-dir>', description: 'Run folder (new or empty; with --resume, the run to continue)' },
    resume: { type: 'boolean', description: 'Continue the run in --out, skipping its finished units' },
    args: { type: 'string', valueName: '<json>', description: 'The job\'s args as a JSON object' },
    settings: { type: 'string', valueName: '<json>', description: 'The job\'s settings as a JSON object (on resume: default the recorded ones)' },
    json: { type: 'boolean', description: 'Print the outcome as one JSON line on stdout' },
    verbose: { type: 'boolean', short: 'v', description: 'Show debug log lines' },
    help: { type: 'boolean', short: 'h', description: 'Show this help' },
  },
  async run({ values, positionals }, ctx) {
    if (!values.out) throw new UsageError('job needs --out <run-dir>');
    const runDir = resolve(ctx.cwd, values.out);
    const [first, ...assignments] = positionals;
    let kind: string | undefined = first;
    let args = jsonObject('--args', values.args);
    if (assignments.length > 0) args = { ...args, ...Object.fromEntries(assignments.map(parseAssignment)) };
    const settings = jsonObject('--settings', values.settings);
    if (kind === undefined) {
      if (!values.resume) throw new UsageError(`job needs a kind (${jobKinds.map((j) => j.kind).join(', ')}), or --resume to continue a run`);
      try {
        kind = (await readRunRecord(runDir))?.kind;
      } catch (err) {
        if (err instanceof RunDirError) return fail(ctx, err.message);
        throw err;
      }
    }
    if (kind === undefined) throw new UsageError(`nothing to resume in ${values.out} (no job.json there); give the job kind to start a new run`);
    const stderr = process.stderr;
    try {
      return await runJobInTerminal(
        { kind, runDir, resume: values.resume === true, ...(args ? { args } : {}), ...(settings ? { settings } : {}) },
        {
          signal: ctx.signal,
          // The bar only where stderr really is this process's terminal (tests hand in their own writers).
          out: { write: ctx.stderr, isTTY: ctx.env.TERM !== 'dumb' && stderr.isTTY === true, columns: stderr.columns, verbose: values.verbose === true },
          json: values.json ? ctx.stdout : undefined,
          commandName: 'taxonomy-studio job',
        },
      );
    } catch (err) {
      if (err instanceof UnknownJobKindError || err instanceof JobArgsError) throw new UsageError(err.message);
      if (err instanceof RunDirError) return fail(ctx, err.message);
      throw err;
    }
  },
});

function fail(ctx: { stderr(text: string): void }, message: string): number {
  ctx.stderr(`taxonomy-studio job: ${message}\n`);
  return 1;
}
