// The documents a knowledge leaf points to, as text: resolved the way the checker resolves them (repo + commit +
// patterns, from a local clone, through git: engine/taxonomy/documents.ts), read at the commit, and decoded:
// Markdown and plain text as UTF-8, PDF through pdfjs-dist's text layer (page by page, lines rebuilt from the text
// items' positions, paragraphs where the gap between lines is wider than the usual line spacing). A file that cannot be
// read is reported with the reason and the others are still loaded; the pipeline decides whether that stops the leaf.
import type { ParsedLeaf } from '../taxonomy/leaf';
import { readDocumentFile, resolveDocuments, type DocumentOptions, type ResolvedDocuments } from '../taxonomy/documents';

export type DocumentFormat = 'markdown' | 'text' | 'pdf';

export interface LoadedDocument {
  /** Path in the document repository, '/'-separated. */
  file: string;
  format: DocumentFormat;
  /** The text, with \n line ends; PDF pages are separated by a blank line. */
  text: string;
  /** PDF only. */
  pages?: number;
}

export interface SkippedDocument {
  file: string;
  reason: string;
}

export interface LeafDocuments {
  resolved: ResolvedDocuments;
  documents: LoadedDocument[];
  skipped: SkippedDocument[];
}

export class DocumentReadError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'DocumentReadError';
  }
}

export interface LoadDocumentOptions extends DocumentOptions {
  /** Larger files are skipped (default 64 MiB). */
  maxBytes?: number;
}

const formats: [RegExp, DocumentFormat][] = [
  [/\.(?:md|markdown)$/i, 'markdown'],
  [/\.txt$/i, 'text'],
  [/\.pdf$/i, 'pdf'],
];

export function documentFormat(file: string): DocumentFormat | undefined {
  return formats.find(([re]) => re.test(file))?.[1];
}

/**
 * Resolves and reads a knowledge leaf's documents. Throws DocumentResolutionError (from the taxonomy checker) when
 * the leaf's document section cannot be resolved at all: no clone, no such commit, a pattern matching nothing.
 */
export async function loadLeafDocuments(leaf: ParsedLeaf, options: LoadDocumentOptions = {}): Promise<LeafDocuments> {
  const resolved = await resolveDocuments(leaf, options);
  const documents: LoadedDocument[] = [];
  const skipped: SkippedDocument[] = [];
  for (const file of resolved.files) {
    if (!documentFormat(file)) {
      skipped.push({ file, reason: 'not a document SDG reads (.md, .markdown, .txt or .pdf)' });
      continue;
    }
    try {
      const bytes = await readDocumentFile(resolved, file, options);
      documents.push(await decodeDocument(file, bytes, options));
    } catch (err) {
      if (options.signal?.aborted) throw err;
      skipped.push({ file, reason: err instanceof DocumentReadError ? err.reason : (err as Error).message });
    }
  }
  return { resolved, documents, skipped };
}

/** Decodes one document's bytes by its extension. Throws DocumentReadError saying why it cannot be read. */
export async function decodeDocument(file: string, bytes: Uint8Array, options: { maxBytes?: number } = {}): Promise<LoadedDocument> {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  if (bytes.length > maxBytes) throw new DocumentReadError(file, `${bytes.length} bytes is more than the ${maxBytes} bytes SDG reads from one document`);
  const format = documentFormat(file);
  if (!format) throw new DocumentReadError(file, 'not a document SDG reads (.md, .markdown, .txt or .pdf)');
  if (format === 'pdf') {
    const { text, pages } = await extractPdfText(bytes, file);
    if (!text.trim()) throw new DocumentReadError(file, `the PDF has no text layer on any of its ${pages} page${pages === 1 ? '' : 's'} (a scanned document?): convert it to Markdown`);
    return { file, format, text, pages };
  }
  return { file, format, text: decodeUtf8(file, bytes) };
}

function decodeUtf8(file: string, bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new DocumentReadError(file, 'not UTF-8 text: save it as UTF-8');
  }
  if (text.includes('\0')) throw new DocumentReadError(file, 'binary content (NUL bytes) in a text document');
  return text.replace(/\r\n?/g, '\n');
}

// ---- PDF ------------------------------------------------------------------------------------------------------

interface PdfTextItem {
  str: string;
  hasEOL?: boolean;
  transform: number[];
  height?: number;
}

interface PdfLine {
  text: string;
  y: number;
  size: number;
}

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
let pdfjsPromise: Promise<PdfJs> | undefined;

// The minified builds: the plain ones carry multi-megabyte source maps that Node parses on load whenever source maps
// are enabled (under tsx, in tests), which costs seconds. The specifiers are variables so the bundler leaves pdfjs-dist
// to be loaded from node_modules at run time, like node-llama-cpp.
const pdfjsModule = 'pdfjs-dist/legacy/build/pdf.min.mjs';
const pdfjsWorkerModule = 'pdfjs-dist/legacy/build/pdf.worker.min.mjs';

function pdfjs(): Promise<PdfJs> {
  // Loaded on first use: most runs read no PDF, and the library is large.
  pdfjsPromise ??= (async () => {
    const lib = (await import(pdfjsModule)) as PdfJs;
    // In Node, pdfjs runs its worker in this thread; handing it the worker module up front spares it a second lookup.
    const g = globalThis as { pdfjsWorker?: unknown };
    g.pdfjsWorker ??= await import(pdfjsWorkerModule);
    return lib;
  })();
  pdfjsPromise.catch(() => (pdfjsPromise = undefined));
  return pdfjsPromise;
}

/** The text of every page, pages separated by a blank line, paragraphs by a blank line, lines of a paragraph by a space. */
export async function extractPdfText(bytes: Uint8Array, file = 'document.pdf'): Promise<{ text: string; pages: number }> {
  const lib = await pdfjs();
  // pdfjs takes ownership of the buffer it is given; copy so the caller's bytes stay usable.
  const data = new Uint8Array(bytes);
  const task = lib.getDocument({ data, isEvalSupported: false, useSystemFonts: false, disableFontFace: true, verbosity: 0, stopAtErrors: false });
  let doc: Awaited<typeof task.promise>;
  try {
    doc = await task.promise;
  } catch (err) {
    await task.destroy().catch(() => {});
    const name = (err as { name?: string }).name;
    if (name === 'PasswordException') throw new DocumentReadError(file, 'the PDF is encrypted with a password: give SDG an unencrypted copy');
    throw new DocumentReadError(file, `not a readable PDF (${(err as Error).message})`);
  }
  try {
    const pages: string[] = [];
    for (let p = 1; p <= doc.numPages; p++) {
      const page = await doc.getPage(p);
      const content = await page.getTextContent();
      pages.push(pageText(content.items.filter((i) => 'str' in i) as unknown as PdfTextItem[]));
      page.cleanup();
    }
    return { text: pages.filter((t) => t.trim()).join('\n\n'), pages: doc.numPages };
  } finally {
    await doc.destroy();
  }
}

function pageText(items: readonly PdfTextItem[]): string {
  // Rebuild lines: an item ends its line when it says so (hasEOL) or the next one starts on another baseline.
  const lines: PdfLine[] = [];
  let current: PdfLine | undefined;
  for (const item of items) {
    const y = item.transform[5];
    const size = Math.abs(item.transform[3]) || item.height || 0;
    if (current && Math.abs(current.y - y) > Math.max(1, size * 0.3) && item.str.trim()) {
      lines.push(current);
      current = undefined;
    }
    if (!current) current = { text: '', y, size };
    current.text += item.str;
    current.size = Math.max(current.size, size);
    if (item.hasEOL) {
      lines.push(current);
      current = undefined;
    }
  }
  if (current) lines.push(current);
  const kept = lines.map((l) => ({ ...l, text: l.text.replace(/\s+/g, ' ').trim() })).filter((l) => l.text);
  if (kept.length === 0) return '';
  // The usual distance between baselines on this page; a clearly wider gap starts a paragraph.
  const gaps = kept
    .slice(1)
    .map((l, i) => kept[i].y - l.y)
    .filter((g) => g > 0)
    .sort((a, b) => a - b);
  const usual = gaps.length ? gaps[Math.floor((gaps.length - 1) / 2)] : 0;
  const paragraphs: string[][] = [[kept[0].text]];
  for (let i = 1; i < kept.length; i++) {
    const gap = kept[i - 1].y - kept[i].y;
    const newParagraph = gap < 0 || (usual > 0 && gap > usual * 1.4) || (usual === 0 && gap > kept[i].size * 1.8);
    if (newParagraph) paragraphs.push([kept[i].text]);
    else paragraphs[paragraphs.length - 1].push(kept[i].text);
  }
  return paragraphs.map((p) => p.join(' ')).join('\n\n');
}
