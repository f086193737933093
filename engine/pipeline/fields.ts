// Reading the plain JSON args and settings of the pipeline and its stages: typed values out, JobArgsError naming the
// field otherwise (the shared whole-number readers are in engine/jobs/args.ts).
import { JobArgsError } from '../jobs/errors';

type Raw = Record<string, unknown>;

export function optionalText(raw: Raw, key: string): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !v) throw new JobArgsError(`${key}: expected text, got ${JSON.stringify(v)}`);
  return v;
}

export function requiredText(raw: Raw, key: string, what: string): string {
  const v = optionalText(raw, key);
  if (v === undefined) throw new JobArgsError(`${key}: required (${what})`);
  return v;
}

export function textList(raw: Raw, key: string): string[] {
  const v = raw[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !x)) throw new JobArgsError(`${key}: expected a list of paths`);
  return v as string[];
}

export function bool(raw: Raw, key: string): boolean {
  const v = raw[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new JobArgsError(`${key}: expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** A nested object of settings handed to a stage as they are (the stage's own parseSettings checks them). */
export function record(raw: Raw, key: string): Raw | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new JobArgsError(`${key}: expected an object of settings`);
  return v as Raw;
}
