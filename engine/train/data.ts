// Training data: messages JSONL (InstructLab's SDG output, Hugging Face chat datasets of the same shape) read line by
// line with bad lines reported by file:line, each conversation rendered with the model's chat template (the one later
// written into the GGUF) and tokenized with the model's tokenizer, a loss mask on the assistant turns only, a maximum
// sequence length, and deterministic batches: length-grouped or packed, shuffled by (seed, phase, epoch).

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { renderChatTemplate, type ChatMessage } from '../hf/chatTemplate';
import { streamOf, Xoshiro128 } from '../hf/random';
import { fromByteLevel } from '../hf/tokenizer/byteLevel';
import type { ByteLevelBpe } from '../hf/tokenizer/bpe';
import { causalLmBatch, type Batch } from './batch';

/** A problem with one line of a dataset: where and what. */
export interface DataProblem {
  file: string;
  /** 1-based. */
  line: number;
  reason: string;
}

export class DataError extends Error {
  override name = 'DataError';
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
    readonly hint?: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${reason}${hint ? ` (${hint})` : ''}`);
  }
}

export interface Conversation {
  file: string;
  line: number;
  messages: ChatMessage[];
  /** InstructLab's unmask: the whole sample is learned (knowledge phase), not only the assistant turns. */
  unmask: boolean;
}

export interface ReadResult {
  conversations: Conversation[];
  /** Lines skipped, in file order (empty with strict: the first one throws). */
  problems: DataProblem[];
  /** SHA-256 of the file's bytes, hex: recorded in train.json and checked on resume. */
  sha256: string;
}

/** The reason a parsed line is not a conversation, or undefined when it is one. */
function lineProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'expected a JSON object with "messages"';
  const messages = (value as { messages?: unknown }).messages;
  if (!Array.isArray(messages)) return '"messages" is missing or not a list';
  if (messages.length === 0) return '"messages" is empty';
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as { role?: unknown; content?: unknown } | null;
    if (typeof m !== 'object' || m === null) return `messages[${i}] is not an object`;
    if (typeof m.role !== 'string' || !m.role) return `messages[${i}].role is missing or not a string`;
    if (typeof m.content !== 'string') return `messages[${i}].content is missing or not a string`;
  }
  const unmask = (value as { unmask?: unknown }).unmask;
  if (unmask !== undefined && typeof unmask !== 'boolean') return '"unmask" is not true or false';
  if (unmask !== true && !messages.some((m) => (m as { role: string }).role === 'assistant')) return 'no assistant message: nothing to learn';
  return undefined;
}

/**
 * Reads a messages JSONL file. Blank lines are ignored; a line that is not a conversation is skipped and reported
 * with its line number, or (strict) throws DataError at the first one.
 */
export async function readMessagesJsonl(file: string, options: { strict?: boolean } = {}): Promise<ReadResult> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new DataError(file, undefined, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : `cannot read: ${(err as Error).message}`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const conversations: Conversation[] = [];
  const problems: DataProblem[] = [];
  const lines = bytes.toString('utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i].trim();
    if (!text) continue;
    let reason: string | undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
      reason = lineProblem(value);
    } catch (err) {
      reason = `not valid JSON: ${(err as Error).message}`;
    }
    if (reason) {
      if (options.strict) throw new DataError(file, i + 1, reason, 'fix the line or train without --strict to skip bad lines');
      problems.push({ file, line: i + 1, reason });
      continue;
    }
    const v = value as { messages: ChatMessage[]; unmask?: boolean };
    conversations.push({ file, line: i + 1, messages: v.messages.map((m) => ({ role: m.role, content: m.content })), unmask: v.unmask === true });
  }
  return { conversations, problems, sha256 };
}

/** What renders and tokenizes conversations: the model's chat template, special tokens and tokenizer. */
export interface ChatFormat {
  template: string;
  bosToken?: string;
  eosToken?: string;
  tokenizer: ByteLevelBpe;
}

export interface TokenizedConversation {
  text: string;
  ids: number[];
  /** 1 where the token is trained on, per token. */
  lossMask: number[];
  /** Character spans [start, end) of the assistant turns in text (as trained: content and what closes it). */
  spans: [number, number][];
}

function render(format: ChatFormat, messages: readonly ChatMessage[], addGenerationPrompt: boolean): string {
  return renderChatTemplate(format.template, messages, { addGenerationPrompt, bosToken: format.bosToken, eosToken: format.eosToken });
}

/**
 * Character spans of the assistant turns in `full`. A turn starts where the conversation before it, rendered with
 * add_generation_prompt, ends (so the role marker is prompt) and ends where the conversation through it ends (so the
 * end-of-turn tokens the template writes are learned). Templates whose prefixes do not render as prefixes of the
 * whole fall back to finding the turn's content after the previous turn.
 */
function assistantSpans(format: ChatFormat, messages: readonly ChatMessage[], full: string): [number, number][] {
  const spans: [number, number][] = [];
  let from = 0;
  const tryRender = (upTo: number, gen: boolean) => {
    try {
      return render(format, messages.slice(0, upTo), gen);
    } catch {
      return undefined;
    }
  };
  messages.forEach((m, i) => {
    if (m.role !== 'assistant') return;
    const before = tryRender(i, true);
    const through = tryRender(i + 1, false);
    let start = before !== undefined && before.length >= from && full.startsWith(before) ? before.length : -1;
    if (start < 0) {
      const at = full.indexOf(m.content, from);
      if (at < 0) throw new Error(`assistant turn ${i} does not appear in the rendered conversation`);
      start = at;
    }
    let end = through !== undefined && through.length > start && full.startsWith(through) ? through.length : -1;
    if (end < 0 || !full.slice(start, end).includes(m.content)) {
      const at = full.indexOf(m.content, start);
      if (at < 0) throw new Error(`assistant turn ${i} does not appear in the rendered conversation after its prompt`);
      end = at + m.content.length;
    }
    spans.push([start, end]);
    from = end;
  });
  return spans;
}

/** UTF-8 length of each token, so token boundaries can be matched with character spans. */
function tokenByteLengths(tokenizer: ByteLevelBpe, ids: readonly number[]): number[] {
  const added = new Map(tokenizer.addedTokens.map((t) => [t.id, Buffer.byteLength(t.content)]));
  return ids.map((id) => added.get(id) ?? fromByteLevel(tokenizer.idToToken(id) ?? '').length);
}

/**
 * Renders and tokenizes one conversation. Trained tokens: those overlapping an assistant span (a token such as " A"
 * that joins the space before an answer to its first word is the answer's), all tokens with unmask. The first token
 * is never trained: nothing precedes it.
 */
export function tokenizeConversation(format: ChatFormat, conversation: Pick<Conversation, 'messages' | 'unmask'>): TokenizedConversation {
  const text = render(format, conversation.messages, false);
  const ids = format.tokenizer.encode(text);
  const lengths = tokenByteLengths(format.tokenizer, ids);
  const total = lengths.reduce((a, b) => a + b, 0);
  if (total !== Buffer.byteLength(text)) throw new Error(`the tokenizer's tokens cover ${total} bytes of a ${Buffer.byteLength(text)}-byte text; it is not a byte-level tokenizer`);
  const spans = conversation.unmask ? [] : assistantSpans(format, conversation.messages, text);
  const byteSpans = spans.map(([s, e]) => [Buffer.byteLength(text.slice(0, s)), Buffer.byteLength(text.slice(0, e))] as const);
  const lossMask = new Array<number>(ids.length).fill(0);
  let at = 0;
  for (let t = 0; t < ids.length; t++) {
    const end = at + lengths[t];
    if (t > 0 && (conversation.unmask || byteSpans.some(([s, e]) => at < e && end > s))) lossMask[t] = 1;
    at += lengths[t];
  }
  return { text, ids, lossMask, spans };
}

/** A tokenized training sample and where it came from. */
export interface Sample {
  ids: Int32Array;
  lossMask: Uint8Array;
  /** file:line */
  source: string;
}

export type OverlongPolicy = 'truncate' | 'drop';

export interface PrepareOptions {
  maxSeqLen: number;
  /** Longer samples are cut to maxSeqLen (default) or dropped. */
  overlong?: OverlongPolicy;
  strict?: boolean;
}

export interface PrepareReport {
  samples: Sample[];
  problems: DataProblem[];
  /** Samples cut to maxSeqLen (still trained). */
  truncated: number;
  /** Samples dropped: longer than maxSeqLen with overlong "drop", or nothing trained left after truncation. */
  droppedTooLong: number;
  trainedTokens: number;
  tokens: number;
}

/** Tokenizes conversations; a conversation the template or tokenizer cannot handle is a problem with its line. */
export function prepareSamples(format: ChatFormat, conversations: readonly Conversation[], options: PrepareOptions): PrepareReport {
  const report: PrepareReport = { samples: [], problems: [], truncated: 0, droppedTooLong: 0, trainedTokens: 0, tokens: 0 };
  for (const c of conversations) {
    let tok: TokenizedConversation;
    try {
      tok = tokenizeConversation(format, c);
    } catch (err) {
      const reason = `the chat template cannot render it: ${(err as Error).message}`;
      if (options.strict) throw new DataError(c.file, c.line, reason);
      report.problems.push({ file: c.file, line: c.line, reason });
      continue;
    }
    let { ids, lossMask } = tok;
    if (ids.length > options.maxSeqLen) {
      if (options.overlong === 'drop') {
        report.droppedTooLong++;
        continue;
      }
      ids = ids.slice(0, options.maxSeqLen);
      lossMask = lossMask.slice(0, options.maxSeqLen);
      if (!lossMask.some((x) => x)) {
        report.droppedTooLong++;
        continue;
      }
      report.truncated++;
    }
    const trained = lossMask.reduce((a, b) => a + b, 0);
    if (trained === 0) {
      const reason = 'no assistant token after rendering: nothing to learn';
      if (options.strict) throw new DataError(c.file, c.line, reason);
      report.problems.push({ file: c.file, line: c.line, reason });
      continue;
    }
    report.samples.push({ ids: Int32Array.from(ids), lossMask: Uint8Array.from(lossMask), source: `${c.file}:${c.line}` });
    report.trainedTokens += trained;
    report.tokens += ids.length;
  }
  return report;
}

// ---- Order and batches ------------------------------------------------------------------------------------------

/** A seeded generator for one named purpose (an epoch's order, a split): the same (seed, name) gives the same draws. */
export function rngFor(seed: number, name: string): Xoshiro128 {
  return new Xoshiro128(seed, streamOf(name));
}

/** Fisher–Yates shuffle of 0..n-1. */
export function shuffledIndices(n: number, rng: Xoshiro128): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.nextOpenUnit() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Splits samples into a training and a held-out set of about `fraction` of them (at least one when fraction > 0). */
export function splitHeldOut<T>(items: readonly T[], fraction: number, seed: number): { train: T[]; heldOut: T[] } {
  if (!(fraction > 0) || items.length < 2) return { train: [...items], heldOut: [] };
  const n = Math.min(items.length - 1, Math.max(1, Math.round(items.length * fraction)));
  const order = shuffledIndices(items.length, rngFor(seed, 'held-out'));
  const held = new Set(order.slice(0, n));
  return { train: items.filter((_, i) => !held.has(i)), heldOut: items.filter((_, i) => held.has(i)) };
}

export interface BatchingOptions {
  /** Padded tokens per micro-batch (rows × row length) at most; a longer single sample still makes a batch. */
  batchTokens: number;
  /** Pack several samples into rows of maxSeqLen tokens (attention kept within each sample) instead of padding. */
  packing?: boolean;
  maxSeqLen: number;
}

/** A micro-batch plan: rows of sample indices (one sample per row unless packed). */
export type BatchPlan = number[][];

/**
 * The micro-batches of one epoch. Length-grouped: samples in shuffled order, sorted by length (ties keep the
 * shuffle), cut into batches within batchTokens, then the batches shuffled, so padding is small and order random.
 * Packed: samples in shuffled order filled into rows of maxSeqLen, rows grouped within batchTokens.
 */
export function planEpoch(lengths: readonly number[], options: BatchingOptions, rng: Xoshiro128): BatchPlan[] {
  const order = shuffledIndices(lengths.length, rng);
  const batches: BatchPlan[] = [];
  if (options.packing) {
    const rows: number[][] = [];
    let row: number[] = [];
    let used = 0;
    for (const i of order) {
      if (row.length && used + lengths[i] > options.maxSeqLen) {
        rows.push(row);
        row = [];
        used = 0;
      }
      row.push(i);
      used += lengths[i];
    }
    if (row.length) rows.push(row);
    const perBatch = Math.max(1, Math.floor(options.batchTokens / options.maxSeqLen));
    for (let i = 0; i < rows.length; i += perBatch) batches.push(rows.slice(i, i + perBatch));
    return batches;
  }
  const rank = new Map(order.map((s, r) => [s, r]));
  const sorted = [...order].sort((a, b) => lengths[a] - lengths[b] || rank.get(a)! - rank.get(b)!);
  let current: number[] = [];
  let longest = 0;
  for (const i of sorted) {
    const next = Math.max(longest, lengths[i]);
    if (current.length && next * (current.length + 1) > options.batchTokens) {
      batches.push(current.map((s) => [s]));
      current = [];
      longest = 0;
    }
    current.push(i);
    longest = Math.max(longest, lengths[i]);
  }
  if (current.length) batches.push(current.map((s) => [s]));
  return shuffledIndices(batches.length, rng).map((i) => batches[i]);
}

/** The Batch of a plan: rows right-padded with padId; packed rows carry per-sample positions and segments. */
export function batchOf(samples: readonly Sample[], plan: BatchPlan, padId: number): Batch {
  if (plan.every((row) => row.length === 1)) {
    return causalLmBatch(plan.map(([i]) => samples[i]), padId);
  }
  const T = Math.max(...plan.map((row) => row.reduce((n, i) => n + samples[i].ids.length, 0)));
  // Each sample's first token is never a target (its mask is 0), so a row's concatenation has no target that crosses
  // from one sample into the next.
  const base = causalLmBatch(
    plan.map((row) => ({
      ids: row.flatMap((i) => Array.from(samples[i].ids)),
      lossMask: row.flatMap((i) => Array.from(samples[i].lossMask)),
    })),
    padId,
    T,
  );
  const positions = new Int32Array(plan.length * T);
  const segments = new Int32Array(plan.length * T).fill(-1);
  plan.forEach((row, b) => {
    let at = 0;
    row.forEach((i, s) => {
      for (let t = 0; t < samples[i].ids.length; t++, at++) {
        positions[b * T + at] = t;
        segments[b * T + at] = s;
      }
    });
    // Padding: its own segment, positions continuing, never a target.
    for (let t = 0; at < T; at++, t++) positions[b * T + at] = t;
  });
  return { ...base, positions, segments };
}

/** Trained targets in a batch (its loss normalizer share). */
export function trainedTargets(batch: Batch): number {
  let n = 0;
  for (const t of batch.targets) if (t >= 0) n++;
  return n;
}
