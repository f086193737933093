// What a conversion will write, decided from headers alone before any tensor data is read: the metadata, and for
// every tensor its GGUF name, dimensions, type and where its data comes from. Every tensor of the folder is checked
// against what config.json implies (name, shape, dtype), so a wrong or foreign checkpoint fails here, not half way.
import { basename } from 'node:path';
import { meta, type GgufValue } from '../format';
import { GgmlType } from '../ggmlTypes';
import { defaultTypeFor, fileTypeFor, tensorTypeFor, type QuantMix } from '../quant/mixes';
import { llamaFamilyTensors } from '../../hf/fixtureModel';
import type { ModelFolder } from '../../hf/modelFolder';
import type { SafetensorsDtype, TensorReader } from '../../hf/safetensors';
import { ConvertError } from './errors';
import { hparamsMetadata, needsRopePermutation, type GgufArchitecture } from './hparams';
import { ggufTensorName, isIgnoredTensor } from './tensorNames';
import { vocabMetadata } from './vocab';

/** The safetensors dtypes a conversion reads, and the ggml type their bytes already are. */
const sourceTypes: Partial<Record<SafetensorsDtype, GgmlType>> = {
  F32: GgmlType.F32,
  F16: GgmlType.F16,
  BF16: GgmlType.BF16,
  // F64 is read as float32 first (see SourceTensor.readAsF32).
  F64: GgmlType.F32,
};

export interface PlannedTensor {
  /** GGUF name. */
  name: string;
  /** Dimensions in GGUF order: dims[0] is the row length. */
  dims: number[];
  /** The type written. */
  type: GgmlType;
  source:
    | {
        kind: 'weights';
        /** Hugging Face name. */
        name: string;
        file: string;
        dtype: SafetensorsDtype;
        /** The ggml type the bytes are in once read (F64 sources are read as F32). */
        type: GgmlType;
        /** Rows of RoPE heads to reorder: the head dimension, when this is q_proj or k_proj of a llama-RoPE model. */
        ropeHeadDim?: number;
        byteLength: number;
      }
    | { kind: 'generated'; data: Float32Array };
}

export interface ConversionPlan {
  arch: GgufArchitecture;
  mix: QuantMix;
  metadata: [string, GgufValue][];
  tensors: PlannedTensor[];
  /** Sentences for the user: what was assumed or does not carry over. */
  warnings: string[];
  /** Bytes of tensor data read from the safetensors files. */
  inputBytes: number;
}

export interface PlanOptions {
  /** general.name (default: the folder's name). */
  name?: string;
}

export function planConversion(folder: ModelFolder, weights: TensorReader, mix: QuantMix, options: PlanOptions = {}): ConversionPlan {
  const { config } = folder;
  const configFile = `${folder.folder}/config.json`;
  // readModelFolder warns about any pre-tokenizer other than GPT-2's; vocabMetadata recognises more and warns itself.
  const warnings = folder.warnings.filter((w) => !/its pre-tokenizer is not GPT-2's/.test(w));

  const hparams = hparamsMetadata(config, configFile);
  warnings.push(...hparams.warnings);
  const vocab = vocabMetadata(folder, config.vocabSize);
  warnings.push(...vocab.warnings);

  const quantized = ![GgmlType.F32, GgmlType.F16, GgmlType.BF16].includes(defaultTypeFor(mix));
  const metadata: [string, GgufValue][] = [
    ['general.architecture', meta.string(hparams.arch)],
    ['general.type', meta.string('model')],
    ['general.name', meta.string(options.name ?? nameOf(folder))],
    ...hparams.entries,
    ['general.file_type', meta.u32(fileTypeFor(mix))],
    ...(quantized ? ([['general.quantization_version', meta.u32(2)]] as [string, GgufValue][]) : []),
    ...vocab.entries,
  ];

  // What config.json says the checkpoint holds, by Hugging Face name.
  const expected = new Map(llamaFamilyTensors(config).map((t) => [t.name, t.shape]));
  const tied = config.tieWordEmbeddings;
  const permute = needsRopePermutation(hparams.arch);
  const tensors: PlannedTensor[] = hparams.tensors.map((t) => ({ name: t.name, dims: [t.data.length], type: GgmlType.F32, source: { kind: 'generated', data: t.data } }));
  let inputBytes = 0;
  for (const hfName of weights.names) {
    const info = weights.info(hfName);
    if (isIgnoredTensor(hfName)) continue;
    if (hfName === 'lm_head.weight' && tied) {
      warnings.push(`${info.file}: lm_head.weight is not written: config.json ties it to the token embeddings (tie_word_embeddings), as transformers does`);
      continue;
    }
    const mapped = ggufTensorName(hfName);
    if (!mapped) {
      throw new ConvertError(
        info.file,
        `tensor '${hfName}' is not a tensor of a ${config.modelType} model`,
        `this converter maps the llama family's tensors (model.embed_tokens, model.layers.N.self_attn/mlp/norms, model.norm, lm_head); the checkpoint holds more than ${config.architecture} uses`,
        hfName,
      );
    }
    const shape = expected.get(hfName);
    if (!shape) {
      throw new ConvertError(info.file, `tensor '${hfName}' is not used by a model with this config.json`, `check attention_bias / mlp_bias / num_hidden_layers in ${configFile}`, hfName);
    }
    if (shape.length !== info.shape.length || shape.some((d, i) => d !== info.shape[i])) {
      throw new ConvertError(info.file, `tensor '${hfName}' has shape [${info.shape.join(', ')}], config.json implies [${shape.join(', ')}]`, 'the weights and config.json do not belong together', hfName);
    }
    const sourceType = sourceTypes[info.dtype];
    if (sourceType === undefined) {
      throw new ConvertError(info.file, `tensor '${hfName}' has dtype ${info.dtype}`, 'only F32, F16, BF16 and F64 weights convert; dequantize the checkpoint first', hfName);
    }
    expected.delete(hfName);
    const dims = [...info.shape].reverse();
    const type = tensorTypeFor(mix, { name: mapped.gguf, shape: dims, nLayers: config.numHiddenLayers, hasOutput: !tied });
    const ropeHeadDim = permute && (mapped.role === 'attn_q' || mapped.role === 'attn_k') ? config.headDim : undefined;
    tensors.push({
      name: mapped.gguf,
      dims,
      type,
      source: { kind: 'weights', name: hfName, file: info.file, dtype: info.dtype, type: sourceType, byteLength: info.byteLength, ...(ropeHeadDim ? { ropeHeadDim } : {}) },
    });
    inputBytes += info.byteLength;
  }
  const missing = [...expected.keys()];
  if (missing.length) {
    throw new ConvertError(
      folder.folder,
      `the weights lack ${missing.length === 1 ? 'tensor' : `${missing.length} tensors, e.g.`} '${missing[0]}'`,
      missing[0] === 'lm_head.weight' ? 'set tie_word_embeddings in config.json if the model shares its embeddings' : 'the checkpoint is incomplete or a shard is missing',
      missing[0],
    );
  }
  return { arch: hparams.arch, mix, metadata, tensors, warnings, inputBytes };
}

function nameOf(folder: ModelFolder): string {
  const named = folder.config.raw._name_or_path;
  if (typeof named === 'string' && named.trim()) return basename(named.trim());
  return basename(folder.folder);
}
