// The "Ask this leaf" table: each question, its expected answer, and each model's answer with its similarity score;
// exported as CSV (RFC 4180) or a markdown table. No vscode or Node import: the webview reads these types too.
import { tokenSetF1 } from '../../engine/eval/similarity';

export interface LeafQuestion {
  /** 1-based seed example, and the question's place in it (knowledge has several per seed); 0 for a held-out one. */
  seed: number;
  question: string;
  expected: string;
  /** What is sent as the user message: the question, after the seed's context for skills that have one. */
  prompt: string;
  /** 0-based line of a seed question in the file. */
  line?: number;
  /** A generated question training held out (and no trained sample carries): where the sample is, "<file>:<line>". */
  heldOut?: string;
}

export interface AskAnswer {
  text: string;
  /** Token-set F1 against the expected answer; undefined while waiting or after an error. */
  score?: number;
  error?: string;
}

export interface AskRow extends LeafQuestion {
  /** By model id, in the report's model order. */
  answers: Record<string, AskAnswer>;
}

export interface AskReport {
  leaf: string;
  models: string[];
  rows: AskRow[];
  /** What the table holds besides seed questions, or why it holds none (no generate run found, none held out). */
  note?: string;
}

export function scoredAnswer(text: string, expected: string): AskAnswer {
  return { text, score: tokenSetF1(text, expected).f1 };
}

/** Mean score per model over the rows answered. */
export function meanScores(report: AskReport): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const m of report.models) {
    const scores = report.rows.map((r) => r.answers[m]?.score).filter((s): s is number => s !== undefined);
    out[m] = scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : undefined;
  }
  return out;
}

const score = (s: number | undefined) => (s === undefined ? '' : s.toFixed(3));
const cell = (a: AskAnswer | undefined) => (a?.error ? `error: ${a.error}` : (a?.text ?? ''));

function header(models: readonly string[]): string[] {
  return ['seed', 'question', 'expected', ...models.flatMap((m) => [`${m} answer`, `${m} F1`])];
}

function rowCells(report: AskReport, row: AskRow): string[] {
  return [row.heldOut ? 'held-out' : String(row.seed), row.question, row.expected, ...report.models.flatMap((m) => [cell(row.answers[m]), score(row.answers[m]?.score)])];
}

/** RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled; lines end in CRLF. */
export function toCsv(report: AskReport): string {
  const field = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [header(report.models), ...report.rows.map((r) => rowCells(report, r))].map((cells) => cells.map(field).join(',')).join('\r\n') + '\r\n';
}

/** A GitHub-flavoured markdown table: pipes escaped, line breaks as <br>, HTML-significant characters escaped. */
export function toMarkdown(report: AskReport): string {
  const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
  const head = header(report.models);
  const lines = [`# Ask this leaf: ${esc(report.leaf)}`, '', `| ${head.map(esc).join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`];
  for (const r of report.rows) lines.push(`| ${rowCells(report, r).map(esc).join(' | ')} |`);
  const means = meanScores(report);
  lines.push('', `Mean token-set F1: ${report.models.map((m) => `${m} ${score(means[m]) || 'n/a'}`).join(', ')}.`);
  if (report.note) lines.push('', esc(report.note));
  return lines.join('\n') + '\n';
}
