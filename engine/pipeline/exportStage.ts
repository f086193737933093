// The pipeline's export stage: the trained PEFT adapter as llama.cpp's GGUF LoRA adapter (adapter.gguf), and the
// student itself as GGUF (base.gguf) unless a GGUF of it was given. Each file is one unit of the ledger, committed
// after the converter has renamed the finished file into place, so a resumed stage converts only what is missing.
// Each converted file gets its provenance (the taxonomy_studio.provenance key and a <file>.provenance.json sidecar)
// before its unit is committed: the adapter the leaves, dataset, teacher, student and settings; the base the student.
import { stat } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { onlyKnown, wholeNumber } from '../jobs/args';
import { JobArgsError, JobFailure } from '../jobs/errors';
import { defineJob } from '../jobs/job';
import { ConvertError } from '../gguf/convert/errors';
import { GgufWriteError, ModelFileError } from '../gguf/errors';
import { AdapterError } from '../gguf/lora/errors';
import { QuantizeError } from '../gguf/quant/codec';
import { QUANT_MIXES, type QuantMix } from '../gguf/quant/mixes';
import { ModelFolderError, SafetensorsError } from '../hf/errors';
import { adapterProvenancePath, baseModelHash, datasetHash, leafHash, makeProvenance, ProvenanceError, readProvenanceJson, recordProvenance, type Provenance } from '../provenance/index';
import { optionalText, record, requiredText, textList } from './fields';

export const adapterTypeNames = ['f32', 'f16', 'bf16', 'q8_0'] as const;
type AdapterTypeName = (typeof adapterTypeNames)[number];

export interface ExportStageArgs {
  /** Hugging Face folder of the student (the adapter's base). */
  student: string;
  /** PEFT adapter folder the train stage wrote. */
  adapter: string;
  /** A GGUF of the student to serve instead of converting one. */
  studentGguf?: string;
  baseType: QuantMix;
  adapterType: AdapterTypeName;
  /** What produced the adapter, recorded in the files; without it the adapter folder's provenance.json, if any. */
  provenance?: ProvenanceInputs;
}

/** The pipeline's side of the provenance record: the stage hashes the files when it writes the GGUFs. */
export interface ProvenanceInputs {
  taxonomy?: string;
  /** Absolute leaf files (shown relative to the taxonomy). */
  leaves: string[];
  /** The file or generate folder train read. */
  dataset?: string;
  teacher?: string;
  settings: Record<string, unknown>;
}

export interface ExportStageSettings {
  threads?: number;
}

export interface ExportedFile {
  file: string;
  size: number;
  seconds: number;
  /** True for a student GGUF given by the user (nothing converted). */
  given?: boolean;
}

export interface ExportStageSummary extends Record<string, unknown> {
  base: ExportedFile;
  adapter: ExportedFile;
}

export const baseGgufFile = 'base.gguf';
export const adapterGgufFile = 'adapter.gguf';

function oneOf<T extends string>(raw: Record<string, unknown>, key: string, choices: readonly T[], fallback: T): T {
  const v = raw[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) throw new JobArgsError(`${key}: expected one of ${choices.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function modelError(err: unknown): JobFailure | undefined {
  // The converters' own errors carry messages a user acts on (file, what, hint); anything else is a bug.
  const known = [ConvertError, AdapterError, ModelFolderError, SafetensorsError, ModelFileError, GgufWriteError, QuantizeError, ProvenanceError];
  return known.some((k) => err instanceof k) ? new JobFailure((err as Error).message) : undefined;
}

export const exportStageJob = defineJob({
  kind: 'pipeline-export',
  title: 'Exporting to GGUF',
  description:
    'pipeline stage: the PEFT adapter to a GGUF LoRA adapter, and the student to GGUF unless one is given, each with its provenance ' +
    '(args: student, adapter, studentGguf, baseType, adapterType, provenance {taxonomy, leaves, dataset, teacher, settings}).',
  unit: 'files',
  parseArgs(raw): ExportStageArgs {
    onlyKnown(raw, ['student', 'adapter', 'studentGguf', 'baseType', 'adapterType', 'provenance'], 'args');
    const studentGguf = optionalText(raw, 'studentGguf');
    const provenance = parseProvenanceInputs(raw);
    return {
      ...(provenance ? { provenance } : {}),
      student: requiredText(raw, 'student', 'the Hugging Face folder of the student'),
      adapter: requiredText(raw, 'adapter', 'the PEFT adapter folder'),
      ...(studentGguf ? { studentGguf } : {}),
      baseType: oneOf(raw, 'baseType', QUANT_MIXES, 'f16'),
      adapterType: oneOf(raw, 'adapterType', adapterTypeNames, 'f32'),
    };
  },
  parseSettings(raw): ExportStageSettings {
    onlyKnown(raw, ['threads'], 'settings');
    const threads = wholeNumber(raw, 'threads', { min: 1, max: 256 });
    return threads === undefined ? {} : { threads };
  },
  async run(ctx): Promise<ExportStageSummary> {
    const { args, run } = ctx;
    const total = args.studentGguf ? 1 : 2;
    let done = 0;
    ctx.progress({ done, total, stage: 'exporting' });
    let base: ExportedFile;
    try {
      if (args.studentGguf) {
        const info = await stat(args.studentGguf).catch(() => undefined);
        if (!info?.isFile()) throw new JobFailure(`${args.studentGguf}: no such GGUF file (--student-gguf)`, args.studentGguf);
        base = { file: args.studentGguf, size: info.size, seconds: 0, given: true };
      } else if (run.isDone('base')) {
        base = run.completedMeta('base') as ExportedFile;
        ctx.progress({ done: ++done, total, stage: 'base model exported before' });
      } else {
        ctx.progress({ done, total, stage: `converting the student to GGUF (${args.baseType})` });
        const started = performance.now();
        const { convertHfToGguf } = await import('../gguf/convert/index');
        const out = run.path(baseGgufFile);
        const result = await convertHfToGguf(args.student, out, args.baseType, { ...(ctx.settings.threads ? { threads: ctx.settings.threads } : {}), signal: ctx.signal });
        for (const w of result.warnings) ctx.log('warn', `convert: ${w}`);
        const prov = makeProvenance({ leaves: [], baseModel: await baseModelHash(args.student), settings: { baseType: args.baseType } });
        const size = await recordIn(out, prov);
        base = { file: out, size, seconds: (performance.now() - started) / 1000 };
        await run.commit('base', {}, base);
        ctx.progress({ done: ++done, total, stage: 'student converted' });
      }

      let adapter: ExportedFile;
      if (run.isDone('adapter')) {
        adapter = run.completedMeta('adapter') as ExportedFile;
      } else {
        ctx.signal.throwIfAborted();
        ctx.progress({ done, total, stage: `exporting the adapter (${args.adapterType})` });
        const started = performance.now();
        const { exportLoraAdapter } = await import('../gguf/lora/export');
        const out = run.path(adapterGgufFile);
        const prov = await adapterProvenance(args);
        const result = await exportLoraAdapter({ peftDir: args.adapter, baseDir: args.student, out, type: args.adapterType });
        const size = prov ? await recordIn(out, prov) : result.size;
        if (!prov) ctx.log('warn', `${args.adapter}: no provenance given and no provenance.json in it; the adapter records none`);
        adapter = { file: out, size, seconds: (performance.now() - started) / 1000 };
        await run.commit('adapter', {}, adapter);
      }
      ctx.progress({ done: total, total, stage: 'exported' });
      return { base, adapter };
    } catch (err) {
      throw modelError(err) ?? err;
    }
  },
  describe: (s) => `adapter ${s.adapter.file}${s.base.given ? '' : `, base ${s.base.file}`}`,
});

function parseProvenanceInputs(raw: Record<string, unknown>): ProvenanceInputs | undefined {
  const given = record(raw, 'provenance');
  if (!given) return undefined;
  const field = (f: () => unknown) => {
    try {
      return f();
    } catch (err) {
      if (err instanceof JobArgsError) throw new JobArgsError(`provenance.${err.message}`);
      throw err;
    }
  };
  const unknown = Object.keys(given).find((k) => !['taxonomy', 'leaves', 'dataset', 'teacher', 'settings'].includes(k));
  if (unknown) throw new JobArgsError(`provenance: unknown field '${unknown}'`);
  const taxonomy = field(() => optionalText(given, 'taxonomy')) as string | undefined;
  const dataset = field(() => optionalText(given, 'dataset')) as string | undefined;
  const teacher = field(() => optionalText(given, 'teacher')) as string | undefined;
  return {
    ...(taxonomy ? { taxonomy } : {}),
    leaves: field(() => textList(given, 'leaves')) as string[],
    ...(dataset ? { dataset } : {}),
    ...(teacher ? { teacher: withoutCredentials(teacher) } : {}),
    settings: (field(() => record(given, 'settings')) as Record<string, unknown> | undefined) ?? {},
  };
}

/** A teacher URL may carry user:password@; the record, which is copied with the model, must not. */
export function withoutCredentials(teacher: string): string {
  return teacher.replace(/(\w+:\/\/)[^/@\s,]*@/g, '$1');
}

/** The adapter's record: from the pipeline's inputs (files hashed now), else the adapter folder's own provenance.json. */
async function adapterProvenance(args: ExportStageArgs): Promise<Provenance | undefined> {
  const inputs = args.provenance;
  if (!inputs) return readProvenanceJson(adapterProvenancePath(args.adapter));
  const shown = (file: string) => {
    const rel = inputs.taxonomy ? relative(inputs.taxonomy, file) : '';
    return rel && !rel.startsWith('..') ? rel.split(sep).join('/') : file;
  };
  const leaves = [];
  for (const file of inputs.leaves) leaves.push(await leafHash(file, shown(file)));
  return makeProvenance({
    leaves,
    ...(inputs.taxonomy ? { taxonomy: inputs.taxonomy } : {}),
    ...(inputs.dataset ? { dataset: await datasetHash(inputs.dataset) } : {}),
    ...(inputs.teacher ? { teacher: inputs.teacher } : {}),
    baseModel: await baseModelHash(args.student),
    settings: { ...inputs.settings, adapterType: args.adapterType },
  });
}

/** Records `prov` in the GGUF and its sidecar; the file's new size. */
async function recordIn(file: string, prov: Provenance): Promise<number> {
  return (await recordProvenance(file, prov)).size;
}
