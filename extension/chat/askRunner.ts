// Runs an "Ask this leaf" report: every question to every model, a few requests at a time, greedy (temperature 0)
// so a re-run gives the same table. Rows fill in as answers arrive. No vscode import.
import { scoredAnswer, type AskReport, type LeafQuestion } from './report';
import { streamChat } from './client';
import { buildMessages, chatRequestBody } from './messages';
import type { ResolvedModel } from './session';

export interface AskOptions {
  signal?: AbortSignal;
  /** Called after each answer (and each failure) with the report as it stands. */
  onUpdate?: (report: AskReport) => void;
  /** Requests at once over all models (default 2: a local server decodes them together). */
  concurrency?: number;
  maxTokens?: number;
  system?: string;
}

/** A report with empty answers, in question order. */
export function newReport(leaf: string, questions: readonly LeafQuestion[], models: readonly string[]): AskReport {
  return { leaf, models: [...models], rows: questions.map((q) => ({ ...q, answers: {} })) };
}

export async function runAskLeaf(report: AskReport, targets: Readonly<Record<string, ResolvedModel>>, options: AskOptions = {}): Promise<AskReport> {
  const jobs = report.rows.flatMap((row) => report.models.map((model) => ({ row, model })));
  let next = 0;
  const worker = async () => {
    while (next < jobs.length && !options.signal?.aborted) {
      const { row, model } = jobs[next++];
      const target = targets[model];
      try {
        if (!target) throw new Error(`no model "${model}" to ask`);
        const body = chatRequestBody(target.model, buildMessages(options.system ?? '', [{ user: row.prompt }]), { temperature: 0, top_p: 1, max_tokens: options.maxTokens ?? 512 });
        const { text } = await streamChat(target.endpoint, body, options.signal ? { signal: options.signal } : {});
        row.answers[model] = scoredAnswer(text, row.expected);
      } catch (err) {
        if (options.signal?.aborted) break;
        row.answers[model] = { text: '', error: err instanceof Error ? err.message : String(err) };
      }
      options.onUpdate?.(report);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 2, jobs.length)) }, worker));
  return report;
}
