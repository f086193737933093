// The phases a training run would train, as data another trainer can take: the same data files (dataFiles), the same
// reading, rendering, tokenizing and loss masks (data.ts), the same held-out split and LAB replay as runTraining, so a
// cluster trains on exactly the token ids and assistant masks our trainer would. Each row keeps its messages and the
// rendered text, so the files stay readable and the cluster's tokenizer can be checked against ours.
import { readModelFolder } from '../../hf/modelFolder';
import { renderChatTemplate } from '../../hf/chatTemplate';
import { loadTokenizer } from '../../hf/tokenizer/files';
import { prepareSamples, readMessagesJsonl, type ChatFormat, type Conversation, type DataProblem, type Sample } from '../data';
import { splitPhase } from '../phaseSplit';
import { dataFiles } from '../run';
import type { RunSettings } from '../settings';

/** One training sample as exported: where it came from, what it says, and exactly what is trained. */
export interface ExportRow {
  /** file:line of the input line. */
  source: string;
  messages: Conversation['messages'];
  unmask: boolean;
  /** The conversation rendered with the model's chat template (before any cut to maxSeqLen). */
  text: string;
  input_ids: number[];
  /** 1 where the token is a training target (the trainer's loss mask), per token. */
  assistant_masks: number[];
}

export interface ExportPhase {
  name: string;
  /** The input file the phase reads (a generate run's knowledge or skills file, or the JSONL given). */
  source: string;
  sha256: string;
  epochs: number;
  rows: ExportRow[];
  /** Rows of this phase that are replayed from the phase before (LAB's replay), at the end of `rows`. */
  replayed: number;
  /** This phase's samples held out for the evaluation loss. */
  heldOut: number;
  truncated: number;
  droppedTooLong: number;
}

export interface ExportData {
  phases: ExportPhase[];
  /** The held-out samples of every phase, as the trainer pools them. */
  heldOut: ExportRow[];
  problems: DataProblem[];
  chatTemplate: { template: string; source: string };
  /** config.json's model_type (llama, mistral, granite, qwen2). */
  modelType: string;
  warnings: string[];
}

/** Reads `data` as `train` would and returns its phases, held-out rows and skipped lines. */
export async function exportPhases(modelDir: string, data: string, st: RunSettings, options: { strict?: boolean } = {}): Promise<ExportData> {
  const folder = await readModelFolder(modelDir);
  const tokenizer = await loadTokenizer(modelDir);
  const format: ChatFormat = { template: folder.chatTemplate.template, bosToken: folder.bos?.content, eosToken: folder.eos?.content, tokenizer };
  const files = await dataFiles(data);
  const problems: DataProblem[] = [];
  const phases: ExportPhase[] = [];
  const heldOut: ExportRow[] = [];
  // Phase samples as the trainer holds them (for replay), beside their rows.
  const trained: { samples: Sample[]; rows: ExportRow[] }[] = [];

  for (const f of files) {
    const read = await readMessagesJsonl(f.file, { strict: options.strict });
    const prepared = prepareSamples(format, read.conversations, { maxSeqLen: st.maxSeqLen, overlong: st.overlong, strict: options.strict });
    problems.push(...read.problems, ...prepared.problems);
    const bySource = new Map(read.conversations.map((c) => [`${c.file}:${c.line}`, c]));
    const rowOf = (s: Sample): ExportRow => {
      const c = bySource.get(s.source)!;
      return {
        source: s.source,
        messages: c.messages,
        unmask: c.unmask,
        text: renderChatTemplate(format.template, c.messages, { addGenerationPrompt: false, bosToken: format.bosToken, eosToken: format.eosToken }),
        input_ids: Array.from(s.ids),
        assistant_masks: Array.from(s.lossMask),
      };
    };
    const previous = trained.at(-1);
    const split = splitPhase(prepared.samples, previous?.samples, st, f.phase, f.file, problems.length);
    heldOut.push(...split.heldOut.map(rowOf));
    const samples = split.train;
    const own = samples.length - split.replayed.length;
    const rows = [...samples.slice(0, own).map(rowOf), ...split.replayed.map((i) => previous!.rows[i])];
    const replayed = split.replayed.length;
    trained.push({ samples, rows });
    phases.push({
      name: f.phase,
      source: f.file,
      sha256: read.sha256,
      epochs: st.epochs,
      rows,
      replayed,
      heldOut: split.heldOut.length,
      truncated: prepared.truncated,
      droppedTooLong: prepared.droppedTooLong,
    });
  }
  return { phases, heldOut, problems, chatTemplate: { template: folder.chatTemplate.template, source: folder.chatTemplate.source }, modelType: folder.config.modelType, warnings: folder.warnings };
}
