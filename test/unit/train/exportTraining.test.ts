import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../engine/cli/run';
import { readModelFolder } from '../../../engine/hf/modelFolder';
import { loadTokenizer } from '../../../engine/hf/tokenizer/files';
import { prepareSamples, readMessagesJsonl, type ChatFormat } from '../../../engine/train/data';
import { exportPhases } from '../../../engine/train/export/phases';
import { defaultRunSettings, type RunSettings } from '../../../engine/train/settings';
import { tinyModel, toyDatasetLines } from './helpers';

async function cli(args: string[], cwd: string) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd, env: {} });
  return { code, stdout, stderr };
}

const python = '/usr/bin/python3';

/** Byte-compiles a generated script with the system Python; without one the check is skipped, saying why. */
function pyCompile(file: string): void {
  if (!existsSync(python)) {
    console.log(`py_compile of ${file} skipped: ${python} is missing (apt-get install python3)`);
    return;
  }
  const r = spawnSync(python, ['-m', 'py_compile', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, `py_compile ${file}: ${r.stderr}`);
}

const readJsonl = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { source: string; messages: unknown; unmask: boolean; text: string; input_ids: number[]; assistant_masks: number[] });

const knowledgeLines = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      messages: [
        { role: 'user', content: `Document ${i}: the river bends twice.` },
        { role: 'assistant', content: `The river in document ${i} bends twice.` },
      ],
      unmask: true,
    }),
  );

/** A folder shaped as generate leaves it: job.json (kind generate, taxonomy, leaves), report.json, phase files. */
function generateRun(dir: string): { run: string; leaf: string; knowledge: string[]; skills: string[] } {
  const taxonomy = join(dir, 'taxonomy');
  const leaf = join(taxonomy, 'compositional_skills', 'fruit', 'qna.yaml');
  mkdirSync(join(taxonomy, 'compositional_skills', 'fruit'), { recursive: true });
  writeFileSync(leaf, 'version: 3\ntask_description: fruit\n');
  const run = join(dir, 'run');
  mkdirSync(run);
  writeFileSync(join(run, 'job.json'), JSON.stringify({ format: 1, kind: 'generate', args: { taxonomy, leaves: [leaf] }, settings: { teacher: 'http://127.0.0.1:9/v1' } }));
  const knowledge = knowledgeLines(6);
  const skills = toyDatasetLines().slice(0, 10);
  // An older knowledge file that train would not read: only the newest of each kind is a phase.
  writeFileSync(join(run, 'knowledge_train_msgs_2024-01-01T00_00_00.jsonl'), knowledgeLines(2).join('\n') + '\n');
  writeFileSync(join(run, 'knowledge_train_msgs_2024-06-01T00_00_00.jsonl'), [...knowledge.slice(0, 3), '{"messages": "no"}', ...knowledge.slice(3)].join('\n') + '\n');
  writeFileSync(join(run, 'skills_train_msgs_2024-06-01T00_00_00.jsonl'), skills.join('\n') + '\n');
  writeFileSync(join(run, 'report.json'), JSON.stringify({ mixed: [{ file: 'knowledge_train_msgs_2024-06-01T00_00_00.jsonl', lines: 7 }, { file: 'skills_train_msgs_2024-06-01T00_00_00.jsonl', lines: 10 }] }));
  return { run, leaf, knowledge, skills };
}

async function chatFormat(modelDir: string): Promise<ChatFormat> {
  const folder = await readModelFolder(modelDir);
  return { template: folder.chatTemplate.template, bosToken: folder.bos?.content, eosToken: folder.eos?.content, tokenizer: await loadTokenizer(modelDir) };
}

test('export-training --for trl on a generate run: two phases as train reads them, settings, provenance, a script that compiles', async () => {
  const { dir: modelDir } = await tinyModel();
  const work = mkdtempSync(join(tmpdir(), 'export-trl-'));
  try {
    const { run, knowledge, skills } = generateRun(work);
    const options = ['--rank', '4', '--alpha', '8', '--dropout', '0.1', '--targets', 'q_proj,v_proj', '--epochs', '3', '--lr', '1e-3', '--accumulate', '2', '--max-seq-len', '256', '--batch-tokens', '1024', '--packing', '--seed', '7', '--qlora', '--eval-fraction', '0'];
    const r = await cli(['export-training', 'run', '--for', 'trl', '--model', modelDir, '--out', 'out', ...options], work);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^run\/knowledge_train_msgs_2024-06-01T00_00_00\.jsonl:4: skipped: "messages" is missing or not a list$/m);
    assert.match(r.stdout, /^out\/data\/1-knowledge\.jsonl: knowledge phase, 6 samples, \d+ of \d+ tokens trained, 3 epochs$/m);
    assert.match(r.stdout, /^out\/data\/2-skills\.jsonl: skills phase, 10 samples, \d+ of \d+ tokens trained, 3 epochs$/m);
    const out = join(work, 'out');
    for (const f of ['train.py', 'launch.sh', 'accelerate_fsdp.yaml', 'requirements.txt', 'README.md', 'settings.json', 'chat_template.jinja', 'data/1-knowledge.jsonl', 'data/2-skills.jsonl']) {
      assert.ok(existsSync(join(out, f)), `${f} written`);
    }
    assert.equal(existsSync(join(out, 'data', 'eval.jsonl')), false, 'nothing held out with --eval-fraction 0');
    assert.equal(statSync(join(out, 'train.py')).mode & 0o111, 0o111, 'train.py is executable');
    assert.equal(statSync(join(out, 'launch.sh')).mode & 0o111, 0o111, 'launch.sh is executable');

    // The data per phase: the input's good lines in order, tokenized and masked exactly as the trainer's own code does.
    const format = await chatFormat(modelDir);
    const phases = [
      { file: 'data/1-knowledge.jsonl', input: join(run, 'knowledge_train_msgs_2024-06-01T00_00_00.jsonl'), lines: knowledge },
      { file: 'data/2-skills.jsonl', input: join(run, 'skills_train_msgs_2024-06-01T00_00_00.jsonl'), lines: skills },
    ];
    for (const p of phases) {
      const rows = readJsonl(join(out, p.file));
      assert.deepEqual(
        rows.map((row) => row.messages),
        p.lines.map((l) => (JSON.parse(l) as { messages: unknown }).messages),
        `${p.file} holds the input's lines`,
      );
      const prepared = prepareSamples(format, (await readMessagesJsonl(p.input)).conversations, { maxSeqLen: 256 });
      assert.deepEqual(rows.map((row) => row.input_ids), prepared.samples.map((s) => Array.from(s.ids)), `${p.file}: the trainer's token ids`);
      assert.deepEqual(rows.map((row) => row.assistant_masks), prepared.samples.map((s) => Array.from(s.lossMask)), `${p.file}: the trainer's loss masks`);
      for (const row of rows) assert.deepEqual(format.tokenizer.encode(row.text), row.input_ids, `${row.source}: text tokenizes to the ids`);
    }
    // Knowledge lines are unmasked (all but the first token learned); skills lines learn the assistant turn only.
    const k = readJsonl(join(out, 'data/1-knowledge.jsonl'))[0];
    assert.deepEqual(k.assistant_masks, k.input_ids.map((_, i) => (i === 0 ? 0 : 1)));
    const s = readJsonl(join(out, 'data/2-skills.jsonl'))[0];
    const learned = format.tokenizer.decode(s.input_ids.filter((_, i) => s.assistant_masks[i] === 1));
    assert.match(learned, /^\s*The leaf for apple is compositional skills\./);
    assert.doesNotMatch(learned, /What is the taxonomy leaf/);

    // settings.json: the parsed options under the trainer's names, the phases, and the provenance of a generate run.
    const settings = JSON.parse(readFileSync(join(out, 'settings.json'), 'utf8'));
    const expected: RunSettings = {
      ...defaultRunSettings,
      rank: 4,
      alpha: 8,
      dropout: 0.1,
      targets: ['q_proj', 'v_proj'],
      epochs: 3,
      lr: 1e-3,
      accumulate: 2,
      maxSeqLen: 256,
      batchTokens: 1024,
      packing: true,
      seed: 7,
      qlora: true,
      evalFraction: 0,
    };
    assert.deepEqual(settings.settings, expected);
    assert.deepEqual(
      settings.phases.map((p: { name: string; file: string; source: string; samples: number; epochs: number }) => [p.name, p.file, p.source, p.samples, p.epochs]),
      [
        ['knowledge', 'data/1-knowledge.jsonl', phases[0].input, 6, 3],
        ['skills', 'data/2-skills.jsonl', phases[1].input, 10, 3],
      ],
    );
    assert.equal(settings.skippedLines, 1);
    assert.equal(settings.eval, null);
    assert.equal(settings.trl.perDeviceTrainBatchSize, 4);
    assert.deepEqual(settings.provenance.leaves.map((l: { path: string }) => l.path), ['compositional_skills/fruit/qna.yaml']);
    assert.equal(settings.provenance.teacher, 'http://127.0.0.1:9/v1');
    assert.equal(settings.provenance.baseModel.path, modelDir);
    assert.deepEqual(settings.provenance.settings, expected);
    assert.deepEqual(settings.provenance.dataset.files.map((f: { path: string }) => f.path), phases.map((p) => p.input));
    assert.equal(readFileSync(join(out, 'chat_template.jinja'), 'utf8'), format.template);

    // train.py: compiles, carries the LoRA config and the schedule, checks its data with the standard library alone.
    const script = readFileSync(join(out, 'train.py'), 'utf8');
    pyCompile(join(out, 'train.py'));
    assert.match(script, /LoraConfig\(\n\s+r=4,\n\s+lora_alpha=8,\n\s+lora_dropout=0\.1,\n\s+target_modules=\["q_proj", "v_proj"\],/);
    for (const line of ['QLORA = True', 'MAX_SEQ_LEN = 256', 'PACKING = True', 'LEARNING_RATE = 0.001', 'WARMUP_RATIO = 0.03', 'ACCUMULATE = 2', 'ROWS_PER_DEVICE = 4', 'SEED = 7', 'DECODER_LAYER = "LlamaDecoderLayer"']) {
      assert.ok(script.includes(`\n${line}\n`), `train.py sets ${line}`);
    }
    assert.ok(script.includes('PHASES = [{"name": "knowledge", "file": "data/1-knowledge.jsonl", "epochs": 3}, {"name": "skills", "file": "data/2-skills.jsonl", "epochs": 3}]'));
    assert.match(script, /bnb_4bit_quant_type="nf4"/);
    assert.match(script, /lr_scheduler_type="cosine"/);
    assert.match(script, /PeftModel\.from_pretrained\(model, str\(adapter_dir\), is_trainable=True\)/);
    if (existsSync(python)) {
      const check = spawnSync(python, [join(out, 'train.py'), '--check-data'], { encoding: 'utf8' });
      assert.equal(check.status, 0, check.stderr);
      assert.match(check.stdout, /^knowledge: 6 samples, \d+ tokens, \d+ trained, 3 epochs\nskills: 10 samples, \d+ tokens, \d+ trained, 3 epochs\n$/);
    } else {
      console.log(`train.py --check-data skipped: ${python} is missing`);
    }
    assert.match(readFileSync(join(out, 'requirements.txt'), 'utf8'), /^bitsandbytes>=/m);
    const yaml = readFileSync(join(out, 'accelerate_fsdp.yaml'), 'utf8');
    assert.match(yaml, /^distributed_type: FSDP$/m);
    assert.match(yaml, /^ {2}fsdp_transformer_layer_cls_to_wrap: LlamaDecoderLayer$/m);
    const launch = readFileSync(join(out, 'launch.sh'), 'utf8');
    execFileSync('bash', ['-n', join(out, 'launch.sh')]);
    assert.match(launch, /^for phase in knowledge skills; do$/m);
    assert.match(launch, /accelerate launch --config_file accelerate_fsdp\.yaml/);
    assert.match(launch, /torchrun --nnodes/);
    assert.ok(launch.includes(`MODEL="\${MODEL:-${modelDir}}"`));
    assert.match(readFileSync(join(out, 'README.md'), 'utf8'), /taxonomy-studio export-adapter adapter --base .* --out adapter\.gguf/);

    // A second export into the same folder is refused unless --force.
    const again = await cli(['export-training', 'run', '--for', 'trl', '--model', modelDir, '--out', 'out'], work);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /out already has files \(choose a new or empty folder, or pass --force to replace ours\)/);
    assert.equal((await cli(['export-training', 'run', '--for', 'trl', '--model', modelDir, '--out', 'out', '--force'], work)).code, 0);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('export-training on a JSONL file: one phase plus the held-out split train makes, with the default settings', async () => {
  const { dir: modelDir } = await tinyModel();
  const work = mkdtempSync(join(tmpdir(), 'export-trl-'));
  try {
    const lines = toyDatasetLines();
    writeFileSync(join(work, 'data.jsonl'), lines.join('\n') + '\n');
    const r = await cli(['export-training', 'data.jsonl', '--for', 'trl', '--model', modelDir, '--out', 'out'], work);
    assert.equal(r.code, 0, r.stderr);
    const out = join(work, 'out');
    const rows = readJsonl(join(out, 'data', '1-train.jsonl'));
    const held = readJsonl(join(out, 'data', 'eval.jsonl'));
    // 5% of 24 samples, rounded, held out (the trainer's split); together they are the input, each line once.
    assert.equal(held.length, 1);
    assert.equal(rows.length, 23);
    const all = [...rows, ...held].map((row) => JSON.stringify(row.messages)).sort();
    assert.deepEqual(all, lines.map((l) => JSON.stringify((JSON.parse(l) as { messages: unknown }).messages)).sort());
    const settings = JSON.parse(readFileSync(join(out, 'settings.json'), 'utf8'));
    assert.deepEqual(settings.settings, defaultRunSettings);
    assert.deepEqual(settings.eval, { file: 'data/eval.jsonl', samples: 1 });
    assert.deepEqual(settings.provenance.leaves, []);
    assert.equal(settings.provenance.dataset.path, join(work, 'data.jsonl'));
    const script = readFileSync(join(out, 'train.py'), 'utf8');
    pyCompile(join(out, 'train.py'));
    assert.match(script, /r=8,\n\s+lora_alpha=16,\n\s+lora_dropout=0,\n\s+target_modules=\["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"\],/);
    assert.ok(script.includes('\nQLORA = False\n') && script.includes('\nEVAL_FILE = "data/eval.jsonl"\n'));
    assert.match(readFileSync(join(out, 'requirements.txt'), 'utf8'), /^# bitsandbytes/m);
    assert.match(readFileSync(join(out, 'launch.sh'), 'utf8'), /^for phase in train; do$/m);

    // train.py refuses data that does not hold together, naming the file and line.
    if (existsSync(python)) {
      const file = join(out, 'data', '1-train.jsonl');
      const tampered = readFileSync(file, 'utf8').split('\n');
      const row = JSON.parse(tampered[1]) as { assistant_masks: number[] };
      row.assistant_masks.pop();
      tampered[1] = JSON.stringify(row);
      writeFileSync(file, tampered.join('\n'));
      const check = spawnSync(python, [join(out, 'train.py'), '--check-data'], { encoding: 'utf8' });
      assert.notEqual(check.status, 0);
      assert.match(check.stderr, /data\/1-train\.jsonl:2: expected input_ids and assistant_masks of the same length/);
    } else {
      console.log(`train.py --check-data on tampered data skipped: ${python} is missing`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('export phases replay the knowledge phase into skills as the trainer draws it', async () => {
  const { dir: modelDir } = await tinyModel();
  const work = mkdtempSync(join(tmpdir(), 'export-trl-'));
  try {
    const { run } = generateRun(work);
    const st: RunSettings = { ...defaultRunSettings, evalFraction: 0, replay: 0.5 };
    const a = await exportPhases(modelDir, run, st);
    const b = await exportPhases(modelDir, run, st);
    const [knowledge, skills] = a.phases;
    assert.equal(skills.replayed, 3);
    assert.equal(skills.rows.length, 13);
    const replayed = skills.rows.slice(10);
    for (const row of replayed) assert.ok(knowledge.rows.includes(row), `${row.source} comes from the knowledge phase`);
    assert.equal(new Set(replayed.map((r) => r.source)).size, 3);
    assert.deepEqual(replayed.map((r) => r.source), b.phases[1].rows.slice(10).map((r) => r.source), 'the same seed draws the same samples');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('export-training bad usage: --for missing or unknown, no data, data not found; options fail as train fails', async () => {
  const { dir: modelDir } = await tinyModel();
  const work = mkdtempSync(join(tmpdir(), 'export-trl-'));
  try {
    writeFileSync(join(work, 'data.jsonl'), toyDatasetLines().join('\n') + '\n');
    const base = ['--model', modelDir, '--out', 'out'];
    const noFor = await cli(['export-training', 'data.jsonl', ...base], work);
    assert.equal(noFor.code, 2);
    assert.match(noFor.stderr, /^taxonomy-studio export-training: export-training needs --for <trainer> \(trl\)$/m);
    assert.match(noFor.stderr, /^Usage: taxonomy-studio export-training <run-dir\|data\.jsonl> --for trl/m);
    const unknown = await cli(['export-training', 'data.jsonl', '--for', 'axolotl', ...base], work);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--for: unknown trainer 'axolotl' \(known: trl\)/);
    const noData = await cli(['export-training', '--for', 'trl', ...base], work);
    assert.equal(noData.code, 2);
    assert.match(noData.stderr, /export-training needs <run-dir\|data\.jsonl> \(a folder generate wrote, or a messages JSONL file\)/);
    const missing = await cli(['export-training', 'nowhere.jsonl', '--for', 'trl', ...base], work);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^taxonomy-studio export-training: nowhere\.jsonl: not found \(give a messages JSONL file or a folder that generate wrote\)$/m);
    const noModel = await cli(['export-training', 'data.jsonl', '--for', 'trl', '--out', 'out'], work);
    assert.equal(noModel.code, 2);
    assert.match(noModel.stderr, /needs --model <hf-dir>/);
    assert.equal(existsSync(join(work, 'out')), false, 'nothing written on bad usage');

    // The same bad settings give train's messages word for word.
    for (const bad of [['--rank', '0'], ['--dropout', '1'], ['--targets', 'q_proj,lm_head'], ['--lr', '-1'], ['--max-seq-len', '1'], ['--eval-fraction', '1.5'], ['--seed', 'x']]) {
      const ours = await cli(['export-training', 'data.jsonl', '--for', 'trl', ...base, ...bad], work);
      const train = await cli(['train', '--data', 'data.jsonl', ...base, ...bad], work);
      assert.equal(ours.code, 2, bad.join(' '));
      assert.equal(train.code, 2, bad.join(' '));
      const message = (s: string) => s.split('\n')[0].replace(/^taxonomy-studio [\w-]+: /, '');
      assert.equal(message(ours.stderr), message(train.stderr), bad.join(' '));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
