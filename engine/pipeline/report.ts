// report.md of a pipeline run: what went in (taxonomy, leaves, teacher, student), each stage with its time, the data
// per leaf, the loss curve (loss.png, drawn here from train/loss.csv) and the evaluation table, with links to the
// files a user takes further (datasets, adapter, GGUF). Written atomically into the run folder at the end of every
// attempt that gets there, from what the stages recorded, so it is the same whichever attempts did the work.
import { readFile } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import type { RunDir } from '../jobs/runDir';
import type { GenerateSummary } from '../sdg/generate';
import type { RunReport } from '../sdg/report';
import type { CheckStageSummary } from './checkStage';
import type { EvaluateStageSummary } from './evaluateStage';
import type { ExportStageSummary } from './exportStage';
import type { PipelineArgs, PipelineSettings, StageName, StageRecord } from './job';
import { parseLossCsv, plotLoss, type LossCurve } from './plot';

export const reportFile = 'report.md';
export const plotFile = 'loss.png';

interface TrainJson {
  samples?: Record<string, number>;
  heldOut?: number;
  result?: { steps?: number; initialEvalLoss?: number; finalEvalLoss?: number; lastLoss?: number; trainedTokens?: number };
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function cell(text: unknown): string {
  return String(text).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function table(head: readonly string[], rows: readonly (readonly unknown[])[], align?: readonly ('l' | 'r')[]): string {
  const rule = head.map((_, i) => (align?.[i] === 'r' ? '---:' : '---'));
  return [head, rule, ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} bytes`;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
const f3 = (x: number | undefined) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(3) : '-');
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;

export interface ReportInputs {
  args: PipelineArgs;
  settings: PipelineSettings;
  runDir: string;
  records: Record<StageName, StageRecord>;
  generate?: RunReport;
  train?: TrainJson;
  curve: LossCurve;
  /** Whether loss.png was written. */
  plot: boolean;
  now: Date;
}

/** The markdown of the report (pure: tests give it inputs directly). */
export function renderReport(r: ReportInputs): string {
  const { args, settings, records } = r;
  const rel = (p: string) => {
    const x = relative(r.runDir, p);
    return x && !x.startsWith('..') ? x.split(sep).join('/') : p;
  };
  const check = records.check.summary as CheckStageSummary;
  const gen = records.generate.summary as GenerateSummary;
  const exp = records.export.summary as ExportStageSummary;
  const ev = records.evaluate.summary as EvaluateStageSummary;
  const steps = Number(records.train.summary.steps ?? 0);
  const result = r.train?.result ?? {};
  const total = Object.values(records).reduce((s, x) => s + x.seconds, 0);
  const attempts = (n: StageName) => (records[n].attempts > 1 ? ` (${records[n].attempts} attempts)` : '');
  const out: string[] = [];

  out.push('# Pipeline report', '');
  out.push(
    table(
      ['', ''],
      [
        ['Taxonomy', args.taxonomy],
        ['Leaves', `${check.leaves.length} (${check.selection}): ${check.leaves.map((l) => l.path).join(', ')}`],
        ['Teacher', settings.teacher],
        ['Student', args.student + (args.studentGguf ? ` (served from ${args.studentGguf})` : '')],
        ['Settings', `${args.perSeed} samples per seed, ${args.epochs} epoch${args.epochs === 1 ? '' : 's'}, LoRA rank ${args.rank}${args.qlora ? ', QLoRA' : ''}, seed ${args.seed}`],
        ['Written', r.now.toISOString()],
      ],
    ),
    '',
  );

  out.push('## Stages', '');
  const evalSeconds = Math.max(0, records.evaluate.seconds - ev.serveSeconds);
  out.push(
    table(
      ['Stage', 'Time', 'Result', 'Folder'],
      [
        ['check', formatSeconds(records.check.seconds) + attempts('check'), `${plural(check.leaves.length, 'leaf', 'leaves')}, ${plural(check.errors, 'error', 'errors')}, ${plural(check.warnings, 'warning', 'warnings')}`, 'check/'],
        ['generate', formatSeconds(records.generate.seconds) + attempts('generate'), `${gen.kept} samples kept of ${gen.generated} generated${gen.skipped ? `, ${gen.skipped} leaves skipped` : ''}`, 'generate/'],
        ['train', formatSeconds(records.train.seconds) + attempts('train'), `${steps} steps${typeof result.finalEvalLoss === 'number' ? `, held-out loss ${f3(result.initialEvalLoss)} → ${f3(result.finalEvalLoss)}` : ''}`, 'train/'],
        ['export', formatSeconds(records.export.seconds) + attempts('export'), `adapter ${formatBytes(exp.adapter.size)}${exp.base.given ? '; student GGUF given' : `, base ${formatBytes(exp.base.size)}`}`, 'export/'],
        ['serve', formatSeconds(ev.serveSeconds), 'base and tuned on one server in this process', 'evaluate/'],
        ['evaluate', formatSeconds(evalSeconds) + attempts('evaluate'), `${ev.questions} questions, mean token-set F1 base ${f3(ev.base)}, tuned ${f3(ev.tuned)}`, 'evaluate/'],
        ['**total**', `**${formatSeconds(total)}**`, '', ''],
      ],
      ['l', 'r', 'l', 'l'],
    ),
    '',
  );

  out.push('## Data', '');
  const leaves = r.generate?.leaves ?? [];
  if (leaves.length) {
    out.push(
      table(
        ['Leaf', 'Pipeline', 'Generated', 'Kept', 'Dropped'],
        leaves.map((l) => [
          l.leaf,
          l.pipeline,
          l.generated,
          l.kept,
          l.skipped ? `skipped: ${l.skipped}` : Object.entries(l.dropped).map(([why, n]) => `${n} ${why}`).join(', ') || '0',
        ]),
        ['l', 'l', 'r', 'r', 'l'],
      ),
      '',
    );
  }
  if (r.generate?.mixed?.length) out.push(`Mixed training files: ${r.generate.mixed.map((m) => `[${m.file}](generate/${m.file}) (${m.lines} lines)`).join(', ')}.`, '');

  out.push('## Training', '');
  if (r.plot) out.push(`![Loss curve: train loss per step (line) and held-out loss (dots)](${plotFile})`, '');
  const samples = r.train?.samples ? Object.entries(r.train.samples).map(([phase, n]) => `${n} ${phase}`).join(', ') : '';
  out.push(
    `${steps} optimizer steps${samples ? ` on ${samples} samples` : ''}${r.train?.heldOut ? `, ${r.train.heldOut} held out` : ''}` +
      `${result.trainedTokens ? `, ${result.trainedTokens} trained tokens` : ''}; last train loss ${f3(result.lastLoss ?? r.curve.train.at(-1)?.loss)}. ` +
      `Adapter: [train/adapter](train/adapter) (PEFT), [${rel(exp.adapter.file)}](${rel(exp.adapter.file)}) (GGUF).`,
    '',
  );

  out.push('## Evaluation', '');
  out.push(
    'Each leaf\'s seed questions asked to the student as it was (base) and with the adapter (tuned), greedy, ' +
      `at most ${args.evalMaxTokens} tokens; answers scored against the seed answers by token-set F1 (0 no word in common, 1 the same words). ` +
      'Knowledge questions are asked without their context.',
    '',
  );
  out.push(
    table(
      ['Leaf', 'Kind', 'Questions', 'Base F1', 'Tuned F1', 'Δ', 'Tuned better / worse'],
      [
        ...ev.leaves.map((l) => [l.leaf, l.kind, l.questions + (l.skipped ? ` (+${l.skipped} not asked)` : ''), f3(l.base), f3(l.tuned), signed(l.delta), `${l.better} / ${l.worse}`]),
        ['**all**', '', ev.questions, `**${f3(ev.base)}**`, `**${f3(ev.tuned)}**`, `**${signed(ev.tuned - ev.base)}**`, ''],
      ],
      ['l', 'l', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
  );
  out.push(`Every answer with its scores: [evaluate/${ev.answers}](evaluate/${ev.answers}).`, '');

  out.push('## Try it', '');
  out.push('```sh', `taxonomy-studio serve --model ${exp.base.file} --adapter ${exp.adapter.file}=tuned`, '```', '');
  return `${out.join('\n')}\n`;
}

/** Draws loss.png and writes report.md into the run folder; returns their paths. */
export async function writePipelineReport(run: RunDir, args: PipelineArgs, settings: PipelineSettings, records: Record<StageName, StageRecord>): Promise<{ report: string; plot?: string }> {
  const csv = await readFile(run.path('train/loss.csv'), 'utf8').catch(() => '');
  const curve = parseLossCsv(csv);
  const plot = curve.train.length + curve.eval.length > 0;
  if (plot) await run.writeAtomic(plotFile, plotLoss(curve).png);
  const text = renderReport({
    args,
    settings,
    runDir: run.dir,
    records,
    generate: await readJson<RunReport>(run.path('generate/report.json')),
    train: await readJson<TrainJson>(run.path('train/train.json')),
    curve,
    plot,
    now: new Date(),
  });
  await run.writeAtomic(reportFile, text);
  return { report: run.path(reportFile), ...(plot ? { plot: run.path(plotFile) } : {}) };
}
