import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensors } from '../../../engine/hf/safetensors';
import { exportLoraAdapter } from '../../../engine/gguf/lora/export';
import { openPeftAdapter } from '../../../engine/gguf/lora/peft';
import { forward } from '../../../engine/model/forward';
import { loraFromPeft, type PeftLoraConfig } from '../../../engine/model/lora';
import { maxAbsDiff } from '../../../engine/model/metrics';
import { loadWeightSource } from '../../../engine/model/weights';
import { savePeftAdapter } from '../../../engine/train/peft';
import { sampleSequences, tinyModel, trainedLikeLora } from './helpers';

test('a saved adapter has PEFT names and config, reads back through engine/model and engine/gguf/lora, and exports to GGUF', async () => {
  const { config, weights, dir: baseDir } = await tinyModel();
  const lora = trainedLikeLora(config, { targets: ['q_proj', 'v_proj', 'down_proj'], rank: 4, alpha: 8 }, 2);
  const dir = mkdtempSync(join(tmpdir(), 'peft-out-'));
  try {
    const names = await savePeftAdapter(join(dir, 'adapter'), lora, { baseModel: baseDir });
    assert.equal(names.length, 12);
    assert.ok(names.includes('base_model.model.model.layers.1.mlp.down_proj.lora_B.weight'));
    const json = JSON.parse(readFileSync(join(dir, 'adapter', 'adapter_config.json'), 'utf8')) as PeftLoraConfig & Record<string, unknown>;
    assert.deepEqual([json.r, json.lora_alpha, json.target_modules, json.peft_type, json.task_type], [4, 8, ['q_proj', 'v_proj', 'down_proj'], 'LORA', 'CAUSAL_LM']);

    const file = await openSafetensors(join(dir, 'adapter', 'adapter_model.safetensors'));
    const back = loraFromPeft(json, await loadWeightSource(file));
    await file.close();
    const ids = sampleSequences[0];
    const { max } = maxAbsDiff(forward(config, weights, ids, { lora: back }), forward(config, weights, ids, { lora: lora.toAdapter() }));
    assert.equal(max, 0);

    const adapter = await openPeftAdapter(join(dir, 'adapter'));
    assert.deepEqual(adapter.modules.map((m) => [m.module, m.rank, m.scale]).slice(0, 3), [
      ['model.layers.0.self_attn.q_proj', 4, 2],
      ['model.layers.0.self_attn.v_proj', 4, 2],
      ['model.layers.0.mlp.down_proj', 4, 2],
    ]);
    await adapter.close();
    const out = join(dir, 'adapter.gguf');
    await exportLoraAdapter({ peftDir: join(dir, 'adapter'), baseDir, out });
    assert.ok(statSync(out).size > 4 * lora.parameterCount());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
