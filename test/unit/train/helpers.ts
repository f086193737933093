// Shared pieces of the trainer tests: tiny fixture models written once per process and loaded as the reference reads
// them, seeded LoRA weights with non-zero B (so every A gets a gradient), and a small batch with prompt and padding.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { writeFixtureModel, type FixtureOptions } from '../../../engine/hf/fixtureModel';
import { openModelWeights } from '../../../engine/hf/modelWeights';
import { streamOf, Xoshiro128 } from '../../../engine/hf/random';
import { configFromHf, type ModelConfig } from '../../../engine/model/config';
import { loadWeightSource, type WeightSource } from '../../../engine/model/weights';
import { causalLmBatch, type Batch } from '../../../engine/train/batch';
import { initLora, type LoraSettings, type LoraWeights } from '../../../engine/train/lora';

const root = mkdtempSync(join(tmpdir(), 'train-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

const models = new Map<string, Promise<{ config: ModelConfig; weights: WeightSource; dir: string }>>();

/** A tiny fixture (hidden 64, 2 layers, vocab 512, GQA 4/2 heads) with weights large enough for peaked attention. */
export function tinyModel(options: FixtureOptions = {}): Promise<{ config: ModelConfig; weights: WeightSource; dir: string }> {
  const key = JSON.stringify(options);
  let m = models.get(key);
  if (!m) {
    m = (async () => {
      const dir = join(root, `model-${models.size}`);
      await writeFixtureModel(dir, { size: 'tiny', seed: 11, std: 0.15, ...options });
      const config = configFromHf(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>);
      const reader = await openModelWeights(dir);
      try {
        return { config, weights: await loadWeightSource(reader), dir };
      } finally {
        await reader.close();
      }
    })();
    models.set(key, m);
  }
  return m;
}

/** LoRA as PEFT initialises it, then B filled with seeded values so the adapter changes the model. */
export function trainedLikeLora(config: ModelConfig, settings: LoraSettings, seed: number, bStd = 0.2): LoraWeights {
  const lora = initLora(config, settings, seed);
  for (const m of lora.modules) new Xoshiro128(seed + 1, streamOf(m.name)).fillNormal(m.b, 0, bStd);
  return lora;
}

/** Two rows of different lengths: the first two tokens of each are prompt (no loss), the shorter row is padded. */
export const sampleSequences = [
  [1, 5, 9, 33, 100, 200, 7, 8, 9, 10],
  [4, 6, 8, 300, 301, 2],
];

export function sampleBatch(padId = 0): Batch {
  return causalLmBatch(sampleSequences.map((ids) => ({ ids, lossMask: ids.map((_, i) => (i >= 2 ? 1 : 0)) })), padId);
}

/** Subjects of the toy dataset: each sample asks for one's leaf and is answered in one fixed sentence pattern. */
export const toySubjects = [
  'apple', 'river', 'stone', 'cloud', 'maple', 'tiger', 'ocean', 'pepper', 'garden', 'silver', 'window', 'candle',
  'forest', 'mirror', 'planet', 'rabbit', 'violin', 'desert', 'harbor', 'meadow', 'lantern', 'island', 'thunder', 'velvet',
];

/** Messages JSONL lines of the toy dataset (a pattern a tiny model learns in a dozen steps). */
export function toyDatasetLines(subjects: readonly string[] = toySubjects): string[] {
  return subjects.map((n) =>
    JSON.stringify({
      messages: [
        { role: 'user', content: `What is the taxonomy leaf for ${n}?` },
        { role: 'assistant', content: `The leaf for ${n} is compositional skills.` },
      ],
    }),
  );
}
