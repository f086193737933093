// Splitting a knowledge document into chunks of about N words (InstructLab's chunk_word_count, 1,000 by default) for
// question generation, keeping the document's structure: Markdown is read as blocks (ATX and setext headings,
// paragraphs, fenced code), grouped into sections by heading. A section that fits in the room left in the current
// chunk joins it; one that would fit in a chunk of its own starts a new chunk (so chunks break at headings); a section
// larger than a chunk is spread over chunks at paragraph boundaries, and a paragraph larger than a chunk at sentence
// boundaries (words, for a sentence longer than a chunk). Every chunk carries the heading path in effect where it
// starts, so a chunk that starts mid-section can still be shown under its headings. Pure and deterministic.
import { countWords } from '../taxonomy/words';
import type { DocumentFormat, LoadedDocument } from './documents';

export const defaultChunkWords = 1000;

/** InstructLab's estimate: one English word is about 1.3 tokens. */
export const tokensPerWord = 1.3;

export interface Heading {
  level: number;
  title: string;
}

export interface DocumentChunk {
  /** 0-based within its document. */
  index: number;
  /** The chunk's own text: blocks separated by a blank line, as in the document. */
  text: string;
  words: number;
  /** Headings in effect at the chunk's first line, outermost first (the chunk's own first heading included). */
  headings: Heading[];
  /** The chunk's text starts with a heading line (the last of `headings`). */
  startsAtHeading: boolean;
  /** The document it came from, when chunked through chunkDocuments. */
  file?: string;
}

export interface ChunkOptions {
  /** Most words per chunk; default 1,000. */
  maxWords?: number;
  /** 'markdown' (default) reads headings and code fences; 'text' and 'pdf' only paragraphs. */
  format?: DocumentFormat;
}

/** Words of a chunk that leave `reservedTokens` of a `contextTokens` window for prompt and answer (at most 1,000). */
export function chunkWordsForContext(contextTokens: number, reservedTokens: number, ceiling = defaultChunkWords): number {
  return Math.max(1, Math.min(ceiling, Math.floor((contextTokens - reservedTokens) / tokensPerWord)));
}

// ---- Blocks ---------------------------------------------------------------------------------------------------

interface Block {
  kind: 'heading' | 'paragraph' | 'code';
  text: string;
  heading?: Heading;
}

const atxHeading = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const fenceOpen = /^ {0,3}(`{3,}|~{3,})/;
const setextUnderline = /^ {0,3}(=+|-+)[ \t]*$/;

/** Markdown (or plain text) as a list of blocks; blank lines separate paragraphs. */
function parseBlocks(text: string, markdown: boolean): Block[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) blocks.push({ kind: 'paragraph', text: para.join('\n') });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.trim()) {
      flush();
      continue;
    }
    if (markdown) {
      const fence = fenceOpen.exec(line);
      if (fence) {
        flush();
        const marker = fence[1];
        const body = [line];
        let j = i + 1;
        for (; j < lines.length; j++) {
          body.push(lines[j]);
          const close = new RegExp(`^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}[ \\t]*$`);
          if (close.test(lines[j])) break;
        }
        i = Math.min(j, lines.length - 1);
        blocks.push({ kind: 'code', text: body.join('\n').replace(/\n+$/, '') });
        continue;
      }
      const atx = atxHeading.exec(line);
      if (atx) {
        flush();
        blocks.push({ kind: 'heading', text: line.trim(), heading: { level: atx[1].length, title: (atx[2] ?? '').trim() } });
        continue;
      }
      const under = setextUnderline.exec(line);
      if (under && para.length) {
        const title = para.map((l) => l.trim()).join(' ');
        blocks.push({ kind: 'heading', text: `${para.join('\n')}\n${line}`, heading: { level: under[1][0] === '=' ? 1 : 2, title } });
        para = [];
        continue;
      }
    }
    para.push(line);
  }
  flush();
  return blocks;
}

// ---- Units: what the packer places ----------------------------------------------------------------------------

interface Unit {
  text: string;
  words: number;
  /**
   * How the unit joins the one before it in a chunk: as a new block (blank line), or as more of the same block when
   * a block too long for a chunk was split: the next sentence (space) or the next list item or table row (newline).
   */
  join: 'block' | 'space' | 'line';
  /** Headings in effect at the unit's first line. */
  headings: Heading[];
  /** The unit starts with a heading line. */
  heading: boolean;
  code: boolean;
}

const abbreviations = new Set(['e.g.', 'i.e.', 'etc.', 'vs.', 'cf.', 'dr.', 'mr.', 'mrs.', 'ms.', 'st.', 'no.', 'fig.', 'approx.', 'prof.', 'jr.', 'sr.']);

/** Sentences of a paragraph (whitespace inside is kept as is; the separators are dropped). */
export function splitSentences(paragraph: string): string[] {
  const out: string[] = [];
  const re = /[.!?]["')\]]*(\s+)(?=["'(\[]?[A-Z0-9])/g;
  let start = 0;
  for (let m = re.exec(paragraph); m; m = re.exec(paragraph)) {
    const end = m.index + m[0].length - m[1].length;
    const lastWord = paragraph.slice(start, end).split(/\s+/).pop() ?? '';
    if (abbreviations.has(lastWord.toLowerCase()) || /^[A-Z]\.$/.test(lastWord)) continue;
    out.push(paragraph.slice(start, end));
    start = m.index + m[0].length;
  }
  if (start < paragraph.length) out.push(paragraph.slice(start));
  return out.map((x) => x.trim()).filter(Boolean);
}

/** Pieces of at most `max` words from a too-long run of words (a sentence longer than a chunk). */
function splitWords(text: string, max: number): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  const out: string[] = [];
  for (let i = 0; i < words.length; i += max) out.push(words.slice(i, i + max).join(' '));
  return out;
}

/** Prose as pieces of at most `max` words: sentences, or words of a sentence longer than that. */
function prosePieces(text: string, max: number): string[] {
  return splitSentences(text).flatMap((x) => (countWords(x) > max ? splitWords(x, max) : [x]));
}

const listOrTableLine = /^ {0,3}(?:[-*+]|\d{1,9}[.)])[ \t]|^ {0,3}\|/;

/** A list or table as its items (an item keeps its continuation lines); undefined for ordinary prose. */
function items(block: string): string[] | undefined {
  const lines = block.split('\n');
  if (!listOrTableLine.test(lines[0])) return undefined;
  const out: string[] = [];
  for (const line of lines) {
    if (listOrTableLine.test(line) || !out.length) out.push(line);
    else out[out.length - 1] += `\n${line}`;
  }
  return out.length > 1 ? out : undefined;
}

/** A block as units of at most `max` words: itself, its items, its sentences, or (code) runs of lines in fences. */
function blockUnits(block: Block, headings: Heading[], max: number): Unit[] {
  const unit = (text: string, join: Unit['join'], code = false): Unit => ({ text, words: countWords(text), join, headings, heading: false, code });
  const words = countWords(block.text);
  if (words <= max) return [unit(block.text, 'block', block.kind === 'code')];
  if (block.kind === 'code') {
    const lines = block.text.split('\n');
    const open = lines[0];
    const marker = fenceOpen.exec(open)![1];
    const closed = lines.length > 1 && new RegExp(`^ {0,3}\\${marker[0]}{${marker.length},}[ \\t]*$`).test(lines[lines.length - 1]);
    const close = closed ? lines[lines.length - 1] : marker;
    const body = lines.slice(1, closed ? -1 : undefined);
    const room = Math.max(1, max - countWords(open) - countWords(close));
    const units: Unit[] = [];
    let cur: string[] = [];
    let curWords = 0;
    const push = () => {
      if (cur.length) units.push(unit([open, ...cur, close].join('\n'), 'block', true));
      cur = [];
      curWords = 0;
    };
    for (const line of body) {
      const pieces = countWords(line) > room ? splitWords(line, room) : [line];
      for (const piece of pieces) {
        const w = countWords(piece);
        if (curWords + w > room) push();
        cur.push(piece);
        curWords += w;
      }
    }
    push();
    return units;
  }
  const list = items(block.text);
  if (list) {
    return list.flatMap((item, i) => {
      const first: Unit['join'] = i === 0 ? 'block' : 'line';
      if (countWords(item) <= max) return [unit(item, first)];
      return prosePieces(item, max).map((x, j) => unit(x, j === 0 ? first : 'space'));
    });
  }
  return prosePieces(block.text, max).map((x, i) => unit(x, i === 0 ? 'block' : 'space'));
}

/** Splits prose `u` so its first piece has at most `room` words; undefined when it cannot (code, or no room). */
function splitFirst(u: Unit, room: number): [Unit, Unit] | undefined {
  if (u.code || room < 1) return undefined;
  const sentences = prosePieces(u.text, room);
  let take = 0;
  let words = 0;
  while (take < sentences.length && words + countWords(sentences[take]) <= room) words += countWords(sentences[take++]);
  if (take === 0 || take === sentences.length) return undefined;
  const head = sentences.slice(0, take).join(' ');
  const tail = sentences.slice(take).join(' ');
  return [
    { ...u, text: head, words: countWords(head) },
    { ...u, text: tail, words: countWords(tail), join: 'space' },
  ];
}

interface Section {
  units: Unit[];
  words: number;
}

function sections(blocks: Block[], max: number): Section[] {
  const out: Section[] = [];
  let path: Heading[] = [];
  let current: Section = { units: [], words: 0 };
  // Heading lines waiting for the content they head: a heading never ends a chunk.
  let pending: Unit | undefined;
  const add = (u: Unit) => {
    current.units.push(u);
    current.words += u.words;
  };
  for (const block of blocks) {
    if (block.kind === 'heading') {
      const at = path;
      path = [...path.filter((h) => h.level < block.heading!.level), block.heading!];
      const words = countWords(block.text);
      if (pending && pending.words + words <= max) {
        // Consecutive headings ("# Title" then "## First part") travel together.
        pending = { ...pending, text: `${pending.text}\n\n${block.text}`, words: pending.words + words };
        continue;
      }
      if (pending) add(pending);
      if (current.units.length) out.push(current);
      current = { units: [], words: 0 };
      pending = { text: block.text, words, join: 'block', headings: [...at.filter((h) => h.level < block.heading!.level), block.heading!], heading: true, code: false };
      continue;
    }
    let units = blockUnits(block, path, max);
    if (pending) {
      let first = units[0];
      if (pending.words + first.words > max) {
        const split = splitFirst(first, max - pending.words);
        if (split) {
          units.splice(0, 1, ...split);
          first = split[0];
        } else if (first.code && max - pending.words > 2) {
          // Code splits between lines: cut it in pieces small enough for the first to sit under the heading.
          units = blockUnits(block, path, max - pending.words);
          first = units[0];
        }
      }
      if (pending.words + first.words <= max) {
        units[0] = { ...first, text: `${pending.text}\n\n${first.text}`, words: pending.words + first.words, join: 'block', headings: pending.headings, heading: true };
      } else {
        add(pending);
      }
      pending = undefined;
    }
    units.forEach(add);
  }
  if (pending) add(pending);
  if (current.units.length) out.push(current);
  return out;
}

// ---- Packing --------------------------------------------------------------------------------------------------

/** Chunks of at most maxWords words (a single heading line longer than that is the only exception). */
export function chunkText(text: string, options: ChunkOptions = {}): DocumentChunk[] {
  const max = options.maxWords ?? defaultChunkWords;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxWords must be a whole number of 1 or more, got ${max}`);
  const blocks = parseBlocks(text, (options.format ?? 'markdown') === 'markdown');
  const chunks: DocumentChunk[] = [];
  let parts: string[] = [];
  let words = 0;
  let headings: Heading[] = [];
  let startsAtHeading = false;
  const flush = () => {
    if (parts.length) chunks.push({ index: chunks.length, text: parts.join('\n\n'), words, headings, startsAtHeading });
    parts = [];
    words = 0;
  };
  const place = (u: Unit) => {
    if (parts.length && words + u.words > max) flush();
    if (!parts.length) {
      headings = u.headings;
      startsAtHeading = u.heading;
      parts.push(u.text);
    } else if (u.join !== 'block') {
      parts[parts.length - 1] += `${u.join === 'space' ? ' ' : '\n'}${u.text}`;
    } else {
      parts.push(u.text);
    }
    words += u.words;
  };
  for (const section of sections(blocks, max)) {
    if (words + section.words <= max) section.units.forEach(place);
    else if (section.words <= max) {
      flush();
      section.units.forEach(place);
    } else section.units.forEach(place);
  }
  flush();
  return chunks;
}

export function chunkDocument(doc: LoadedDocument, options: Omit<ChunkOptions, 'format'> = {}): DocumentChunk[] {
  return chunkText(doc.text, { ...options, format: doc.format }).map((c) => ({ ...c, file: doc.file }));
}

export function chunkDocuments(docs: readonly LoadedDocument[], options: Omit<ChunkOptions, 'format'> = {}): DocumentChunk[] {
  return docs.flatMap((d) => chunkDocument(d, options));
}

/** The chunk under its headings: the heading lines it does not start with are put back in front (for prompts). */
export function chunkWithHeadings(chunk: DocumentChunk): string {
  const missing = chunk.startsAtHeading ? chunk.headings.slice(0, -1) : chunk.headings;
  if (!missing.length) return chunk.text;
  return `${missing.map((h) => `${'#'.repeat(h.level)} ${h.title}`).join('\n\n')}\n\n${chunk.text}`;
}
