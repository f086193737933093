// Keeping API keys out of every message, log line and report: URLs are shown without user:password, and any text
// that leaves the teacher goes through a Redactor that knows the secrets in use.

export const redactedMark = '[redacted]';

export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: readonly (string | undefined)[]) {
    // Longest first, so a secret containing another is replaced whole. Very short values would redact ordinary
    // words and are no real key anyway.
    this.secrets = [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4))].sort((a, b) => b.length - a.length);
  }

  apply(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join(redactedMark);
    return out;
  }

  /** An Error's message (and its cause's) with the secrets replaced, as a new Error of the same class when possible. */
  error<E extends Error>(e: E): E {
    if (this.secrets.length === 0) return e;
    const message = this.apply(e.message);
    if (message !== e.message) {
      try {
        Object.defineProperty(e, 'message', { value: message, configurable: true, writable: true });
      } catch {
        // A frozen error keeps its message; callers still redact what they print.
      }
    }
    if (e.stack) {
      const stack = this.apply(e.stack);
      if (stack !== e.stack) Object.defineProperty(e, 'stack', { value: stack, configurable: true, writable: true });
    }
    return e;
  }
}

/** A URL for people to read: no user:password, no fragment, no trailing slash. */
export function displayUrl(url: string | URL): string {
  try {
    const u = new URL(String(url));
    u.username = '';
    u.password = '';
    u.hash = '';
    return u.toString().replace(/\/+$/, '');
  } catch {
    return String(url).replace(/\/\/[^/@]*@/, '//');
  }
}
