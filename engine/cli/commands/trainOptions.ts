// The training options train and export-training share (the same names, help lines, defaults and bounds), and the
// RunSettings they make.
import { loraTargetNames, type LoraTargetName } from '../../train/lora';
import { defaultRunSettings, type RunSettings } from '../../train/settings';
import { UsageError, type OptionValues } from '../args';
import type { OptionSpec } from '../args';

export function wholeNumber(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number of at least ${min}, not '${value}'`);
  return n;
}

export function positive(name: string, value: string | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new UsageError(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, not '${value}'`);
  return n;
}

export const runSettingOptions = {
    qlora: { type: 'boolean', description: 'Hold the frozen base in 4 bits (blockwise, 32 per block)' },
    rank: { type: 'string', short: 'r', valueName: '<n>', description: `LoRA rank (default ${defaultRunSettings.rank})` },
    alpha: { type: 'string', valueName: '<n>', description: `LoRA alpha; the update is scaled by alpha/rank (default ${defaultRunSettings.alpha})` },
    dropout: { type: 'string', valueName: '<p>', description: `LoRA dropout on each adapted module's input while training (default ${defaultRunSettings.dropout})` },
    targets: { type: 'string', valueName: '<list>', description: `Comma-separated modules to adapt (default all: ${loraTargetNames.join(',')})` },
    epochs: { type: 'string', short: 'e', valueName: '<n>', description: `Epochs per phase (default ${defaultRunSettings.epochs})` },
    lr: { type: 'string', valueName: '<x>', description: `Peak learning rate (default ${defaultRunSettings.lr})` },
    'batch-tokens': { type: 'string', valueName: '<n>', description: `Padded tokens per micro-batch (default ${defaultRunSettings.batchTokens})` },
    accumulate: { type: 'string', valueName: '<n>', description: 'Micro-batches per optimizer step (default 1)' },
    'max-seq-len': { type: 'string', valueName: '<n>', description: `Longest sample in tokens; longer ones are cut (default ${defaultRunSettings.maxSeqLen})` },
    'drop-long': { type: 'boolean', description: 'Drop samples longer than --max-seq-len instead of cutting them' },
    packing: { type: 'boolean', description: 'Pack samples into rows of --max-seq-len tokens instead of padding' },
    'eval-fraction': { type: 'string', valueName: '<x>', description: `Share of samples held out for the evaluation loss (default ${defaultRunSettings.evalFraction})` },
    seed: { type: 'string', valueName: '<n>', description: `Seed of the LoRA init, split and order (default ${defaultRunSettings.seed})` },
} satisfies Record<string, OptionSpec>;

/** RunSettings from the training options, with train's defaults, bounds and messages. */
export function parseRunSettings(values: OptionValues<typeof runSettingOptions>): RunSettings {
  const targets = values.targets ? values.targets.split(',').map((x) => x.trim()) : [...loraTargetNames];
  const unknown = targets.filter((x) => !(loraTargetNames as readonly string[]).includes(x));
  if (unknown.length) throw new UsageError(`--targets: unknown module ${unknown.join(', ')}; choose from ${loraTargetNames.join(', ')}`);
  const settings: RunSettings = {
    ...defaultRunSettings,
    rank: wholeNumber('rank', values.rank, defaultRunSettings.rank),
    alpha: positive('alpha', values.alpha, defaultRunSettings.alpha),
    dropout: positive('dropout', values.dropout, defaultRunSettings.dropout, true),
    targets: targets as LoraTargetName[],
    qlora: values.qlora === true,
    epochs: wholeNumber('epochs', values.epochs, defaultRunSettings.epochs),
    lr: positive('lr', values.lr, defaultRunSettings.lr),
    batchTokens: wholeNumber('batch-tokens', values['batch-tokens'], defaultRunSettings.batchTokens),
    accumulate: wholeNumber('accumulate', values.accumulate, 1),
    maxSeqLen: wholeNumber('max-seq-len', values['max-seq-len'], defaultRunSettings.maxSeqLen, 2),
    overlong: values['drop-long'] ? 'drop' : 'truncate',
    packing: values.packing === true,
    evalFraction: positive('eval-fraction', values['eval-fraction'], defaultRunSettings.evalFraction, true),
    seed: wholeNumber('seed', values.seed, defaultRunSettings.seed, 0),
  };
  if (settings.dropout >= 1) throw new UsageError(`--dropout must be below 1, not ${settings.dropout}`);
  if (settings.evalFraction >= 1) throw new UsageError(`--eval-fraction must be below 1, not ${settings.evalFraction}`);
  return settings;
}
