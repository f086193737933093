import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../engine/cli/run';
import { convertHfToGguf } from '../../../engine/gguf/convert';
import { exportLoraAdapter } from '../../../engine/gguf/lora/export';
import { renderChatTemplate } from '../../../engine/hf/chatTemplate';
import { readModelFolder } from '../../../engine/hf/modelFolder';
import { openSafetensors } from '../../../engine/hf/safetensors';
import { loadTokenizer } from '../../../engine/hf/tokenizer/files';
import { openLlamaModel } from '../../support/llama';
import { tinyModel, toyDatasetLines } from './helpers';

async function cli(args: string[], cwd: string) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd, env: {} });
  return { code, stdout, stderr };
}

test('taxonomy-studio train end to end; the exported adapter moves llama.cpp toward the trained answers', async () => {
  const { dir: modelDir } = await tinyModel();
  const work = mkdtempSync(join(tmpdir(), 'train-cli-'));
  try {
    writeFileSync(join(work, 'data.jsonl'), [...toyDatasetLines().slice(0, 3), '{"messages": 1}', ...toyDatasetLines().slice(3)].join('\n') + '\n');
    const common = ['--model', modelDir, '--data', 'data.jsonl', '--rank', '4', '--alpha', '8', '--lr', '1e-2', '--batch-tokens', '256', '--max-seq-len', '64', '--eval-fraction', '0.2'];

    const usage = await cli(['train', '--data', 'data.jsonl', '--out', 'out'], work);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /train needs --model <hf-dir>/);
    const bad = await cli(['train', ...common, '--out', 'out', '--rank', '0'], work);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--rank must be a whole number of at least 1, not '0'/);
    const refused = await cli(['train', ...common, '--out', 'out', '--max-memory', '32M'], work);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^taxonomy-studio train: the run needs about .* more than the memory limit \(32\.0 MiB\)/m);

    const r = await cli(['train', ...common, '--out', 'out', '--epochs', '4'], work);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^memory: about \d+\.\d MiB: base weights/);
    assert.match(r.stderr, /^data\.jsonl:4: skipped: "messages" is missing or not a list$/m);
    assert.match(r.stdout, /step 1\/16 train epoch 1 batch 1\/4: loss \d\.\d{4} lr 1\.00e-2 grad \d\.\d{3} \d+ tok\/s ETA \d+s$/m);
    assert.match(r.stdout, /checkpoint out\/checkpoints\/step-000016 \(epoch\)/);
    assert.match(r.stdout, /out\/adapter: adapter after 16 steps on 19 samples .*; held-out loss \d\.\d{4} -> \d\.\d{4}; 1 bad lines skipped\n$/);
    assert.deepEqual(readdirSync(join(work, 'out')).sort(), ['adapter', 'checkpoints', 'loss.csv', 'train.json']);

    // Through GGUF: the base converted, the adapter exported, both loaded by llama.cpp.
    const base = (await convertHfToGguf(modelDir, join(work, 'base.gguf'), 'f32', { threads: 1 })).path;
    await exportLoraAdapter({ peftDir: join(work, 'out', 'adapter'), baseDir: modelDir, out: join(work, 'adapter.gguf') });
    const folder = await readModelFolder(modelDir);
    const tokenizer = await loadTokenizer(modelDir);
    const messages = [{ role: 'user', content: 'What is the taxonomy leaf for apple?' }];
    const prompt = tokenizer.encode(renderChatTemplate(folder.chatTemplate.template, messages, { addGenerationPrompt: true, eosToken: folder.eos!.content }));
    const answer = tokenizer.encode('The leaf for apple is compositional skills.');
    const ids = [...prompt, ...answer];
    const positions = answer.map((_, i) => prompt.length - 1 + i);
    const score = async (lora?: string) => {
      const m = await openLlamaModel(base, { contextSize: 128, ...(lora ? { lora: { path: lora } } : {}) });
      try {
        const probs = await m.nextTokenProbabilities(ids, positions);
        const logp = probs.reduce((s, p, i) => s + Math.log(p[answer[i]]), 0);
        const top = probs.filter((p, i) => p.indexOf(Math.max(...p)) === answer[i]).length;
        return { logp, top };
      } finally {
        await m.dispose();
      }
    };
    const before = await score();
    const after = await score(join(work, 'adapter.gguf'));
    console.log(`llama.cpp on a trained prompt: answer log-prob ${before.logp.toFixed(2)} -> ${after.logp.toFixed(2)}, top-1 answer tokens ${before.top} -> ${after.top} of ${answer.length}`);
    assert.ok(after.logp > before.logp + answer.length, `log-prob ${before.logp} -> ${after.logp}`);
    assert.ok(after.top >= before.top + Math.ceil(answer.length / 2), `top-1 ${before.top} -> ${after.top} of ${answer.length}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('train --no-checkpointing keeps activations instead of recomputing them: the same adapter as the checkpointed run, the setting recorded', async () => {
  const { dir: modelDir } = await tinyModel();
  const work = mkdtempSync(join(tmpdir(), 'train-cli-nock-'));
  try {
    writeFileSync(join(work, 'data.jsonl'), toyDatasetLines().join('\n') + '\n');
    const common = ['--model', modelDir, '--data', 'data.jsonl', '--rank', '4', '--lr', '1e-2', '--batch-tokens', '256', '--max-seq-len', '64', '--eval-fraction', '0', '--epochs', '2'];
    const adapters: Map<string, Float32Array>[] = [];
    for (const [out, extra] of [['ck', []], ['nock', ['--no-checkpointing']]] as const) {
      const r = await cli(['train', ...common, '--out', out, ...extra], work);
      assert.equal(r.code, 0, r.stderr);
      const settings = (JSON.parse(readFileSync(join(work, out, 'train.json'), 'utf8')) as { settings: { checkpointing: boolean } }).settings;
      assert.equal(settings.checkpointing, out === 'ck');
      const file = await openSafetensors(join(work, out, 'adapter', 'adapter_model.safetensors'));
      try {
        adapters.push(new Map(await Promise.all(file.names.map(async (n) => [n, await file.readFloat32(n)] as const))));
      } finally {
        await file.close();
      }
    }
    const [ck, nock] = adapters;
    assert.deepEqual([...nock.keys()].sort(), [...ck.keys()].sort());
    let worst = 0;
    let moved = 0;
    for (const [name, a] of ck) {
      const b = nock.get(name)!;
      for (let i = 0; i < a.length; i++) {
        worst = Math.max(worst, Math.abs(a[i] - b[i]) / (Math.abs(a[i]) + 1e-3));
        moved = Math.max(moved, Math.abs(a[i]));
      }
    }
    // The two paths compute the same gradients (float32 rounding apart), so a few AdamW steps land in the same place.
    assert.ok(moved > 0, 'the adapter is all zeros');
    assert.ok(worst < 1e-2, `worst relative difference between the adapters ${worst}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
