// Duplicate samples out of generated data: exact duplicates by a hash of the normalized text (case, Unicode form,
// punctuation and spacing ignored), near duplicates by Jaccard similarity of word shingles, found without comparing
// every pair: MinHash signatures (seeded hash functions, so runs repeat) cut into LSH bands; samples sharing a band are
// candidates, and a candidate counts only if the exact Jaccard of the two shingle sets reaches the threshold. With
// the default 20 bands of 6 rows, a pair at Jaccard 0.8 becomes a candidate with probability 1 - (1 - 0.8^6)^20 =
// 0.998, a pair at 0.5 with 0.27 (then refused by the exact check), a pair at 0.2 with 0.001.
import { createHash } from 'node:crypto';

export type DuplicateKind = 'exact' | 'near';

/** Reasons as the run report counts them. */
export const duplicateReasons: Record<DuplicateKind, string> = {
  exact: 'exact duplicate',
  near: 'near duplicate',
};

/** Lowercase, NFKC, every run of characters that are not letters or digits becomes one space. */
export function normalizeForDedup(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Same key for texts that differ only in case, Unicode form, punctuation or spacing. */
export function exactKey(text: string): string {
  return createHash('sha256').update(normalizeForDedup(text)).digest('hex');
}

// ---- Hashing --------------------------------------------------------------------------------------------------

/** MurmurHash3's finalizer: a bijection on 32-bit integers that spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over UTF-16 code units from a given basis, finalized. */
function hashString(s: string, basis: number): number {
  let h = basis >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** splitmix32: the seeded source of the hash functions' parameters. */
function seededInts(seed: number, n: number): Uint32Array {
  const out = new Uint32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    out[i] = (z ^ (z >>> 15)) >>> 0;
  }
  return out;
}

export interface ShingleOptions {
  /** Words per shingle; default 2 (short questions and answers change too much under longer shingles). */
  shingleSize?: number;
}

/**
 * The distinct word shingles of a text as sorted 53-bit hashes (two independent 32-bit hashes, so two different
 * shingles practically never share one). A text shorter than a shingle is one shingle of all its words.
 */
export function shingles(text: string, options: ShingleOptions = {}): Float64Array {
  const k = options.shingleSize ?? 2;
  const words = normalizeForDedup(text).split(' ').filter(Boolean);
  if (words.length === 0) return new Float64Array(0);
  const seen = new Set<number>();
  const last = Math.max(0, words.length - k);
  for (let i = 0; i <= last; i++) {
    const s = words.slice(i, i + k).join(' ');
    seen.add(hashString(s, 0x811c9dc5) * 2 ** 21 + (hashString(s, 0x2545f491) & 0x1fffff));
  }
  return Float64Array.from(seen).sort();
}

/** Exact Jaccard similarity of two sorted shingle sets (1 for two empty sets). */
export function jaccard(a: Float64Array, b: Float64Array): number {
  if (a.length === 0 && b.length === 0) return 1;
  let i = 0;
  let j = 0;
  let common = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      common++;
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return common / (a.length + b.length - common);
}

// ---- MinHash and LSH ------------------------------------------------------------------------------------------

export interface MinHashOptions extends ShingleOptions {
  /** LSH bands × rows = hash functions; defaults 20 × 6, tuned for a threshold near 0.8. */
  bands?: number;
  rows?: number;
  /** Seed of the hash functions: the same seed gives the same signatures on every run. */
  seed?: number;
}

/** Probability that a pair with Jaccard similarity `j` shares at least one band. */
export function lshCandidateProbability(j: number, bands: number, rows: number): number {
  return 1 - (1 - j ** rows) ** bands;
}

export class MinHasher {
  readonly bands: number;
  readonly rows: number;
  private readonly xor: Uint32Array;
  private readonly mul: Uint32Array;

  constructor(options: MinHashOptions = {}) {
    this.bands = options.bands ?? 20;
    this.rows = options.rows ?? 6;
    if (!Number.isInteger(this.bands) || this.bands < 1 || !Number.isInteger(this.rows) || this.rows < 1) {
      throw new RangeError(`bands and rows must be whole numbers of 1 or more, got ${this.bands} × ${this.rows}`);
    }
    const n = this.bands * this.rows;
    const params = seededInts(options.seed ?? 0x5eed, 2 * n);
    this.xor = params.subarray(0, n);
    // Odd multipliers keep each function a bijection of the 32-bit shingle hash.
    this.mul = params.subarray(n).map((m) => (m | 1) >>> 0);
  }

  get numHashes(): number {
    return this.bands * this.rows;
  }

  /** One minimum per hash function; all 0xffffffff for an empty set. */
  signature(set: Float64Array): Uint32Array {
    const n = this.numHashes;
    const sig = new Uint32Array(n).fill(0xffffffff);
    for (let s = 0; s < set.length; s++) {
      const x = Math.floor(set[s] / 2 ** 21) >>> 0;
      for (let i = 0; i < n; i++) {
        const h = fmix32(Math.imul(x ^ this.xor[i], this.mul[i]));
        if (h < sig[i]) sig[i] = h;
      }
    }
    return sig;
  }

  /** One key per band: the band's rows hashed together. */
  bandKeys(sig: Uint32Array): number[] {
    const keys: number[] = [];
    for (let b = 0; b < this.bands; b++) {
      let h = 0x9747b28c ^ b;
      for (let r = 0; r < this.rows; r++) h = fmix32(Math.imul(h ^ sig[b * this.rows + r], 0x01000193));
      keys.push(h);
    }
    return keys;
  }
}

/** The share of hash functions whose minima agree: an estimate of the Jaccard similarity. */
export function estimateJaccard(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return a.length ? same / a.length : 0;
}

export interface NearDuplicateOptions extends MinHashOptions {
  /** Jaccard similarity at or above which two texts are near duplicates; default 0.8. */
  threshold?: number;
}

export interface NearMatch<Id> {
  id: Id;
  similarity: number;
}

/** An LSH index of texts under ids, answering "which indexed texts are near duplicates of this one?". */
export class NearDuplicateIndex<Id = number> {
  readonly threshold: number;
  private readonly hasher: MinHasher;
  private readonly shingleSize: number;
  private readonly buckets: Map<number, number[]>[];
  private readonly entries: { id: Id; set: Float64Array }[] = [];

  constructor(options: NearDuplicateOptions = {}) {
    this.threshold = options.threshold ?? 0.8;
    if (!(this.threshold > 0 && this.threshold <= 1)) throw new RangeError(`threshold must be in (0, 1], got ${this.threshold}`);
    this.hasher = new MinHasher(options);
    this.shingleSize = options.shingleSize ?? 2;
    this.buckets = Array.from({ length: this.hasher.bands }, () => new Map<number, number[]>());
  }

  get size(): number {
    return this.entries.length;
  }

  /** Shingles and band keys of a text, to pass to candidates/matches/add without computing them twice. */
  prepare(text: string): { set: Float64Array; keys: number[] } {
    const set = shingles(text, { shingleSize: this.shingleSize });
    return { set, keys: set.length ? this.hasher.bandKeys(this.hasher.signature(set)) : [] };
  }

  /** Entries sharing a band with the text, in the order they were added (no similarity check). */
  candidates(prepared: { keys: number[] }): number[] {
    const found = new Set<number>();
    prepared.keys.forEach((k, b) => {
      for (const e of this.buckets[b].get(k) ?? []) found.add(e);
    });
    return [...found].sort((x, y) => x - y);
  }

  /** Indexed texts at or above the threshold, most similar first (ties: added first). */
  matches(prepared: { set: Float64Array; keys: number[] }): NearMatch<Id>[] {
    const out: (NearMatch<Id> & { order: number })[] = [];
    for (const e of this.candidates(prepared)) {
      const similarity = jaccard(prepared.set, this.entries[e].set);
      if (similarity >= this.threshold) out.push({ id: this.entries[e].id, similarity, order: e });
    }
    out.sort((a, b) => b.similarity - a.similarity || a.order - b.order);
    return out.map(({ id, similarity }) => ({ id, similarity }));
  }

  add(id: Id, prepared: { set: Float64Array; keys: number[] }): void {
    const e = this.entries.length;
    this.entries.push({ id, set: prepared.set });
    prepared.keys.forEach((k, b) => {
      const bucket = this.buckets[b].get(k);
      if (bucket) bucket.push(e);
      else this.buckets[b].set(k, [e]);
    });
  }
}

/** Every pair (i < j) of texts at or above the threshold, by LSH and an exact check; sorted by i then j. */
export function nearDuplicatePairs(texts: readonly string[], options: NearDuplicateOptions = {}): [number, number, number][] {
  const index = new NearDuplicateIndex<number>(options);
  const pairs: [number, number, number][] = [];
  texts.forEach((t, j) => {
    const p = index.prepare(t);
    for (const m of index.matches(p)) pairs.push([m.id, j, m.similarity]);
    index.add(j, p);
  });
  return pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

// ---- Deduplication ---------------------------------------------------------------------------------------------

export interface DedupOptions extends NearDuplicateOptions {
  /** Look for near duplicates too (default true); false keeps only the exact check. */
  near?: boolean;
}

export type DedupDecision<Id> = { duplicate: false } | { duplicate: true; kind: DuplicateKind; reason: string; of: Id; similarity: number };

/**
 * Streaming deduplication: offer() texts one by one; each is compared with those kept before it. Seed it with what
 * earlier runs kept (a resumed job, a replay buffer) by offering those first.
 */
export class Deduper<Id = number> {
  private readonly exact = new Map<string, Id>();
  private readonly index?: NearDuplicateIndex<Id>;

  constructor(options: DedupOptions = {}) {
    if (options.near !== false) this.index = new NearDuplicateIndex<Id>(options);
  }

  get size(): number {
    return this.exact.size;
  }

  /** Keeps the text under `id` unless it duplicates one kept before. */
  offer(id: Id, text: string): DedupDecision<Id> {
    const key = exactKey(text);
    const same = this.exact.get(key);
    if (same !== undefined) return { duplicate: true, kind: 'exact', reason: duplicateReasons.exact, of: same, similarity: 1 };
    if (this.index) {
      const prepared = this.index.prepare(text);
      const best = this.index.matches(prepared)[0];
      if (best) return { duplicate: true, kind: 'near', reason: duplicateReasons.near, of: best.id, similarity: best.similarity };
      this.index.add(id, prepared);
    }
    this.exact.set(key, id);
    return { duplicate: false };
  }
}

export interface DroppedDuplicate<T> {
  /** Position of the dropped sample in the input. */
  index: number;
  sample: T;
  kind: DuplicateKind;
  reason: string;
  /** Position of the kept sample it duplicates. */
  of: number;
  similarity: number;
}

export interface DedupResult<T> {
  kept: T[];
  /** Input positions of the kept samples. */
  keptIndices: number[];
  dropped: DroppedDuplicate<T>[];
}

/** Keeps the first sample of each group of duplicates (in input order) and says what it dropped and why. */
export function dedupe<T>(samples: readonly T[], key: (sample: T) => string, options: DedupOptions = {}): DedupResult<T> {
  const deduper = new Deduper<number>(options);
  const result: DedupResult<T> = { kept: [], keptIndices: [], dropped: [] };
  samples.forEach((sample, index) => {
    const d = deduper.offer(index, key(sample));
    if (d.duplicate) result.dropped.push({ index, sample, kind: d.kind, reason: d.reason, of: d.of, similarity: d.similarity });
    else {
      result.kept.push(sample);
      result.keptIndices.push(index);
    }
  });
  return result;
}
