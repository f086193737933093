// CPU threads for a llama.cpp context. node-llama-cpp's CPU default is at least four threads whatever the machine; on
// fewer cores llama.cpp's spinning thread barriers wait on threads that are not running, and decoding slows by orders
// of magnitude (measured on 2 busy cores: 4 tokens/s instead of 3,100 with the tiny fixture). llama.cpp's own default
// is one thread per physical core, which is what we ask for on the CPU. Contexts that decode at the same time (the
// server's base model and each adapter) share those cores: two contexts of two threads on two cores decoded 8
// questions × 2 models in 13–38 s, one thread each in 0.15–0.4 s (tiny fixture, busy machine).
import type { Llama } from 'node-llama-cpp';

/** Threads for one of `contexts` contexts that may decode at once (undefined: node-llama-cpp's GPU default). */
export function contextThreads(llama: Pick<Llama, 'gpu' | 'cpuMathCores'>, asked?: number, contexts = 1): number | undefined {
  if (asked !== undefined) return asked;
  return llama.gpu === false ? Math.max(1, Math.floor(llama.cpuMathCores / Math.max(1, contexts))) : undefined;
}
