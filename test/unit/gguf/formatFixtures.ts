// Shared pieces for the GGUF format tests: temporary folders, metadata holding every value type, deterministic tensor
// bytes, and where each field of a tensor info lies (so tests can damage one field of a file we wrote).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GgmlType } from '../../../engine/gguf/ggmlTypes';
import { GgufType, meta, type GgufValue } from '../../../engine/gguf/format';
import type { GgufFile } from '../../../engine/gguf/reader';

/** A fresh temporary folder and a function that removes it. */
export function tempFolder(prefix = 'gguf-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every value type at the edges of its range, arrays of each, nested arrays, empty ones and non-ASCII strings. */
export function everyTypeMetadata(): [string, GgufValue][] {
  return [
    ['general.architecture', meta.string('llama')],
    ['test.u8', meta.u8(255)],
    ['test.i8', meta.i8(-128)],
    ['test.u16', meta.u16(65535)],
    ['test.i16', meta.i16(-32768)],
    ['test.u32', meta.u32(4294967295)],
    ['test.i32', meta.i32(-2147483648)],
    ['test.f32', meta.f32(Math.fround(0.1))],
    ['test.f32_special', meta.f32(-Infinity)],
    ['test.bool_true', meta.bool(true)],
    ['test.bool_false', meta.bool(false)],
    ['test.string', meta.string('héllo wörld, 日本語, emoji 😀, tab\tnewline\n')],
    ['test.empty_string', meta.string('')],
    ['test.u64', meta.u64(18446744073709551615n)],
    ['test.i64', meta.i64(-9223372036854775808n)],
    ['test.f64', meta.f64(Math.PI)],
    ['test.array.u8', meta.array({ itemType: GgufType.UINT8, items: [0, 1, 255] })],
    ['test.array.i8', meta.array({ itemType: GgufType.INT8, items: [-128, 0, 127] })],
    ['test.array.u16', meta.array({ itemType: GgufType.UINT16, items: [0, 65535] })],
    ['test.array.i16', meta.array({ itemType: GgufType.INT16, items: [-32768, 32767] })],
    ['test.array.u32', meta.u32s([0, 4294967295])],
    ['test.array.i32', meta.i32s([-2147483648, -1, 0, 2147483647])],
    ['test.array.f32', meta.f32s([Math.fround(-1.25), 0, Math.fround(3.4e38)])],
    ['test.array.bool', meta.bools([true, false, true])],
    ['test.array.string', meta.strings(['<unk>', '<s>', 'Ġthe', 'ü', '日本', '😀', ''])],
    ['test.array.u64', meta.array({ itemType: GgufType.UINT64, items: [0n, 18446744073709551615n] })],
    ['test.array.i64', meta.array({ itemType: GgufType.INT64, items: [-9223372036854775808n, 42n] })],
    ['test.array.f64', meta.array({ itemType: GgufType.FLOAT64, items: [Math.E, -0.5] })],
    ['test.array.empty', meta.strings([])],
    [
      'test.array.nested',
      meta.array({
        itemType: GgufType.ARRAY,
        items: [
          { itemType: GgufType.INT32, items: [1, 2, 3] },
          { itemType: GgufType.STRING, items: ['ä', 'b'] },
          { itemType: GgufType.ARRAY, items: [{ itemType: GgufType.FLOAT32, items: [0.5] }] },
          { itemType: GgufType.BOOL, items: [] },
        ],
      }),
    ],
  ];
}

/** Deterministic bytes (a linear congruential sequence), different for each seed. */
export function bytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export interface TensorSpec {
  name: string;
  dims: number[];
  type: GgmlType;
  data: Buffer;
}

/** A handful of tensors of different types and shapes; byte lengths follow ggml's block layouts. */
export function sampleTensors(): TensorSpec[] {
  return [
    { name: 'token_embd.weight', dims: [8, 5], type: GgmlType.F32, data: bytes(8 * 5 * 4, 1) },
    { name: 'blk.0.attn_norm.weight', dims: [8], type: GgmlType.F16, data: bytes(16, 2) },
    { name: 'blk.0.attn_q.weight', dims: [64, 3], type: GgmlType.Q8_0, data: bytes(2 * 3 * 34, 3) },
    { name: 'blk.0.ffn_up.weight', dims: [256, 2, 1], type: GgmlType.Q4_K, data: bytes(2 * 144, 4) },
    { name: 'output.weight', dims: [3], type: GgmlType.BF16, data: bytes(6, 5) },
  ];
}

/** Where the fields of each tensor info lie in a file (absolute offsets), from the file's own layout. */
export function infoLayout(file: GgufFile): { name: string; start: number; nDimsAt: number; dimsAt: number; typeAt: number; offsetAt: number; end: number }[] {
  let at = file.tensorInfoOffset;
  return file.tensors.map((t) => {
    const start = at;
    const nDimsAt = start + 8 + Buffer.byteLength(t.name);
    const dimsAt = nDimsAt + 4;
    const typeAt = dimsAt + 8 * t.dims.length;
    const offsetAt = typeAt + 4;
    at = offsetAt + 8;
    return { name: t.name, start, nDimsAt, dimsAt, typeAt, offsetAt, end: at };
  });
}
