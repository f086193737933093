// `taxonomy-studio merge HF_DIR --adapter PEFT_DIR --out OUT`: bakes a PEFT LoRA adapter into the base model, as a new
// Hugging Face folder or straight to GGUF, so the trained model can be served without the adapter.
import { resolve } from 'node:path';
import { mergeAdapterToGguf } from '../../gguf/merge/gguf';
import { mergeAdapterToHf } from '../../gguf/merge/hf';
import { parseQuantMix, QUANT_MIXES, type QuantMix } from '../../gguf/quant/mixes';
import { openModelWeights } from '../../hf/modelWeights';
import { UsageError } from '../args';
import { displayPath } from './check';
import { defineCommand } from './command';
import { existingFolder, formatBytes, reportModelError } from './exportAdapter';

export const mergeCommand = defineCommand({
  name: 'merge',
  summary: 'Merge a PEFT LoRA adapter into its base model (Hugging Face folder or GGUF)',
  usage: 'merge <hf-dir> --adapter <peft-dir> --out <path> [--format hf|gguf] [--type <type>] [--force]',
  description: [
    'Computes W + (alpha / r) · B A for every weight the adapter adapts (alpha / sqrt(r) with use_rslora; rank_pattern',
    'and alpha_pattern per module, as PEFT does) and writes the merged model:',
    '',
    '  --format hf    a new Hugging Face folder: the base folder\'s files (config.json, tokenizer, ...) copied, the',
    '                 weights in the base\'s dtypes and shard layout. --out is the folder (empty or new unless --force).',
    '  --format gguf  a GGUF file, as `taxonomy-studio convert` would make of the merged folder, in one pass; --type',
    `                 is the quantization (${QUANT_MIXES.join(', ')}; default f16).`,
    '',
    'Without --format, an --out ending in .gguf means gguf, anything else hf. Weights are merged and written a block',
    'of rows at a time, so memory does not grow with the model. Nothing appears under --out until it is complete.',
    'Exit status: 0 written, 1 the adapter or the base is missing something or they do not fit, 2 bad usage.',
  ].join('\n'),
  options: {
    adapter: { type: 'string', short: 'a', valueName: '<peft-dir>', description: 'PEFT adapter folder (adapter_config.json + adapter_model.safetensors)' },
    out: { type: 'string', short: 'o', valueName: '<path>', description: 'Folder (hf) or .gguf file (gguf) to write' },
    format: { type: 'string', valueName: '<format>', description: 'hf or gguf (default: from --out)' },
    type: { type: 'string', short: 't', valueName: '<type>', description: 'GGUF tensor type / quantization mix (default f16)' },
    force: { type: 'boolean', short: 'f', description: 'Replace a non-empty output folder (hf)' },
    help: { type: 'boolean', short: 'h', description: 'Show this help' },
  },
  async run({ values, positionals }, ctx) {
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'merge needs the base model folder' : `unexpected argument '${positionals[1]}'`);
    if (!values.adapter) throw new UsageError('merge needs --adapter <peft-dir>');
    if (!values.out) throw new UsageError('merge needs --out <path>');
    const format = values.format ?? (values.out.toLowerCase().endsWith('.gguf') ? 'gguf' : 'hf');
    if (format !== 'hf' && format !== 'gguf') throw new UsageError(`--format must be hf or gguf, not '${values.format}'`);
    if (format === 'hf' && values.type !== undefined) throw new UsageError('--type applies to GGUF output; a merged Hugging Face folder keeps the base weights\' dtypes');
    let mix: QuantMix = 'f16';
    if (values.type !== undefined) {
      try {
        mix = parseQuantMix(values.type);
      } catch (err) {
        throw new UsageError(`--type: ${(err as Error).message}`);
      }
    }
    const baseDir = await existingFolder(ctx, positionals[0], 'the base model folder');
    const peftDir = await existingFolder(ctx, values.adapter, 'the PEFT adapter folder (--adapter)');
    const out = resolve(ctx.cwd, values.out);
    const names = `${displayPath(baseDir, ctx.cwd)} + ${displayPath(peftDir, ctx.cwd)}`;

    try {
      if (format === 'gguf') {
        const r = await mergeAdapterToGguf({ baseDir, peftDir, out, type: mix, onWarning: (w) => ctx.stderr(`taxonomy-studio merge: warning: ${w}\n`), ...(ctx.signal && { signal: ctx.signal }) });
        const types = Object.entries(r.types).map(([t, n]) => `${n} ${t}`).join(', ');
        ctx.stdout(`${displayPath(out, ctx.cwd)}: ${names} merged: ${r.merged.length} weights updated, ${r.arch} GGUF, ${types}, ${formatBytes(r.size)}\n`);
        return 0;
      }
      const r = await mergeAdapterToHf({ baseDir, peftDir, out, force: values.force });
      const dtypes = await weightDtypes(out);
      ctx.stdout(
        `${displayPath(out, ctx.cwd)}: ${names} merged: ${r.merged.length} weights updated, ${r.copied.length} files copied, ` +
          `${r.weightFiles.length} safetensors file${r.weightFiles.length === 1 ? '' : 's'} (${dtypes})\n`,
      );
      return 0;
    } catch (err) {
      return reportModelError(err, 'merge', ctx);
    }
  },
});

/** The dtypes of a folder's weights, for the summary line ("F16", "BF16, F32"). */
async function weightDtypes(dir: string): Promise<string> {
  const w = await openModelWeights(dir);
  try {
    return [...new Set(w.names.map((n) => w.info(n).dtype))].sort().join(', ');
  } finally {
    await w.close();
  }
}
