// Teachers the editor offers for Generate Data and Preview: the OpenAI-compatible endpoints of the setting
// `taxonomyStudio.sdg.teachers` (a URL, several URLs of one pool comma-separated, or {name, url, model}), and GGUF
// files the author picks. An endpoint's API key lives in VS Code's SecretStorage under its origin and reaches the
// engine child only through one environment variable, whose NAME is what the job's settings record. No vscode import.

/** As the engine tells them apart (engine/sdg/pipelines/teacherSpec.ts, not imported: it loads the local teacher). */
function isRemoteTeacher(spec: string): boolean {
  return /^https?:\/\//i.test(spec.trim());
}

export const teachersSetting = 'taxonomyStudio.sdg.teachers';
/** The variable the engine child reads the key from (settings.apiKeyEnv names it; the key itself is never written). */
export const teacherKeyEnv = 'TAXONOMY_STUDIO_TEACHER_API_KEY';

export interface TeacherChoice {
  /** What the quick pick shows. */
  label: string;
  /** --teacher: a GGUF path or comma-separated URLs. */
  teacher: string;
  model?: string;
}

export class TeacherSettingError extends Error {
  override readonly name = 'TeacherSettingError';
}

/** The setting's entries as choices; an entry that is neither a URL nor {url} is an error naming its index. */
export function configuredTeachers(value: unknown): TeacherChoice[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new TeacherSettingError(`${teachersSetting}: expected a list of endpoint URLs or {"name", "url", "model"} objects`);
  return value.map((entry, i): TeacherChoice => {
    const where = `${teachersSetting}[${i}]`;
    const o = typeof entry === 'string' ? { url: entry } : (entry as { name?: unknown; url?: unknown; model?: unknown } | null);
    const url = typeof o?.url === 'string' ? o.url.trim() : '';
    const urls = url.split(',').map((u) => u.trim()).filter(Boolean);
    if (urls.length === 0 || !urls.every(isRemoteTeacher)) throw new TeacherSettingError(`${where}: expected http(s) URLs of OpenAI-compatible servers, got ${JSON.stringify(entry)}`);
    const name = typeof o?.name === 'string' && o.name.trim() ? o.name.trim() : urls.join(', ');
    return { label: name, teacher: urls.join(','), ...(typeof o?.model === 'string' && o.model.trim() ? { model: o.model.trim() } : {}) };
  });
}

/** The SecretStorage key of an endpoint's API key: its origin, so /v1 and /v1/ and paths share one key. */
export function secretKeyOf(url: string): string {
  let origin: string;
  try {
    origin = new URL(url.trim()).origin;
  } catch {
    throw new TeacherSettingError(`${url}: not a URL`);
  }
  return `taxonomyStudio.teacherApiKey:${origin}`;
}

export interface TeacherEnvironment {
  /** Added to the job's settings: the variable's name. */
  settings: { apiKeyEnv?: string };
  /** Added to the engine child's environment only. */
  env: Record<string, string>;
}

/**
 * What a run with `teacher` needs for its key: nothing for a GGUF file or endpoints without a stored key; else the
 * key of the first endpoint that has one (the engine sends one key to every endpoint of a pool).
 */
export async function teacherEnvironment(teacher: string, secret: (key: string) => Promise<string | undefined>): Promise<TeacherEnvironment> {
  if (!isRemoteTeacher(teacher)) return { settings: {}, env: {} };
  for (const url of teacher.split(',').map((u) => u.trim()).filter(Boolean)) {
    const key = await secret(secretKeyOf(url));
    if (key) return { settings: { apiKeyEnv: teacherKeyEnv }, env: { [teacherKeyEnv]: key } };
  }
  return { settings: {}, env: {} };
}
