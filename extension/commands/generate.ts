// Synthetic data from the editor: Generate Data (leaves → teacher → the engine's health check and calibration
// estimate → a modal "start?" → the `generate` job), Preview Data for one leaf (samples in a markdown editor beside),
// Set Teacher API Key (SecretStorage, per endpoint origin), and the review of a finished run (a YAML document per
// leaf, applied by the engine to the run's training files). The pure parts live in extension/sdg/.
import { existsSync } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { readRunRecord } from '../../engine/jobs/runDir';
import { leafSamples, readReview, readRunReport, withLeafDecisions, writeReview } from '../../engine/sdg/review';
import type { Ctx } from '../ctx';
import { runEngine, type EngineResult } from '../engine';
import { jobsOf } from '../jobs/index';
import type { JobEntry } from '../jobs/manager';
import { estimateMessage, type RunEstimate } from '../sdg/estimate';
import { engineFailure, estimateArgv, generateJobRequest, leafScopes, previewArgv, taxonomyRootOf, type GenerateChoices } from '../sdg/request';
import { parseReviewDocument, reviewDocumentPath, reviewDocumentText, runOfReviewDocument } from '../sdg/reviewDocument';
import { configuredTeachers, secretKeyOf, teacherEnvironment, teachersSetting, type TeacherChoice, type TeacherEnvironment } from '../sdg/teachers';

type LeafTarget = string | vscode.Uri | undefined;

/** The teacher last used in this window, offered first and used by the lenses without asking again. */
let lastTeacher: TeacherChoice | undefined;

export function keyFor(ctx: Ctx, teacher: string): Promise<TeacherEnvironment> {
  const store = ctx.secrets;
  return teacherEnvironment(teacher, async (k) => await store.get(k));
}

let resumeSecretsRegistered = false;
/**
 * Resume from the Jobs view gets the key of the run's recorded teacher, as a new run does. Called at activation (so a
 * run resumed after a reload has its key) and again by the commands (a no-op then).
 */
export function registerResumeSecrets(ctx: Ctx): void {
  if (resumeSecretsRegistered) return;
  resumeSecretsRegistered = true;
  // A pipeline run records its teacher the same way (settings.teacher) and passes the key to its generate stage.
  for (const kind of ['generate', 'pipeline']) {
    jobsOf(ctx).secretsFor(kind, async (runDir) => {
      const record = await readRunRecord(runDir);
      const teacher = typeof record?.settings.teacher === 'string' ? record.settings.teacher : '';
      return teacher ? (await keyFor(ctx, teacher)).env : undefined;
    });
  }
}

function leafFile(target: LeafTarget): string | undefined {
  const uri = typeof target === 'string' ? vscode.Uri.parse(target) : target instanceof vscode.Uri ? target : vscode.window.activeTextEditor?.document.uri;
  return uri && uri.scheme === 'file' && basename(uri.fsPath) === 'qna.yaml' ? uri.fsPath : undefined;
}

function taxonomyFor(ctx: Ctx, leaf: string | undefined): string {
  const root = ctx.taxonomy?.root ?? (leaf ? taxonomyRootOf(leaf) : undefined);
  if (!root) throw new Error('no taxonomy is open: open a folder holding knowledge/, compositional_skills/ or foundational_skills/, or set taxonomyStudio.taxonomyRoot');
  return root;
}

export async function pickTeacher(ask: boolean): Promise<TeacherChoice | undefined> {
  const configured = configuredTeachers(vscode.workspace.getConfiguration().get<unknown>(teachersSetting));
  if (!ask && lastTeacher) return lastTeacher;
  if (!ask && !lastTeacher && configured.length === 1) return (lastTeacher = configured[0]);
  type Item = vscode.QuickPickItem & { choice?: TeacherChoice; file?: true; settings?: true };
  const items: Item[] = [
    ...(lastTeacher && !configured.some((c) => c.teacher === lastTeacher!.teacher) ? [{ label: basename(lastTeacher.label), description: 'last used', detail: lastTeacher.teacher, choice: lastTeacher }] : []),
    ...configured.map((c) => ({ label: c.label, description: c.model ?? '', detail: c.teacher, choice: c })),
    { label: '$(file) GGUF model file…', description: 'a local teacher run by llama.cpp', file: true },
    { label: '$(gear) Configure endpoints…', description: teachersSetting, settings: true },
  ];
  const picked = await vscode.window.showQuickPick(items, { placeHolder: 'Teacher model', ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.settings) {
    await vscode.commands.executeCommand('workbench.action.openSettings', teachersSetting);
    return undefined;
  }
  if (picked.file) {
    const files = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'GGUF models': ['gguf'] }, openLabel: 'Use as Teacher' });
    if (!files?.[0]) return undefined;
    return (lastTeacher = { label: basename(files[0].fsPath), teacher: files[0].fsPath });
  }
  return (lastTeacher = picked.choice!);
}

async function pickLeaves(ctx: Ctx, current: string | undefined): Promise<string[] | undefined> {
  const all = (ctx.taxonomy?.tree?.leaves() ?? []).map((l) => l.file).sort();
  const changes = ctx.taxonomy?.changes;
  const options = leafScopes({ all, ...(changes?.status === 'ok' ? { changed: changes.leaves.map((l) => l.file) } : {}), ...(current ? { current } : {}) });
  if (options.length === 0) {
    if (current) return [current];
    throw new Error('the taxonomy has no leaves yet (is it still loading?)');
  }
  const scope = await vscode.window.showQuickPick(
    options.map((o) => ({ label: o.label, description: o.description, option: o })),
    { placeHolder: 'Generate data for which leaves?', ignoreFocusOut: true },
  );
  if (!scope) return undefined;
  if (scope.option.scope !== 'pick') return scope.option.leaves;
  const root = ctx.taxonomy?.root ?? '';
  const picked = await vscode.window.showQuickPick(
    all.map((file) => ({ label: file.startsWith(root) ? file.slice(root.length + 1) : file, file })),
    { canPickMany: true, placeHolder: 'Leaves to generate data for', ignoreFocusOut: true },
  );
  return picked?.length ? picked.map((p) => p.file) : undefined;
}

/** Runs the engine CLI with the teacher's key in its environment only, under a cancellable progress notification. */
async function engineWithKey(ctx: Ctx, title: string, argv: string[], key: TeacherEnvironment, cwd: string): Promise<EngineResult | undefined> {
  const engine = await ctx.resolveEngine();
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (_progress, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    try {
      return await runEngine({ ...engine, env: { ...engine.env, ...key.env } }, argv, { cwd, signal: abort.signal });
    } catch (err) {
      if (abort.signal.aborted) return undefined;
      throw err;
    }
  });
}

async function generate(ctx: Ctx, leaves: string[], taxonomy: string, teacher: TeacherChoice): Promise<void> {
  registerResumeSecrets(ctx);
  const choices: GenerateChoices = { taxonomy, leaves, teacher, key: await keyFor(ctx, teacher.teacher) };
  const result = await engineWithKey(ctx, 'Taxonomy Studio: checking the teacher and estimating the run…', estimateArgv(choices), choices.key, taxonomy);
  if (!result) return;
  if (result.code !== 0) throw new Error(engineFailure(result.stderr, result.code));
  const estimate = JSON.parse(result.stdout) as RunEstimate;
  const { message, detail } = estimateMessage(estimate);
  const answer = await vscode.window.showInformationMessage(message, { modal: true, detail }, 'Start');
  if (answer !== 'Start') return;
  const n = estimate.leaves.length;
  const title = `Generating data for ${n === 1 ? estimate.leaves[0].leaf.split('/').pop() : `${n} leaves`}`;
  // The key goes to the engine child's environment only: job.json records settings.apiKeyEnv, the variable's name.
  await jobsOf(ctx).run(generateJobRequest(choices), { title, env: choices.key.env });
}

export function generateData(ctx: Ctx) {
  return async (target?: LeafTarget): Promise<void> => {
    const current = leafFile(target);
    const taxonomy = taxonomyFor(ctx, current);
    const leaves = await pickLeaves(ctx, current);
    if (!leaves) return;
    const teacher = await pickTeacher(true);
    if (teacher) await generate(ctx, leaves, taxonomy, teacher);
  };
}

/** The "Generate data for this leaf" lens: this leaf, the teacher used last (or asked once). */
export function generateLeafData(ctx: Ctx) {
  return async (target?: LeafTarget): Promise<void> => {
    const leaf = leafFile(target);
    if (!leaf) throw new Error('open a qna.yaml leaf first');
    const teacher = await pickTeacher(false);
    if (teacher) await generate(ctx, [leaf], taxonomyFor(ctx, leaf), teacher);
  };
}

export function previewLeafData(ctx: Ctx) {
  return async (target?: LeafTarget): Promise<void> => {
    const leaf = leafFile(target);
    if (!leaf) throw new Error('open a qna.yaml leaf first');
    const taxonomy = taxonomyFor(ctx, leaf);
    const teacher = await pickTeacher(false);
    if (!teacher) return;
    const key = await keyFor(ctx, teacher.teacher);
    const result = await engineWithKey(ctx, `Taxonomy Studio: previewing ${basename(dirname(leaf))}…`, previewArgv(taxonomy, leaf, teacher, key), key, taxonomy);
    if (!result) return;
    if (result.code !== 0) throw new Error(engineFailure(result.stderr, result.code));
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: result.stdout });
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
  };
}

export function setTeacherApiKey(ctx: Ctx) {
  return async (): Promise<void> => {
    const configured = configuredTeachers(vscode.workspace.getConfiguration().get<unknown>(teachersSetting));
    const urls = [...new Set(configured.flatMap((c) => c.teacher.split(',')))];
    const other = '$(add) Another endpoint…';
    const picked = urls.length ? await vscode.window.showQuickPick([...urls, other], { placeHolder: 'API key for which endpoint?' }) : other;
    if (!picked) return;
    const url = picked === other ? await vscode.window.showInputBox({ prompt: 'Endpoint URL (OpenAI-compatible)', placeHolder: 'https://example.com/v1', validateInput: (v) => (/^https?:\/\/\S+$/.test(v.trim()) ? undefined : 'an http(s) URL') }) : picked;
    if (!url) return;
    const storeKey = secretKeyOf(url);
    const key = await vscode.window.showInputBox({ prompt: `API key for ${new URL(url.trim()).origin} (kept in VS Code's secret storage; empty removes it)`, password: true, ignoreFocusOut: true });
    if (key === undefined) return;
    if (key.trim()) await ctx.secrets.store(storeKey, key.trim());
    else await ctx.secrets.delete(storeKey);
    void vscode.window.showInformationMessage(`Taxonomy Studio: API key for ${new URL(url.trim()).origin} ${key.trim() ? 'stored' : 'removed'}.`);
  };
}

async function pickRun(ctx: Ctx): Promise<string | undefined> {
  const runs = jobsOf(ctx)
    .manager.entries()
    .filter((e) => e.kind === 'generate' && e.state === 'succeeded');
  if (runs.length === 0) {
    void vscode.window.showInformationMessage('Taxonomy Studio: no finished generate run to review yet.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(runs.map((e) => ({ label: basename(e.runDir), description: e.text ?? '', detail: e.runDir, entry: e })), { placeHolder: 'Review which run?' });
  return picked?.entry.runDir;
}

let saveListener: vscode.Disposable | undefined;

/** Per leaf of a finished run: a YAML document of its samples (keep, question, answer), applied on save. */
export function reviewGeneratedData(ctx: Ctx) {
  return async (entry?: JobEntry): Promise<void> => {
    const runDir = entry?.runDir ?? (await pickRun(ctx));
    if (!runDir) return;
    if (entry && entry.kind !== 'generate') throw new Error(`${runDir} is a ${entry.kind} run; only generate runs have samples to review`);
    const report = await readRunReport(runDir);
    const review = await readReview(runDir);
    const leaves = report.leaves.filter((l) => !l.skipped && l.files.length);
    if (leaves.length === 0) throw new Error(`${runDir}: no leaf of this run produced samples`);
    const picked =
      leaves.length === 1
        ? leaves[0]
        : (
            await vscode.window.showQuickPick(
              leaves.map((l) => {
                const r = review.leaves[l.leaf];
                const verdicts = r ? `, ${r.rejected.length} rejected, ${Object.keys(r.edited).length} edited` : '';
                return { label: l.leaf, description: `${l.kept} samples${verdicts}`, leaf: l };
              }),
              { placeHolder: 'Review which leaf?' },
            )
          )?.leaf;
    if (!picked) return;
    const samples = await leafSamples(runDir, picked, review);
    const file = reviewDocumentPath(runDir, picked.leaf);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, reviewDocumentText(runDir, picked.leaf, samples), 'utf8');
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false });
    if (!saveListener) {
      saveListener = vscode.workspace.onDidSaveTextDocument((doc) => {
        if (doc.uri.scheme === 'file' && runOfReviewDocument(doc.uri.fsPath)) void applyReviewDocument(ctx, doc.uri.fsPath).catch((err: unknown) => ctx.showError('Apply Review failed', err));
      });
      ctx.pushExtCleanup(saveListener);
    }
    void vscode.window.showInformationMessage(`Taxonomy Studio: set keep: false to reject a sample, edit to change it; saving applies the review to ${basename(runDir)}'s training files.`);
  };
}

async function applyReviewDocument(ctx: Ctx, file: string): Promise<void> {
  const parsed = parseReviewDocument(await readFile(file, 'utf8'), file);
  const runDir = runOfReviewDocument(file) ?? parsed.run;
  if (!existsSync(join(runDir, 'job.json'))) throw new Error(`${file}: its run folder ${runDir} is gone`);
  const report = await readRunReport(runDir);
  const leaf = report.leaves.find((l) => l.leaf === parsed.leaf);
  if (!leaf) throw new Error(`${file}: leaf ${parsed.leaf} is not in ${runDir}/report.json`);
  const originals = await leafSamples(runDir, leaf);
  await writeReview(runDir, withLeafDecisions(await readReview(runDir), parsed.leaf, originals, parsed.decisions));
  const engine = await ctx.resolveEngine();
  const result = await runEngine(engine, ['generate', '--apply-review', '--out', runDir], { cwd: runDir });
  if (result.code !== 0) throw new Error(engineFailure(result.stderr, result.code));
  ctx.log.info(result.stdout.trim());
  void vscode.window.showInformationMessage(`Taxonomy Studio: ${result.stdout.trim()}`);
}

export function applyReview(ctx: Ctx) {
  return async (target?: vscode.Uri): Promise<void> => {
    const uri = target ?? vscode.window.activeTextEditor?.document.uri;
    if (!uri || uri.scheme !== 'file' || !runOfReviewDocument(uri.fsPath)) throw new Error('open a review document (review/<leaf>.yaml in a run folder) first, with Review Generated Data');
    const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === uri.fsPath);
    if (open?.isDirty) {
      await open.save();
      // Saving applied it already when this window opened the review.
      if (saveListener) return;
    }
    await applyReviewDocument(ctx, uri.fsPath);
  };
}
