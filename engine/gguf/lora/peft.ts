// PEFT LoRA adapters as `peft` saves them: adapter_config.json (LoraConfig: r, lora_alpha, target_modules, ...) beside
// adapter_model.safetensors, whose tensors are named base_model.model.<module>.lora_A.weight ([r, in]) and
// .lora_B.weight ([out, r]) for each adapted Linear <module> of the base (model.layers.N.self_attn.q_proj, ...).
// Opening an adapter reads and checks the config and the safetensors header only; A and B are read one module at a
// time, so exporting or merging never holds more than one module's matrices.
//
// The update a module adds is scale · B A with scale = alpha / r (alpha / sqrt(r) with use_rslora), where r and alpha
// may be overridden per module by rank_pattern / alpha_pattern (a key matches a module's full name or a dotted suffix,
// as PEFT matches them).
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LlamaFamilyConfig } from '../../hf/config';
import { floatDtypes, openSafetensors, type SafetensorsFile } from '../../hf/safetensors';
import { AdapterError } from './errors';

export const adapterConfigFile = 'adapter_config.json';
export const adapterWeightsFile = 'adapter_model.safetensors';

/** The Linear layers of the llama family an adapter may adapt, in the order a layer's tensors are written. */
export const loraTargets = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LoraTarget = (typeof loraTargets)[number] | 'lm_head';

const targetList = [...loraTargets, 'lm_head'].join(', ');

/** adapter_config.json, the fields that change what the adapter computes. */
export interface PeftConfig {
  r: number;
  loraAlpha: number;
  /** A list of module names / suffixes, a regular expression, 'all-linear', or null (PEFT's default for the model). */
  targetModules: string[] | string | null;
  useRslora: boolean;
  rankPattern: Record<string, number>;
  alphaPattern: Record<string, number>;
  /** base_model_name_or_path, when given: where the adapter says it was trained. */
  baseModel?: string;
  /** The file as read. */
  raw: Record<string, unknown>;
}

/** One adapted Linear layer. */
export interface LoraModule {
  /** The base module, e.g. model.layers.0.self_attn.q_proj. */
  module: string;
  /** The base weight it adapts, e.g. model.layers.0.self_attn.q_proj.weight. */
  weight: string;
  target: LoraTarget;
  /** The block index; null for lm_head. */
  layer: number | null;
  /** PEFT tensor names of A ([rank, inDim]) and B ([outDim, rank]). */
  a: string;
  b: string;
  rank: number;
  inDim: number;
  outDim: number;
  /** alpha for this module (lora_alpha or its alpha_pattern entry). */
  alpha: number;
  /** What B A is multiplied by. */
  scale: number;
}

export interface PeftAdapter {
  readonly dir: string;
  readonly configPath: string;
  readonly weightsPath: string;
  readonly config: PeftConfig;
  /** Ordered by layer, then q, k, v, o, gate, up, down; lm_head last. */
  readonly modules: readonly LoraModule[];
  /** A as float32, [rank, inDim] row-major. */
  readA(m: LoraModule): Promise<Float32Array>;
  /** B as float32, [outDim, rank] row-major. */
  readB(m: LoraModule): Promise<Float32Array>;
  /** Closes adapter_model.safetensors; safe to call twice. */
  close(): Promise<void>;
}

const tensorName = /^base_model\.model\.(.+)\.lora_([AB])(?:\.[A-Za-z0-9_-]+)?\.weight$/;
const layerModule = /^model\.layers\.(\d+)\.(?:self_attn|mlp)\.([a-z_]+)$/;
const expectedParent: Record<(typeof loraTargets)[number], string> = {
  q_proj: 'self_attn',
  k_proj: 'self_attn',
  v_proj: 'self_attn',
  o_proj: 'self_attn',
  gate_proj: 'mlp',
  up_proj: 'mlp',
  down_proj: 'mlp',
};

/** Reads and checks a PEFT adapter folder. Close the result when done. */
export async function openPeftAdapter(dir: string): Promise<PeftAdapter> {
  const configPath = join(dir, adapterConfigFile);
  const weightsPath = join(dir, adapterWeightsFile);
  const config = await readPeftConfig(configPath);
  if (!(await exists(weightsPath))) {
    const bin = await exists(join(dir, 'adapter_model.bin'));
    throw new AdapterError(weightsPath, 'not found', {
      hint: bin
        ? 'found adapter_model.bin: only safetensors adapters are read; save the adapter with safe_serialization=True'
        : 'a PEFT adapter folder has adapter_model.safetensors beside adapter_config.json',
    });
  }
  const file = await openSafetensors(weightsPath);
  try {
    const modules = modulesOf(file, config, weightsPath, configPath);
    return new Adapter(dir, configPath, weightsPath, config, modules, file);
  } catch (err) {
    await file.close();
    throw err;
  }
}

/** Reads adapter_config.json and refuses what the GGUF LoRA format (or this reader) cannot express. */
export async function readPeftConfig(path: string): Promise<PeftConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AdapterError(path, code === 'ENOENT' ? 'not found' : `cannot read it (${code ?? (err as Error).message})`, {
      hint: code === 'ENOENT' ? 'give the folder PEFT saved the adapter in, with adapter_config.json and adapter_model.safetensors' : 'check its permissions',
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AdapterError(path, `is not valid JSON: ${(err as Error).message}`, { hint: 'fix the file or save the adapter again' });
  }
  return parsePeftConfig(json, path);
}

/** Checks a parsed adapter_config.json; `file` names it in errors. */
export function parsePeftConfig(json: unknown, file = adapterConfigFile): PeftConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new AdapterError(file, 'is not a JSON object');
  const raw = json as Record<string, unknown>;
  const fail = (field: string, what: string, hint?: string) => new AdapterError(file, what, { field, hint });

  const peftType = raw.peft_type ?? 'LORA';
  if (peftType !== 'LORA') {
    throw fail('peft_type', `peft_type is ${JSON.stringify(peftType)}; only LORA adapters can be exported or merged`, 'train a LoRA adapter (peft LoraConfig)');
  }
  if (raw.use_dora === true) throw fail('use_dora', 'use_dora is true: DoRA adapters have no GGUF form', 'train with use_dora=false, or merge with peft and convert the merged model');
  if (raw.fan_in_fan_out === true) {
    throw fail('fan_in_fan_out', 'fan_in_fan_out is true, but llama-family Linear weights are [out, in]', 'the adapter was made for another kind of model; set fan_in_fan_out to false only if it was saved wrongly');
  }
  if (raw.bias !== undefined && raw.bias !== null && raw.bias !== 'none') {
    throw fail('bias', `bias is ${JSON.stringify(raw.bias)}: trained biases have no place in a GGUF LoRA adapter`, 'train with bias="none"');
  }
  const modulesToSave = raw.modules_to_save;
  if (Array.isArray(modulesToSave) && modulesToSave.length > 0) {
    throw fail('modules_to_save', `modules_to_save lists ${modulesToSave.map((m) => JSON.stringify(m)).join(', ')}: whole trained modules cannot be applied as a LoRA`, 'train without modules_to_save');
  }
  const r = raw.r;
  if (typeof r !== 'number' || !Number.isSafeInteger(r) || r <= 0) throw fail('r', `r is ${JSON.stringify(r)}, not a positive integer`);
  const loraAlpha = raw.lora_alpha ?? 8; // LoraConfig's default
  if (typeof loraAlpha !== 'number' || !Number.isFinite(loraAlpha)) throw fail('lora_alpha', `lora_alpha is ${JSON.stringify(loraAlpha)}, not a number`);

  const targets = raw.target_modules ?? null;
  if (targets !== null && typeof targets !== 'string' && !(Array.isArray(targets) && targets.every((t) => typeof t === 'string'))) {
    throw fail('target_modules', `target_modules is ${JSON.stringify(targets)}, not a list of module names or a regular expression`);
  }
  if (Array.isArray(targets)) {
    for (const t of targets as string[]) {
      if (!mappableTarget(t)) {
        throw fail('target_modules', `target_modules names ${JSON.stringify(t)}, which has no tensor in a llama-family GGUF to adapt`, `LoRA can target ${targetList}`);
      }
    }
  } else if (typeof targets === 'string' && targets !== 'all-linear') {
    try {
      new RegExp(targets);
    } catch (err) {
      throw fail('target_modules', `target_modules ${JSON.stringify(targets)} is not a valid regular expression: ${(err as Error).message}`);
    }
  }
  const pattern = (field: string, integer: boolean): Record<string, number> => {
    const v = raw[field];
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) throw fail(field, `${field} is ${JSON.stringify(v)}, not an object of module name to number`);
    for (const [k, n] of Object.entries(v)) {
      if (typeof n !== 'number' || !Number.isFinite(n) || (integer && (!Number.isSafeInteger(n) || n <= 0))) {
        throw fail(field, `${field}[${JSON.stringify(k)}] is ${JSON.stringify(n)}, not a ${integer ? 'positive integer' : 'number'}`);
      }
    }
    return v as Record<string, number>;
  };
  const useRslora = raw.use_rslora ?? false;
  if (typeof useRslora !== 'boolean') throw fail('use_rslora', `use_rslora is ${JSON.stringify(useRslora)}, not true or false`);
  const config: PeftConfig = {
    r,
    loraAlpha,
    targetModules: targets as PeftConfig['targetModules'],
    useRslora,
    rankPattern: pattern('rank_pattern', true),
    alphaPattern: pattern('alpha_pattern', false),
    raw,
  };
  if (typeof raw.base_model_name_or_path === 'string') config.baseModel = raw.base_model_name_or_path;
  return config;
}

/** The transformers name of a target in a layer: moduleName(0, 'q_proj') is model.layers.0.self_attn.q_proj. */
export function moduleName(layer: number | null, target: LoraTarget): string {
  if (target === 'lm_head') return 'lm_head';
  if (layer === null) throw new RangeError(`${target} lives in a layer; give its index`);
  return `model.layers.${layer}.${expectedParent[target]}.${target}`;
}

/** A target_modules entry names one of the Linear layers we can map (by short name or a longer dotted path). */
function mappableTarget(entry: string): boolean {
  if (entry === 'lm_head') return true;
  const last = entry.split('.').pop()!;
  if (!(loraTargets as readonly string[]).includes(last)) return false;
  // A longer path must be the real one: [model.]layers.N.<self_attn|mlp>.<name>, or <self_attn|mlp>.<name>.
  const parent = expectedParent[last as (typeof loraTargets)[number]];
  return entry === last || new RegExp(`^(?:(?:model\\.)?layers\\.\\d+\\.)?${parent}\\.${last}$`).test(entry);
}

function modulesOf(file: SafetensorsFile, config: PeftConfig, weightsPath: string, configPath: string): LoraModule[] {
  const found = new Map<string, { a?: string; b?: string }>();
  for (const name of file.names) {
    const m = tensorName.exec(name);
    if (!m) {
      const why = name.includes('lora_embedding_')
        ? 'LoRA on the token embeddings has no GGUF form here'
        : name.endsWith('.weight') && !name.includes('.lora_')
          ? 'a whole trained weight (modules_to_save or added tokens) cannot be applied as a LoRA'
          : 'only lora_A / lora_B weights of Linear layers belong in a LoRA adapter';
      throw new AdapterError(weightsPath, `tensor '${name}': ${why}`, { tensor: name, hint: `adapt only ${targetList}` });
    }
    const entry = found.get(m[1]) ?? {};
    if ((m[2] === 'A' ? entry.a : entry.b) !== undefined) {
      throw new AdapterError(weightsPath, `tensor '${name}': module ${m[1]} has two lora_${m[2]} tensors`, { tensor: name, hint: 'the file holds more than one adapter; save a single adapter' });
    }
    if (m[2] === 'A') entry.a = name;
    else entry.b = name;
    found.set(m[1], entry);
  }
  if (found.size === 0) throw new AdapterError(weightsPath, 'has no lora_A / lora_B tensors', { hint: 'is this a LoRA adapter saved by peft?' });

  const modules: LoraModule[] = [];
  for (const [module, { a, b }] of found) {
    const some = (a ?? b)!;
    if (!a || !b) {
      throw new AdapterError(weightsPath, `module ${module} has lora_${a ? 'A' : 'B'} but no lora_${a ? 'B' : 'A'}`, { tensor: some, hint: 'the file is incomplete; save the adapter again' });
    }
    const { target, layer } = targetOf(module, weightsPath, some);
    if (!isTargeted(module, config.targetModules)) {
      throw new AdapterError(configPath, `target_modules ${JSON.stringify(config.targetModules)} does not name module ${module}, which ${adapterWeightsFile} adapts`, {
        field: 'target_modules',
        hint: 'the config and the weights come from different adapters',
      });
    }
    const aInfo = file.info(a);
    const bInfo = file.info(b);
    for (const t of [aInfo, bInfo]) {
      if (!floatDtypes.includes(t.dtype)) {
        throw new AdapterError(weightsPath, `tensor '${t.name}' has dtype ${t.dtype}; LoRA weights are read as ${floatDtypes.join(', ')}`, { tensor: t.name, hint: 'save the adapter in float32, float16 or bfloat16' });
      }
      if (t.shape.length !== 2) {
        throw new AdapterError(weightsPath, `tensor '${t.name}' has shape [${t.shape.join(', ')}], not a matrix`, { tensor: t.name, hint: 'LoRA A is [r, in] and B is [out, r]' });
      }
    }
    const [rank, inDim] = aInfo.shape;
    const [outDim, bRank] = bInfo.shape;
    if (bRank !== rank) {
      throw new AdapterError(weightsPath, `module ${module}: lora_A is [${aInfo.shape.join(', ')}] (rank ${rank}) but lora_B is [${bInfo.shape.join(', ')}] (rank ${bRank})`, {
        tensor: b,
        hint: 'A is [r, in] and B is [out, r] with the same r; the file is damaged or mixes adapters',
      });
    }
    const r = patternValue(config.rankPattern, module) ?? config.r;
    if (rank !== r) {
      const field = patternValue(config.rankPattern, module) === undefined ? 'r' : 'rank_pattern';
      throw new AdapterError(weightsPath, `module ${module} has rank ${rank} ([${aInfo.shape.join(', ')}]) but ${adapterConfigFile} says ${field === 'r' ? 'r' : 'rank_pattern'} = ${r}`, {
        tensor: a,
        field,
        hint: 'the config and the weights come from different adapters',
      });
    }
    const alpha = patternValue(config.alphaPattern, module) ?? config.loraAlpha;
    modules.push({
      module,
      weight: `${module}.weight`,
      target,
      layer,
      a,
      b,
      rank,
      inDim,
      outDim,
      alpha,
      scale: config.useRslora ? alpha / Math.sqrt(rank) : alpha / rank,
    });
  }
  const order = (m: LoraModule) => (m.layer ?? Number.MAX_SAFE_INTEGER) * 16 + (m.target === 'lm_head' ? 15 : loraTargets.indexOf(m.target));
  return modules.sort((x, y) => order(x) - order(y));
}

function targetOf(module: string, weightsPath: string, tensor: string): { target: LoraTarget; layer: number | null } {
  if (module === 'lm_head') return { target: 'lm_head', layer: null };
  const m = layerModule.exec(module);
  const name = m?.[2];
  if (m && name && (loraTargets as readonly string[]).includes(name) && module.includes(`.${expectedParent[name as (typeof loraTargets)[number]]}.`)) {
    return { target: name as LoraTarget, layer: Number(m[1]) };
  }
  throw new AdapterError(weightsPath, `tensor '${tensor}' adapts ${module}, which has no tensor in a llama-family GGUF`, {
    tensor,
    hint: `LoRA can target ${targetList} (as model.layers.N.self_attn.* / model.layers.N.mlp.* / lm_head)`,
  });
}

function isTargeted(module: string, targets: PeftConfig['targetModules']): boolean {
  if (targets === null || targets === 'all-linear') return true;
  if (typeof targets === 'string') return new RegExp(`^(?:${targets})$`).test(module);
  return targets.some((t) => module === t || module.endsWith(`.${t}`));
}

function patternValue(patterns: Record<string, number>, module: string): number | undefined {
  for (const [key, value] of Object.entries(patterns)) {
    if (module === key || module.endsWith(`.${key}`) || new RegExp(`^(?:.*\\.)?(?:${key})$`).test(module)) return value;
  }
  return undefined;
}

/** [out, in] of the base weight a target adapts, from the base's config.json. */
export function baseWeightShape(config: LlamaFamilyConfig, target: LoraTarget): [number, number] {
  const { hiddenSize: h, intermediateSize: f, headDim: d } = config;
  switch (target) {
    case 'q_proj':
      return [config.numAttentionHeads * d, h];
    case 'k_proj':
    case 'v_proj':
      return [config.numKeyValueHeads * d, h];
    case 'o_proj':
      return [h, config.numAttentionHeads * d];
    case 'gate_proj':
    case 'up_proj':
      return [f, h];
    case 'down_proj':
      return [h, f];
    case 'lm_head':
      return [config.vocabSize, h];
  }
}

/**
 * Checks that every module fits the base model its config.json describes (`baseConfigPath` names it): the layer
 * exists, lm_head is a tensor of its own, and A's inputs and B's outputs match the base weight's [out, in].
 * `actualShape`, when given, is the shape the base's weights really have (it wins over the config's).
 */
export function checkAdapterFitsBase(
  adapter: Pick<PeftAdapter, 'modules' | 'weightsPath'>,
  base: LlamaFamilyConfig,
  baseConfigPath: string,
  actualShape?: (weight: string) => readonly number[] | undefined,
): void {
  const retrain = 'the adapter was trained on another base model; pass the --base it was trained on';
  for (const m of adapter.modules) {
    if (m.layer !== null && m.layer >= base.numHiddenLayers) {
      throw new AdapterError(adapter.weightsPath, `tensor '${m.a}' adapts layer ${m.layer}, but the base model has ${base.numHiddenLayers} layers (${baseConfigPath})`, { tensor: m.a, hint: retrain });
    }
    if (m.target === 'lm_head' && base.tieWordEmbeddings) {
      throw new AdapterError(adapter.weightsPath, `tensor '${m.a}' adapts lm_head, which this base shares with the token embeddings (tie_word_embeddings in ${baseConfigPath})`, {
        tensor: m.a,
        hint: 'llama.cpp cannot apply a LoRA to a tied output; train without lm_head in target_modules',
      });
    }
    const expected = actualShape?.(m.weight) ?? baseWeightShape(base, m.target);
    const [out, inn] = expected;
    if (m.inDim !== inn) {
      throw new AdapterError(adapter.weightsPath, `tensor '${m.a}' is [${m.rank}, ${m.inDim}] but the base weight ${m.weight} is [${expected.join(', ')}] (${m.inDim} inputs, not ${inn})`, { tensor: m.a, hint: retrain });
    }
    if (m.outDim !== out) {
      throw new AdapterError(adapter.weightsPath, `tensor '${m.b}' is [${m.outDim}, ${m.rank}] but the base weight ${m.weight} is [${expected.join(', ')}] (${m.outDim} outputs, not ${out})`, { tensor: m.b, hint: retrain });
    }
  }
}

class Adapter implements PeftAdapter {
  constructor(
    readonly dir: string,
    readonly configPath: string,
    readonly weightsPath: string,
    readonly config: PeftConfig,
    readonly modules: readonly LoraModule[],
    private readonly file: SafetensorsFile,
  ) {}

  readA(m: LoraModule): Promise<Float32Array> {
    return this.read(m.a);
  }

  readB(m: LoraModule): Promise<Float32Array> {
    return this.read(m.b);
  }

  /** A tensor as float32, refusing NaN and infinities: they would poison every output the module touches. */
  private async read(name: string): Promise<Float32Array> {
    const values = await this.file.readFloat32(name);
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) {
        const { shape } = this.file.info(name);
        const at = shape.length === 2 ? ` [${Math.floor(i / shape[1])}, ${i % shape[1]}]` : '';
        throw new AdapterError(this.weightsPath, `tensor '${name}' element ${i}${at} is ${values[i]}`, {
          tensor: name,
          hint: 'the adapter diverged or was saved from a broken run; train it again or use an earlier checkpoint',
        });
      }
    }
    return values;
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
