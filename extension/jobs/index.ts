// Jobs in the editor: each runs in its own engine child (supervisor.ts) and shows as a progress notification with
// Cancel, lines in the "Taxonomy Studio Jobs" output channel, and a row in the Jobs view. Commands that start long
// work (generate, train, convert) call `jobsOf(ctx).run(...)`.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { formatProgress, percentDone } from '../../engine/jobs/format';
import type { JobStartParams } from '../../engine/rpc/protocol';
import type { Ctx } from '../ctx';
import { jobsViewId } from './ids';
import { JobManager, newRunDirName, runsFolder, type JobEntry, type StartedJob } from './manager';
import { endMessage } from './presentation';
import type { JobListener, JobOutcome } from './supervisor';
import { JobsTreeProvider } from './view';

export interface RunJobRequest extends Omit<JobStartParams, 'runDir'> {
  /** Default: a new folder under the first workspace folder's .taxonomy-studio/runs. */
  runDir?: string;
}

export interface RunJobOptions {
  /** A few words for the notification: "Generating data for 3 leaves". */
  title: string;
  /** Partial results as they come (samples for a preview). */
  onPartial?: (name: string, data: unknown) => void;
  /** Extra environment for the engine child, e.g. an API key from SecretStorage; never written to the run folder. */
  env?: Record<string, string>;
}

export class JobsHost implements vscode.Disposable {
  readonly manager: JobManager;
  readonly channel: vscode.LogOutputChannel;
  private readonly disposables: vscode.Disposable[] = [];
  /** Run folders this window ran jobs in: their log is in the output channel. */
  private readonly ranHere = new Set<string>();
  /** By job kind: the extra environment (API keys) a resumed job needs. */
  private readonly envProviders = new Map<string, (runDir: string) => Promise<Record<string, string> | undefined>>();

  constructor(private readonly ctx: Ctx) {
    this.channel = vscode.window.createOutputChannel('Taxonomy Studio Jobs', { log: true });
    this.manager = new JobManager({
      engine: () => ctx.resolveEngine(),
      runsRoots: () => (vscode.workspace.workspaceFolders ?? []).map((f) => join(f.uri.fsPath, runsFolder)),
    });
    const provider = new JobsTreeProvider(this.manager);
    const view = vscode.window.createTreeView(jobsViewId, { treeDataProvider: provider });
    provider.view = view;
    const watcher = vscode.workspace.createFileSystemWatcher(`**/${runsFolder}/*/job.json`);
    let timer: NodeJS.Timeout | undefined;
    const refreshSoon = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void this.manager.refresh(), 300);
    };
    this.disposables.push(
      this.channel,
      provider,
      view,
      watcher,
      watcher.onDidCreate(refreshSoon),
      watcher.onDidChange(refreshSoon),
      watcher.onDidDelete(refreshSoon),
      vscode.workspace.onDidChangeWorkspaceFolders(refreshSoon),
      { dispose: () => timer && clearTimeout(timer) },
    );
    void this.manager.refresh();
  }

  /** A new run folder for `kind` in the workspace; an error naming what to do when no folder is open. */
  newRunDir(kind: string): string {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) throw new Error(`open a folder first: jobs write their results to ${runsFolder} inside it`);
    const root = join(folder.uri.fsPath, runsFolder);
    return join(root, newRunDirName(kind, new Date(), (name) => existsSync(join(root, name))));
  }

  /** Runs a job with a progress notification, and says how it ended. Resolves with the outcome; never rejects once started. */
  async run(request: RunJobRequest, options: RunJobOptions): Promise<JobOutcome> {
    const runDir = request.runDir ?? this.newRunDir(request.kind);
    return this.track(await this.manager.start({ ...request, runDir }, { title: options.title, env: options.env, listener: this.listener(runDir, options.onPartial) }));
  }

  /**
   * Continues a failed, cancelled or interrupted run. A job kind whose engine needs secrets in its environment
   * registers a provider with `secretsFor`, so that Resume from the Jobs view gets them too.
   */
  async resume(entry: JobEntry): Promise<JobOutcome> {
    const env = await this.envProviders.get(entry.kind)?.(entry.runDir);
    return this.track(await this.manager.resume(entry.runDir, { title: entry.title, env, listener: this.listener(entry.runDir) }));
  }

  /** Gives resumed jobs of `kind` the extra environment (API keys) that `run` was given when they started. */
  secretsFor(kind: string, provider: (runDir: string) => Promise<Record<string, string> | undefined>): void {
    this.envProviders.set(kind, provider);
  }

  /** The job's log: the output channel for jobs this window ran, else the run's log.jsonl. */
  async showLog(entry: JobEntry): Promise<void> {
    if (this.ranHere.has(entry.runDir)) return this.channel.show(true);
    const log = join(entry.runDir, 'log.jsonl');
    if (!existsSync(log)) throw new Error(`${entry.runDir} has no log.jsonl yet`);
    await vscode.window.showTextDocument(vscode.Uri.file(log), { preview: true });
  }

  /** Shows the run folder: in the Explorer when it is in the workspace, else in the system's file manager. */
  async reveal(entry: JobEntry): Promise<void> {
    const uri = vscode.Uri.file(entry.runDir);
    if (!existsSync(entry.runDir)) throw new Error(`${entry.runDir} does not exist (any more)`);
    const inWorkspace = vscode.workspace.getWorkspaceFolder(uri) !== undefined;
    await vscode.commands.executeCommand(inWorkspace ? 'revealInExplorer' : 'revealFileInOS', uri);
  }

  private listener(runDir: string, onPartial?: (name: string, data: unknown) => void): JobListener {
    this.ranHere.add(runDir);
    const tag = `[${basename(runDir)}]`;
    return {
      started: (r) => this.channel.info(`${tag} started in ${runDir} (engine ${r.engineVersion}${r.resumedUnits > 0 ? `, resuming after ${r.resumedUnits} finished units` : ''})`),
      log: (level, text) => {
        for (const line of text.split('\n')) this.channel[level](`${tag} ${line}`);
      },
      stderr: (line) => this.channel.info(`${tag} engine: ${line}`),
      partial: onPartial,
    };
  }

  private async track(started: StartedJob): Promise<JobOutcome> {
    const { entry } = started;
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: entry.title, cancellable: true }, async (progress, token) => {
      token.onCancellationRequested(() => this.manager.cancel(entry.runDir));
      let shown = '';
      let percent = 0;
      const update = () => {
        const message = entry.cancelling ? 'cancelling: finishing the unit in hand…' : entry.progress ? formatProgress(entry.progress) : 'starting…';
        const now = entry.progress ? (percentDone(entry.progress) ?? 0) : 0;
        if (message === shown && now === percent) return;
        progress.report({ message, ...(now > percent ? { increment: now - percent } : {}) });
        shown = message;
        percent = Math.max(percent, now);
      };
      const subscription = this.manager.onDidChange(update);
      update();
      try {
        await started.outcome;
      } finally {
        subscription.dispose();
      }
    });
    const outcome = await started.outcome;
    this.report(entry, outcome);
    return outcome;
  }

  private report(entry: JobEntry, outcome: JobOutcome): void {
    const tag = `[${basename(entry.runDir)}]`;
    if (outcome.error) this.channel.error(`${tag} ${outcome.error.message}`);
    else this.channel.info(`${tag} ${outcome.status}${outcome.text ? `: ${outcome.text}` : ''}`);
    if (outcome.escalated) this.channel.warn(`${tag} the engine did not stop when asked and was stopped with ${outcome.escalated}`);
    const { severity, text, actions } = endMessage(entry);
    const show = severity === 'error' ? vscode.window.showErrorMessage : vscode.window.showInformationMessage;
    void show(`Taxonomy Studio: ${text}`, ...actions).then(async (choice) => {
      try {
        if (choice === 'Show Log') await this.showLog(entry);
        if (choice === 'Reveal Output') await this.reveal(entry);
        if (choice === 'Resume') await this.resume(entry);
      } catch (err) {
        this.ctx.showError(`${choice} failed`, err);
      }
    });
  }

  dispose(): void {
    this.manager.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

const hosts = new WeakMap<Ctx, JobsHost>();

/** Registers the Jobs view and what runs jobs; called once at activation (later calls return the same host). */
export function registerJobs(ctx: Ctx): JobsHost {
  let host = hosts.get(ctx);
  if (!host) {
    host = new JobsHost(ctx);
    hosts.set(ctx, host);
    ctx.pushExtCleanup(host);
  }
  return host;
}

/** The jobs host of this extension context. */
export const jobsOf = registerJobs;
