// Codecs backed by the native kernels (native.ts): F16 both ways, and the encoders of Q8_0, Q4_0, Q4_K, Q5_K and Q6_K
// (decoding a quantized type is not on any hot path and stays in TypeScript). The native encoders give the same bytes
// as the TypeScript ones (test/unit/gguf/quantNative.test.ts), so swapping them changes nothing but speed.
import { GgmlType } from '../ggmlTypes';
import { type Codec, QuantizeError } from './codec';
import { f16Codec } from './float';
import type { NativeQuant } from './native';
import { q4_0Codec } from './q4_0';
import { q4_KCodec } from './q4_k';
import { q5_KCodec } from './q5_k';
import { q6_KCodec } from './q6_k';
import { q8_0Codec } from './q8_0';

function nativeEncoder(addon: NativeQuant, js: Codec): Codec {
  const type = js.type;
  const name = js.name;
  return {
    ...js,
    encode(src, srcOff, dst, dstOff, nBlocks) {
      const bad = addon.encode(type, src, srcOff, dst, dstOff, nBlocks);
      if (bad >= 0) throw new QuantizeError(name, bad, src[bad]);
    },
  };
}

function nativeF16(addon: NativeQuant): Codec {
  return {
    ...f16Codec,
    encode(src, srcOff, dst, dstOff, n) {
      addon.narrowF16(src, srcOff, dst, dstOff, n);
    },
    decode(src, srcOff, dst, dstOff, n) {
      addon.widenF16(src, srcOff, dst, dstOff, n);
    },
  };
}

/** The native replacements of the TypeScript codecs, keyed by type. */
export function nativeCodecs(addon: NativeQuant): Map<GgmlType, Codec> {
  return new Map<GgmlType, Codec>([
    [GgmlType.F16, nativeF16(addon)],
    ...[q8_0Codec, q4_0Codec, q4_KCodec, q5_KCodec, q6_KCodec].map((c): [GgmlType, Codec] => [c.type, nativeEncoder(addon, c)]),
  ]);
}
