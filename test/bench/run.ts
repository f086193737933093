// `npm run bench [-- suite...] [--leaves=N] [--edits=N] [--quant-values=N] [--quant-types=Q4_K,...] [--quant-runs=N]
// [--gguf-dtype=bf16|f16|f32] [--gguf-runs=N] [--gguf-threads=N] [--gguf-layers=N]
// [--serve-tokens=N] [--serve-size=tiny|small] [--serve-threads=N] [--serve-gpu=auto|off]
// [--sdg-size=tiny|small] [--sdg-threads=N] [--sdg-gpu=auto|off] [--sdg-rounds=N]
// [--train-size=small|tiny] [--train-rows=N] [--train-seq=N] [--train-steps=N] [--train-threads=N]`:
// runs the named suites (all when none) and prints tables.
import { runCheckBench } from './checkBench';
import { runGgufBench } from './ggufBench';
import { runQuantBench } from './ggufQuantBench';
import { runLspBench } from './lspBench';
import { runSdgBench } from './sdgBench';
import { runServeBench } from './serveBench';
import { runTrainBench } from './trainBench';
import { runTreeBench } from './treeBench';

const suites: Record<string, (args: string[]) => void | Promise<void>> = {
  lsp: async (args) => {
    runCheckBench(args);
    await runLspBench(args);
  },
  tree: runTreeBench,
  quant: runQuantBench,
  gguf: runGgufBench,
  sdg: runSdgBench,
  serve: runServeBench,
  train: runTrainBench,
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const names = args.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !(n in suites));
  if (unknown.length) {
    console.error(`unknown bench suite: ${unknown.join(', ')}; suites: ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
  for (const name of names.length ? names : Object.keys(suites)) {
    console.log(`\n== bench: ${name} ==`);
    await suites[name](args);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
