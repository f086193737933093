// A byte-level BPE tokenizer: encode and decode without any Hugging Face library, producing the same ids as
// tokenizers.js / transformers for tokenizer.json files of this kind (ByteLevel pre-tokenizer with GPT-2's pattern,
// BPE model with merges, added tokens matched before pre-tokenization) and as llama.cpp's "gpt-2" pre-tokenizer.
import { byteToChar, fromByteLevel, preTokenize } from './byteLevel';

export interface AddedToken {
  id: number;
  content: string;
  /** Special tokens are skipped by decode({ skipSpecialTokens: true }). */
  special: boolean;
}

export interface BpeModel {
  /** Token strings (byte-level characters) by id; added tokens may also appear here with their content. */
  vocab: readonly string[];
  /** Merge rules in priority order, as pairs of token strings. */
  merges: readonly (readonly [string, string])[];
  addedTokens: readonly AddedToken[];
}

export interface EncodeOptions {
  /**
   * Recognise added tokens (e.g. "<|user|>") written in the text, as Hugging Face tokenizers always do (default true).
   * false tokenizes them as plain text, like llama.cpp without parse_special.
   */
  special?: boolean;
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
}

/** Pair key for two token ids (ids stay below 2^26 in any real vocabulary). */
const pairKey = (a: number, b: number) => a * 67108864 + b;

export class ByteLevelBpe {
  readonly vocab: readonly string[];
  readonly merges: readonly (readonly [string, string])[];
  readonly addedTokens: readonly AddedToken[];
  private readonly ids: Map<string, number>;
  /** pairKey(left, right) → rank * 2^26 + merged id: one lookup gives both. */
  private readonly mergeTable: Map<number, number>;
  private readonly byteIds: Int32Array;
  private readonly tokenBytes: (Uint8Array | null)[];
  private readonly addedById: Map<number, AddedToken>;
  private readonly addedByContent: Map<string, AddedToken>;
  private readonly addedPattern: RegExp | null;
  private readonly cache = new Map<string, readonly number[]>();

  constructor(model: BpeModel) {
    this.vocab = model.vocab;
    this.merges = model.merges;
    this.addedTokens = model.addedTokens;
    this.ids = new Map();
    model.vocab.forEach((t, id) => {
      if (t !== undefined && !this.ids.has(t)) this.ids.set(t, id);
    });
    this.byteIds = new Int32Array(256);
    for (let b = 0; b < 256; b++) {
      const id = this.ids.get(byteToChar[b]);
      if (id === undefined) throw new Error(`the vocabulary has no token for byte 0x${b.toString(16).padStart(2, '0')} ('${byteToChar[b]}'); a byte-level BPE vocabulary has all 256`);
      this.byteIds[b] = id;
    }
    this.mergeTable = new Map();
    model.merges.forEach(([a, b], rank) => {
      const left = this.ids.get(a);
      const right = this.ids.get(b);
      const merged = this.ids.get(a + b);
      if (left === undefined || right === undefined || merged === undefined) {
        throw new Error(`merge ${rank} ('${a}' '${b}') uses a token missing from the vocabulary: '${left === undefined ? a : right === undefined ? b : a + b}'`);
      }
      const key = pairKey(left, right);
      if (!this.mergeTable.has(key)) this.mergeTable.set(key, rank * 67108864 + merged);
    });
    this.addedById = new Map(model.addedTokens.map((t) => [t.id, t]));
    this.addedByContent = new Map(model.addedTokens.map((t) => [t.content, t]));
    // Leftmost, then longest: alternatives sorted longest first, as Hugging Face's added-token splitter matches.
    const contents = [...this.addedByContent.keys()].filter((c) => c.length > 0).sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
    this.addedPattern = contents.length ? new RegExp(contents.map(escapeRegExp).join('|'), 'gu') : null;
    this.tokenBytes = model.vocab.map((t, id) => (t === undefined || this.addedById.has(id) ? null : fromByteLevel(t)));
  }

  get size(): number {
    return Math.max(this.vocab.length, ...this.addedTokens.map((t) => t.id + 1));
  }

  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token)?.id ?? this.ids.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.addedById.get(id)?.content ?? this.vocab[id];
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = [];
    const special = options.special ?? true;
    if (!special || !this.addedPattern) {
      this.encodeOrdinary(text, out);
      return out;
    }
    let last = 0;
    for (const m of text.matchAll(this.addedPattern)) {
      this.encodeOrdinary(text.slice(last, m.index), out);
      out.push(this.addedByContent.get(m[0])!.id);
      last = m.index! + m[0].length;
    }
    this.encodeOrdinary(text.slice(last), out);
    return out;
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    // Runs of ordinary tokens decode as UTF-8 each on its own; added tokens stand for their text, as in tokenizers.
    const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
    let text = '';
    let run: Uint8Array[] = [];
    let runLength = 0;
    const flush = () => {
      if (!runLength) return;
      const bytes = new Uint8Array(runLength);
      let at = 0;
      for (const part of run) {
        bytes.set(part, at);
        at += part.length;
      }
      text += decoder.decode(bytes);
      run = [];
      runLength = 0;
    };
    for (const id of ids) {
      const added = this.addedById.get(id);
      if (added) {
        flush();
        if (!(options.skipSpecialTokens && added.special)) text += added.content;
        continue;
      }
      const bytes = this.tokenBytes[id];
      if (!bytes) throw new RangeError(`token id ${id} is not in the vocabulary (size ${this.size})`);
      run.push(bytes);
      runLength += bytes.length;
    }
    flush();
    return text;
  }

  private encodeOrdinary(text: string, out: number[]): void {
    if (!text) return;
    for (const piece of preTokenize(text)) {
      let ids = this.cache.get(piece);
      if (!ids) {
        ids = this.bpe(piece);
        if (piece.length < 256 && this.cache.size < 100_000) this.cache.set(piece, ids);
      }
      for (const id of ids) out.push(id);
    }
  }

  /**
   * Applies merges to one pre-token: repeatedly the pair with the lowest merge rank, leftmost first. A heap over
   * (rank, position) with stale entries skipped keeps long pieces (a run of spaces, a base64 blob) near n log n.
   */
  private bpe(piece: string): number[] {
    const bytes = new TextEncoder().encode(piece);
    const n = bytes.length;
    const ids = new Int32Array(n);
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      ids[i] = this.byteIds[bytes[i]];
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap = new PairHeap();
    const consider = (left: number) => {
      const right = next[left];
      if (right < 0) return;
      const entry = this.mergeTable.get(pairKey(ids[left], ids[right]));
      if (entry !== undefined) heap.push(Math.floor(entry / 67108864), left, ids[left], ids[right]);
    };
    for (let i = 0; i + 1 < n; i++) consider(i);
    while (heap.size) {
      const [, left, leftId, rightId] = heap.pop();
      const right = next[left];
      // Stale: the left token was merged away into its neighbour, or either side changed since the entry was made.
      if (ids[left] !== leftId || right < 0 || ids[right] !== rightId) continue;
      ids[left] = this.mergeTable.get(pairKey(leftId, rightId))! % 67108864;
      ids[right] = -1;
      next[left] = next[right];
      if (next[right] >= 0) prev[next[right]] = left;
      if (prev[left] >= 0) consider(prev[left]);
      consider(left);
    }
    const result: number[] = [];
    for (let i = 0; i >= 0; i = next[i]) result.push(ids[i]);
    return n ? result : [];
  }
}

/** A binary min-heap of (rank, position, left id, right id), ordered by rank then position. */
class PairHeap {
  private items: [number, number, number, number][] = [];

  get size(): number {
    return this.items.length;
  }

  push(rank: number, pos: number, left: number, right: number): void {
    const items = this.items;
    items.push([rank, pos, left, right]);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(items[i], items[parent])) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }

  pop(): [number, number, number, number] {
    const items = this.items;
    const top = items[0];
    const last = items.pop()!;
    if (items.length) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && less(items[l], items[m])) m = l;
        if (r < items.length && less(items[r], items[m])) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m], items[i]];
        i = m;
      }
    }
    return top;
  }
}

function less(a: [number, number, number, number], b: [number, number, number, number]): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
