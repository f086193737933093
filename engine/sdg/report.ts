// What a generation run reports, per leaf and in total: samples generated and kept, what each filter (and dedup)
// dropped and why, teacher tokens and time, and the files written. The pipelines fill it as they go; the CLI prints
// it as a table and the run folder keeps it as report.json.
import type { ChatResult } from './teachers/teacher';

export type LeafPipeline = 'knowledge' | 'freeform_skill' | 'grounded_skill';

export interface TeacherUsage {
  /** Answers received (each may have taken several requests). */
  calls: number;
  /** Calls that ended in an error (the sample is then lost, and counted under a drop reason too). */
  failed: number;
  promptTokens: number;
  completionTokens: number;
  /** Sum of the calls' times; calls overlap, so this exceeds the wall time of a parallel run. */
  ms: number;
}

export interface LeafReport {
  /** Path from the kind folder ("knowledge/astronomy/…"). */
  leaf: string;
  pipeline: LeafPipeline;
  /** Candidates produced before filtering. */
  generated: number;
  /** Samples written to the leaf's dataset. */
  kept: number;
  /** Reason → samples dropped for it ("teacher returned invalid JSON", "near duplicate", "judged unfaithful", …). */
  dropped: Record<string, number>;
  teacher: TeacherUsage;
  /** Knowledge leaves: documents read and chunks made. */
  documents?: number;
  chunks?: number;
  /** Files written for this leaf, relative to the run folder. */
  files: string[];
  /** Why the leaf produced nothing (it had errors, its documents could not be read); absent when it ran. */
  skipped?: string;
  /** Wall time spent on the leaf. */
  ms?: number;
}

export interface RunReport {
  version: 1;
  teacher: string;
  startedAt: string;
  finishedAt?: string;
  leaves: LeafReport[];
  /** The mixed files and how many lines each holds. */
  mixed?: { file: string; lines: number }[];
}

export interface RunTotals {
  leaves: number;
  skipped: number;
  generated: number;
  kept: number;
  dropped: Record<string, number>;
  teacher: TeacherUsage;
}

export function emptyUsage(): TeacherUsage {
  return { calls: 0, failed: 0, promptTokens: 0, completionTokens: 0, ms: 0 };
}

export function newLeafReport(leaf: string, pipeline: LeafPipeline): LeafReport {
  return { leaf, pipeline, generated: 0, kept: 0, dropped: {}, teacher: emptyUsage(), files: [] };
}

export function countDrop(report: Pick<LeafReport, 'dropped'>, reason: string, n = 1): void {
  report.dropped[reason] = (report.dropped[reason] ?? 0) + n;
}

/** Adds one teacher answer (or a failed call, when `result` is undefined). */
export function addTeacherCall(usage: TeacherUsage, result?: Pick<ChatResult, 'promptTokens' | 'completionTokens' | 'ms'>, failedMs = 0): void {
  if (!result) {
    usage.failed++;
    usage.ms += failedMs;
    return;
  }
  usage.calls++;
  usage.promptTokens += result.promptTokens;
  usage.completionTokens += result.completionTokens;
  usage.ms += result.ms;
}

function addUsage(into: TeacherUsage, u: TeacherUsage): void {
  into.calls += u.calls;
  into.failed += u.failed;
  into.promptTokens += u.promptTokens;
  into.completionTokens += u.completionTokens;
  into.ms += u.ms;
}

export function runTotals(leaves: readonly LeafReport[]): RunTotals {
  const t: RunTotals = { leaves: leaves.length, skipped: 0, generated: 0, kept: 0, dropped: {}, teacher: emptyUsage() };
  for (const l of leaves) {
    if (l.skipped !== undefined) t.skipped++;
    t.generated += l.generated;
    t.kept += l.kept;
    for (const [reason, n] of Object.entries(l.dropped)) countDrop(t, reason, n);
    addUsage(t.teacher, l.teacher);
  }
  return t;
}

function seconds(ms: number): string {
  return ms >= 100_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** The report as a plain-text table: one row per leaf, a total row, then drop reasons. */
export function formatRunReport(report: RunReport): string {
  const header = ['leaf', 'pipeline', 'generated', 'kept', 'dropped', 'tokens in', 'tokens out', 'teacher time'];
  const row = (l: { leaf: string; pipeline: string; generated: number; kept: number; dropped: Record<string, number>; teacher: TeacherUsage }) => [
    l.leaf,
    l.pipeline,
    String(l.generated),
    String(l.kept),
    String(Object.values(l.dropped).reduce((a, b) => a + b, 0)),
    String(l.teacher.promptTokens),
    String(l.teacher.completionTokens),
    seconds(l.teacher.ms),
  ];
  const totals = runTotals(report.leaves);
  const rows = report.leaves.map((l) => (l.skipped !== undefined ? [l.leaf, l.pipeline, `skipped: ${l.skipped}`, '', '', '', '', ''] : row(l)));
  rows.push(row({ leaf: 'total', pipeline: '', ...totals }));
  const numeric = new Set([2, 3, 4, 5, 6, 7]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.filter((r) => !(r[2] ?? '').startsWith('skipped')).map((r) => r[c].length)));
  const fmt = (r: string[]) => {
    if (r[2]?.startsWith('skipped')) return `${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2]}`;
    return r.map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  };
  const out = [fmt(header), ...rows.map(fmt)];
  const reasons = Object.entries(totals.dropped).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (reasons.length) {
    out.push('', 'dropped:');
    for (const [reason, n] of reasons) out.push(`  ${String(n).padStart(6)}  ${reason}`);
  }
  if (report.mixed?.length) {
    out.push('', 'mixed:');
    for (const m of report.mixed) out.push(`  ${m.file}: ${m.lines} lines`);
  }
  return out.join('\n');
}
