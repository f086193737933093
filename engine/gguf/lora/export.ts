// PEFT LoRA adapter → llama.cpp's GGUF LoRA adapter, the format `llama-cli --lora` and node-llama-cpp's
// createContext({lora}) load:
//
//   general.architecture  the base's GGUF arch (llama.cpp refuses an adapter whose arch differs from the model's)
//   general.type          "adapter";  adapter.type "lora";  adapter.lora.alpha (f32)
//   <base name>.lora_a    A: PEFT's [r, in] bytes as they are, which GGUF reads as ne = [in, r]
//   <base name>.lora_b    B: PEFT's [out, r] bytes, GGUF ne = [r, out]; rows of q/k permuted as the base's were
//
// llama.cpp adds (alpha / rank) · B (A x) with rank = ne[0] of lora_b and one alpha per file. PEFT scales each module
// by its own alpha / r (alpha / sqrt(r) with use_rslora, per-module values through rank_pattern / alpha_pattern);
// where that differs from the file's alpha / rank, the ratio is folded into B so the product is the same.
// Streaming: the header is fixed from the safetensors header, then one module's A and B are read, encoded, written.
import { join } from 'node:path';
import { GgmlType } from '../ggmlTypes';
import { quantize } from '../quant/index';
import { GgufWriter } from '../writer';
import { readModelConfig, type LlamaFamilyConfig } from '../../hf/config';
import { permuteRopeRows } from '../convert/index';
import { ggufArchitectureOf, ggufWeightName, ropeRowsHeadDim } from './ggufNames';
import { checkAdapterFitsBase, openPeftAdapter, type LoraModule, type PeftAdapter } from './peft';

/** Tensor types an adapter can be written in (llama.cpp's convert_lora_to_gguf offers the same). */
export const adapterTypes = {
  f32: { type: GgmlType.F32, fileType: 0 },
  f16: { type: GgmlType.F16, fileType: 1 },
  bf16: { type: GgmlType.BF16, fileType: 32 },
  q8_0: { type: GgmlType.Q8_0, fileType: 7 },
} as const;
export type AdapterType = keyof typeof adapterTypes;

export interface ExportAdapterOptions {
  /** The PEFT adapter folder. */
  peftDir: string;
  /** The Hugging Face folder of the base model (only its config.json is read). */
  baseDir: string;
  /** The .gguf file to write; it appears only when complete. */
  out: string;
  /** Default f32. */
  type?: AdapterType;
  /** Called after each tensor is written. */
  onTensor?: (name: string, index: number, total: number) => void;
}

export interface ExportedTensor {
  name: string;
  /** GGUF order: ne[0] first. */
  dims: number[];
  type: GgmlType;
}

export interface ExportAdapterResult {
  path: string;
  size: number;
  architecture: string;
  /** adapter.lora.alpha as written. */
  alpha: number;
  tensors: ExportedTensor[];
  /** Tensors written as F16 because their rows are not whole blocks of the requested quantized type. */
  fallbacks: string[];
  /** Modules whose scale differs from alpha / rank (rslora, alpha_pattern, rank_pattern), folded into lora_b. */
  folded: string[];
}

/** Writes the GGUF LoRA adapter for a PEFT adapter and its base model. */
export async function exportLoraAdapter(options: ExportAdapterOptions): Promise<ExportAdapterResult> {
  const spec = adapterTypes[options.type ?? 'f32'];
  if (!spec) throw new RangeError(`unknown adapter type ${JSON.stringify(options.type)}; types: ${Object.keys(adapterTypes).join(', ')}`);
  const base = await readModelConfig(options.baseDir);
  const adapter = await openPeftAdapter(options.peftDir);
  try {
    checkAdapterFitsBase(adapter, base, join(options.baseDir, 'config.json'));
    return await writeAdapter(adapter, base, options, spec);
  } finally {
    await adapter.close();
  }
}

/** The alpha written to the file: PEFT's lora_alpha, or for rslora the value that makes alpha / r the same scale. */
export function fileAlpha(adapter: Pick<PeftAdapter, 'config'>): number {
  const { loraAlpha, r, useRslora } = adapter.config;
  const alpha = useRslora ? loraAlpha * Math.sqrt(r) : loraAlpha;
  // llama.cpp reads alpha 0 as "no alpha, scale 1"; a zero lora_alpha is written as r with B folded to zero instead.
  return alpha === 0 ? r : Math.fround(alpha);
}

/** What B must be multiplied by so that llama.cpp's alpha / rank gives the module's PEFT scale. */
export function foldFactor(m: Pick<LoraModule, 'scale' | 'rank'>, alpha: number): number {
  const factor = (m.scale * m.rank) / alpha;
  return Math.abs(factor - 1) < 1e-6 ? 1 : factor;
}

async function writeAdapter(
  adapter: PeftAdapter,
  base: LlamaFamilyConfig,
  options: ExportAdapterOptions,
  spec: (typeof adapterTypes)[AdapterType],
): Promise<ExportAdapterResult> {
  const architecture = ggufArchitectureOf(base.modelType);
  const alpha = fileAlpha(adapter);
  const writer = await GgufWriter.create(options.out);
  const fallbacks: string[] = [];
  const folded: string[] = [];
  try {
    writer.setString('general.architecture', architecture);
    writer.setString('general.type', 'adapter');
    writer.setString('general.name', `${base.modelType} LoRA adapter`);
    writer.setU32('general.file_type', spec.fileType);
    if (spec.type === GgmlType.Q8_0) writer.setU32('general.quantization_version', 2);
    writer.setString('adapter.type', 'lora');
    writer.setF32('adapter.lora.alpha', alpha);

    const typeOf = (name: string, rowLength: number): GgmlType => {
      if (spec.type !== GgmlType.Q8_0 || rowLength % 32 === 0) return spec.type;
      // As llama.cpp's converter does: a row that is not whole Q8_0 blocks (lora_b rows are r long) goes F16.
      fallbacks.push(name);
      return GgmlType.F16;
    };
    const plan: { module: LoraModule; a: ExportedTensor; b: ExportedTensor }[] = [];
    for (const m of adapter.modules) {
      const weight = ggufWeightName(m);
      const a: ExportedTensor = { name: `${weight}.lora_a`, dims: [m.inDim, m.rank], type: typeOf(`${weight}.lora_a`, m.inDim) };
      const b: ExportedTensor = { name: `${weight}.lora_b`, dims: [m.rank, m.outDim], type: typeOf(`${weight}.lora_b`, m.rank) };
      writer.addTensor(a.name, a.dims, a.type);
      writer.addTensor(b.name, b.dims, b.type);
      plan.push({ module: m, a, b });
      if (foldFactor(m, alpha) !== 1) folded.push(m.module);
    }

    const total = plan.length * 2;
    let index = 0;
    for (const { module: m, a, b } of plan) {
      await writer.writeTensor(a.name, quantize(a.type, await adapter.readA(m)));
      options.onTensor?.(a.name, index++, total);
      await writer.writeTensor(b.name, quantize(b.type, await exportedB(adapter, m, base, alpha)));
      options.onTensor?.(b.name, index++, total);
    }
    const { path, size } = await writer.finish();
    return { path, size, architecture, alpha, tensors: plan.flatMap((p) => [p.a, p.b]), fallbacks, folded };
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

/** B as the file stores it: q/k rows in the base GGUF's order, the module's scale folded in where it must be. */
async function exportedB(adapter: PeftAdapter, m: LoraModule, base: LlamaFamilyConfig, alpha: number): Promise<Float32Array> {
  let b = await adapter.readB(m);
  const headDim = ropeRowsHeadDim(base.modelType, m.target, base.headDim);
  if (headDim !== undefined) {
    const rows = permuteRopeRows(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), m.rank * 4, headDim);
    b = new Float32Array(rows.buffer, rows.byteOffset, rows.length / 4);
  }
  const factor = foldFactor(m, alpha);
  // readB returns a fresh array, so it can be scaled in place.
  if (factor !== 1) for (let i = 0; i < b.length; i++) b[i] *= factor;
  return b;
}
