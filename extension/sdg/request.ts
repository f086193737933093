// Which leaves a Generate Data run covers and the engine requests made from the author's choices: the `generate`
// job's args and settings, and the command lines of `generate --estimate` and `generate --preview`. No vscode import.
import { isAbsolute } from 'node:path';
import type { TeacherChoice, TeacherEnvironment } from './teachers';

export type LeafScope = 'current' | 'changed' | 'pick' | 'all';

export interface LeafScopeOption {
  scope: LeafScope;
  label: string;
  description: string;
  /** Absolute leaf files; empty for 'pick' (the author picks next). */
  leaves: string[];
}

export interface LeafScopeInput {
  /** Every leaf of the taxonomy (absolute qna.yaml files). */
  all: readonly string[];
  /** Leaves changed against the git base, or undefined when there is no such list (not git, no base). */
  changed?: readonly string[];
  /** The leaf open in the editor, if it is one of the taxonomy's. */
  current?: string;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The choices offered, most specific first; options that would select nothing are left out. */
export function leafScopes(input: LeafScopeInput): LeafScopeOption[] {
  const known = new Set(input.all);
  const out: LeafScopeOption[] = [];
  if (input.current && known.has(input.current)) out.push({ scope: 'current', label: 'This leaf', description: input.current, leaves: [input.current] });
  const changed = (input.changed ?? []).filter((f) => known.has(f));
  if (changed.length) out.push({ scope: 'changed', label: 'Changed leaves', description: plural(changed.length, 'leaf changed against the git base', 'leaves changed against the git base'), leaves: changed });
  if (input.all.length) {
    out.push({ scope: 'pick', label: 'Pick leaves…', description: `from ${plural(input.all.length, 'leaf', 'leaves')}`, leaves: [] });
    out.push({ scope: 'all', label: 'All leaves', description: plural(input.all.length, 'leaf', 'leaves'), leaves: [...input.all] });
  }
  return out;
}

export interface GenerateChoices {
  taxonomy: string;
  /** Absolute leaf files. */
  leaves: readonly string[];
  teacher: TeacherChoice;
  key: TeacherEnvironment;
}

/** The `generate` job request: the key's variable NAME goes into the settings, the key itself only into `env`. */
export function generateJobRequest(c: GenerateChoices): { kind: 'generate'; args: Record<string, unknown>; settings: Record<string, unknown> } {
  if (!isAbsolute(c.taxonomy) || c.leaves.some((l) => !isAbsolute(l))) throw new RangeError('generate takes absolute paths');
  return {
    kind: 'generate',
    args: { taxonomy: c.taxonomy, leaves: [...c.leaves] },
    settings: { teacher: c.teacher.teacher, ...(c.teacher.model ? { model: c.teacher.model } : {}), ...c.key.settings },
  };
}

function teacherArgv(teacher: TeacherChoice, key: TeacherEnvironment): string[] {
  return ['--teacher', teacher.teacher, ...(teacher.model ? ['--model', teacher.model] : []), ...(key.settings.apiKeyEnv ? ['--api-key-env', key.settings.apiKeyEnv] : [])];
}

/** `generate TAXONOMY --leaf a,b --teacher … --estimate --json`. */
export function estimateArgv(c: GenerateChoices): string[] {
  if (c.leaves.some((l) => l.includes(','))) throw new RangeError(`a leaf path with a comma cannot be passed to --leaf: ${c.leaves.find((l) => l.includes(','))}`);
  return ['generate', c.taxonomy, ...(c.leaves.length ? ['--leaf', c.leaves.join(',')] : []), ...teacherArgv(c.teacher, c.key), '--estimate', '--json'];
}

/** `generate TAXONOMY --teacher … --preview LEAF --count N` (markdown on stdout). */
export function previewArgv(taxonomy: string, leaf: string, teacher: TeacherChoice, key: TeacherEnvironment, count = 5): string[] {
  return ['generate', taxonomy, ...teacherArgv(teacher, key), '--preview', leaf, '--count', String(count)];
}

/** The engine's failure line without its "taxonomy-studio generate: " prefix, for a notification. */
export function engineFailure(stderr: string, code: number | null): string {
  const lines = stderr.trim().split(/\r?\n/).filter(Boolean);
  const last = [...lines].reverse().find((l) => l.startsWith('taxonomy-studio')) ?? lines.at(-1);
  return last ? last.replace(/^taxonomy-studio generate: /, '') : `the engine exited with code ${code}`;
}

const kindFolders = new Set(['knowledge', 'compositional_skills', 'foundational_skills']);

/** The taxonomy root above a leaf file: the folder holding its kind folder (the last one on the path). */
export function taxonomyRootOf(file: string): string | undefined {
  const parts = file.split(/[\\/]/);
  for (let i = parts.length - 2; i > 0; i--) if (kindFolders.has(parts[i])) return parts.slice(0, i).join(file.includes('\\') && !file.includes('/') ? '\\' : '/');
  return undefined;
}
