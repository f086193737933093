// The proof with real parts: llama.cpp (node-llama-cpp) applying our GGUF LoRA adapter to our F32 conversion of the
// base gives the next-token logits that llama.cpp gives for our merged GGUF, and that our reference forward pass gives
// with the PEFT adapter applied on the fly, at every position, for an arch whose q/k rows are reordered (llama,
// granite) and one whose are not (qwen2). A control adapter without the q/k reorder must disagree, so the comparison
// can fail.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { convertHfToGguf } from '../../../engine/gguf/convert/index';
import { exportLoraAdapter, type AdapterType } from '../../../engine/gguf/lora/export';
import { mergeAdapterToGguf } from '../../../engine/gguf/merge/gguf';
import { openGguf, readTensor } from '../../../engine/gguf/reader';
import { writeGguf } from '../../../engine/gguf/writer';
import { openSafetensors } from '../../../engine/hf/safetensors';
import { forward } from '../../../engine/model/forward';
import { argmax } from '../../../engine/model/metrics';
import { openLlamaModel, type LlamaTestModel } from '../../support/llama';
import { fixtureAdapter, fixtureBase, peftNames, referenceLora, referenceModel, row, tempFolder, tokens, worst } from './loraHelpers';

const tmp = tempFolder('lora-llama-');
const opened: LlamaTestModel[] = [];
after(async () => {
  for (const m of opened) await m.dispose();
  tmp.remove();
});

async function open(path: string, lora?: string): Promise<LlamaTestModel> {
  const m = await openLlamaModel(path, { contextSize: 64, ...(lora && { lora: { path: lora } }) });
  opened.push(m);
  return m;
}

/**
 * The worst logit difference over every position, and whether the top token agrees at each position where it is
 * decided: where the expected logits' top two are further apart than twice the worst difference (a tie within the
 * rounding of a quantized adapter may go either way).
 */
function compare(a: Float32Array[], b: (i: number) => Float32Array): { max: number; text: string; top1: boolean } {
  let max = 0;
  let text = '';
  a.forEach((logits, i) => {
    const w = worst(logits, b(i));
    if (w.max > max || text === '') [max, text] = [w.max, `position ${i}: ${w.text}`];
  });
  const top1 = a.every((logits, i) => argmax(logits) === argmax(b(i)) || margin(b(i)) <= 2 * max);
  return { max, text, top1 };
}

/** How far the largest logit is above the second largest. */
function margin(logits: Float32Array): number {
  const top = argmax(logits);
  let second = -Infinity;
  logits.forEach((v, i) => {
    if (i !== top && v > second) second = v;
  });
  return logits[top] - second;
}

const cases = [
  { label: 'llama', arch: 'llama', untied: false },
  { label: 'granite', arch: 'granite', untied: false },
  { label: 'qwen2', arch: 'qwen2', untied: false },
  { label: 'llama with its own output matrix, lm_head adapted too', arch: 'llama', untied: true },
] as const;

for (const { label, arch, untied } of cases) {
  describe(`${label}: llama.cpp with our adapter`, () => {
    const dir = (...p: string[]) => join(tmp.dir, `${arch}${untied ? '-untied' : ''}`, ...p);
    let withAdapter: Float32Array[];
    let mergedLogits: Float32Array[];
    let plainLogits: Float32Array[];
    let vsMergedMax: number;
    let reference: Float32Array;
    let vocab: number;

    before(async () => {
      const base = await fixtureBase(dir('base'), { arch, ...(untied && { dims: { tieWordEmbeddings: false } }) });
      const adapter = await fixtureAdapter(dir('adapter'), base, untied ? { targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'lm_head'] } : {});
      await convertHfToGguf(base, dir('base.gguf'), 'f32', { threads: 1 });
      await mergeAdapterToGguf({ baseDir: base, peftDir: adapter, out: dir('merged.gguf'), type: 'f32', threads: 1 });
      await exportLoraAdapter({ peftDir: adapter, baseDir: base, out: dir('adapter.gguf') });
      withAdapter = await (await open(dir('base.gguf'), dir('adapter.gguf'))).nextTokenLogits(tokens);
      mergedLogits = await (await open(dir('merged.gguf'))).nextTokenLogits(tokens);
      plainLogits = await (await open(dir('base.gguf'))).nextTokenLogits(tokens);
      const ref = await referenceModel(base);
      vocab = ref.config.vocab;
      reference = forward(ref.config, ref.weights, tokens, { lora: await referenceLora(adapter) });
    });

    test('base + adapter equals the merged GGUF and the reference forward with the adapter', (t) => {
      const vsMerged = compare(withAdapter, (i) => mergedLogits[i]);
      const vsReference = compare(withAdapter, (i) => row(reference, i, vocab));
      const mergedVsReference = compare(mergedLogits, (i) => row(reference, i, vocab));
      const effect = compare(withAdapter, (i) => plainLogits[i]);
      t.diagnostic(`max |diff| over ${tokens.length} positions: adapter vs merged ${vsMerged.max.toExponential(2)}, adapter vs reference ${vsReference.max.toExponential(2)}, merged vs reference ${mergedVsReference.max.toExponential(2)}; the adapter moves logits by up to ${effect.max.toExponential(2)}`);
      vsMergedMax = vsMerged.max;
      assert.ok(vsMerged.max < 1e-4, `adapter vs merged GGUF: ${vsMerged.text}`);
      assert.ok(vsReference.max < 1e-3, `adapter vs reference: ${vsReference.text}`);
      assert.ok(mergedVsReference.max < 1e-3, `merged vs reference: ${mergedVsReference.text}`);
      assert.ok(vsMerged.top1 && vsReference.top1, 'the top token agrees at every position');
      // The comparisons prove something only if the adapter changes the logits far more than they differ.
      assert.ok(effect.max > 100 * Math.max(vsMerged.max, vsReference.max), `the adapter's effect ${effect.max} vs the differences`);
    });

    if (arch !== 'qwen2' && !untied) {
      test("an adapter whose q/k lora_b keeps PEFT's row order (no RoPE reorder) does not match", async (t) => {
        const file = await openGguf(dir('adapter.gguf'));
        const peft = await openSafetensors(join(dir('adapter'), 'adapter_model.safetensors'));
        const tensors = [];
        try {
          for (const info of file.tensors) {
            const m = /^blk\.(\d+)\.attn_([qk])\.weight\.lora_b$/.exec(info.name);
            const data = m ? await peft.readRaw(peftNames(`model.layers.${m[1]}.self_attn.${m[2]}_proj`).b) : await readTensor(file, info);
            tensors.push({ name: info.name, dims: info.dims, type: info.type, data });
          }
          await writeGguf(dir('unpermuted.gguf'), { metadata: file.metadata, tensors });
        } finally {
          await Promise.all([file.close(), peft.close()]);
        }
        const wrong = await (await open(dir('base.gguf'), dir('unpermuted.gguf'))).nextTokenLogits(tokens);
        const d = compare(wrong, (i) => mergedLogits[i]);
        t.diagnostic(`without the reorder: max |diff| ${d.max.toExponential(2)} from the merged GGUF`);
        // Granite's attention scale (1 / head_dim) damps what q and k change, so the bar is relative to the match.
        assert.ok(d.max > 100 * vsMergedMax, `without the reorder the logits differ far more than with it: ${d.text} vs ${vsMergedMax}`);
      });
    }
  });
}

describe('llama.cpp with f16 and q8_0 adapters', () => {
  const dir = (...p: string[]) => join(tmp.dir, 'types', ...p);
  let base: string;
  let adapter: string;
  let merged: Float32Array[];
  before(async () => {
    base = await fixtureBase(dir('base'));
    adapter = await fixtureAdapter(dir('adapter'), base);
    await convertHfToGguf(base, dir('base.gguf'), 'f32', { threads: 1 });
    await mergeAdapterToGguf({ baseDir: base, peftDir: adapter, out: dir('merged.gguf'), type: 'f32', threads: 1 });
    merged = await (await open(dir('merged.gguf'))).nextTokenLogits(tokens);
  });

  for (const [type, tolerance] of [
    ['f16', 1e-3],
    ['q8_0', 1e-2],
  ] as [AdapterType, number][]) {
    test(`${type}: within the type's rounding of the merged F32 model, same top token`, async (t) => {
      await exportLoraAdapter({ peftDir: adapter, baseDir: base, out: dir(`adapter-${type}.gguf`), type });
      const logits = await (await open(dir('base.gguf'), dir(`adapter-${type}.gguf`))).nextTokenLogits(tokens);
      const d = compare(logits, (i) => merged[i]);
      t.diagnostic(`${type} adapter vs merged F32: max |diff| ${d.max.toExponential(2)}`);
      assert.ok(d.max > 0 && d.max < tolerance, `${type} adapter vs merged: ${d.text}`);
      assert.ok(d.top1, 'the top token agrees at every position');
    });
  }
});
