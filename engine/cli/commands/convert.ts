// `taxonomy-studio convert HF_DIR --out model.gguf --type q4_k_m`: a Hugging Face llama-family folder to GGUF.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConvertError, convertHfToGguf } from '../../gguf/convert';
import { GgufWriteError, ModelFileError } from '../../gguf/errors';
import { formatBytes } from '../../gguf/inspect';
import { QuantizeError } from '../../gguf/quant';
import { parseQuantMix, QUANT_MIXES, type QuantMix } from '../../gguf/quant/mixes';
import { supportedArchitectures } from '../../hf/config';
import { ModelFolderError, SafetensorsError } from '../../hf/errors';
import { ProvenanceError, recordProvenance } from '../../provenance/index';
import { UsageError } from '../args';
import { displayPath } from './check';
import { defineCommand } from './command';
import { printProvenanceLine, provenanceToRecord } from './exportAdapter';

export const convertCommand = defineCommand({
  name: 'convert',
  summary: 'Convert a Hugging Face model folder to GGUF (F16, Q8_0, Q4_K_M, ...) for llama.cpp',
  usage: `convert <hf-dir> --out <file.gguf> [--type ${QUANT_MIXES.join('|')}] [--threads <n>] [--name <text>] [--provenance <file.json>]`,
  description: [
    `Reads a Hugging Face model folder (${Object.values(supportedArchitectures).join(', ')}): config.json, model.safetensors or`,
    'shards listed in model.safetensors.index.json, tokenizer.json and tokenizer_config.json. Writes one GGUF v3 file',
    'with the hyper-parameters, the tokenizer (byte-level BPE), the chat template and the weights, as llama.cpp and',
    'node-llama-cpp load them.',
    '',
    'Types: f32, f16 and bf16 keep every weight matrix in that type. The quantized types make the per-tensor choices',
    'llama-quantize makes: the output matrix (the embeddings, when tied) in Q6_K except for q8_0; for q4_k_m and',
    'q5_k_m more bits on attn_v and ffn_down in some layers; a matrix whose rows do not fit the type\'s blocks in a',
    'near type (Q4_K to Q5_0, Q6_K to Q8_0, ...). Norms and biases stay F32. Default: f16.',
    '',
    'Tensors are converted one slice at a time, so memory stays small whatever the model size; quantization runs on',
    '--threads worker threads (default: every core). The file appears under its name only when complete.',
    'Problems that do not stop the conversion (no chat template, an unrecognised pre-tokenizer) are printed as warnings.',
    '',
    'Provenance (what produced the weights: leaves, dataset, teacher, base, settings) is recorded in the file under',
    "taxonomy_studio.provenance and in <out>.provenance.json: the record --provenance names, else the folder's",
    'provenance.json when it has one; `taxonomy-studio inspect` shows it.',
    '',
    'Exit status: 0 written, 1 the folder could not be converted or the file not written, 2 bad usage.',
  ].join('\n'),
  options: {
    out: { type: 'string', short: 'o', valueName: '<file.gguf>', description: 'GGUF file to write (replaced if it exists)' },
    type: { type: 'string', short: 't', valueName: '<type>', description: `One of ${QUANT_MIXES.join(', ')} (default f16)` },
    threads: { type: 'string', valueName: '<n>', description: 'Worker threads for converting and quantizing (default: all cores)' },
    name: { type: 'string', valueName: '<text>', description: "general.name in the file (default: the folder's name)" },
    provenance: { type: 'string', valueName: '<file.json>', description: "Provenance record to embed (default: the folder's provenance.json)" },
    help: { type: 'boolean', short: 'h', description: 'Show this help' },
  },
  async run({ values, positionals }, ctx) {
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'convert needs a Hugging Face model folder' : `convert reads one folder; got ${positionals.length} arguments`);
    if (!values.out) throw new UsageError('convert needs --out <file.gguf>');
    let mix: QuantMix;
    try {
      mix = parseQuantMix(values.type ?? 'f16');
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    let threads: number | undefined;
    if (values.threads !== undefined) {
      threads = Number(values.threads);
      if (!/^\d+$/.test(values.threads) || threads < 1 || threads > 256) throw new UsageError(`--threads must be a whole number from 1 to 256, not '${values.threads}'`);
    }
    const given = positionals[0];
    const dir = resolve(ctx.cwd, given);
    const info = await stat(dir).catch(() => undefined);
    if (!info) throw new UsageError(`no such folder: ${given}`);
    if (!info.isDirectory()) throw new UsageError(`${given} is a file; give the Hugging Face model folder (the one with config.json)`);
    const out = resolve(ctx.cwd, values.out);

    const started = performance.now();
    try {
      const provenance = await provenanceToRecord(ctx, values.provenance, dir);
      const result = await convertHfToGguf(dir, out, mix, {
        ...(threads !== undefined && { threads }),
        ...(values.name !== undefined && { name: values.name }),
        ...(ctx.signal && { signal: ctx.signal }),
        onWarning: (w) => ctx.stderr(`taxonomy-studio convert: warning: ${w}\n`),
      });
      if (provenance) result.size = (await recordProvenance(out, provenance.record)).size;
      const seconds = (performance.now() - started) / 1000;
      const types = Object.entries(result.types)
        .map(([t, n]) => `${n} ${t}`)
        .join(', ');
      ctx.stdout(
        `${displayPath(out, ctx.cwd)}: ${result.arch}, ${mix.toUpperCase()}, ${result.tensors.length} tensors (${types}), ${formatBytes(result.size)} ` +
          `from ${formatBytes(result.inputBytes)} in ${seconds.toFixed(1)} s\n`,
      );
      if (provenance) printProvenanceLine(ctx, out, provenance);
      return 0;
    } catch (err) {
      if (
        err instanceof ConvertError ||
        err instanceof ModelFolderError ||
        err instanceof SafetensorsError ||
        err instanceof ModelFileError ||
        err instanceof GgufWriteError ||
        err instanceof QuantizeError ||
        err instanceof ProvenanceError
      ) {
        ctx.stderr(`taxonomy-studio convert: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  },
});
