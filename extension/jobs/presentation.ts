// How a job looks in the Jobs view and in messages: words, icon and the context value the menus match. No vscode
// import; the view turns these into TreeItems.
import { basename } from 'node:path';
import { formatProgress } from '../../engine/jobs/format';
import type { JobEntry, JobState } from './manager';

export interface JobPresentation {
  label: string;
  description: string;
  tooltip: string;
  icon: { id: string; color?: string };
  /**
   * `job.<state>.<kind>`: package.json's menus show Cancel on running jobs, Resume on failed, cancelled and
   * interrupted ones, and Review Generated Data on succeeded generate runs.
   */
  contextValue: `job.${JobState}.${string}`;
}

const icons: Record<JobState, { id: string; color?: string }> = {
  running: { id: 'sync~spin' },
  elsewhere: { id: 'terminal' },
  succeeded: { id: 'pass', color: 'testing.iconPassed' },
  failed: { id: 'error', color: 'list.errorForeground' },
  cancelled: { id: 'circle-slash' },
  interrupted: { id: 'debug-disconnect', color: 'list.warningForeground' },
};

function kept(entry: JobEntry): string {
  return entry.finishedUnits === undefined ? 'finished work kept' : `${entry.finishedUnits} units kept`;
}

/** The one-line state: progress while running, how it ended otherwise. */
export function jobStateText(entry: JobEntry): string {
  switch (entry.state) {
    case 'running':
      if (entry.cancelling) return 'cancelling…';
      return entry.progress ? formatProgress(entry.progress) : 'starting…';
    case 'elsewhere':
      return `running in process ${entry.pid}`;
    case 'succeeded':
      return entry.text ?? 'succeeded';
    case 'failed':
      return `failed · ${kept(entry)}`;
    case 'cancelled':
      return `cancelled · ${kept(entry)}`;
    case 'interrupted':
      return `interrupted · ${kept(entry)}`;
  }
}

const stateNotes: Partial<Record<JobState, string>> = {
  interrupted: 'The engine stopped without finishing (killed or crashed). Resume continues where it stopped.',
  elsewhere: 'Another process (a terminal, another window) runs this job now.',
  cancelled: 'Resume continues where it stopped.',
  failed: 'Fix the cause, then Resume continues where it stopped.',
};

export function presentJob(entry: JobEntry): JobPresentation {
  const lines = [`${entry.title} (${entry.kind})`, entry.runDir, '', jobStateText(entry)];
  if (entry.state === 'running' && entry.progress?.stage) lines.push(`Stage: ${entry.progress.stage}`);
  if (entry.error) lines.push(entry.error.message.split('\n')[0]);
  if (stateNotes[entry.state]) lines.push(stateNotes[entry.state]!);
  if (entry.startedAt) lines.push('', `Started ${entry.startedAt}`);
  if (entry.finishedAt && entry.state !== 'running') lines.push(`Ended ${entry.finishedAt}`);
  return {
    label: basename(entry.runDir),
    description: jobStateText(entry),
    tooltip: lines.join('\n'),
    icon: icons[entry.state],
    contextValue: `job.${entry.state}.${entry.kind}`,
  };
}

/** The message shown when a job this editor ran ends, and the buttons it offers. */
export function endMessage(entry: JobEntry): { severity: 'info' | 'error'; text: string; actions: string[] } {
  const name = entry.title;
  switch (entry.state) {
    case 'succeeded':
      return { severity: 'info', text: `${name} finished${entry.text ? `: ${entry.text}` : ''}.`, actions: ['Reveal Output'] };
    case 'cancelled':
      return { severity: 'info', text: `${name} cancelled; ${kept(entry)} in ${basename(entry.runDir)}.`, actions: ['Resume', 'Reveal Output'] };
    default: {
      const first = entry.error?.message.split('\n')[0] ?? 'the job failed';
      return { severity: 'error', text: `${name} failed: ${first}`, actions: ['Show Log', 'Resume', 'Reveal Output'] };
    }
  }
}
