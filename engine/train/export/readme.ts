// README.md of an export for TRL: what the folder holds, how to run it, and how the adapter comes back.
import type { RunSettings } from '../settings';
import { accelerateConfigFile } from './launchFiles';

export interface ReadmeInput {
  settings: RunSettings;
  baseModel: string;
  data: string;
  phases: readonly { name: string; file: string; samples: number; epochs: number; replayed: number }[];
  evalFile?: string;
  evalSamples: number;
  rowsPerDevice: number;
  tool: string;
}

export function trlReadme(o: ReadmeInput): string {
  const st = o.settings;
  const phaseLines = o.phases.map(
    (p, i) => `${i + 1}. **${p.name}**: \`${p.file}\`, ${p.samples} samples${p.replayed ? ` (${p.replayed} replayed from the phase before)` : ''}, ${p.epochs} epoch${p.epochs === 1 ? '' : 's'}`,
  );
  return `# Train this adapter with Hugging Face TRL

Written by ${o.tool} \`export-training --for trl\` from \`${o.data}\` for the base model \`${o.baseModel}\`.
It trains the LoRA adapter \`taxonomy-studio train\` would train, on one GPU or a cluster, with TRL's SFTTrainer and
PEFT under accelerate (FSDP) or torchrun.

## What is here

- \`data/\`: one messages JSONL per phase, in training order${o.evalFile ? `, and \`${o.evalFile}\` (${o.evalSamples} held-out samples for the evaluation loss)` : ' (nothing held out: eval_fraction 0)'}:
${phaseLines.map((l) => `  ${l}`).join('\n')}

  Each line keeps its \`messages\` and adds \`text\` (the conversation rendered with the chat template),
  \`input_ids\` (our tokenizer's ids, cut to ${st.maxSeqLen} tokens) and \`assistant_masks\` (1 on the tokens that are
  learned: the assistant turns, or the whole sample for \`"unmask": true\` lines). train.py trains on these ids and
  masks as they are, so the prompt format, special tokens and loss mask are exactly ours; it stops if the model's
  tokenizer splits the text differently.
- \`chat_template.jinja\`: the chat template the data was rendered with (the base model's), for reference and for
  serving.
- \`train.py\`: the trainer. \`python3 train.py --check-data\` checks the data without any package installed.
- \`${accelerateConfigFile}\`: accelerate's config for FSDP (full sharding, transformer-layer wrapping).
- \`launch.sh\`: runs each phase as its own launch, with accelerate (default) or torchrun.
- \`requirements.txt\`: the Python packages.
- \`settings.json\`: every setting (the names \`taxonomy-studio train\` uses), the phases, and the provenance (dataset
  hashes, base model, and the taxonomy leaves when the data is a generate run).

## Settings

LoRA rank ${st.rank}, alpha ${st.alpha}, dropout ${st.dropout} on ${st.targets.join(', ')}; ${st.qlora ? 'QLoRA: the base loaded in 4-bit NF4 (bitsandbytes)' : 'the base in bf16'};
learning rate ${st.lr} with ${Number((st.warmupRatio * 100).toPrecision(6))}% warmup then cosine per phase, weight decay ${st.weightDecay}, gradient clipping at
${st.maxGradNorm}, ${st.accumulate} accumulated micro-batch${st.accumulate === 1 ? '' : 'es'} per step (divided among the processes), ${o.rowsPerDevice} sample${o.rowsPerDevice === 1 ? '' : 's'} per
micro-batch per device, ${st.packing ? `packed into rows of ${st.maxSeqLen} tokens, ` : ''}seed ${st.seed}. Each phase after the first starts from the adapter
the one before it trained, with a fresh optimizer and schedule.

## Run it

\`\`\`sh
pip install -r requirements.txt
python3 train.py --check-data
./launch.sh                                  # accelerate + FSDP on this machine's GPUs
LAUNCHER=torchrun ./launch.sh                # or torchrun
MODEL=/path/to/base ./launch.sh --resume     # the base model elsewhere; continue from the last checkpoints
\`\`\`

On several machines run \`launch.sh\` on each with \`NNODES\`, \`NODE_RANK\`, \`MASTER_ADDR\` and \`MASTER_PORT\` set.
One GPU needs no launcher: \`python3 train.py\`. Each phase writes \`runs/<n>-<phase>/\` (checkpoints after every
epoch, the phase's adapter); the last one also writes \`adapter/\` with \`provenance.json\`.

## Bring the adapter back

From this folder:

\`\`\`sh
taxonomy-studio export-adapter adapter --base ${o.baseModel} --out adapter.gguf
taxonomy-studio serve --model base.gguf --adapter adapter.gguf=tuned
\`\`\`

\`export-adapter\` embeds \`adapter/provenance.json\` in the GGUF; \`base.gguf\` is the base model converted with
\`taxonomy-studio convert ${o.baseModel} --out base.gguf\`, whose chat template is the one in \`chat_template.jinja\`.
`;
}
