// `export-training --for trl`: everything a cluster needs to train the adapter `train` would train, with Hugging Face
// TRL + PEFT: the phases' data as our trainer reads them (phases.ts), the chat template, train.py (trlScript.ts), the
// accelerate FSDP config, launch.sh and requirements.txt (launchFiles.ts), README.md (readme.ts) and settings.json
// (every RunSettings value, the phases, and the provenance the train job would record).
import { createHash } from 'node:crypto';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { toolName, type Provenance } from '../../provenance/record';
import { trainingProvenance } from '../../provenance/training';
import type { DataProblem } from '../data';
import type { RunSettings } from '../settings';
import { accelerateConfig, accelerateConfigFile, decoderLayers, launchScript, requirements } from './launchFiles';
import { exportPhases, type ExportRow } from './phases';
import { trlReadme } from './readme';
import { loraConfigOf, trlScript } from './trlScript';

export const trlFiles = {
  script: 'train.py',
  launch: 'launch.sh',
  accelerate: accelerateConfigFile,
  requirements: 'requirements.txt',
  readme: 'README.md',
  settings: 'settings.json',
  chatTemplate: 'chat_template.jinja',
  eval: 'data/eval.jsonl',
} as const;

export interface TrlExportOptions {
  modelDir: string;
  /** A messages JSONL file, or a generate run folder. */
  data: string;
  outDir: string;
  settings: RunSettings;
  strict?: boolean;
}

export interface TrlExportPhase {
  name: string;
  /** Relative to the export folder. */
  file: string;
  source: string;
  sha256: string;
  epochs: number;
  samples: number;
  replayed: number;
  heldOut: number;
  truncated: number;
  droppedTooLong: number;
  tokens: number;
  trainedTokens: number;
}

export interface TrlExportResult {
  outDir: string;
  /** Every file written, relative to outDir. */
  files: string[];
  phases: TrlExportPhase[];
  evalSamples: number;
  problems: DataProblem[];
  warnings: string[];
  provenance: Provenance;
}

/** Micro-batch rows per device: as many samples of the longest length as the trainer's batch tokens hold. */
export function rowsPerDevice(st: RunSettings): number {
  return Math.max(1, Math.floor(st.batchTokens / st.maxSeqLen));
}

const jsonl = (rows: readonly ExportRow[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');

export async function exportForTrl(o: TrlExportOptions): Promise<TrlExportResult> {
  const st = o.settings;
  const data = await exportPhases(o.modelDir, o.data, st, { strict: o.strict });
  const phases: TrlExportPhase[] = data.phases.map((p, i) => ({
    name: p.name,
    file: `data/${i + 1}-${p.name}.jsonl`,
    source: p.source,
    sha256: p.sha256,
    epochs: p.epochs,
    samples: p.rows.length,
    replayed: p.replayed,
    heldOut: p.heldOut,
    truncated: p.truncated,
    droppedTooLong: p.droppedTooLong,
    tokens: p.rows.reduce((n, r) => n + r.input_ids.length, 0),
    trainedTokens: p.rows.reduce((n, r) => n + r.assistant_masks.reduce((a, b) => a + b, 0), 0),
  }));
  const evalFile = data.heldOut.length ? trlFiles.eval : undefined;
  const decoderLayer = decoderLayers[data.modelType];
  const rows = rowsPerDevice(st);
  const tool = toolName();
  // The record the train job writes beside its adapter; train.py copies it into OUT/adapter.
  const provenance = await trainingProvenance(o.modelDir, o.data, { ...st });
  const settingsJson = {
    format: 1,
    for: 'trl',
    tool,
    baseModel: o.modelDir,
    data: o.data,
    settings: st,
    phases,
    eval: evalFile ? { file: evalFile, samples: data.heldOut.length } : null,
    chatTemplate: { file: trlFiles.chatTemplate, source: data.chatTemplate.source, sha256: createHash('sha256').update(data.chatTemplate.template).digest('hex') },
    trl: {
      lora: loraConfigOf(st),
      perDeviceTrainBatchSize: rows,
      gradientAccumulationSteps: st.accumulate,
      lrSchedulerType: 'cosine',
      warmupRatio: st.warmupRatio,
      maxLength: st.maxSeqLen,
      packing: st.packing ? 'bfd' : false,
      quantization: st.qlora ? { load_in_4bit: true, bnb_4bit_quant_type: 'nf4', bnb_4bit_compute_dtype: 'bfloat16', bnb_4bit_use_double_quant: true } : null,
      fsdpWrap: decoderLayer ?? null,
    },
    skippedLines: data.problems.length,
    provenance,
  };

  const contents: [string, string, number?][] = [
    ...data.phases.map((p, i) => [phases[i].file, jsonl(p.rows)] as [string, string]),
    ...(evalFile ? [[evalFile, jsonl(data.heldOut)] as [string, string]] : []),
    [trlFiles.chatTemplate, data.chatTemplate.template],
    [trlFiles.script, trlScript({ settings: st, phases, evalFile, baseModel: o.modelDir, decoderLayer, rowsPerDevice: rows, tool }), 0o755],
    [trlFiles.accelerate, accelerateConfig({ qlora: st.qlora, decoderLayer })],
    [trlFiles.launch, launchScript({ baseModel: o.modelDir, phases: phases.map((p) => p.name) }), 0o755],
    [trlFiles.requirements, requirements({ qlora: st.qlora })],
    [trlFiles.readme, trlReadme({ settings: st, baseModel: o.modelDir, data: o.data, phases, evalFile, evalSamples: data.heldOut.length, rowsPerDevice: rows, tool })],
    [trlFiles.settings, `${JSON.stringify(settingsJson, null, 2)}\n`],
  ];
  for (const [name, text, mode] of contents) {
    const path = join(o.outDir, name);
    await mkdir(dirname(path), { recursive: true });
    // Whole or not at all: a half-written train.py or dataset is worse than none.
    const tmp = join(dirname(path), `.${name.split('/').at(-1)}.tmp`);
    await writeFile(tmp, text);
    if (mode !== undefined) await chmod(tmp, mode);
    await rename(tmp, path);
  }
  return { outDir: o.outDir, files: contents.map(([name]) => name), phases, evalSamples: data.heldOut.length, problems: data.problems, warnings: data.warnings, provenance };
}
