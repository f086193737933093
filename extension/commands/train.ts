// "Train on Generated Data": a LoRA/QLoRA `train` job on a generate run (or a messages JSONL file), with the memory
// estimate shown before anything starts; the adapter lands in the run folder shown in the Jobs view.
import { freemem } from 'node:os';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import { jobsOf } from '../jobs/index';
import { defaultRunSettings } from '../../engine/train/settings';
import { memoryQuestion, trainJobRequest, trainMemoryEstimate } from '../train/request';

async function pickModel(): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    openLabel: 'Train This Model',
    title: 'The base model: a Hugging Face folder (config.json, model.safetensors, tokenizer.json)',
  });
  return picked?.[0]?.fsPath;
}

async function pickData(ctx: Ctx): Promise<string | undefined> {
  const runs = jobsOf(ctx)
    .manager.entries()
    .filter((e) => e.kind === 'generate' && e.state === 'succeeded');
  type Item = vscode.QuickPickItem & { path?: string; file?: true };
  const items: Item[] = [
    ...runs.map((e) => ({ label: basename(e.runDir), description: e.title, detail: e.runDir, path: e.runDir })),
    { label: '$(file) Messages JSONL file…', description: 'InstructLab or Hugging Face chat data', file: true },
  ];
  const picked = await vscode.window.showQuickPick(items, { placeHolder: runs.length ? 'Train on which generated data?' : 'No finished Generate Data run yet: pick a JSONL file', ignoreFocusOut: true });
  if (!picked) return undefined;
  if (!picked.file) return picked.path;
  const files = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Messages JSONL': ['jsonl'] }, openLabel: 'Train on This File' });
  return files?.[0]?.fsPath;
}

async function askNumber(prompt: string, value: number): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    prompt,
    value: String(value),
    ignoreFocusOut: true,
    validateInput: (v) => (/^[1-9]\d*$/.test(v.trim()) ? undefined : 'a whole number of 1 or more'),
  });
  return text === undefined ? undefined : Number(text.trim());
}

export function trainOnGeneratedData(ctx: Ctx) {
  return async (): Promise<void> => {
    const data = await pickData(ctx);
    if (!data) return;
    const model = await pickModel();
    if (!model) return;
    const method = await vscode.window.showQuickPick(
      [
        { label: 'QLoRA', description: 'base held in 4 bits: about half the memory', qlora: true },
        { label: 'LoRA', description: 'full-precision base', qlora: false },
      ],
      { placeHolder: 'Fine-tune with', ignoreFocusOut: true },
    );
    if (!method) return;
    const rank = await askNumber('LoRA rank', defaultRunSettings.rank);
    if (rank === undefined) return;
    const epochs = await askNumber('Epochs per phase (knowledge, then skills)', defaultRunSettings.epochs);
    if (epochs === undefined) return;
    const choices = { model, data, qlora: method.qlora, rank, epochs };
    const q = memoryQuestion(await trainMemoryEstimate(choices), freemem());
    const answer = await vscode.window.showInformationMessage(q.message, { modal: true, detail: q.detail }, ...(q.fits ? ['Start'] : ['Start Anyway']));
    if (!answer) return;
    const request = trainJobRequest(choices);
    // Start Anyway lifts the trainer's own refusal (its default limit is the free memory) to what the user accepted.
    if (!q.fits) request.settings.maxMemory = Number.MAX_SAFE_INTEGER;
    const runDir = jobsOf(ctx).newRunDir('train');
    const outcome = await jobsOf(ctx).run({ ...request, runDir }, { title: `Training ${basename(model)} on ${basename(data)}` });
    if (outcome.status !== 'succeeded') return;
    const adapter = join(runDir, 'adapter');
    const next = await vscode.window.showInformationMessage(`Taxonomy Studio: the adapter is in ${adapter} (PEFT format; taxonomy-studio export-adapter makes it a GGUF for Serve Model).`, 'Reveal Adapter');
    if (next) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(adapter));
  };
}
