// `taxonomy-studio export-adapter PEFT_DIR --base HF_DIR --out adapter.gguf`: a PEFT LoRA adapter as llama.cpp's GGUF
// LoRA adapter, to serve on top of the base model's GGUF without merging.
import { stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { ConvertError } from '../../gguf/convert/index';
import { ModelFileError, GgufWriteError } from '../../gguf/errors';
import { ggmlTypeName } from '../../gguf/ggmlTypes';
import { AdapterError } from '../../gguf/lora/errors';
import { adapterTypes, exportLoraAdapter, type AdapterType } from '../../gguf/lora/export';
import { QuantizeError } from '../../gguf/quant/index';
import { ModelFolderError, SafetensorsError } from '../../hf/errors';
import { adapterProvenancePath, ProvenanceError, readProvenanceJson, recordProvenance, type Provenance } from '../../provenance/index';
import { UsageError } from '../args';
import { displayPath } from './check';
import { defineCommand, type CliContext } from './command';

export const exportAdapterCommand = defineCommand({
  name: 'export-adapter',
  summary: "Convert a PEFT LoRA adapter to llama.cpp's GGUF LoRA format",
  usage: 'export-adapter <peft-dir> --base <hf-dir> --out <adapter.gguf> [--type f32|f16|bf16|q8_0] [--provenance <file.json>]',
  description: [
    'Reads a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) and writes it as a GGUF LoRA adapter',
    'that llama.cpp and node-llama-cpp apply on top of the base model converted with `taxonomy-studio convert`',
    '(llama-cli --lora, createContext({lora})). --base is the Hugging Face folder of the model the adapter was',
    'trained on; only its config.json is read (architecture, layer count, head counts, shapes).',
    '',
    'The adapter may target q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, and lm_head when the',
    "base has an output matrix of its own. Scales PEFT sets per module (use_rslora, rank_pattern, alpha_pattern) are",
    'folded into lora_b, so the GGUF gives the same update. With --type q8_0, tensors whose rows are not whole',
    '32-value blocks (lora_b rows are r long) are written as f16, as llama.cpp does.',
    '',
    'Provenance (which leaves, dataset, teacher, base and settings produced the adapter) is recorded in the file under',
    'taxonomy_studio.provenance and in <out>.provenance.json: the record --provenance names, else the adapter',
    "folder's provenance.json when it has one (the train job writes it); `taxonomy-studio inspect` shows it.",
    '',
    'The file appears under its name only when complete. Exit status: 0 written, 1 the adapter or the base is',
    'missing something or does not fit, 2 bad usage.',
  ].join('\n'),
  options: {
    base: { type: 'string', short: 'b', valueName: '<hf-dir>', description: 'Hugging Face folder of the base model (its config.json)' },
    out: { type: 'string', short: 'o', valueName: '<file>', description: 'GGUF adapter file to write' },
    type: { type: 'string', short: 't', valueName: '<type>', description: `Tensor type: ${Object.keys(adapterTypes).join(', ')} (default f32)` },
    provenance: { type: 'string', valueName: '<file.json>', description: "Provenance record to embed (default: the adapter folder's provenance.json)" },
    help: { type: 'boolean', short: 'h', description: 'Show this help' },
  },
  async run({ values, positionals }, ctx) {
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'export-adapter needs the PEFT adapter folder' : `unexpected argument '${positionals[1]}'`);
    if (!values.base) throw new UsageError('export-adapter needs --base <hf-dir>, the folder of the model the adapter was trained on');
    if (!values.out) throw new UsageError('export-adapter needs --out <adapter.gguf>');
    const type = (values.type ?? 'f32').toLowerCase() as AdapterType;
    if (!(type in adapterTypes)) throw new UsageError(`--type must be one of ${Object.keys(adapterTypes).join(', ')}, not '${values.type}'`);
    const peftDir = await existingFolder(ctx, positionals[0], 'the PEFT adapter folder');
    const baseDir = await existingFolder(ctx, values.base, 'the base model folder (--base)');
    const out = resolve(ctx.cwd, values.out);

    try {
      const provenance = await provenanceToRecord(ctx, values.provenance, peftDir);
      const result = await exportLoraAdapter({ peftDir, baseDir, out, type });
      if (provenance) result.size = (await recordProvenance(out, provenance.record)).size;
      const modules = result.tensors.length / 2;
      ctx.stdout(
        `${displayPath(out, ctx.cwd)}: LoRA adapter for ${result.architecture}, ${modules} modules (${result.tensors.length} tensors), ` +
          `alpha ${result.alpha}, ${ggmlTypeName(adapterTypes[type].type)}, ${formatBytes(result.size)}\n`,
      );
      if (result.fallbacks.length) ctx.stdout(`  ${result.fallbacks.length} tensors written as F16: their rows are not whole Q8_0 blocks (e.g. ${result.fallbacks[0]})\n`);
      if (result.folded.length) ctx.stdout(`  per-module scales folded into lora_b for ${result.folded.length} modules (e.g. ${result.folded[0]})\n`);
      if (provenance) printProvenanceLine(ctx, out, provenance);
      return 0;
    } catch (err) {
      return reportModelError(err, 'export-adapter', ctx);
    }
  },
});

/**
 * The provenance record a command embeds: the file --provenance names (bad usage when missing), else `<folder>/provenance.json`
 * when the input folder has one, else none. Read before any work, so a damaged record fails at once (ProvenanceError).
 */
export async function provenanceToRecord(ctx: CliContext, given: string | undefined, folder: string): Promise<{ record: Provenance; from: string } | undefined> {
  if (given !== undefined) {
    const path = resolve(ctx.cwd, given);
    const record = await readProvenanceJson(path);
    if (!record) throw new UsageError(`no such file: ${given} (--provenance)`);
    return { record, from: path };
  }
  const path = adapterProvenancePath(folder);
  const record = await readProvenanceJson(path);
  return record && { record, from: path };
}

export function printProvenanceLine(ctx: CliContext, out: string, provenance: { record: Provenance; from: string }): void {
  const n = provenance.record.leaves.length;
  ctx.stdout(`  provenance from ${displayPath(provenance.from, ctx.cwd)} (${n} ${n === 1 ? 'leaf' : 'leaves'}) recorded in the file and ${displayPath(out, ctx.cwd)}.provenance.json\n`);
}

/** Resolves a folder argument, refusing (as bad usage) one that does not exist or is a file. */
export async function existingFolder(ctx: CliContext, given: string, what: string): Promise<string> {
  const path = resolve(ctx.cwd, given);
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new UsageError(`no such folder: ${given} (${what})`);
  if (!info.isDirectory()) throw new UsageError(`${given} is a file; give ${what}`);
  return path;
}

/**
 * Prints a model-file or adapter problem as `taxonomy-studio <cmd>: <file>: <what> (hint)` with paths shown relative
 * to the working folder, and returns exit code 1; anything else is rethrown (an internal error).
 */
export function reportModelError(err: unknown, command: string, ctx: CliContext): number {
  const known =
    err instanceof AdapterError ||
    err instanceof ModelFolderError ||
    err instanceof SafetensorsError ||
    err instanceof ModelFileError ||
    err instanceof GgufWriteError ||
    err instanceof QuantizeError ||
    err instanceof ConvertError ||
    err instanceof ProvenanceError;
  if (!known) throw err;
  const message = (err as Error).message.split(`${ctx.cwd}${sep}`).join('');
  ctx.stderr(`taxonomy-studio ${command}: ${message}\n`);
  return 1;
}

export function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} bytes`;
}
