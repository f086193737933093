// Converted files judged by llama.cpp itself (node-llama-cpp, CPU): next-token logits of the F32 and F16 files
// against our float32 reference forward pass for every architecture, tokenization against our tokenizer, the chat
// template as node-llama-cpp picks it up, and the KL divergence of each quantized file from the F16 file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { convertHfToGguf, planConversion, writePlan } from '../../../engine/gguf/convert';
import type { QuantMix } from '../../../engine/gguf/quant/mixes';
import { renderChatTemplate } from '../../../engine/hf/chatTemplate';
import { exampleCorpus } from '../../../engine/hf/corpus';
import type { ModelType } from '../../../engine/hf/config';
import { readModelFolder } from '../../../engine/hf/modelFolder';
import { loadTokenizer } from '../../../engine/hf/tokenizer/files';
import { klDivergence } from '../../../engine/model/metrics';
import { llamaRuntime, openLlamaModel, type OpenLlamaOptions } from '../../support/llama';
import { compareLogits, describeComparison, fixedText, fixture, kQuantDims, readJson, referenceLogits, tempFolder } from './convertFixtures';

const tmp = tempFolder('llama-convert-');
after(() => tmp.remove());
before(async () => {
  await llamaRuntime();
});

/** llama.cpp at full precision: F32 key/value cache and no flash attention, so an F32 file can match float32. */
const exact: OpenLlamaOptions = { kvCacheType: 'F32', flashAttention: false };

async function llamaLogits(path: string, ids: readonly number[], options: OpenLlamaOptions = {}): Promise<Float32Array[]> {
  const model = await openLlamaModel(path, options);
  try {
    return await model.nextTokenLogits(ids);
  } finally {
    await model.dispose();
  }
}

describe('F32 and F16 files give the reference forward pass next-token logits', () => {
  for (const arch of ['llama', 'mistral', 'granite', 'qwen2'] as ModelType[]) {
    test(arch, async (t) => {
      const dir = await fixture(tmp.dir, { arch, std: 0.05 });
      const ids = (await loadTokenizer(dir)).encode(fixedText);
      const reference = await referenceLogits(dir, ids);

      const f32 = await convertHfToGguf(dir, join(tmp.dir, `${arch}-f32.gguf`), 'f32', { threads: 1 });
      const c32 = compareLogits(reference, await llamaLogits(f32.path, ids, exact));
      t.diagnostic(describeComparison(`${arch} F32 (${ids.length} positions)`, c32));
      assert.ok(c32.maxAbs <= 1e-5 * c32.scale, describeComparison('F32', c32));
      assert.deepEqual(c32.top1Mismatches, []);

      // F16 with llama.cpp's default settings (F16 key/value cache), as a user runs it.
      const f16 = await convertHfToGguf(dir, join(tmp.dir, `${arch}-f16.gguf`), 'f16', { threads: 1 });
      const c16 = compareLogits(reference, await llamaLogits(f16.path, ids));
      t.diagnostic(describeComparison(`${arch} F16`, c16));
      assert.ok(c16.maxAbs <= 5e-3 * c16.scale, describeComparison('F16', c16));
      assert.deepEqual(c16.top1Mismatches, []);
    });
  }

  test('without the q/k row reorder llama.cpp disagrees: the reorder is what makes llama files right', async (t) => {
    const dir = await fixture(tmp.dir, { std: 0.05 });
    const ids = (await loadTokenizer(dir)).encode(fixedText);
    const folder = await readModelFolder(dir);
    const weights = await folder.openWeights();
    const out = join(tmp.dir, 'unordered.gguf');
    try {
      const plan = planConversion(folder, weights, 'f32');
      for (const tensor of plan.tensors) if (tensor.source.kind === 'weights') delete tensor.source.ropeHeadDim;
      await writePlan(plan, weights, out, { threads: 1 });
    } finally {
      await weights.close();
    }
    const c = compareLogits(await referenceLogits(dir, ids), await llamaLogits(out, ids, exact));
    t.diagnostic(describeComparison('llama F32 without the reorder', c));
    assert.ok(c.maxAbs > 1e-2 * c.scale, describeComparison('unordered', c));
  });
});

/** transformers' clean_up_tokenization: the space before punctuation and English contractions is dropped. */
function cleanUpTokenizationSpaces(text: string): string {
  return text
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

describe('tokenizer and chat template in llama.cpp', () => {
  let dir: string;
  let path: string;
  before(async () => {
    dir = await fixture(tmp.dir);
    path = (await convertHfToGguf(dir, join(tmp.dir, 'tokenizer.gguf'), 'q8_0', { threads: 1 })).path;
  });

  test("llama.cpp's tokenizer gives our ids for the example taxonomy's text and reads them back", async () => {
    const ours = await loadTokenizer(dir);
    const model = await openLlamaModel(path);
    try {
      const texts = (await exampleCorpus()).texts;
      let checked = 0;
      for (const text of texts) {
        const expected = ours.encode(text, { special: false });
        assert.deepEqual(model.tokenize(text), expected, `ids of ${JSON.stringify(text.slice(0, 60))}`);
        // llama.cpp always applies transformers' clean_up_tokenization_spaces when detokenizing gpt-2 vocabularies.
        assert.equal(model.detokenize(expected), cleanUpTokenizationSpaces(text));
        checked += expected.length;
      }
      assert.ok(texts.length > 10 && checked > 1000, `only ${texts.length} texts, ${checked} tokens checked`);
      // Special tokens written in the text are parsed as such when asked.
      const chat = '<|user|>\nWhat is a leaf?\n<|assistant|>\n';
      assert.deepEqual(model.tokenize(chat, true), ours.encode(chat));
      assert.notDeepEqual(model.tokenize(chat, false), ours.encode(chat));
    } finally {
      await model.dispose();
    }
  });

  test("the chat template is in the file and node-llama-cpp renders prompts with it as transformers would", async () => {
    const { resolveChatWrapper, LlamaText } = await import('node-llama-cpp');
    const config = await readJson(join(dir, 'tokenizer_config.json'));
    const model = await openLlamaModel(path);
    try {
      const metadata = model.model.fileInfo.metadata as unknown as { tokenizer: { chat_template: string } };
      assert.equal(metadata.tokenizer.chat_template, config.chat_template);
      const wrapper = resolveChatWrapper(model.model);
      assert.equal(wrapper.wrapperName, 'JinjaTemplate');
      const history = [
        { type: 'system' as const, text: 'You answer questions about taxonomies.' },
        { type: 'user' as const, text: 'What is a leaf?' },
        { type: 'model' as const, response: [] as string[] },
      ];
      const { contextText } = wrapper.generateContextState({ chatHistory: history });
      const expected = renderChatTemplate(
        config.chat_template as string,
        [
          { role: 'system', content: 'You answer questions about taxonomies.' },
          { role: 'user', content: 'What is a leaf?' },
        ],
        { addGenerationPrompt: true, eosToken: config.eos_token as string, bosToken: config.bos_token as string },
      );
      assert.equal(LlamaText(contextText).toString(), expected);
    } finally {
      await model.dispose();
    }
  });
});

describe('quantized files: KL divergence of llama.cpp next-token distributions from the F16 file', () => {
  test('BF16 and Q8_0 are near zero, Q4_K_M beats Q4_0, and more bits give less divergence', async (t) => {
    // Rows of 256 so the K-quants apply to every matrix (no fallbacks).
    const dir = await fixture(tmp.dir, { dims: kQuantDims, std: 0.05 });
    const ids = (await loadTokenizer(dir)).encode(fixedText);
    const logits = async (mix: QuantMix) => llamaLogits((await convertHfToGguf(dir, join(tmp.dir, `kl-${mix}.gguf`), mix, { threads: 2 })).path, ids, exact);
    const f16 = await logits('f16');
    const kl: Partial<Record<QuantMix, number>> = {};
    for (const mix of ['bf16', 'q8_0', 'q6_k', 'q5_k_m', 'q4_k_m', 'q4_k_s', 'q4_0'] as const) {
      const rows = await logits(mix);
      kl[mix] = rows.reduce((sum, row, i) => sum + klDivergence(f16[i], row), 0) / rows.length;
    }
    t.diagnostic(`mean KL(F16 ‖ type) over ${ids.length} positions: ${Object.entries(kl).map(([m, v]) => `${m} ${v!.toExponential(2)}`).join(', ')}`);
    assert.ok(kl.q8_0! < 1e-3, `Q8_0 KL ${kl.q8_0}`);
    assert.ok(kl.q4_k_m! < kl.q4_0!, `Q4_K_M ${kl.q4_k_m} vs Q4_0 ${kl.q4_0}`);
    assert.ok(kl.q6_k! < kl.q5_k_m! && kl.q5_k_m! < kl.q4_k_m!, `Q6_K ${kl.q6_k}, Q5_K_M ${kl.q5_k_m}, Q4_K_M ${kl.q4_k_m}`);
    assert.ok(kl.q8_0! < kl.q6_k!, `Q8_0 ${kl.q8_0} vs Q6_K ${kl.q6_k}`);
    // BF16 rounds each weight on its own (8 significant bits), finer than any block type here.
    assert.ok(kl.bf16! < kl.q8_0!, `BF16 ${kl.bf16} vs Q8_0 ${kl.q8_0}`);
    // Q4_K_S and Q4_K_M differ only in which attn_v/ffn_down layers get more bits (no order between them on two
    // layers); both beat Q4_0.
    assert.ok(kl.q4_k_s! < kl.q4_0!, `Q4_K_S ${kl.q4_k_s} vs Q4_0 ${kl.q4_0}`);
  });
});
