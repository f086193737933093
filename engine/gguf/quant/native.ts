// Loads the optional native kernels (native/quant, built by `npm run build:native` into dist/native/quant.node). The
// TypeScript kernels stay the reference and the fallback: when the addon was not built, does not load on this
// platform, or TAXONOMY_STUDIO_NATIVE=0 is set, nothing here throws and the caller keeps the TypeScript codecs.
// The addon picks the best instruction set the CPU has (avx512, avx2, scalar); TAXONOMY_STUDIO_QUANT_ISA names another
// one (for comparisons and for a CPU whose wide kernels run slower), and applies in every thread that loads it.
// process.dlopen rather than require, so bundlers leave the path alone and Electron loads it the same way.
import fs from 'node:fs';
import path from 'node:path';

/** What dist/native/quant.node exports (native/quant/src/binding.cc). Offsets and counts are in elements of the array
 * they index, except byte arrays (dst of encode and narrowF16, src of widenF16), which are indexed in bytes. */
export interface NativeQuant {
  /** Encodes `nBlocks` blocks of `type` (Q8_0, Q4_0, Q4_K, Q5_K, Q6_K); -1, or the index in `src` of a value that is
   * NaN or infinite (blocks before it are written). */
  encode(type: number, src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, nBlocks: number): number;
  narrowF16(src: Float32Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number): void;
  widenF16(src: Uint8Array, srcOff: number, dst: Float32Array, dstOff: number, n: number): void;
  /** The instruction set the kernels use: 'avx512' (F, BW, VL, DQ), 'avx2' (with FMA and F16C) or 'scalar'; the
   * best the CPU has unless set. */
  readonly isa: string;
  /** Switches the kernels of the whole process (tests compare each); false when the processor lacks that set. */
  setIsa(name: NativeIsa): boolean;
}

export const NATIVE_ISAS = ['avx512', 'avx2', 'scalar'] as const;
export type NativeIsa = (typeof NATIVE_ISAS)[number];

/** The instruction set TAXONOMY_STUDIO_QUANT_ISA asks for, if any. */
export function requestedIsa(): string | undefined {
  return process.env.TAXONOMY_STUDIO_QUANT_ISA?.trim().toLowerCase() || undefined;
}

/** Where the addon is looked for: beside the bundle (dist/cli.js, dist/quant-worker.js -> dist/native/), or, under
 * tsx, in the repository's dist/ (this file is engine/gguf/quant/native.ts). */
export function nativeCandidates(): string[] {
  if (typeof __dirname !== 'string') return [];
  return [path.join(__dirname, 'native', 'quant.node'), path.resolve(__dirname, '..', '..', '..', 'dist', 'native', 'quant.node')];
}

let loaded: { addon?: NativeQuant; why: string } | undefined;

/** Whether TAXONOMY_STUDIO_NATIVE forbids the addon ('0', 'false', 'off', 'no'). */
export function nativeDisabled(): boolean {
  const v = process.env.TAXONOMY_STUDIO_NATIVE?.trim().toLowerCase();
  return v === '0' || v === 'false' || v === 'off' || v === 'no';
}

/** Loads the addon once per thread, ignoring TAXONOMY_STUDIO_NATIVE (tests compare it with the TypeScript kernels);
 * undefined when it cannot be had, with the reason in nativeStatus(). */
export function loadNativeQuant(): NativeQuant | undefined {
  if (loaded) return loaded.addon;
  const tried: string[] = [];
  for (const file of nativeCandidates()) {
    if (!fs.existsSync(file)) {
      tried.push(`${file} (not built)`);
      continue;
    }
    try {
      const mod = { exports: {} as NativeQuant };
      process.dlopen(mod, file);
      if (typeof mod.exports.encode !== 'function') throw new Error('it does not export encode()');
      const want = requestedIsa();
      let note = '';
      if (want !== undefined && !((NATIVE_ISAS as readonly string[]).includes(want) && mod.exports.setIsa(want as NativeIsa))) {
        note = `; TAXONOMY_STUDIO_QUANT_ISA=${want} is not available here (${NATIVE_ISAS.join(', ')}; this CPU lacks it or it is unknown)`;
      }
      loaded = { addon: mod.exports, why: `${file} (${mod.exports.isa}${note})` };
      return loaded.addon;
    } catch (err) {
      tried.push(`${file} (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  loaded = { why: `no native quantization kernels: ${tried.join('; ') || 'no location to look in'}; run npm run build:native` };
  return undefined;
}

/** The addon the codecs should use: none when TAXONOMY_STUDIO_NATIVE=0. */
export function activeNativeQuant(): NativeQuant | undefined {
  return nativeDisabled() ? undefined : loadNativeQuant();
}

/** Which kernels are in use and why, for benchmarks and diagnostics. */
export function nativeStatus(): string {
  if (nativeDisabled()) return 'TypeScript kernels (TAXONOMY_STUDIO_NATIVE=0)';
  loadNativeQuant();
  return loaded?.addon ? `native kernels: ${loaded.why}` : `TypeScript kernels (${loaded?.why})`;
}
