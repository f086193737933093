// "Run the Whole Loop": check → generate → train → export → serve → evaluate as one `pipeline` job in the Jobs view
// (each stage resumable in the run folder), then the run's report opens in the markdown preview.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import { jobsOf } from '../jobs/index';
import { pipelineJobRequest, reportOf } from '../pipeline/request';
import { keyFor, pickTeacher, registerResumeSecrets } from './generate';

async function pickStudent(): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    openLabel: 'Use as Student',
    title: 'The student: a Hugging Face model folder (config.json, model.safetensors, tokenizer.json)',
  });
  const folder = picked?.[0]?.fsPath;
  if (folder && !existsSync(join(folder, 'config.json'))) {
    throw new Error(`${folder} has no config.json: pick a Hugging Face model folder (taxonomy-studio fixture-model writes a small one to try the loop)`);
  }
  return folder;
}

export function runWholeLoop(ctx: Ctx) {
  return async (): Promise<void> => {
    const taxonomy = ctx.taxonomy?.root;
    if (!taxonomy) throw new Error('no taxonomy is open: open a folder holding knowledge/, compositional_skills/ or foundational_skills/');
    const changes = ctx.taxonomy?.changes;
    const changed = changes?.status === 'ok' ? changes.leaves.map((l) => l.file) : [];
    if (changed.length === 0) {
      const all = await vscode.window.showWarningMessage(
        'No leaf has changed against the git base, so the loop has nothing to train on by default.',
        { modal: true, detail: 'Run it over every leaf of the taxonomy instead?' },
        'Use All Leaves',
      );
      if (all !== 'Use All Leaves') return;
    }
    const teacher = await pickTeacher(true);
    if (!teacher) return;
    const student = await pickStudent();
    if (!student) return;
    const method = await vscode.window.showQuickPick(
      [
        { label: 'QLoRA', description: '4-bit base, least memory', qlora: true },
        { label: 'LoRA', description: 'full-precision base', qlora: false },
      ],
      { placeHolder: 'Fine-tune with', ignoreFocusOut: true },
    );
    if (!method) return;
    registerResumeSecrets(ctx);
    const key = await keyFor(ctx, teacher.teacher);
    const outcome = await jobsOf(ctx).run(pipelineJobRequest({ taxonomy, student, leaves: changed, all: changed.length === 0, teacher, key, qlora: method.qlora }), {
      title: changed.length ? `The whole loop on ${changed.length} changed leaf${changed.length === 1 ? '' : 's'}` : 'The whole loop on every leaf',
      env: key.env,
    });
    const report = outcome.status === 'succeeded' ? reportOf(outcome.summary) : undefined;
    if (report) await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(report));
  };
}
