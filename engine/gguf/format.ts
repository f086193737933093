// GGUF v3 as ggml publishes it (docs/gguf.md, include/gguf.h): the fixed constants, the metadata value type ids
// (stored in the file as u32), and the in-memory model of metadata values that the reader returns and the writer takes.
//
// Layout, all little-endian: magic "GGUF", version u32 (3), tensor count u64, metadata count u64; then each metadata
// pair (key string, value type u32, value); then each tensor info (name string, dimension count u32, dimensions u64 each
// with ne[0] the fastest-varying, ggml type u32, data offset u64 relative to the data section); zero padding to the
// alignment; then the data section, each tensor's data starting at an aligned offset. A string is a u64 byte length
// and UTF-8 bytes without a terminator; an array is an item type u32, an item count u64 and the items (arrays nest).
//
// 64-bit integers: UINT64/INT64 values are always bigint, so every value read can be written back exactly; use
// `asNumber` where a JS number is wanted (it refuses values past Number.MAX_SAFE_INTEGER). Tensor dimensions and
// offsets are numbers: the reader refuses ones that are not safe integers (no real file is 8 PiB).

export const GGUF_MAGIC = 'GGUF';
/** The magic as the first four bytes of the file. */
export const GGUF_MAGIC_BYTES: readonly number[] = [0x47, 0x47, 0x55, 0x46];
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;
export const GGUF_KEY_ALIGNMENT = 'general.alignment';
/** ggml tensors have at most four dimensions (GGML_MAX_DIMS); llama.cpp refuses files with more. */
export const GGML_MAX_DIMS = 4;
/** ggml keeps tensor names in a 64-byte buffer with a terminator (GGML_MAX_NAME), so 63 bytes at most. */
export const GGML_MAX_NAME_BYTES = 63;
/** The spec limits keys to 2^16-1 bytes. */
export const GGUF_MAX_KEY_BYTES = 0xffff;

export enum GgufType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** Types whose values are JS numbers. */
export type GgufNumberType =
  | GgufType.UINT8
  | GgufType.INT8
  | GgufType.UINT16
  | GgufType.INT16
  | GgufType.UINT32
  | GgufType.INT32
  | GgufType.FLOAT32
  | GgufType.FLOAT64;
/** Types whose values are bigints. */
export type GgufBigIntType = GgufType.UINT64 | GgufType.INT64;

/** An array's items, typed by its item type; arrays of arrays hold one GgufArray per item, each with its own type. */
export type GgufArray =
  | { itemType: GgufNumberType; items: number[] }
  | { itemType: GgufBigIntType; items: bigint[] }
  | { itemType: GgufType.BOOL; items: boolean[] }
  | { itemType: GgufType.STRING; items: string[] }
  | { itemType: GgufType.ARRAY; items: GgufArray[] };

/** One metadata value with its type. */
export type GgufValue =
  | { type: GgufNumberType; value: number }
  | { type: GgufBigIntType; value: bigint }
  | { type: GgufType.BOOL; value: boolean }
  | { type: GgufType.STRING; value: string }
  | { type: GgufType.ARRAY; value: GgufArray };

const typeNames: Record<GgufType, string> = {
  [GgufType.UINT8]: 'u8',
  [GgufType.INT8]: 'i8',
  [GgufType.UINT16]: 'u16',
  [GgufType.INT16]: 'i16',
  [GgufType.UINT32]: 'u32',
  [GgufType.INT32]: 'i32',
  [GgufType.FLOAT32]: 'f32',
  [GgufType.BOOL]: 'bool',
  [GgufType.STRING]: 'string',
  [GgufType.ARRAY]: 'array',
  [GgufType.UINT64]: 'u64',
  [GgufType.INT64]: 'i64',
  [GgufType.FLOAT64]: 'f64',
};

export function isGgufType(id: number): id is GgufType {
  return Number.isInteger(id) && id >= GgufType.UINT8 && id <= GgufType.FLOAT64;
}

/** Short name of a value type id ("u32", "string"), or "type N" for an id the format does not define. */
export function ggufTypeName(type: number): string {
  return isGgufType(type) ? typeNames[type] : `type ${type}`;
}

/** The type of a value as text: "u32", "array[string]", "array[array[i32]]". */
export function describeType(value: GgufValue): string {
  return value.type === GgufType.ARRAY ? describeArrayType(value.value) : ggufTypeName(value.type);
}

function describeArrayType(array: GgufArray): string {
  if (array.itemType !== GgufType.ARRAY) return `array[${ggufTypeName(array.itemType)}]`;
  // Inner arrays each have their own item type; name it only when they agree.
  const inner = new Set(array.items.map(describeArrayType));
  return `array[${inner.size === 1 ? [...inner][0] : 'array'}]`;
}

/** Bytes one scalar of a fixed-size type takes in the file; undefined for strings and arrays. */
export function fixedSize(type: GgufType): number | undefined {
  switch (type) {
    case GgufType.UINT8:
    case GgufType.INT8:
    case GgufType.BOOL:
      return 1;
    case GgufType.UINT16:
    case GgufType.INT16:
      return 2;
    case GgufType.UINT32:
    case GgufType.INT32:
    case GgufType.FLOAT32:
      return 4;
    case GgufType.UINT64:
    case GgufType.INT64:
    case GgufType.FLOAT64:
      return 8;
    default:
      return undefined;
  }
}

/** The least bytes one item of a type can take, for checking a declared count against the bytes left. */
export function minimumSize(type: GgufType): number {
  if (type === GgufType.STRING) return 8; // the length
  if (type === GgufType.ARRAY) return 12; // item type + count
  return fixedSize(type) ?? 1;
}

/** Rounds `offset` up to a multiple of `alignment`. */
export function alignUp(offset: number, alignment: number): number {
  const rest = offset % alignment;
  return rest === 0 ? offset : offset + alignment - rest;
}

export function isValidAlignment(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n <= 0xffffffff && (n & (n - 1)) === 0;
}

// Typed value constructors, so callers state the file type of each value: `meta.u32(4096)`, `meta.strings(tokens)`.
export const meta = {
  u8: (value: number): GgufValue => ({ type: GgufType.UINT8, value }),
  i8: (value: number): GgufValue => ({ type: GgufType.INT8, value }),
  u16: (value: number): GgufValue => ({ type: GgufType.UINT16, value }),
  i16: (value: number): GgufValue => ({ type: GgufType.INT16, value }),
  u32: (value: number): GgufValue => ({ type: GgufType.UINT32, value }),
  i32: (value: number): GgufValue => ({ type: GgufType.INT32, value }),
  f32: (value: number): GgufValue => ({ type: GgufType.FLOAT32, value }),
  f64: (value: number): GgufValue => ({ type: GgufType.FLOAT64, value }),
  u64: (value: bigint | number): GgufValue => ({ type: GgufType.UINT64, value: BigInt(value) }),
  i64: (value: bigint | number): GgufValue => ({ type: GgufType.INT64, value: BigInt(value) }),
  bool: (value: boolean): GgufValue => ({ type: GgufType.BOOL, value }),
  string: (value: string): GgufValue => ({ type: GgufType.STRING, value }),
  array: (value: GgufArray): GgufValue => ({ type: GgufType.ARRAY, value }),
  strings: (items: string[]): GgufValue => ({ type: GgufType.ARRAY, value: { itemType: GgufType.STRING, items } }),
  i32s: (items: number[]): GgufValue => ({ type: GgufType.ARRAY, value: { itemType: GgufType.INT32, items } }),
  u32s: (items: number[]): GgufValue => ({ type: GgufType.ARRAY, value: { itemType: GgufType.UINT32, items } }),
  f32s: (items: number[]): GgufValue => ({ type: GgufType.ARRAY, value: { itemType: GgufType.FLOAT32, items } }),
  bools: (items: boolean[]): GgufValue => ({ type: GgufType.ARRAY, value: { itemType: GgufType.BOOL, items } }),
};

/**
 * Why a value cannot be stored as its declared type (out of range, not an integer, wrong JS type), or undefined when
 * it can. Arrays are checked item by item, nested arrays included.
 */
export function valueProblem(value: GgufValue): string | undefined {
  if (value.type === GgufType.ARRAY) return arrayProblem(value.value);
  return scalarProblem(value.type, value.value);
}

function arrayProblem(array: GgufArray): string | undefined {
  if (!isGgufType(array.itemType)) return `array item type ${array.itemType} is not a GGUF value type`;
  if (!Array.isArray(array.items)) return 'array items must be a JS array';
  // One checker per array, not per item: vocabularies run to hundreds of thousands of items.
  const check = array.itemType === GgufType.ARRAY ? (item: unknown) => arrayProblem(item as GgufArray) : scalarChecker(array.itemType);
  for (let i = 0; i < array.items.length; i++) {
    const problem = check(array.items[i]);
    if (problem) return `item ${i}: ${problem}`;
  }
  return undefined;
}

function scalarProblem(type: GgufType, value: unknown): string | undefined {
  if (!isGgufType(type)) return `${ggufTypeName(type)} is not a GGUF value type`;
  return scalarChecker(type)(value);
}

const intRanges: Partial<Record<GgufType, [number, number]>> = {
  [GgufType.UINT8]: [0, 0xff],
  [GgufType.INT8]: [-0x80, 0x7f],
  [GgufType.UINT16]: [0, 0xffff],
  [GgufType.INT16]: [-0x8000, 0x7fff],
  [GgufType.UINT32]: [0, 0xffffffff],
  [GgufType.INT32]: [-0x80000000, 0x7fffffff],
};

const bigRanges: Partial<Record<GgufType, [bigint, bigint]>> = {
  [GgufType.UINT64]: [0n, (1n << 64n) - 1n],
  [GgufType.INT64]: [-(1n << 63n), (1n << 63n) - 1n],
};

/** A function saying why a value cannot be stored as `type`, or undefined when it can. */
function scalarChecker(type: GgufType): (value: unknown) => string | undefined {
  const name = ggufTypeName(type);
  switch (type) {
    case GgufType.BOOL:
      return (v) => (typeof v === 'boolean' ? undefined : `a bool needs true or false, got ${show(v)}`);
    case GgufType.STRING:
      return (v) => (typeof v === 'string' ? undefined : `a string needs a JS string, got ${show(v)}`);
    case GgufType.FLOAT32:
    case GgufType.FLOAT64:
      return (v) => (typeof v === 'number' ? undefined : `an ${name} needs a number, got ${show(v)}`);
    case GgufType.UINT64:
    case GgufType.INT64: {
      const [lo, hi] = bigRanges[type]!;
      return (v) => {
        if (typeof v !== 'bigint') return `a ${name} needs a bigint, got ${show(v)}`;
        return v < lo || v > hi ? `${v} is outside the ${name} range ${lo}..${hi}` : undefined;
      };
    }
    case GgufType.ARRAY:
      return () => 'an array item must be a GgufArray';
    default: {
      const [lo, hi] = intRanges[type]!;
      return (v) => {
        if (typeof v !== 'number' || !Number.isInteger(v)) return `a ${name} needs an integer, got ${show(v)}`;
        return v < lo || v > hi ? `${v} is outside the ${name} range ${lo}..${hi}` : undefined;
      };
    }
  }
}

function show(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  return value === undefined ? 'undefined' : typeof value === 'object' ? typeof value : String(value);
}

/**
 * A numeric value as a JS number: integers of any width (bigints only when safe) and floats. Undefined for other
 * types, and for 64-bit values past Number.MAX_SAFE_INTEGER, which a number would round.
 */
export function asNumber(value: GgufValue | undefined): number | undefined {
  if (!value) return undefined;
  if (typeof value.value === 'number') return value.value;
  if (typeof value.value === 'bigint') {
    const big = value.value;
    return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(big) : undefined;
  }
  return undefined;
}

/** The value as plain JSON-safe data: bigints become numbers when safe, decimal strings otherwise; arrays become JS arrays. */
export function toPlain(value: GgufValue): unknown {
  return value.type === GgufType.ARRAY ? arrayToPlain(value.value) : scalarToPlain(value.value);
}

function arrayToPlain(array: GgufArray): unknown[] {
  if (array.itemType === GgufType.ARRAY) return array.items.map(arrayToPlain);
  return (array.items as unknown[]).map(scalarToPlain);
}

function scalarToPlain(value: unknown): unknown {
  if (typeof value !== 'bigint') return value;
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
}
