// `taxonomy-studio fixture-model --out DIR`: a toy Hugging Face model folder (random weights, a tokenizer trained on
// the example taxonomy) to try generation, training and serving on without downloading a model.
import { resolve } from 'node:path';
import type { ModelType } from '../../hf/config';
import { folderCorpus } from '../../hf/corpus';
import { ModelFolderError, SafetensorsError } from '../../hf/errors';
import { fixtureArchitectures, fixtureSizes, writeFixtureModel, type FixtureDtype, type FixtureSize } from '../../hf/fixtureModel';
import { UsageError } from '../args';
import { displayPath } from './check';
import { defineCommand } from './command';

const dtypes: Record<string, FixtureDtype> = { f32: 'F32', f16: 'F16', bf16: 'BF16' };

export const fixtureModelCommand = defineCommand({
  name: 'fixture-model',
  summary: 'Write a tiny random llama-family model folder (Hugging Face format) to try things on',
  usage: 'fixture-model --out <dir> [--size tiny|small|medium] [--seed <n>] [--arch llama|mistral|granite|qwen2] [--dtype f32|f16|bf16] [--corpus <dir>] [--force]',
  description: [
    'Writes a Hugging Face model folder: config.json, model.safetensors with seeded random weights, and a byte-level',
    "BPE tokenizer (tokenizer.json, tokenizer_config.json with a chat template) trained on the example taxonomy's text.",
    'The same options always give the same bytes. The model is untrained: it produces noise, but it loads, converts',
    'and runs like a real one.',
    '',
    `  tiny   hidden ${fixtureSizes.tiny.hiddenSize}, ${fixtureSizes.tiny.numHiddenLayers} layers, ${fixtureSizes.tiny.numAttentionHeads} heads / ${fixtureSizes.tiny.numKeyValueHeads} key-value heads, vocabulary ${fixtureSizes.tiny.vocabSize}, tied embeddings`,
    `  small  hidden ${fixtureSizes.small.hiddenSize}, ${fixtureSizes.small.numHiddenLayers} layers, ${fixtureSizes.small.numAttentionHeads} heads / ${fixtureSizes.small.numKeyValueHeads} key-value heads, vocabulary ${fixtureSizes.small.vocabSize} (about 27M parameters)`,
    '',
    'The folder is written beside <dir> and renamed into place, so <dir> never holds half a model.',
    'Exit status: 0 written, 1 the folder could not be written, 2 bad usage.',
  ].join('\n'),
  options: {
    out: { type: 'string', short: 'o', valueName: '<dir>', description: 'Folder to write (must be empty or new unless --force)' },
    size: { type: 'string', valueName: '<size>', description: 'tiny (default), small or medium' },
    seed: { type: 'string', valueName: '<n>', description: 'Seed for the weights, 0 to 4294967295 (default 0)' },
    arch: { type: 'string', valueName: '<arch>', description: 'llama (default), mistral, granite or qwen2' },
    dtype: { type: 'string', valueName: '<dtype>', description: 'Weight type in model.safetensors: f32 (default), f16 or bf16' },
    corpus: { type: 'string', valueName: '<dir>', description: "Train the tokenizer on the .yaml/.md/.txt files under <dir> instead of the example taxonomy" },
    force: { type: 'boolean', short: 'f', description: 'Replace <dir> if it is not empty' },
    help: { type: 'boolean', short: 'h', description: 'Show this help' },
  },
  async run({ values, positionals }, ctx) {
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (the folder goes after --out)`);
    if (!values.out) throw new UsageError('fixture-model needs --out <dir>');
    const size = (values.size ?? 'tiny') as FixtureSize;
    if (!(size in fixtureSizes)) {
      const names = Object.keys(fixtureSizes);
      throw new UsageError(`--size must be ${names.slice(0, -1).join(', ')} or ${names.at(-1)}, not '${values.size}'`);
    }
    const arch = (values.arch ?? 'llama') as ModelType;
    if (!fixtureArchitectures.includes(arch)) throw new UsageError(`--arch must be one of ${fixtureArchitectures.join(', ')}, not '${values.arch}'`);
    const dtype = dtypes[(values.dtype ?? 'f32').toLowerCase()];
    if (!dtype) throw new UsageError(`--dtype must be f32, f16 or bf16, not '${values.dtype}'`);
    const seed = values.seed === undefined ? 0 : Number(values.seed);
    if (!/^\d+$/.test(values.seed ?? '0') || seed > 0xffffffff) throw new UsageError(`--seed must be an integer from 0 to 4294967295, not '${values.seed}'`);

    const dir = resolve(ctx.cwd, values.out);
    try {
      const corpus = values.corpus ? (await folderCorpus(resolve(ctx.cwd, values.corpus))).texts : undefined;
      const model = await writeFixtureModel(dir, { size, seed, arch, dtype, force: values.force, ...(corpus && { corpus }) });
      const c = model.config;
      ctx.stdout(
        `${displayPath(dir, ctx.cwd)}: ${c.architecture} (${size}, seed ${seed}), ${c.numHiddenLayers} layers, hidden ${c.hiddenSize}, ` +
          `${c.numAttentionHeads}/${c.numKeyValueHeads} heads, vocabulary ${c.vocabSize}, ${formatCount(model.parameterCount)} parameters, ${dtype}\n`,
      );
      return 0;
    } catch (err) {
      if (err instanceof ModelFolderError || err instanceof SafetensorsError) {
        ctx.stderr(`taxonomy-studio fixture-model: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  },
});

function formatCount(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : String(n);
}
