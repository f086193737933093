// `npm run bench -- sdg [--sdg-size=tiny|small|medium] [--sdg-threads=N] [--sdg-gpu=auto|off] [--sdg-rounds=N]`: the local
// teacher's batched decoding. One GGUF teacher (the small fixture model as Q8_0), one context with 32 sequences,
// and the same SDG step (a question under the step's JSON-schema grammar) sent with 1, 4, 8, 16 and 32 calls at once
// in the same run: aggregate generated tokens/s, samples (parsed answers) per minute, and the speed-up over one
// sequence. InstructLab runs llama.cpp with batching off (one sequence); the target here is ≥ 8× at 16–32.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertHfToGguf } from '../../engine/gguf/convert/index';
import { writeFixtureModel, type FixtureSize } from '../../engine/hf/fixtureModel';
import { stepSchemas } from '../../engine/sdg/prompts/schemas';
import { freeformQuestionPrompt } from '../../engine/sdg/prompts/leafPrompts';
import { LocalTeacher } from '../../engine/sdg/teachers/local';
import { printTable, type Row } from './table';

const levels = [1, 4, 8, 16, 32];

function flag(args: string[], name: string): string | undefined {
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

export async function runSdgBench(args: string[]): Promise<void> {
  const size = (flag(args, 'sdg-size') ?? 'small') as FixtureSize;
  const threads = flag(args, 'sdg-threads') ? Number(flag(args, 'sdg-threads')) : undefined;
  const gpu = (flag(args, 'sdg-gpu') ?? 'auto') as 'auto' | 'off';
  const rounds = Number(flag(args, 'sdg-rounds') ?? 2);
  const dir = mkdtempSync(join(tmpdir(), 'sdg-bench-'));
  try {
    await writeFixtureModel(join(dir, 'hf'), { size, seed: 1, std: 0.1 });
    const modelPath = join(dir, `${size}-q8_0.gguf`);
    await convertHfToGguf(join(dir, 'hf'), modelPath, 'q8_0');
    const teacher = await LocalTeacher.open({ modelPath, parallel: Math.max(...levels), contextSize: 1024, gpu, ...(threads ? { threads } : {}) });
    const device = teacher.llama.gpu === false ? `CPU${threads ? `, ${threads} threads` : ''}` : String(teacher.llama.gpu);
    try {
      // A real step: a freeform question from seed examples, answered under the question schema's grammar. Strings are
      // bounded so every answer closes (and parses) well inside maxTokens.
      const schema = stepSchemas({ question: 120, answer: 120, context: 120, explanation: 60 }).question;
      const seeds = [
        { question: 'Write a haiku about the first frost on the observatory dome.', answer: 'Frost on the white dome / the telescope waits for dusk / stars sharpen in cold' },
        { question: 'Write a haiku about a meteor seen by a tired volunteer.', answer: 'Past midnight, yawning / a green streak splits the Plough / coffee goes cold' },
      ];
      const messages = freeformQuestionPrompt('Write a haiku about the night sky.', seeds);
      const call = (i: number) => teacher.chat(messages, { maxTokens: 192, temperature: 0.8, seed: i, jsonSchema: schema });
      await Promise.all(Array.from({ length: 4 }, (_, i) => call(1000 + i))); // warm-up: grammar, caches
      const rows: Row[] = [];
      let single = 0;
      for (const n of levels) {
        let tokens = 0;
        let samples = 0;
        const start = performance.now();
        // One sequence alone runs as many calls as the others run per sequence, so every row does `rounds` calls each.
        for (let r = 0; r < rounds; r++) {
          const results = await Promise.allSettled(Array.from({ length: n }, (_, i) => call(r * 100 + i)));
          for (const res of results) {
            if (res.status === 'fulfilled') {
              tokens += res.value.completionTokens;
              samples++;
            }
          }
        }
        const seconds = (performance.now() - start) / 1000;
        const tps = tokens / seconds;
        if (n === 1) single = tps;
        console.log(`  ${n} sequence${n === 1 ? '' : 's'}: ${tokens} tokens in ${seconds.toFixed(1)} s`);
        rows.push({ sequences: n, calls: n * rounds, parsed: samples, 'tokens/s': tps, 'samples/min': (samples / seconds) * 60, 'vs 1 sequence': `${(tps / single).toFixed(2)}×` });
      }
      printTable(`sdg: local teacher, ${size} fixture Q8_0, ${device}, one context of ${Math.max(...levels)} sequences, question step under its JSON grammar, ${rounds} rounds`, rows);
    } finally {
      await teacher.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
