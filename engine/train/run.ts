// A whole training run from folders: the model (config, weights, tokenizer, chat template), the data (one messages
// JSONL, or an SDG run folder with its knowledge and skills files as two phases), the memory check, the trainer, and
// the outputs in OUT: adapter/ (PEFT), checkpoints/, loss.csv and train.json (settings, data hashes, figures).
// The CLI's train command and the train job both call runTraining.

import { createHash } from 'node:crypto';
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readModelFolder } from '../hf/modelFolder';
import { openModelWeights } from '../hf/modelWeights';
import { loadTokenizer } from '../hf/tokenizer/files';
import { configFromHf } from '../model/config';
import { DataError, prepareSamples, readMessagesJsonl, type ChatFormat, type DataProblem, type Sample } from './data';
import { initLora } from './lora';
import type { RunSettings } from './settings';

export { defaultRunSettings, type RunSettings } from './settings';
import { splitPhase } from './phaseSplit';
import { checkMemory, estimateMemory, type MemoryEstimate } from './memory';
import { TrainModel } from './model';
import { savePeftAdapter } from './peft';
import { qloraLinear } from './quant';
import { train, type PhaseData, type StepFunction, type TrainerEvents, type TrainerSettings, type TrainResult } from './trainer';

export const adapterFolder = 'adapter';
export const trainJsonFile = 'train.json';

export interface RunOptions {
  modelDir: string;
  /** A messages JSONL file, or an SDG run folder. */
  data: string;
  outDir: string;
  settings: RunSettings;
  resume?: boolean;
  strict?: boolean;
  /** Refuse when the estimate exceeds this many bytes (default: free memory). */
  maxMemory?: number;
  signal?: AbortSignal;
  events?: TrainerEvents & { onProblem?(p: DataProblem): void; onEstimate?(e: MemoryEstimate): void };
  /** Replaces forwardBackward (tests inject faults). */
  step?: StepFunction;
}

export interface RunResult extends TrainResult {
  adapterDir: string;
  estimate: MemoryEstimate;
  samples: number;
  heldOut: number;
  problems: DataProblem[];
}

/** The phase files of a data argument: one JSONL, or an SDG run folder's knowledge and skills files. */
export async function dataFiles(data: string): Promise<{ phase: string; file: string }[]> {
  const info = await stat(data).catch(() => undefined);
  if (!info) throw new DataError(data, undefined, 'not found', 'give a messages JSONL file or a folder that generate wrote');
  if (info.isFile()) return [{ phase: 'train', file: data }];
  const names = (await readdir(data)).sort();
  const newest = (re: RegExp) => names.filter((n) => re.test(n)).at(-1);
  const knowledge = newest(/^knowledge_train_msgs_.*\.jsonl$/);
  const skills = newest(/^skills_train_msgs_.*\.jsonl$/);
  const phases: { phase: string; file: string }[] = [];
  if (knowledge) phases.push({ phase: 'knowledge', file: join(data, knowledge) });
  if (skills) phases.push({ phase: 'skills', file: join(data, skills) });
  if (phases.length === 0) {
    const jsonl = names.filter((n) => n.endsWith('.jsonl'));
    if (jsonl.length === 1) return [{ phase: 'train', file: join(data, jsonl[0]) }];
    throw new DataError(data, undefined, 'has no knowledge_train_msgs_*.jsonl or skills_train_msgs_*.jsonl', 'give the folder generate wrote, or one messages JSONL file');
  }
  return phases;
}

async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

/** Trains and writes OUT/adapter, OUT/checkpoints, OUT/loss.csv and OUT/train.json. */
export async function runTraining(o: RunOptions): Promise<RunResult> {
  const st = o.settings;
  const events = o.events ?? {};
  const folder = await readModelFolder(o.modelDir);
  const config = configFromHf(JSON.parse(await readFile(join(o.modelDir, 'config.json'), 'utf8')) as Record<string, unknown>);
  const tokenizer = await loadTokenizer(o.modelDir);
  const format: ChatFormat = { template: folder.chatTemplate.template, bosToken: folder.bos?.content, eosToken: folder.eos?.content, tokenizer };
  for (const w of folder.warnings) events.onLog?.(`warning: ${w}`);
  const padId = folder.pad?.id ?? folder.eos?.id ?? 0;

  const files = await dataFiles(o.data);
  const problems: DataProblem[] = [];
  const phases: PhaseData[] = [];
  const heldOut: Sample[] = [];
  const dataHashes: Record<string, string> = {};
  for (const f of files) {
    const read = await readMessagesJsonl(f.file, { strict: o.strict });
    dataHashes[basename(f.file)] = read.sha256;
    const prepared = prepareSamples(format, read.conversations, { maxSeqLen: st.maxSeqLen, overlong: st.overlong, strict: o.strict });
    for (const p of [...read.problems, ...prepared.problems]) {
      problems.push(p);
      events.onProblem?.(p);
    }
    if (prepared.truncated || prepared.droppedTooLong) {
      events.onLog?.(`${f.file}: ${prepared.truncated} samples cut to ${st.maxSeqLen} tokens, ${prepared.droppedTooLong} dropped as too long (--max-seq-len)`);
    }
    const split = splitPhase(prepared.samples, phases.at(-1)?.samples, st, f.phase, f.file, problems.length);
    heldOut.push(...split.heldOut);
    phases.push({ name: f.phase, epochs: st.epochs, samples: split.train });
  }

  const lora = initLora(config, { targets: st.targets, rank: st.rank, alpha: st.alpha }, st.seed);
  const estimate = estimateMemory({ config, qlora: st.qlora, checkpointing: st.checkpointing, loraParameters: lora.parameterCount(), batchTokens: st.batchTokens, maxSeqLen: st.maxSeqLen });
  events.onEstimate?.(estimate);
  checkMemory(estimate, o.maxMemory);

  const trainer: TrainerSettings = {
    lr: st.lr,
    warmupRatio: st.warmupRatio,
    weightDecay: st.weightDecay,
    maxGradNorm: st.maxGradNorm,
    accumulate: st.accumulate,
    batchTokens: st.batchTokens,
    maxSeqLen: st.maxSeqLen,
    packing: st.packing,
    seed: st.seed,
    checkpointEvery: st.checkpointEvery,
    evalEvery: st.evalEvery,
  };
  const { checkpointEvery: _c, evalEvery: _e, ...fixed } = st;
  const fingerprint = {
    settings: fixed,
    data: dataHashes,
    model: await sha256File(join(o.modelDir, 'config.json')),
    chatTemplate: createHash('sha256').update(format.template).digest('hex'),
  };

  const reader = await openModelWeights(o.modelDir);
  const model = await TrainModel.build(config, { reader }, lora, {
    ...(st.qlora ? { baseLinear: qloraLinear } : {}),
    loraDropout: st.dropout,
    checkpointing: st.checkpointing,
  }).finally(() => reader.close());
  let result: TrainResult;
  try {
    result = await train({ model, lora, phases, heldOut, padId, settings: trainer, outDir: o.outDir, resume: o.resume, fingerprint, signal: o.signal, events, step: o.step });
  } finally {
    await model.dispose();
  }

  const adapterDir = join(o.outDir, adapterFolder);
  await savePeftAdapter(adapterDir, lora, { baseModel: o.modelDir, dropout: st.dropout });
  const summary = {
    model: o.modelDir,
    data: files.map((f) => ({ phase: f.phase, file: f.file, sha256: dataHashes[basename(f.file)] })),
    chatTemplate: { source: folder.chatTemplate.source, sha256: fingerprint.chatTemplate },
    settings: st,
    samples: Object.fromEntries(phases.map((p) => [p.name, p.samples.length])),
    heldOut: heldOut.length,
    skippedLines: problems.length,
    memoryEstimate: estimate,
    result,
  };
  const tmp = join(o.outDir, `.${trainJsonFile}.tmp`);
  await writeFile(tmp, `${JSON.stringify(summary, null, 2)}\n`);
  await rename(tmp, join(o.outDir, trainJsonFile));
  return { ...result, adapterDir, estimate, samples: phases.reduce((n, p) => n + p.samples.length, 0), heldOut: heldOut.length, problems };
}
