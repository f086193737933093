// What is in a model file, GGUF or safetensors: its metadata, its tensors and their totals by type, as one plain
// structure (`inspectModelFile`) printed as text (`formatInspection`) or JSON (`inspectionJson`). Only headers are
// read, so inspecting a 70 GB model is instant. safetensors headers come from engine/hf/safetensors.ts.
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { elementCount, openSafetensors } from '../hf/safetensors';
import { ModelFileError } from './errors';
import { describeType, GGUF_MAGIC_BYTES, GgufType, ggufTypeName, toPlain, type GgufArray, type GgufValue } from './format';
import { ggmlTypeName } from './ggmlTypes';
import { openGguf } from './reader';

export type ModelFileFormat = 'gguf' | 'safetensors';

export interface InspectedEntry {
  key: string;
  /** "u32", "string", "array[string]" (safetensors metadata is always string). */
  type: string;
  value: GgufValue;
}

export interface InspectedTensor {
  name: string;
  /** ggml type name (F16, Q4_K) for GGUF, dtype (BF16, F32) for safetensors. */
  type: string;
  /** GGUF: dimensions as GGUF stores them, ne[0] first. safetensors: row-major, as PyTorch gives them. */
  shape: number[];
  elements: number;
  bytes: number;
  /** Absolute offset of the data in the file. */
  offset: number;
}

export interface TypeTotal {
  type: string;
  tensors: number;
  elements: number;
  bytes: number;
}

export interface Inspection {
  file: string;
  format: ModelFileFormat;
  size: number;
  /** GGUF version (3); absent for safetensors. */
  version?: number;
  /** GGUF alignment; absent for safetensors. */
  alignment?: number;
  /** Absolute offset of the data section. */
  dataOffset: number;
  metadata: InspectedEntry[];
  /** In the order their data lies in the file. */
  tensors: InspectedTensor[];
  /** One row per tensor type, largest first. */
  totals: TypeTotal[];
}

/** Which format a file is, from its first bytes (and its extension for safetensors, whose start is only a length). */
export async function detectFormat(path: string): Promise<ModelFileFormat> {
  const handle = await open(path, 'r');
  let head: Buffer;
  try {
    head = Buffer.alloc(9);
    const { bytesRead } = await handle.read(head, 0, 9, 0);
    head = head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  if (head.length >= 4 && GGUF_MAGIC_BYTES.every((b, i) => head[i] === b)) return 'gguf';
  const ext = extname(path).toLowerCase();
  if (ext === '.gguf') return 'gguf'; // the GGUF reader says what is wrong with its start
  // A safetensors file starts with the u64 header length and then the JSON header's "{".
  if (ext === '.safetensors' || (head.length === 9 && head[8] === 0x7b && head.readBigUInt64LE(0) < 100_000_000n)) return 'safetensors';
  const hex = [...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new ModelFileError(`not a GGUF or safetensors file (it starts with bytes ${hex || 'none: it is empty'})`, {
    file: path,
    offset: 0,
    problem: 'not-model-file',
    hint: 'inspect reads .gguf files and .safetensors files',
  });
}

/** Reads the header of a GGUF or safetensors file. Throws GgufError, SafetensorsError or ModelFileError. */
export async function inspectModelFile(path: string): Promise<Inspection> {
  return (await detectFormat(path)) === 'gguf' ? inspectGguf(path) : inspectSafetensors(path);
}

async function inspectGguf(path: string): Promise<Inspection> {
  const file = await openGguf(path);
  await file.close();
  const tensors = [...file.tensors]
    .sort((a, b) => a.offset - b.offset)
    .map((t) => ({ name: t.name, type: ggmlTypeName(t.type), shape: t.dims, elements: t.elements, bytes: t.byteLength, offset: file.dataOffset + t.offset }));
  return {
    file: path,
    format: 'gguf',
    size: file.size,
    version: file.version,
    alignment: file.alignment,
    dataOffset: file.dataOffset,
    metadata: [...file.metadata].map(([key, value]) => ({ key, type: describeType(value), value })),
    tensors,
    totals: totalsByType(tensors),
  };
}

async function inspectSafetensors(path: string): Promise<Inspection> {
  const file = await openSafetensors(path);
  await file.close();
  const tensors = file.header.tensors.map((t) => ({
    name: t.name,
    type: t.dtype,
    shape: t.shape,
    elements: elementCount(t.shape),
    bytes: t.byteLength,
    offset: t.fileOffset,
  }));
  return {
    file: path,
    format: 'safetensors',
    size: file.fileSize,
    dataOffset: file.header.dataStart,
    metadata: Object.entries(file.metadata).map(([key, value]) => ({ key, type: 'string', value: { type: GgufType.STRING, value } })),
    tensors,
    totals: totalsByType(tensors),
  };
}

function totalsByType(tensors: InspectedTensor[]): TypeTotal[] {
  const byType = new Map<string, TypeTotal>();
  for (const t of tensors) {
    const total = byType.get(t.type) ?? { type: t.type, tensors: 0, elements: 0, bytes: 0 };
    total.tensors++;
    total.elements += t.elements;
    total.bytes += t.bytes;
    byType.set(t.type, total);
  }
  return [...byType.values()].sort((a, b) => b.bytes - a.bytes || a.type.localeCompare(b.type));
}

export interface FormatOptions {
  /** Include the table of every tensor. */
  tensors?: boolean;
}

/** The inspection as text: a summary line, metadata (long values shortened), totals by type, optionally every tensor. */
export function formatInspection(ins: Inspection, options: FormatOptions = {}): string {
  const lines: string[] = [];
  const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  const kind = ins.format === 'gguf' ? `GGUF v${ins.version}` : 'safetensors';
  lines.push(`${ins.file}: ${kind}, ${formatBytes(ins.size)}, ${count(ins.metadata.length, 'metadata key')}, ${count(ins.tensors.length, 'tensor')}`);
  lines.push(
    ins.format === 'gguf'
      ? `alignment ${ins.alignment}, tensor data at offset ${ins.dataOffset}; shapes in GGUF order (ne[0], the row length, first)`
      : `tensor data at offset ${ins.dataOffset}; shapes row-major (as PyTorch gives them)`,
  );

  lines.push('', 'Metadata:');
  if (ins.metadata.length === 0) lines.push('  (none)');
  lines.push(...table(ins.metadata.map((m) => [m.key, m.type, summarizeValue(m.value)])));

  lines.push('', 'Tensors by type:');
  if (ins.totals.length === 0) lines.push('  (no tensors)');
  else {
    const all = ins.totals.reduce((s, t) => ({ tensors: s.tensors + t.tensors, elements: s.elements + t.elements, bytes: s.bytes + t.bytes }), {
      tensors: 0,
      elements: 0,
      bytes: 0,
    });
    const digits = String(all.tensors).length;
    const rows = [...ins.totals, { type: 'total', ...all }].map((t) => [
      t.type,
      `${String(t.tensors).padStart(digits)} ${t.tensors === 1 ? 'tensor' : 'tensors'}`,
      `${groupDigits(t.elements)} values`,
      `${groupDigits(t.bytes)} bytes`,
      `(${formatBytes(t.bytes)})`,
    ]);
    lines.push(...table(rows, [false, false, true, true, false]));
  }

  if (options.tensors && ins.tensors.length > 0) {
    lines.push('', 'Tensors:');
    const rows = ins.tensors.map((t) => [t.name, t.type, `[${t.shape.join(', ')}]`, String(t.bytes), String(t.offset)]);
    lines.push(...table([['name', 'type', 'shape', 'bytes', 'offset'], ...rows], [false, false, false, true, true]));
  }
  return `${lines.join('\n')}\n`;
}

/** Arrays longer than this are cut in the JSON output (with their length and `truncated: true`). */
export const JSON_ARRAY_ITEMS = 64;

/** The inspection as JSON-ready data: bigints as numbers when safe (strings otherwise), long arrays cut. */
export function inspectionJson(ins: Inspection, options: FormatOptions = {}): unknown {
  return {
    file: ins.file,
    format: ins.format,
    size: ins.size,
    ...(ins.version !== undefined ? { version: ins.version } : {}),
    ...(ins.alignment !== undefined ? { alignment: ins.alignment } : {}),
    dataOffset: ins.dataOffset,
    tensorCount: ins.tensors.length,
    metadata: ins.metadata.map((m) => ({ key: m.key, type: m.type, ...jsonValue(m.value) })),
    totals: ins.totals,
    ...(options.tensors ? { tensors: ins.tensors } : {}),
  };
}

/** inspectionJson as text: objects one key a line, arrays of plain values on one line (a vocabulary stays readable). */
export function formatInspectionJson(ins: Inspection, options: FormatOptions = {}): string {
  return `${compactJson(inspectionJson(ins, options), '')}\n`;
}

function compactJson(value: unknown, indent: string): string {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object' || (Array.isArray(v) && v.every((w) => w === null || typeof w !== 'object')))) {
      return inlineJson(value);
    }
    const inner = `${indent}  `;
    return `[\n${value.map((v) => `${inner}${compactJson(v, inner)}`).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const inner = `${indent}  `;
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

function inlineJson(value: unknown): string {
  return Array.isArray(value) ? `[${value.map(inlineJson).join(', ')}]` : JSON.stringify(value);
}

function jsonValue(value: GgufValue): { value: unknown; length?: number; truncated?: true } {
  if (value.type !== GgufType.ARRAY) return { value: jsonScalar(value.type, value.value) };
  const array = value.value;
  const cut = array.items.length > JSON_ARRAY_ITEMS;
  const items = cut ? ({ ...array, items: array.items.slice(0, JSON_ARRAY_ITEMS) } as GgufArray) : array;
  return { value: jsonArray(items), ...(cut ? { length: array.items.length, truncated: true as const } : {}) };
}

function jsonArray(array: GgufArray): unknown[] {
  if (array.itemType === GgufType.ARRAY) return array.items.map(jsonArray);
  return (array.items as (number | bigint | boolean | string)[]).map((item) => jsonScalar(array.itemType, item));
}

/** Plain JSON: bigints as numbers when exact (strings otherwise), f32 at float32 precision, non-finite floats as text. */
function jsonScalar(type: GgufType, value: number | bigint | boolean | string): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (type === GgufType.FLOAT32) return Number(float32Text(value as number));
  return toPlain({ type, value } as GgufValue);
}

/** Characters of a value shown before it is cut with "…". */
const VALUE_WIDTH = 72;

/**
 * A value on one line: strings quoted and escaped (long ones cut, with their length), floats at float32 precision,
 * arrays as `[32000 strings] "<unk>", "<s>", …` with as many items as fit.
 */
export function summarizeValue(value: GgufValue, width = VALUE_WIDTH): string {
  if (value.type === GgufType.ARRAY) return summarizeArray(value.value, width);
  if (value.type === GgufType.STRING) return quote(value.value, width);
  return scalarText(value.type, value.value);
}

function summarizeArray(array: GgufArray, width: number): string {
  const n = array.items.length;
  const label = `[${n} ${n === 1 ? itemNoun(array.itemType) : pluralNoun(array.itemType)}]`;
  if (n === 0) return label;
  const parts: string[] = [];
  let used = label.length;
  for (let i = 0; i < n; i++) {
    const item = array.items[i];
    const text =
      array.itemType === GgufType.ARRAY
        ? `(${summarizeArray(item as GgufArray, 24)})`
        : array.itemType === GgufType.STRING
          ? quote(item as string, 24)
          : scalarText(array.itemType, item as number | bigint | boolean);
    if (parts.length > 0 && used + text.length + 2 > width) break;
    parts.push(text);
    used += text.length + 2;
  }
  return `${label} ${parts.join(', ')}${parts.length < n ? ', …' : ''}`;
}

function itemNoun(type: GgufType): string {
  return ggufTypeName(type);
}

/** "strings", "arrays", "bools", but "f32", "i32": type names of numbers read better unpluralized. */
function pluralNoun(type: GgufType): string {
  return type === GgufType.STRING || type === GgufType.ARRAY || type === GgufType.BOOL ? `${ggufTypeName(type)}s` : ggufTypeName(type);
}

function quote(s: string, width: number): string {
  const json = JSON.stringify(s);
  if (codePoints(json) <= width) return json;
  // Cut on a code point boundary, within `width` code points all told, and say how long the whole string is.
  const chars = [...s];
  const suffix = ` (${chars.length} chars)`;
  let shown = '';
  for (const ch of chars) {
    if (codePoints(JSON.stringify(shown + ch)) + 1 + suffix.length > width) break;
    shown += ch;
  }
  return `${JSON.stringify(shown).slice(0, -1)}…"${suffix}`;
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function scalarText(type: GgufType, value: number | bigint | boolean): string {
  if (type === GgufType.FLOAT32) return float32Text(value as number);
  return String(value);
}

/** The shortest decimal that reads back as the same float32 (1e-5 rather than 0.000009999999747378752). */
export function float32Text(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(x.toPrecision(p));
    if (Math.fround(candidate) === x) return String(candidate);
  }
  return String(x);
}

/** Rows as aligned columns, two spaces apart; `right` marks right-aligned (numeric) columns. */
function table(rows: string[][], right: boolean[] = []): string[] {
  if (rows.length === 0) return [];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => `  ${r.map((cell, c) => (c === r.length - 1 && !right[c] ? cell : right[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ')}`);
}

function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Bytes in binary units: "512 B", "1.5 KiB", "4.21 GiB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[u]}`;
}
