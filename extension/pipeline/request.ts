// The `pipeline` job request the editor's "Run the Whole Loop" starts (engine/pipeline/job.ts reads it): the args are
// fixed for the run, the settings (teacher and its key's variable) may change on resume. No vscode import.
import { isAbsolute } from 'node:path';
import type { TeacherChoice, TeacherEnvironment } from '../sdg/teachers';

export interface LoopChoices {
  taxonomy: string;
  /** Hugging Face folder of the student model. */
  student: string;
  /** Leaf files; empty means the leaves changed against the git base, or every leaf with `all`. */
  leaves: readonly string[];
  all?: boolean;
  teacher: TeacherChoice;
  key: TeacherEnvironment;
  qlora: boolean;
}

export function pipelineJobRequest(c: LoopChoices): { kind: 'pipeline'; args: Record<string, unknown>; settings: Record<string, unknown> } {
  for (const p of [c.taxonomy, c.student, ...c.leaves]) if (!isAbsolute(p)) throw new RangeError(`the pipeline takes absolute paths, not ${p}`);
  return {
    kind: 'pipeline',
    args: { taxonomy: c.taxonomy, student: c.student, leaves: [...c.leaves], ...(c.all ? { all: true } : {}), qlora: c.qlora },
    settings: {
      teacher: c.teacher.teacher,
      // The key itself stays in the engine child's environment; the run records the variable's name only.
      generate: { ...(c.teacher.model ? { model: c.teacher.model } : {}), ...c.key.settings },
    },
  };
}

/** The report a finished pipeline names in its summary, if any. */
export function reportOf(summary: Record<string, unknown>): string | undefined {
  return typeof summary.report === 'string' && isAbsolute(summary.report) ? summary.report : undefined;
}
