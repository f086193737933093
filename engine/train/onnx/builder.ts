// A small typed builder of ONNX graphs on onnx-proto's message classes. Attribute types are always explicit: a JS
// number is ambiguous (onnx-proto would encode 1.0 as INT, and ORT then rejects a FLOAT attribute such as Gemm's
// beta), so every attribute goes through attr.int / attr.float / ... . ORT 1.30 runs opset ≤ 26 and IR ≤ 13.

import { onnx } from 'onnx-proto';

export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  DOUBLE: 11,
  /** Not in onnx-proto's (ONNX 1.10) enum, but encodes and loads as a plain number. */
  UINT4: 21,
  INT4: 22,
} as const;
export type DataTypeName = keyof typeof DataType;

export type Attr =
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'ints'; value: readonly number[] }
  | { type: 'floats'; value: readonly number[] }
  | { type: 'string'; value: string };

/** Typed attribute values: the only way attributes enter a node. */
export const attr = {
  int: (value: number): Attr => {
    if (!Number.isInteger(value)) throw new RangeError(`INT attribute ${value} is not an integer`);
    return { type: 'int', value };
  },
  float: (value: number): Attr => ({ type: 'float', value }),
  ints: (value: readonly number[]): Attr => {
    if (!value.every(Number.isInteger)) throw new RangeError(`INTS attribute [${value.join(', ')}] has a non-integer`);
    return { type: 'ints', value };
  },
  floats: (value: readonly number[]): Attr => ({ type: 'floats', value }),
  string: (value: string): Attr => ({ type: 'string', value }),
};

/** A dimension: a fixed size or a symbolic name shared by inputs that must agree (batch, seq). */
export type Dim = number | string;

export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

export interface Initializer {
  name: string;
  dataType: number;
  dims: readonly number[];
  /** Little-endian bytes as ONNX stores them (raw_data). */
  bytes: Uint8Array;
}

export interface OpsetImport {
  domain: string;
  version: number;
}

export const maxOpset = 26;
export const maxIrVersion = 13;

export interface EncodeOptions {
  /** Initializers of at least this many bytes go to the external data file (protobuf caps a model at 2 GiB). */
  externalThreshold?: number;
  /** Name of the external data file the session is given (default weights.bin). */
  externalFile?: string;
}

/** Encoded model: bytes for InferenceSession.create and, when initializers went external, the file they point to. */
export interface EncodedModel {
  bytes: Uint8Array;
  externalData: { path: string; data: Uint8Array }[];
}

export class GraphError extends Error {
  override name = 'GraphError';
}

function bytesOf(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function dataTypeOf(data: TensorData): number {
  if (data instanceof Float32Array) return DataType.FLOAT;
  if (data instanceof Float64Array) return DataType.DOUBLE;
  if (data instanceof Int32Array) return DataType.INT32;
  if (data instanceof BigInt64Array) return DataType.INT64;
  return DataType.UINT8;
}

function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly names = new Set<string>();
  private readonly constants = new Map<string, string>();
  private counter = 0;
  private readonly domains = new Map<string, number>();

  constructor(
    readonly graphName: string,
    readonly opset = 21,
  ) {
    if (opset > maxOpset) throw new GraphError(`opset ${opset}: onnxruntime-node 1.30 supports ai.onnx up to ${maxOpset}`);
    this.domains.set('', opset);
  }

  /** Declares a domain the graph uses (com.microsoft for MatMulNBits). */
  useDomain(domain: string, version: number): void {
    this.domains.set(domain, version);
  }

  /** A fresh value name with this stem. */
  fresh(stem: string): string {
    let name: string;
    do name = `${stem}_${this.counter++}`;
    while (this.names.has(name));
    this.names.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new GraphError(`value ${name} is defined twice in graph ${this.graphName}`);
    this.names.add(name);
    return name;
  }

  input(name: string, type: DataTypeName, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), DataType[type], dims));
    return name;
  }

  /** Marks `value` as a graph output named `name` (an Identity is inserted when the names differ). */
  output(value: string, name: string, type: DataTypeName, dims: readonly Dim[]): string {
    if (value !== name) this.node('Identity', [value], {}, { outputs: [name] });
    this.outputs.push(valueInfo(name, DataType[type], dims));
    return name;
  }

  /** A constant tensor stored in the model (frozen weights, shapes, scalars). */
  initializer(name: string, data: TensorData, dims: readonly number[], dataType = dataTypeOf(data)): string {
    const expected = dataType === DataType.UINT4 || dataType === DataType.INT4 ? Math.ceil(elementCount(dims) / 2) : elementCount(dims);
    const count = dataType === DataType.UINT4 || dataType === DataType.INT4 ? data.byteLength : data.length;
    if (count !== expected) throw new GraphError(`initializer ${name}: ${count} values for dims [${dims.join(', ')}]`);
    this.initializers.push({ name: this.claim(name), dataType, dims: [...dims], bytes: bytesOf(data) });
    return name;
  }

  /** A float32 scalar or vector constant, shared between uses of the same values. */
  constF(values: number | readonly number[], dims?: readonly number[]): string {
    const arr = typeof values === 'number' ? [values] : values;
    const d = dims ?? (typeof values === 'number' ? [] : [arr.length]);
    return this.shared(`f:${d.join('x')}:${arr.join(',')}`, 'cf', new Float32Array(arr), d);
  }

  /** An int64 vector constant (shapes, axes, slice bounds). */
  constI64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.shared(`i:${dims.join('x')}:${values.join(',')}`, 'ci', BigInt64Array.from(values, (v) => BigInt(v)), dims);
  }

  private shared(key: string, stem: string, data: TensorData, dims: readonly number[]): string {
    let name = this.constants.get(key);
    if (!name) {
      name = this.fresh(stem);
      this.names.delete(name);
      this.initializer(name, data, dims);
      this.constants.set(key, name);
    }
    return name;
  }

  /** Adds a node; returns its output names (fresh ones unless given). */
  node(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, Attr> = {},
    opts: { outputs?: number | readonly string[]; domain?: string } = {},
  ): string[] {
    for (const i of inputs) {
      if (i !== '' && !this.names.has(i)) throw new GraphError(`${opType} reads ${i}, which no earlier node, input or initializer defines`);
    }
    const domain = opts.domain ?? '';
    if (!this.domains.has(domain)) throw new GraphError(`${opType} is in domain ${domain}; call useDomain first`);
    const outs =
      typeof opts.outputs === 'object' ? opts.outputs.map((o) => this.claim(o)) : Array.from({ length: opts.outputs ?? 1 }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push({
      opType,
      domain,
      name: `${opType}_${this.nodes.length}`,
      input: [...inputs],
      output: outs,
      attribute: Object.entries(attrs).map(([name, a]) => attributeProto(name, a)),
    });
    return outs;
  }

  /** A node with one output. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, domain?: string): string {
    return this.node(opType, inputs, attrs, { domain })[0];
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  /** Encodes the model; initializers of externalThreshold bytes or more go to one external data file. */
  encode(options: EncodeOptions = {}): EncodedModel {
    const threshold = options.externalThreshold ?? Infinity;
    const file = options.externalFile ?? 'weights.bin';
    const external: Uint8Array[] = [];
    let offset = 0;
    const tensors: onnx.ITensorProto[] = this.initializers.map((t) => {
      const base = { name: t.name, dataType: t.dataType, dims: [...t.dims] };
      if (t.bytes.byteLength < threshold) return { ...base, rawData: t.bytes };
      // ORT reads external tensors at any offset; 64-byte alignment keeps them friendly to memory mapping.
      const pad = (64 - (offset % 64)) % 64;
      if (pad) external.push(new Uint8Array(pad));
      offset += pad;
      external.push(t.bytes);
      const entry = [
        { key: 'location', value: file },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(t.bytes.byteLength) },
      ];
      offset += t.bytes.byteLength;
      return { ...base, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: entry };
    });
    const model = onnx.ModelProto.create({
      irVersion: 10,
      producerName: 'taxonomy-studio',
      opsetImport: [...this.domains].map(([domain, version]) => ({ domain, version })),
      graph: {
        name: this.graphName,
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer: tensors,
      },
    });
    const bytes = onnx.ModelProto.encode(model).finish();
    if (external.length === 0) return { bytes, externalData: [] };
    const data = new Uint8Array(offset);
    let at = 0;
    for (const part of external) {
      data.set(part, at);
      at += part.byteLength;
    }
    return { bytes, externalData: [{ path: file, data }] };
  }
}

function valueInfo(name: string, elemType: number, dims: readonly Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attributeProto(name: string, a: Attr): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: [...a.value] };
    case 'floats':
      return { name, type: T.FLOATS, floats: [...a.value] };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
  }
}
