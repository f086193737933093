// Generated tokens to the text a client sees, as it is generated. Two things are held back until they are decided:
// the bytes of a character split across tokens (a byte-level tokenizer emits UTF-8 one piece at a time, which decodes
// to U+FFFD until the character is whole), and a tail that could be the start of a stop sequence. A stop sequence
// itself is never sent: the text ends just before it, as OpenAI's API does. Streamed chunks joined are exactly the
// text a non-streamed request gets.

/** Decodes `tokens`, which follow `before` (tokenizers that strip a leading space need to know what came before). */
export type Detokenize<T> = (tokens: readonly T[], before: readonly T[]) => string;

/** A partial character is given up on after this many tokens (the model emitted invalid UTF-8: send U+FFFD). */
const maxPendingTokens = 4;
const contextTokens = 8;

export class TextStream<T> {
  private readonly tokens: T[] = [];
  private readonly stops: string[];
  /** Tokens [0, decoded) are decoded into `text`. */
  private decoded = 0;
  private text = '';
  /** Characters of `text` already handed out. */
  private sent = 0;
  private stopped = false;

  constructor(
    private readonly detokenize: Detokenize<T>,
    stops: readonly string[] = [],
  ) {
    this.stops = stops.filter((s) => s.length > 0);
  }

  /** True once a stop sequence was found; push() must not be called after that. */
  get stoppedByText(): boolean {
    return this.stopped;
  }

  /** Adds a token; returns the text that became safe to send (maybe ''), and whether a stop sequence ended it. */
  push(token: T): { text: string; stop: boolean } {
    if (this.stopped) throw new Error('TextStream: push after a stop sequence');
    this.tokens.push(token);
    const pending = this.detokenize(this.tokens.slice(this.decoded), this.tokens.slice(Math.max(0, this.decoded - contextTokens), this.decoded));
    const incomplete = pending.endsWith('\uFFFD') && this.tokens.length - this.decoded < maxPendingTokens;
    const full = this.text + pending;
    if (!incomplete) {
      this.text = full;
      this.decoded = this.tokens.length;
    }

    const at = this.firstStop(full);
    if (at >= 0) {
      this.stopped = true;
      const out = full.slice(this.sent, at);
      this.sent = at;
      return { text: out, stop: true };
    }
    const end = incomplete ? this.text.length : full.length;
    const safe = end - this.stopPrefixLength(full.slice(this.sent, end));
    const out = full.slice(this.sent, safe);
    this.sent = safe;
    return { text: out, stop: false };
  }

  /** The rest of the text once generation ended without a stop sequence (held-back tails included). */
  finish(): string {
    if (this.stopped) return '';
    const pending = this.detokenize(this.tokens.slice(this.decoded), this.tokens.slice(Math.max(0, this.decoded - contextTokens), this.decoded));
    this.text += pending;
    this.decoded = this.tokens.length;
    const out = this.text.slice(this.sent);
    this.sent = this.text.length;
    return out;
  }

  /** Where the earliest stop sequence starts in `full` (at or after what was sent), or -1. */
  private firstStop(full: string): number {
    let best = -1;
    for (const s of this.stops) {
      const i = full.indexOf(s, this.sent);
      if (i >= 0 && (best < 0 || i < best)) best = i;
    }
    return best;
  }

  /** Length of the longest suffix of `tail` that a stop sequence starts with (so it may still become one). */
  private stopPrefixLength(tail: string): number {
    let longest = 0;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, tail.length); k > longest; k--) {
        if (tail.endsWith(s.slice(0, k))) {
          longest = k;
          break;
        }
      }
    }
    return longest;
  }
}
