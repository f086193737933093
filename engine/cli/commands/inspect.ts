// `taxonomy-studio inspect FILE`: the metadata and tensors of a GGUF or safetensors file, from its header only.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ModelFileError } from '../../gguf/errors';
import { formatInspection, formatInspectionJson, inspectModelFile, JSON_ARRAY_ITEMS } from '../../gguf/inspect';
import { SafetensorsError } from '../../hf/errors';
import { formatProvenance, ProvenanceError, readProvenance, type FoundProvenance } from '../../provenance/index';
import { UsageError } from '../args';
import { defineCommand } from './command';

export const inspectCommand = defineCommand({
  name: 'inspect',
  summary: 'Show the metadata and tensors of a GGUF or safetensors file',
  usage: 'inspect <file> [--tensors] [--json]',
  description: [
    'Reads the header of a GGUF (v3) or safetensors model file and prints its metadata, then the tensors grouped by',
    'type with their counts and sizes. Long values are shortened: arrays show their length and first items',
    `(e.g. [32000 strings] "<unk>", "<s>", …), long strings their first characters. --tensors adds a row per tensor:`,
    'name, type, shape, bytes and file offset. GGUF shapes are in GGUF order (ne[0], the row length, first);',
    'safetensors shapes are row-major.',
    '',
    `--json prints the same as one JSON object; 64-bit integers are numbers when exact, strings otherwise; infinite`,
    `floats are the strings "Infinity"/"-Infinity"/"NaN"; arrays longer than ${JSON_ARRAY_ITEMS} items keep their first`,
    `${JSON_ARRAY_ITEMS} with "length" and "truncated": true.`,
    '',
    'When the file records what produced it (the taxonomy_studio.provenance metadata key, or a FILE.provenance.json',
    'next to it), a Provenance section follows: the leaves with their git blob sha (or sha256: of the content), the',
    'dataset, teacher, base model and settings; in --json, the record as the "provenance" field.',
    '',
    'Exit status: 0 the file was read, 1 it is damaged or not a model file, 2 bad usage or no such file.',
  ].join('\n'),
  options: {
    tensors: { type: 'boolean', short: 't', description: 'List every tensor (name, type, shape, bytes, offset)' },
    json: { type: 'boolean', description: 'Print one JSON object instead of text' },
    help: { type: 'boolean', short: 'h', description: 'Show this help' },
  },
  async run({ values, positionals }, ctx) {
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'inspect needs a file' : 'inspect reads one file at a time');
    const given = positionals[0];
    const path = resolve(ctx.cwd, given);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new UsageError(`no such file: ${given}`);
    if (info.isDirectory()) throw new UsageError(`${given} is a folder; give a .gguf or .safetensors file`);

    let inspection;
    try {
      inspection = await inspectModelFile(path);
    } catch (err) {
      if (err instanceof ModelFileError || err instanceof SafetensorsError) {
        // Name the file as the user typed it.
        const message = err.message.startsWith(`${path}: `) ? `${given}: ${err.message.slice(path.length + 2)}` : err.message;
        ctx.stderr(`taxonomy-studio inspect: ${message}\n`);
        return 1;
      }
      const code = (err as NodeJS.ErrnoException).code;
      if (code) {
        ctx.stderr(`taxonomy-studio inspect: ${given}: cannot read it (${code}) (check its permissions)\n`);
        return 1;
      }
      throw err;
    }
    inspection.file = given;
    let found: FoundProvenance | undefined;
    try {
      found = await readProvenance(path);
    } catch (err) {
      // The model file itself was read; a damaged record is worth a warning, not a failure.
      if (!(err instanceof ProvenanceError)) throw err;
      ctx.stderr(`taxonomy-studio inspect: warning: ${err.message}\n`);
    }
    const options = { tensors: values.tensors };
    if (values.json) {
      const text = formatInspectionJson(inspection, options);
      // The inspection is one object ending in "\n}\n"; the record goes in as its last field.
      const field = found ? `,\n  "provenance": ${JSON.stringify({ ...found.provenance, source: found.source }, null, 2).replace(/\n/g, '\n  ')}` : '';
      ctx.stdout(found ? `${text.slice(0, text.lastIndexOf('\n}'))}${field}\n}\n` : text);
    } else {
      const text = formatInspection(inspection, options);
      ctx.stdout(found ? `${text}\n${formatProvenance(found.provenance, found.source).join('\n')}\n` : text);
    }
    return 0;
  },
});
