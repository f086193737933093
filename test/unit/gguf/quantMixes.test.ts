// Quantization mixes: llama.cpp's file_type numbers and its per-tensor type choices.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GgmlType, ggmlTypeName } from '../../../engine/gguf/ggmlTypes';
import {
  fileTypeFor,
  parseQuantMix,
  QUANT_MIXES,
  type QuantMix,
  type TensorFacts,
  tensorTypeFor,
  useMoreBits,
} from '../../../engine/gguf/quant/mixes';

/** The tensors of a llama-architecture model, in GGUF names and GGUF dimension order. */
function llamaTensors(nLayers: number, hidden: number, ffn: number, vocab: number, kvDim: number): TensorFacts[] {
  const out: TensorFacts[] = [
    { name: 'token_embd.weight', shape: [hidden, vocab], nLayers },
    { name: 'output_norm.weight', shape: [hidden], nLayers },
    { name: 'output.weight', shape: [hidden, vocab], nLayers },
  ];
  for (let i = 0; i < nLayers; i++) {
    out.push(
      { name: `blk.${i}.attn_norm.weight`, shape: [hidden], nLayers },
      { name: `blk.${i}.attn_q.weight`, shape: [hidden, hidden], nLayers },
      { name: `blk.${i}.attn_k.weight`, shape: [hidden, kvDim], nLayers },
      { name: `blk.${i}.attn_v.weight`, shape: [hidden, kvDim], nLayers },
      { name: `blk.${i}.attn_output.weight`, shape: [hidden, hidden], nLayers },
      { name: `blk.${i}.ffn_norm.weight`, shape: [hidden], nLayers },
      { name: `blk.${i}.ffn_gate.weight`, shape: [hidden, ffn], nLayers },
      { name: `blk.${i}.ffn_up.weight`, shape: [hidden, ffn], nLayers },
      { name: `blk.${i}.ffn_down.weight`, shape: [ffn, hidden], nLayers },
    );
  }
  return out;
}

function typesOf(mix: QuantMix, tensors: TensorFacts[]): Map<string, string> {
  return new Map(tensors.map((t) => [t.name, ggmlTypeName(tensorTypeFor(mix, t))]));
}

const layersWith = (types: Map<string, string>, suffix: string, type: string, nLayers: number) =>
  Array.from({ length: nLayers }, (_, i) => i).filter((i) => types.get(`blk.${i}.${suffix}`) === type);

test('general.file_type numbers are llama.cpp llama_ftype values', () => {
  const expected: Record<QuantMix, number> = {
    f32: 0,
    f16: 1,
    q4_0: 2,
    q8_0: 7,
    q4_k_s: 14,
    q4_k_m: 15,
    q5_k_s: 16,
    q5_k_m: 17,
    q6_k: 18,
    bf16: 32,
  };
  assert.deepEqual(Object.fromEntries(QUANT_MIXES.map((m) => [m, fileTypeFor(m)])), expected);
});

test('mix names are read in any case; an unknown one lists the known ones', () => {
  assert.equal(parseQuantMix('Q4_K_M'), 'q4_k_m');
  assert.equal(parseQuantMix(' f16 '), 'f16');
  assert.throws(() => parseQuantMix('q3_k_m'), {
    message: "unknown quantization type 'q3_k_m'; use one of: f32, f16, bf16, q8_0, q4_0, q4_k_s, q4_k_m, q5_k_s, q5_k_m, q6_k",
  });
});

test('"more bits" layers: the first and last eighth and every third between (32 layers)', () => {
  const more = Array.from({ length: 32 }, (_, i) => i).filter((i) => useMoreBits(i, 32));
  assert.deepEqual(more, [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31]);
  assert.deepEqual(
    Array.from({ length: 6 }, (_, i) => i).filter((i) => useMoreBits(i, 6)),
    [2, 5],
  );
});

test('Q4_K_M on a 32-layer llama: Q6_K for output and the more-bits attn_v/ffn_down, Q4_K elsewhere, norms F32', () => {
  const types = typesOf('q4_k_m', llamaTensors(32, 4096, 11008, 32000, 1024));
  assert.equal(types.get('token_embd.weight'), 'Q4_K');
  assert.equal(types.get('output.weight'), 'Q6_K');
  assert.equal(types.get('output_norm.weight'), 'F32');
  assert.equal(types.get('blk.7.attn_norm.weight'), 'F32');
  const more = [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31];
  assert.deepEqual(layersWith(types, 'attn_v.weight', 'Q6_K', 32), more);
  assert.deepEqual(layersWith(types, 'ffn_down.weight', 'Q6_K', 32), more);
  for (const t of ['attn_q', 'attn_k', 'attn_output', 'ffn_gate', 'ffn_up']) {
    assert.equal(layersWith(types, `${t}.weight`, 'Q4_K', 32).length, 32, t);
  }
  assert.equal(layersWith(types, 'attn_v.weight', 'Q4_K', 32).length, 16);
});

test('Q5_K_M, Q4_K_S, Q5_K_S, Q6_K, Q4_0 and Q8_0 choices', () => {
  const tensors = llamaTensors(32, 4096, 11008, 32000, 1024);
  const q5m = typesOf('q5_k_m', tensors);
  assert.equal(q5m.get('blk.0.attn_q.weight'), 'Q5_K');
  assert.equal(q5m.get('blk.0.attn_v.weight'), 'Q6_K');
  assert.equal(q5m.get('blk.4.attn_v.weight'), 'Q5_K');
  assert.equal(q5m.get('blk.6.ffn_down.weight'), 'Q6_K');
  assert.equal(q5m.get('output.weight'), 'Q6_K');

  const q4s = typesOf('q4_k_s', tensors);
  assert.deepEqual(layersWith(q4s, 'attn_v.weight', 'Q5_K', 32), [0, 1, 2, 3]);
  assert.deepEqual(layersWith(q4s, 'ffn_down.weight', 'Q5_K', 32), [0, 1, 2, 3]);
  assert.equal(q4s.get('blk.6.ffn_down.weight'), 'Q4_K');
  assert.equal(q4s.get('output.weight'), 'Q6_K');

  const q5s = typesOf('q5_k_s', tensors);
  assert.equal(q5s.get('blk.0.attn_v.weight'), 'Q5_K');
  assert.equal(q5s.get('output.weight'), 'Q6_K');

  const q6 = typesOf('q6_k', tensors);
  assert.ok([...q6].every(([n, t]) => t === (n.endsWith('norm.weight') ? 'F32' : 'Q6_K')));

  const q40 = typesOf('q4_0', tensors);
  assert.equal(q40.get('blk.3.attn_v.weight'), 'Q4_0');
  assert.equal(q40.get('token_embd.weight'), 'Q4_0');
  assert.equal(q40.get('output.weight'), 'Q6_K');

  const q8 = typesOf('q8_0', tensors);
  assert.ok([...q8].every(([n, t]) => t === (n.endsWith('norm.weight') ? 'F32' : 'Q8_0')));
});

test('float mixes: 2-D tensors in the mix type, 1-D tensors F32', () => {
  const tensors = llamaTensors(2, 64, 160, 300, 32);
  for (const [mix, type] of [
    ['f16', 'F16'],
    ['bf16', 'BF16'],
    ['f32', 'F32'],
  ] as const) {
    const types = typesOf(mix, tensors);
    assert.ok([...types].every(([n, t]) => t === (n.endsWith('norm.weight') ? 'F32' : type)), mix);
  }
});

test('rows that are not whole blocks fall back as llama.cpp does: Q4_K->Q5_0, Q5_K->Q5_1, Q6_K->Q8_0, else F16', () => {
  // A tiny model: hidden 96 (a multiple of 32, not of 256), ffn 200 (not a multiple of 32).
  const tensors = llamaTensors(8, 96, 200, 300, 32);
  const m = typesOf('q4_k_m', tensors);
  assert.equal(m.get('blk.1.attn_q.weight'), 'Q5_0');
  assert.equal(m.get('blk.0.attn_v.weight'), 'Q8_0'); // Q6_K on a more-bits layer, 96 values per row
  assert.equal(m.get('output.weight'), 'Q8_0'); // rows not whole Q4_K blocks: straight to Q8_0
  assert.equal(m.get('blk.1.ffn_up.weight'), 'Q5_0');
  assert.equal(m.get('blk.1.ffn_down.weight'), 'F16'); // rows of 200
  assert.equal(typesOf('q5_k_s', tensors).get('blk.1.attn_q.weight'), 'Q5_1');
  assert.equal(typesOf('q8_0', tensors).get('blk.1.ffn_down.weight'), 'F16');
  assert.equal(typesOf('q4_0', tensors).get('output.weight'), 'Q8_0'); // Q6_K does not fit 96, Q8_0 does
  assert.equal(typesOf('q4_0', llamaTensors(1, 512, 512, 10, 512)).get('output.weight'), 'Q6_K');
});

test('tied embeddings: token_embd takes the output rule; MoE with 8 experts: attn_v and attn_k Q8_0', () => {
  const tied: TensorFacts = { name: 'token_embd.weight', shape: [4096, 32000], nLayers: 32, hasOutput: false };
  assert.equal(tensorTypeFor('q4_k_m', tied), GgmlType.Q6_K);
  assert.equal(tensorTypeFor('q4_k_m', { ...tied, hasOutput: true }), GgmlType.Q4_K);
  const moe = { nLayers: 32, nExpert: 8 };
  assert.equal(tensorTypeFor('q4_k_m', { name: 'blk.5.attn_v.weight', shape: [4096, 1024], ...moe }), GgmlType.Q8_0);
  assert.equal(tensorTypeFor('q4_k_m', { name: 'blk.5.attn_k.weight', shape: [4096, 1024], ...moe }), GgmlType.Q8_0);
  assert.equal(tensorTypeFor('q4_k_s', { name: 'blk.5.attn_output.weight', shape: [4096, 4096], ...moe }), GgmlType.Q5_K);
  assert.equal(tensorTypeFor('q4_k_m', { name: 'blk.5.ffn_gate_inp.weight', shape: [4096, 8], ...moe }), GgmlType.F32);
  // Expert tensors are 3-D and take their layer from the name.
  assert.equal(tensorTypeFor('q4_k_m', { name: 'blk.30.ffn_down_exps.weight', shape: [14336, 4096, 8], ...moe }), GgmlType.Q6_K);
  assert.equal(tensorTypeFor('q4_k_m', { name: 'blk.4.ffn_down_exps.weight', shape: [14336, 4096, 8], ...moe }), GgmlType.Q4_K);
  // A fused QKV projection gets one step more in the _M mixes.
  assert.equal(tensorTypeFor('q4_k_m', { name: 'blk.4.attn_qkv.weight', shape: [4096, 12288], nLayers: 32 }), GgmlType.Q5_K);
  assert.equal(tensorTypeFor('q5_k_m', { name: 'blk.4.attn_qkv.weight', shape: [4096, 12288], nLayers: 32 }), GgmlType.Q6_K);
  // An explicit layer wins over the name.
  assert.equal(tensorTypeFor('q4_k_m', { name: 'blk.5.attn_v.weight', shape: [4096, 1024], nLayers: 32, layer: 6 }), GgmlType.Q6_K);
});
