// Commands of the Jobs view: cancel, resume, show the log, reveal the run folder, refresh; and a demo job that
// checks the engine runs jobs at all. From the view each gets the row's job; from the palette it asks which.
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import { jobsOf } from '../jobs/index';
import type { JobEntry, JobState } from '../jobs/manager';
import { jobStateText } from '../jobs/presentation';

async function pickJob(ctx: Ctx, states: readonly JobState[], placeHolder: string, none: string): Promise<JobEntry | undefined> {
  const entries = jobsOf(ctx)
    .manager.entries()
    .filter((e) => states.includes(e.state));
  if (entries.length === 0) {
    void vscode.window.showInformationMessage(`Taxonomy Studio: ${none}`);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    entries.map((entry) => ({ label: entry.title, description: jobStateText(entry), detail: entry.runDir, entry })),
    { placeHolder },
  );
  return picked?.entry;
}

const allStates: readonly JobState[] = ['running', 'elsewhere', 'succeeded', 'failed', 'cancelled', 'interrupted'];
const resumable: readonly JobState[] = ['failed', 'cancelled', 'interrupted'];

export function cancelJob(ctx: Ctx) {
  return async (entry?: JobEntry): Promise<void> => {
    const target = entry ?? (await pickJob(ctx, ['running'], 'Cancel which job?', 'no job is running in this window.'));
    if (target && !jobsOf(ctx).manager.cancel(target.runDir)) {
      void vscode.window.showInformationMessage(`Taxonomy Studio: ${target.runDir} is not running in this window.`);
    }
  };
}

export function resumeJob(ctx: Ctx) {
  return async (entry?: JobEntry): Promise<void> => {
    const target = entry ?? (await pickJob(ctx, resumable, 'Resume which job?', 'no failed, cancelled or interrupted job to resume.'));
    if (target) await jobsOf(ctx).resume(target);
  };
}

export function showJobLog(ctx: Ctx) {
  return async (entry?: JobEntry): Promise<void> => {
    const target = entry ?? (await pickJob(ctx, allStates, 'Show the log of which job?', 'no jobs yet.'));
    if (target) await jobsOf(ctx).showLog(target);
  };
}

export function revealJobOutput(ctx: Ctx) {
  return async (entry?: JobEntry): Promise<void> => {
    const target = entry ?? (await pickJob(ctx, allStates, 'Reveal the run folder of which job?', 'no jobs yet.'));
    if (target) await jobsOf(ctx).reveal(target);
  };
}

export function refreshJobs(ctx: Ctx) {
  return (): Promise<void> => jobsOf(ctx).manager.refresh();
}

/** Counts 50 units in five seconds through the whole job machinery: engine child, progress, cancel, run folder. */
export function runDemoJob(ctx: Ctx) {
  return async (): Promise<void> => {
    await jobsOf(ctx).run({ kind: 'demo-count', args: { n: 50 }, settings: { delayMs: 100 } }, { title: 'Counting (demo)' });
  };
}
