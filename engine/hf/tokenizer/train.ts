// Trains a byte-level BPE vocabulary on text, deterministically: the 256 byte tokens (ids 0..255, in byte order),
// then one token per merge, learned greedily — each step merges the adjacent pair that occurs most often across the
// corpus (ties: the smaller left id, then the smaller right id) — then the added (special) tokens. Words are GPT-2
// pre-tokens, so no merge crosses a pre-token boundary, as at encoding time.
import type { AddedToken, BpeModel } from './bpe';
import { byteToChar, preTokenize } from './byteLevel';

export interface TrainOptions {
  /** Size of the whole vocabulary, byte tokens and added tokens included. */
  vocabSize: number;
  /** Contents of the added tokens, given the ids after the learned ones, in this order. */
  specialTokens: readonly string[];
  /** Fewest occurrences for a pair to be merged (default 2): training stops early, with a smaller vocabulary, when no pair occurs that often. */
  minFrequency?: number;
}

const pairKey = (a: number, b: number) => a * 1048576 + b;

export function trainByteLevelBpe(texts: Iterable<string>, options: TrainOptions): BpeModel {
  const { vocabSize, specialTokens } = options;
  const minFrequency = options.minFrequency ?? 2;
  const learnedTarget = vocabSize - specialTokens.length;
  if (!Number.isInteger(vocabSize) || learnedTarget < 256) {
    throw new Error(`vocabSize ${vocabSize} leaves no room: a byte-level vocabulary needs 256 byte tokens plus ${specialTokens.length} special tokens`);
  }
  if (learnedTarget > 1048576) throw new Error(`vocabSize ${vocabSize} is more than this trainer supports (2^20)`);

  // Unique pre-tokens with their counts, in first-seen order.
  const counts = new Map<string, number>();
  const encoder = new TextEncoder();
  for (const text of texts) {
    // Text that spells a special token is split there, as the tokenizer will split it, so no learned token spells one.
    for (const part of splitOn(text, specialTokens)) for (const piece of preTokenize(part)) counts.set(piece, (counts.get(piece) ?? 0) + 1);
  }
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [piece, count] of counts) {
    const bytes = encoder.encode(piece);
    if (bytes.length < 2) continue; // a single byte has no pair to merge
    words.push(Array.from(bytes));
    freq.push(count);
  }

  const vocab: string[] = [...byteToChar];
  const idOf = new Map<string, number>(vocab.map((t, i) => [t, i]));
  const merges: [string, string][] = [];
  const merged = new Set<number>();

  // Pair counts and, for each pair, the words it occurs in (a word may be listed more than once; harmless).
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  const heap = new CountHeap();
  const addPairs = (w: number, sign: 1 | -1, touched: Set<number>) => {
    const word = words[w];
    for (let i = 0; i + 1 < word.length; i++) {
      const key = pairKey(word[i], word[i + 1]);
      pairCount.set(key, (pairCount.get(key) ?? 0) + sign * freq[w]);
      if (sign > 0) {
        const list = pairWords.get(key);
        if (list) {
          if (list[list.length - 1] !== w) list.push(w);
        } else pairWords.set(key, [w]);
      }
      touched.add(key);
    }
  };
  const initial = new Set<number>();
  for (let w = 0; w < words.length; w++) addPairs(w, 1, initial);
  for (const key of initial) heap.push(pairCount.get(key)!, key);

  while (vocab.length < learnedTarget && heap.size) {
    const [count, key] = heap.pop();
    if (pairCount.get(key) !== count) continue; // stale entry: the count changed since it was pushed
    if (count < minFrequency || count <= 0) break;
    const left = Math.floor(key / 1048576);
    const right = key % 1048576;
    const token = vocab[left] + vocab[right];
    let newId = idOf.get(token);
    if (newId === undefined) {
      newId = vocab.length;
      vocab.push(token);
      idOf.set(token, newId);
    }
    if (!merged.has(key)) {
      merged.add(key);
      merges.push([vocab[left], vocab[right]]);
    }
    const touched = new Set<number>();
    for (const w of new Set(pairWords.get(key))) {
      const word = words[w];
      let has = false;
      for (let i = 0; i + 1 < word.length; i++) if (word[i] === left && word[i + 1] === right) has = true;
      if (!has) continue;
      addPairs(w, -1, touched);
      const out: number[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i + 1 < word.length && word[i] === left && word[i + 1] === right) {
          out.push(newId);
          i++;
        } else out.push(word[i]);
      }
      words[w] = out;
      addPairs(w, 1, touched);
    }
    pairWords.delete(key);
    for (const k of touched) {
      const c = pairCount.get(k)!;
      if (c > 0) heap.push(c, k);
      else pairCount.delete(k);
    }
  }

  const addedTokens: AddedToken[] = specialTokens.map((content, i) => ({ id: vocab.length + i, content, special: true }));
  return { vocab: [...vocab, ...specialTokens], merges, addedTokens };
}

function splitOn(text: string, separators: readonly string[]): string[] {
  let parts = [text];
  for (const sep of separators) if (sep) parts = parts.flatMap((p) => p.split(sep));
  return parts;
}

/** Max-heap of (count, pair key): the most frequent pair first; ties go to the smaller key (left id, then right id). */
class CountHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  get size(): number {
    return this.counts.length;
  }

  private before(i: number, j: number): boolean {
    return this.counts[i] > this.counts[j] || (this.counts[i] === this.counts[j] && this.keys[i] < this.keys[j]);
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): [number, number] {
    const top: [number, number] = [this.counts[0], this.keys[0]];
    const lastCount = this.counts.pop()!;
    const lastKey = this.keys.pop()!;
    if (this.counts.length) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.counts.length && this.before(l, m)) m = l;
        if (r < this.counts.length && this.before(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}
