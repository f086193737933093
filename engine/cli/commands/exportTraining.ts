// `taxonomy-studio export-training <run-dir|data.jsonl> --for trl --model <hf-dir> --out <dir>`: the data, a train
// script and a launch setup for an existing distributed trainer, so a cluster trains the adapter `train` would.
import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ModelFolderError } from '../../hf/errors';
import { DataError } from '../../train/data';
import { UsageError } from '../args';
import { displayPath } from './check';
import { defineCommand } from './command';
import { existingFolder } from './exportAdapter';
import { parseRunSettings, runSettingOptions } from './trainOptions';

/** Trainers an export can be written for. */
export const exportTargets = ['trl'] as const;

export const exportTrainingCommand = defineCommand({
  name: 'export-training',
  summary: 'Write the data and a launch setup to train the same adapter on a cluster (Hugging Face TRL)',
  usage: 'export-training <run-dir|data.jsonl> --for trl --model <hf-dir> --out <dir> [options]',
  description: [
    'Writes what a cluster needs to train the LoRA adapter `train` would train, with Hugging Face TRL + PEFT under',
    'accelerate (FSDP) or torchrun: each phase\'s data as train reads it (a generate run folder gives a knowledge phase',
    'then a skills phase), rendered with the model\'s chat template and tokenized with its tokenizer, with the',
    'assistant-only loss masks; the held-out samples; chat_template.jinja; train.py (SFTTrainer, LoraConfig with the',
    'same rank, alpha, dropout and modules, the same schedule; QLoRA loads the base in 4-bit NF4 with bitsandbytes);',
    'accelerate_fsdp.yaml, launch.sh, requirements.txt, README.md and settings.json (every setting, and provenance).',
    'The training options mean what they mean for train.',
    '',
    'Bring the adapter back with `taxonomy-studio export-adapter <out>/adapter --base <hf-dir> --out adapter.gguf`.',
    'Exit status: 0 written, 1 the model or data stopped it, 2 bad usage.',
  ].join('\n'),
  options: {
    for: { type: 'string', valueName: '<trainer>', description: `Trainer to export for: ${exportTargets.join(', ')}` },
    model: { type: 'string', short: 'm', valueName: '<hf-dir>', description: 'Hugging Face folder of the base model (its chat template and tokenizer)' },
    out: { type: 'string', short: 'o', valueName: '<dir>', description: 'Output folder (empty or new, unless --force)' },
    ...runSettingOptions,
    strict: { type: 'boolean', description: 'Stop at the first bad data line instead of skipping it' },
    force: { type: 'boolean', description: 'Write into a folder that already has files (replacing ours)' },
    help: { type: 'boolean', short: 'h', description: 'Show this help' },
  },
  async run({ values, positionals }, ctx) {
    if (positionals.length === 0) throw new UsageError('export-training needs <run-dir|data.jsonl> (a folder generate wrote, or a messages JSONL file)');
    if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}' (give one run folder or JSONL file)`);
    if (!values.for) throw new UsageError(`export-training needs --for <trainer> (${exportTargets.join(', ')})`);
    if (!(exportTargets as readonly string[]).includes(values.for)) throw new UsageError(`--for: unknown trainer '${values.for}' (known: ${exportTargets.join(', ')})`);
    if (!values.model) throw new UsageError('export-training needs --model <hf-dir> (the base model the cluster trains)');
    if (!values.out) throw new UsageError('export-training needs --out <dir>');
    const settings = parseRunSettings(values);
    const modelDir = await existingFolder(ctx, values.model, 'the base model folder (--model)');
    const data = resolve(ctx.cwd, positionals[0]);
    const outDir = resolve(ctx.cwd, values.out);
    const present = await readdir(outDir).catch(() => []);
    if (present.length && !values.force) throw new UsageError(`${values.out} already has files (choose a new or empty folder, or pass --force to replace ours)`);
    const show = (p: string) => displayPath(p, ctx.cwd);

    try {
      // Loaded on use: the data path goes through the trainer's modules, which bring onnxruntime's native binding.
      const { exportForTrl } = await import('../../train/export/trl');
      const r = await exportForTrl({ modelDir, data, outDir, settings, strict: values.strict === true });
      for (const w of r.warnings) ctx.stderr(`warning: ${w}\n`);
      for (const p of r.problems) ctx.stderr(`${show(p.file)}:${p.line}: skipped: ${p.reason}\n`);
      for (const p of r.phases) {
        const notes = [p.replayed ? `${p.replayed} replayed` : '', p.heldOut ? `${p.heldOut} held out` : '', p.truncated ? `${p.truncated} cut to ${settings.maxSeqLen} tokens` : '', p.droppedTooLong ? `${p.droppedTooLong} dropped as too long` : ''].filter(Boolean);
        ctx.stdout(`${show(resolve(outDir, p.file))}: ${p.name} phase, ${p.samples} samples, ${p.trainedTokens} of ${p.tokens} tokens trained, ${p.epochs} epoch${p.epochs === 1 ? '' : 's'}${notes.length ? ` (${notes.join(', ')})` : ''}\n`);
      }
      ctx.stdout(`${show(outDir)}: ${r.files.length} files for TRL; run ${show(resolve(outDir, 'launch.sh'))}, then export-adapter ${show(resolve(outDir, 'adapter'))} (see README.md)\n`);
      return 0;
    } catch (err) {
      if (!(err instanceof DataError || err instanceof ModelFolderError)) throw err;
      ctx.stderr(`taxonomy-studio export-training: ${err.message.split(`${ctx.cwd}/`).join('')}\n`);
      return 1;
    }
  },
});
