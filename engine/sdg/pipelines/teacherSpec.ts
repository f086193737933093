// --teacher as a user writes it: a GGUF file (a local teacher in this process) or one or more http(s) URLs of
// OpenAI-compatible servers, comma-separated (one remote teacher spreading requests over them).
import { resolve } from 'node:path';
import { LocalTeacher } from '../teachers/local';
import { RemoteTeacher } from '../teachers/remote';
import type { Teacher } from '../teachers/teacher';

export interface TeacherSettings {
  teacher: string;
  /** Calls in flight: sequences of a local teacher, requests per endpoint of a remote one. */
  parallel: number;
  /** Remote: NAME of the environment variable holding the API key. */
  apiKeyEnv?: string;
  /** Remote: the model name to ask for (default the first the server lists). */
  model?: string;
  /** Local: tokens per sequence. */
  contextSize?: number;
  /** Local: CPU threads. */
  threads?: number;
  /** Local: 'off' keeps to the CPU. */
  gpu?: 'auto' | 'off';
  /** Remote: requests per call before giving up, and the first backoff (ms). */
  retries?: number;
  retryBaseMs?: number;
  /** Remote: per-request timeout (ms). */
  timeoutMs?: number;
}

export function isRemoteTeacher(spec: string): boolean {
  return /^https?:\/\//i.test(spec.trim());
}

/** Opens the teacher; throws TeacherError (model-load, request, unauthorized) saying what to fix. */
export async function openTeacher(settings: TeacherSettings, cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): Promise<Teacher> {
  if (isRemoteTeacher(settings.teacher)) {
    return new RemoteTeacher({
      endpoints: settings.teacher.split(',').map((u) => u.trim()).filter(Boolean),
      concurrency: settings.parallel,
      env,
      ...(settings.apiKeyEnv ? { apiKeyEnv: settings.apiKeyEnv } : {}),
      ...(settings.model ? { model: settings.model } : {}),
      ...(settings.retries !== undefined ? { maxAttempts: settings.retries } : {}),
      ...(settings.retryBaseMs !== undefined ? { backoffBaseMs: settings.retryBaseMs, downBaseMs: settings.retryBaseMs } : {}),
      ...(settings.timeoutMs !== undefined ? { timeoutMs: settings.timeoutMs } : {}),
    });
  }
  return LocalTeacher.open({
    modelPath: resolve(cwd, settings.teacher),
    parallel: settings.parallel,
    ...(settings.contextSize ? { contextSize: settings.contextSize } : {}),
    ...(settings.threads ? { threads: settings.threads } : {}),
    ...(settings.gpu ? { gpu: settings.gpu } : {}),
  });
}
