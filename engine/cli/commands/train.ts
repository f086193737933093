// `taxonomy-studio train --model HF_DIR --data RUN_DIR_OR_JSONL --out DIR`: LoRA / QLoRA fine-tuning on onnxruntime,
// writing DIR/adapter (PEFT), DIR/checkpoints, DIR/loss.csv and DIR/train.json.
import { resolve } from 'node:path';
import { ModelFolderError, SafetensorsError } from '../../hf/errors';
import { CheckpointError } from '../../train/checkpoint';
import { DataError } from '../../train/data';
import { describeEstimate, MemoryLimitError } from '../../train/memory';
import type { RunSettings } from '../../train/settings';
import { ResumeError, TrainingCancelledError, TrainingDivergedError } from '../../train/errors';
import { UsageError } from '../args';
import { displayPath } from './check';
import { defineCommand } from './command';
import { existingFolder } from './exportAdapter';
import { parseRunSettings, runSettingOptions, wholeNumber } from './trainOptions';

/** "8G", "512M", "1.5GiB" or bytes. */
export function parseMemory(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B)?$/i.exec(value.trim());
  if (!m) throw new UsageError(`--max-memory must be a size such as 8G or 512M, not '${value}'`);
  const power = ['', 'K', 'M', 'G', 'T'].indexOf(m[2].toUpperCase());
  return Math.round(Number(m[1]) * 1024 ** power);
}

export const trainCommand = defineCommand({
  name: 'train',
  summary: 'Fine-tune a model with LoRA or QLoRA on generated data',
  usage: 'train --model <hf-dir> --data <run-dir|file.jsonl> --out <dir> [options]',
  description: [
    'Trains a LoRA adapter on messages JSONL ({"messages":[{"role","content"},…]}, as generate and InstructLab write).',
    'Each conversation is rendered with the model\'s chat template and tokenized with its tokenizer; only assistant',
    'turns are learned (the whole sample when a line has "unmask": true). A run folder from generate trains in two',
    'phases as LAB does: its knowledge_train_msgs file, then its skills_train_msgs file, each for --epochs epochs.',
    'Bad lines are skipped and listed with their line numbers (--strict stops at the first).',
    '',
    'A memory estimate is printed first; the run is refused when it exceeds --max-memory (default: free memory).',
    'Checkpoints (adapter, optimizer state, data position) are written after every epoch, every',
    '--checkpoint-every steps and on Ctrl+C; --resume continues from the newest one and gives the same adapter as an',
    'uninterrupted run. A NaN or infinite loss stops the run, naming the step and samples, and keeps the checkpoints.',
    '',
    'Writes <out>/adapter (a PEFT adapter: export-adapter turns it into GGUF), <out>/loss.csv, <out>/train.json.',
    'Exit status: 0 trained, 1 the model, data or memory stopped it, 2 bad usage, 130 cancelled (resumable).',
  ].join('\n'),
  options: {
    model: { type: 'string', short: 'm', valueName: '<hf-dir>', description: 'Hugging Face folder of the base model' },
    data: { type: 'string', short: 'd', valueName: '<path>', description: 'messages JSONL file, or a run folder from generate' },
    out: { type: 'string', short: 'o', valueName: '<dir>', description: 'Output folder (adapter/, checkpoints/, loss.csv, train.json)' },
    ...runSettingOptions,
    'no-checkpointing': {
      type: 'boolean',
      description: 'Keep every layer\'s activations from the forward instead of recomputing them in the backward (faster, far more memory)',
    },
    'checkpoint-every': { type: 'string', valueName: '<n>', description: 'Also checkpoint every n optimizer steps' },
    'max-memory': { type: 'string', valueName: '<size>', description: 'Refuse to start when the estimate exceeds this (e.g. 8G)' },
    resume: { type: 'boolean', description: 'Continue from the newest checkpoint in --out' },
    strict: { type: 'boolean', description: 'Stop at the first bad data line instead of skipping it' },
    help: { type: 'boolean', short: 'h', description: 'Show this help' },
  },
  async run({ values, positionals }, ctx) {
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (!values.model) throw new UsageError('train needs --model <hf-dir>');
    if (!values.data) throw new UsageError('train needs --data <run-dir|file.jsonl>');
    if (!values.out) throw new UsageError('train needs --out <dir>');
    const settings: RunSettings = {
      ...parseRunSettings(values),
      checkpointing: values['no-checkpointing'] !== true,
      ...(values['checkpoint-every'] ? { checkpointEvery: wholeNumber('checkpoint-every', values['checkpoint-every'], 0) } : {}),
    };
    const maxMemory = values['max-memory'] !== undefined ? parseMemory(values['max-memory']) : undefined;
    const modelDir = await existingFolder(ctx, values.model, 'the base model folder (--model)');
    const data = resolve(ctx.cwd, values.data);
    const outDir = resolve(ctx.cwd, values.out);
    const show = (p: string) => displayPath(p, ctx.cwd);
    const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : String(x));

    try {
      // Loaded on use: it brings onnxruntime's native binding, which other commands should not pay for.
      const { runTraining } = await import('../../train/run');
      const r = await runTraining({
        modelDir,
        data,
        outDir,
        settings,
        resume: values.resume === true,
        strict: values.strict === true,
        maxMemory,
        signal: ctx.signal,
        events: {
          onEstimate: (e) => ctx.stdout(`memory: ${describeEstimate(e)}\n`),
          onProblem: (p) => ctx.stderr(`${show(p.file)}:${p.line}: skipped: ${p.reason}\n`),
          onLog: (t) => ctx.stdout(`${t}\n`),
          onEval: (e) => ctx.stdout(`step ${e.step}: held-out loss ${fmt(e.loss)} over ${e.tokens} tokens\n`),
          onStep: (p) =>
            ctx.stdout(
              `step ${p.step}/${p.totalSteps} ${p.phase} epoch ${p.epoch + 1} batch ${p.batch}/${p.batches}: loss ${fmt(p.loss)} lr ${p.lr.toExponential(2)} ` +
                `grad ${p.gradNorm.toFixed(3)} ${Math.round(p.tokensPerSecond)} tok/s ETA ${Math.ceil(p.etaSeconds)}s\n`,
            ),
          onCheckpoint: (c) => ctx.stdout(`checkpoint ${show(c.dir)} (${c.reason})\n`),
        },
      });
      ctx.stdout(
        `${show(r.adapterDir)}: adapter after ${r.steps} steps on ${r.samples} samples (${r.trainedTokens} trained tokens this run` +
          `${r.resumedFromStep ? `, resumed at step ${r.resumedFromStep}` : ''})` +
          `${r.finalEvalLoss !== undefined ? `; held-out loss ${r.initialEvalLoss !== undefined ? `${fmt(r.initialEvalLoss)} -> ` : ''}${fmt(r.finalEvalLoss)}` : ''}` +
          `${r.problems.length ? `; ${r.problems.length} bad lines skipped` : ''}\n`,
      );
      return 0;
    } catch (err) {
      if (err instanceof TrainingCancelledError) {
        ctx.stderr(`taxonomy-studio train: ${err.message.split(`${ctx.cwd}/`).join('')}\n`);
        return 130;
      }
      const known =
        err instanceof DataError ||
        err instanceof MemoryLimitError ||
        err instanceof TrainingDivergedError ||
        err instanceof ResumeError ||
        err instanceof CheckpointError ||
        err instanceof ModelFolderError ||
        err instanceof SafetensorsError;
      if (!known) throw err;
      ctx.stderr(`taxonomy-studio train: ${(err as Error).message.split(`${ctx.cwd}/`).join('')}\n`);
      return 1;
    }
  },
});
