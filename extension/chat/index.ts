// The chat in the editor: the models it can talk to (servers the Serve Model job started in this window, and the
// endpoints of `taxonomyStudio.chat.endpoints` with keys from SecretStorage), the chat panel and sidebar view, the
// "Ask this leaf" code lens and its report. Registered once at activation; commands reach it with chatOf(ctx).
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import { locateInTaxonomy } from '../../engine/taxonomy/leaf';
import { runEngine } from '../engine';
import { leafQuestions } from './askLeaf';
import { newReport, runAskLeaf } from './askRunner';
import { listModelEntries, type Endpoint, type ListedModel } from './client';
import { computeTrainingSplit, heldOutQuestions, trainingOf, type TrainingSplit } from './heldOut';
import { apiKeySecretName, endpointsSetting, parseEndpoints, servedEndpointName, type ConfiguredEndpoint } from './endpoints';
import { ChatPanel, chatPanelViewType, chatViewId, ChatViewProvider, type SessionHost } from './panel';
import { modelKey, type ModelOption } from './protocol';
import { toCsv, toMarkdown, type AskReport, type LeafQuestion } from './report';
import type { ServeRequest } from './serveArgs';
import type { ChatBackend, ChatSession, ResolvedModel } from './session';

export const askLeafCommand = 'taxonomyStudio.askLeaf';
export const serveModelCommand = 'taxonomyStudio.serveModel';

/** A server the Serve Model job runs. */
export interface ServedModel {
  runDir: string;
  url: string;
  models: string[];
  request: ServeRequest;
}

export class ChatHost implements vscode.Disposable, SessionHost, ChatBackend {
  readonly backend: ChatBackend = this;
  private readonly served = new Map<string, ServedModel>();
  private readonly sessions = new Set<ChatSession>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly lensChanged = new vscode.EventEmitter<void>();
  /** What the last Serve Model job served, so the panel can start it again when it died. */
  private lastServe: ServeRequest | undefined;
  /** Where the last served model listened, to name a dead server by its address. */
  private lastUrl: string | undefined;
  /** Training splits the engine recomputed, by training source and dataset hash (recomputing tokenizes all data). */
  private readonly splits = new Map<string, Promise<TrainingSplit>>();

  constructor(
    private readonly ctx: Ctx,
    private readonly extCtx: vscode.ExtensionContext,
  ) {
    this.disposables.push(
      this.lensChanged,
      vscode.window.registerWebviewViewProvider(chatViewId, new ChatViewProvider(this)),
      vscode.window.registerWebviewPanelSerializer(chatPanelViewType, {
        deserializeWebviewPanel: async (panel) => void ChatPanel.revive(panel, this),
      }),
      vscode.languages.registerCodeLensProvider({ language: 'qna-yaml' }, { onDidChangeCodeLenses: this.lensChanged.event, provideCodeLenses: (doc) => this.lenses(doc) }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(endpointsSetting)) this.modelsChanged();
      }),
      extCtx.secrets.onDidChange(() => this.modelsChanged()),
    );
  }

  get secrets(): vscode.SecretStorage {
    return this.extCtx.secrets;
  }

  get extensionUri(): vscode.Uri {
    return this.extCtx.extensionUri;
  }

  add(session: ChatSession): vscode.Disposable {
    this.sessions.add(session);
    return { dispose: () => this.sessions.delete(session) };
  }

  onError(what: string, err: unknown): void {
    this.ctx.showError(`${what} failed`, err);
  }

  openPanel(): ChatPanel {
    return ChatPanel.createOrShow(this);
  }

  // ---- served models (the Serve Model job) ---------------------------------------------------------------------------

  willServe(request: ServeRequest): void {
    this.lastServe = request;
  }

  servedStarted(model: ServedModel): void {
    this.served.set(model.runDir, model);
    this.lastUrl = model.url;
    this.modelsChanged();
  }

  servedEnded(runDir: string): void {
    if (this.served.delete(runDir)) this.modelsChanged();
  }

  servedModels(): ServedModel[] {
    return [...this.served.values()];
  }

  canRestartServer(): boolean {
    return this.lastServe !== undefined && this.served.size === 0;
  }

  async restartServer(): Promise<void> {
    if (!this.lastServe) throw new Error('no Serve Model job ran in this window; run "Taxonomy Studio: Serve Model…"');
    await vscode.commands.executeCommand(serveModelCommand, this.lastServe);
  }

  private modelsChanged(): void {
    this.lensChanged.fire();
    for (const s of this.sessions) void s.refreshModels().catch((err: unknown) => this.ctx.log.warn(`chat: listing models failed: ${String(err)}`));
  }

  // ---- ChatBackend ---------------------------------------------------------------------------------------------------

  private servedName(s: ServedModel): string {
    return this.served.size === 1 ? servedEndpointName : `${servedEndpointName} ${new URL(s.url).port}`;
  }

  private configured(): { endpoints: ConfiguredEndpoint[]; problems: string[] } {
    return parseEndpoints(vscode.workspace.getConfiguration().get(endpointsSetting));
  }

  private async apiKey(name: string): Promise<string | undefined> {
    return (await this.extCtx.secrets.get(apiKeySecretName(name))) || undefined;
  }

  async models(): Promise<{ models: ModelOption[]; problems: string[]; compare?: [string, string] }> {
    const { endpoints, problems } = this.configured();
    const models: ModelOption[] = [];
    let compare: [string, string] | undefined;
    const option = (endpoint: string, m: ListedModel): ModelOption => ({ key: modelKey(endpoint, m.id), endpoint, model: m.id, label: `${m.id} · ${endpoint}`, ...(m.provenance ? { provenance: m.provenance } : {}) });
    for (const s of this.served.values()) {
      const name = this.servedName(s);
      const listed = await listModelEntries({ url: s.url }, AbortSignal.timeout(5_000)).catch((err: unknown): ListedModel[] => {
        problems.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
        return s.models.map((id) => ({ id }));
      });
      models.push(...listed.map((m) => option(name, m)));
      const ids = listed.map((m) => m.id);
      const tuned = ids.includes('tuned') ? 'tuned' : ids.find((id) => id !== 'base');
      if (!compare && ids.includes('base') && tuned) compare = [modelKey(name, 'base'), modelKey(name, tuned)];
    }
    const listed = await Promise.all(
      endpoints.map(async (e) => {
        const apiKey = await this.apiKey(e.name);
        try {
          return await listModelEntries({ url: e.url, ...(apiKey ? { apiKey } : {}) }, AbortSignal.timeout(5_000));
        } catch (err) {
          problems.push(`${e.name}: ${err instanceof Error ? err.message : String(err)}${e.models ? ' (showing the models the setting lists)' : ''}`);
          return (e.models ?? []).map((id): ListedModel => ({ id }));
        }
      }),
    );
    endpoints.forEach((e, i) => {
      models.push(...listed[i].map((m) => option(e.name, m)));
      const ids = listed[i].map((m) => m.id);
      const tuned = ids.includes('tuned') ? 'tuned' : undefined;
      if (!compare && ids.includes('base') && tuned) compare = [modelKey(e.name, 'base'), modelKey(e.name, tuned)];
    });
    return { models, problems, ...(compare ? { compare } : {}) };
  }

  async resolve(key: string): Promise<ResolvedModel> {
    let endpointName: string;
    let model: string;
    try {
      [endpointName, model] = JSON.parse(key) as [string, string];
    } catch {
      throw new Error('pick a model first');
    }
    for (const s of this.served.values()) if (this.servedName(s) === endpointName) return { endpoint: { url: s.url }, model, served: true };
    if (endpointName.startsWith(servedEndpointName) && !this.configured().endpoints.some((e) => e.name === endpointName)) {
      // The served model's job ended (stopped, or the engine was killed): say so, so the panel offers a restart.
      return { endpoint: { url: this.lastUrl ?? 'http://127.0.0.1:0/v1' }, model, served: true };
    }
    const e = this.configured().endpoints.find((x) => x.name === endpointName);
    if (!e) throw new Error(`the endpoint "${endpointName}" is no longer in ${endpointsSetting}`);
    const apiKey = await this.apiKey(e.name);
    const endpoint: Endpoint = { url: e.url, ...(apiKey ? { apiKey } : {}) };
    return { endpoint, model, served: false };
  }

  async exportReport(report: AskReport, format: 'csv' | 'markdown'): Promise<void> {
    const ext = format === 'csv' ? 'csv' : 'md';
    const leafDir = report.leaf.includes('/') ? dirname(report.leaf) : undefined;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const stem = `ask-${basename(leafDir ?? 'leaf')}`;
    const target = await vscode.window.showSaveDialog({
      ...(folder ? { defaultUri: vscode.Uri.file(join(folder, `${stem}.${ext}`)) } : {}),
      filters: format === 'csv' ? { CSV: ['csv'] } : { Markdown: ['md'] },
      saveLabel: 'Export',
    });
    if (!target) return;
    await writeFile(target.fsPath, format === 'csv' ? toCsv(report) : toMarkdown(report), 'utf8');
    const choice = await vscode.window.showInformationMessage(`Taxonomy Studio: the table is in ${target.fsPath}.`, 'Open');
    if (choice === 'Open') await vscode.window.showTextDocument(target);
  }

  // ---- Ask this leaf ---------------------------------------------------------------------------------------------------

  private lenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!doc.uri.path.endsWith('/qna.yaml')) return [];
    const top = new vscode.Range(0, 0, 0, 0);
    const target = this.served.size > 0 ? ' (base vs tuned)' : '';
    return [new vscode.CodeLens(top, { title: `Ask this leaf${target}`, command: askLeafCommand, arguments: [doc.uri.toString()], tooltip: "Send the leaf's seed questions to the base and tuned models and score each answer against the expected one" })];
  }

  /** Asks the leaf's questions of two models (base and tuned when served) and shows the table in the chat panel. */
  async askLeaf(uri: vscode.Uri, pick: (options: ModelOption[]) => Promise<ModelOption[] | undefined>): Promise<AskReport | undefined> {
    const doc = await vscode.workspace.openTextDocument(uri);
    const { kind, questions } = leafQuestions(doc.getText(), uri.fsPath);
    if (questions.length === 0) throw new Error(`${vscode.workspace.asRelativePath(uri)} has no seed questions to ask (seed_examples with question and answer)`);
    const { models, problems, compare } = await this.models();
    let chosen: ModelOption[] | undefined = compare?.map((k) => models.find((m) => m.key === k)!).filter(Boolean);
    if (!chosen || chosen.length < 2) {
      if (models.length === 0) {
        throw new Error(`no model to ask${problems.length ? ` (${problems.join('; ')})` : ''}: run "Taxonomy Studio: Serve Model…" with the base model and the trained adapter, or add an endpoint in ${endpointsSetting}`);
      }
      chosen = models.length === 1 ? models : await pick(models);
      if (!chosen?.length) return undefined;
    }
    const targets: Record<string, ResolvedModel> = {};
    const ids: string[] = [];
    for (const m of chosen) {
      const id = ids.includes(m.model) ? m.label : m.model;
      ids.push(id);
      targets[id] = await this.resolve(m.key);
    }
    const leaf = vscode.workspace.asRelativePath(uri);
    const report = newReport(leaf, questions, ids);
    const panel = this.openPanel();
    panel.session.showReport(report, true);
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Asking ${leaf}`, cancellable: true }, async (progress, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      if (kind === 'knowledge') {
        progress.report({ message: 'finding the questions training held out…' });
        const held = await this.heldOutRows(uri, chosen, questions, controller.signal);
        report.rows.push(...held.rows.map((q) => ({ ...q, answers: {} })));
        report.note = held.note;
        panel.session.showReport(report, true);
      }
      const total = report.rows.length * ids.length;
      let done = 0;
      await runAskLeaf(report, targets, {
        signal: controller.signal,
        onUpdate: (r) => {
          progress.report({ message: `${++done}/${total} answers`, increment: 100 / total });
          panel.session.showReport(r, true);
        },
      });
    });
    panel.session.showReport(report, false);
    return report;
  }

  /**
   * A knowledge leaf's generated questions the tuned model did not train on, from the training data its provenance
   * names, with a note saying what the table holds besides seed questions (or why nothing).
   */
  private async heldOutRows(uri: vscode.Uri, chosen: readonly ModelOption[], seeds: readonly LeafQuestion[], signal: AbortSignal): Promise<{ rows: LeafQuestion[]; note: string }> {
    const tuned = chosen.find((m) => trainingOf(m.provenance));
    const src = trainingOf(tuned?.provenance);
    const leafPath = locateInTaxonomy(uri.fsPath).leafPath;
    if (!tuned || !src || !leafPath) {
      return { rows: [], note: 'Seed questions only: no generate run is known for these models (a model served by "Serve Model…" from a trained adapter names its training data in its provenance).' };
    }
    const key = JSON.stringify([src, tuned.provenance?.dataset?.sha256]);
    let split = this.splits.get(key);
    if (!split) {
      split = computeTrainingSplit((args, s) => this.ctx.resolveEngine().then((engine) => runEngine(engine, args, s ? { signal: s } : {})), src, signal);
      this.splits.set(key, split);
      split.catch(() => this.splits.delete(key));
    }
    try {
      const sel = await heldOutQuestions(await split, { leaf: leafPath, skipQuestions: seeds.map((q) => q.question) });
      const rows = sel.questions.map((q): LeafQuestion => ({ seed: 0, question: q.question, expected: q.expected, prompt: q.question, heldOut: q.source }));
      const held = `eval fraction ${src.evalFraction}, seed ${src.seed}`;
      let note: string;
      if (rows.length) note = `${rows.length} generated question${rows.length === 1 ? '' : 's'} from ${src.data} that training held out (${held}) and no trained sample carries, marked held-out.`;
      else if (sel.leafPairs === 0) note = `Seed questions only: the training data ${src.data} has no generated questions of ${leafPath}.`;
      else if (sel.seenElsewhere) note = `Seed questions only: ${sel.seenElsewhere} of this leaf's generated pairs were held out of one phase but trained in another (each knowledge pair is in both phases), so none went unseen (${held}).`;
      else note = `Seed questions only: training held out none of this leaf's ${sel.leafPairs} generated pairs (${held}).`;
      return { rows, note };
    } catch (err) {
      if (signal.aborted) return { rows: [], note: 'Seed questions only: stopped before the held-out questions were found.' };
      return { rows: [], note: `Seed questions only: ${err instanceof Error ? err.message : String(err)}.` };
    }
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

const hosts = new WeakMap<Ctx, ChatHost>();

/** Registers the chat view, panel serializer and Ask-this-leaf lens; called once at activation. */
export function registerChat(ctx: Ctx, extCtx: vscode.ExtensionContext): ChatHost {
  let host = hosts.get(ctx);
  if (!host) {
    host = new ChatHost(ctx, extCtx);
    hosts.set(ctx, host);
    ctx.pushExtCleanup(host);
  }
  return host;
}

/** The chat host of this extension context (registerChat ran at activation). */
export function chatOf(ctx: Ctx): ChatHost {
  const host = hosts.get(ctx);
  if (!host) throw new Error('the chat is not registered (the extension did not finish activating; see the Taxonomy Studio output)');
  return host;
}
