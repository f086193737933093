// Checking a job's args and settings: plain JSON in, typed values out, and errors that name the field.
import { JobArgsError } from './errors';

type Raw = Record<string, unknown>;

/** Rejects fields the kind does not know (a typo would otherwise be silently ignored). */
export function onlyKnown(raw: Raw, known: readonly string[], what: 'args' | 'settings'): void {
  const unknown = Object.keys(raw).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new JobArgsError(`${what}: unknown field${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => `'${k}'`).join(', ')} (expected ${known.map((k) => `'${k}'`).join(', ') || 'none'})`);
  }
}

export function wholeNumber(raw: Raw, key: string, range: { min?: number; max?: number } = {}): number | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new JobArgsError(`${key}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function requiredWholeNumber(raw: Raw, key: string, range: { min?: number; max?: number } = {}): number {
  const v = wholeNumber(raw, key, range);
  if (v === undefined) throw new JobArgsError(`${key}: required (a whole number)`);
  return v;
}
