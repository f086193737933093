// CPU threads for a llama.cpp context. node-llama-cpp's CPU default is at least four threads whatever the machine; on
// fewer cores llama.cpp's spinning thread barriers wait on threads that are not running, and decoding slows by orders
// of magnitude (measured on 2 busy cores: 4 tokens/s instead of 3,100 with the tiny fixture). llama.cpp's own default
// is one thread per physical core, which is what we ask for on the CPU.
import type { Llama } from 'node-llama-cpp';

export function contextThreads(llama: Pick<Llama, 'gpu' | 'cpuMathCores'>, asked?: number): number | undefined {
  if (asked !== undefined) return asked;
  return llama.gpu === false ? Math.max(1, llama.cpuMathCores) : undefined;
}
