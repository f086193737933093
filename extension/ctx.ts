// The one object that owns what lives as long as the extension: settings, the output channel, the check results,
// the language client (a new one on each restart) and the engine lookup.
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import type { TaxonomyModel } from './views/taxonomyModel';
import type { LanguageClient } from 'vscode-languageclient/node';
import { CheckDiagnostics } from './checkDiagnostics';
import { Config } from './config';
import { EngineNotFoundError, engineSetting, resolveEngine, type Engine } from './engine';
import { clientModulePath, documentSelector, serverModulePath } from './languageDocuments';

export class Ctx {
  readonly config = new Config();
  readonly log: vscode.LogOutputChannel;
  readonly checkResults: CheckDiagnostics;
  /** The workspace taxonomy the views show; set by registerViews at activation. */
  taxonomy: TaxonomyModel | undefined;
  private client: LanguageClient | undefined;
  private engine: Promise<Engine> | undefined;

  constructor(private readonly extCtx: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('Taxonomy Studio', { log: true });
    this.pushExtCleanup(this.log);
    this.checkResults = new CheckDiagnostics((doc) => this.client?.isRunning() === true && vscode.languages.match(documentSelector, doc) > 0);
    this.pushExtCleanup(this.checkResults);
    this.pushExtCleanup(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (this.config.affectsEngine(e)) this.engine = undefined;
      }),
    );
  }

  /** Disposed when the extension deactivates. */
  pushExtCleanup(d: vscode.Disposable): void {
    this.extCtx.subscriptions.push(d);
  }

  /** The extension's SecretStorage: API keys live here and reach engine children only through their environment. */
  get secrets(): vscode.SecretStorage {
    return this.extCtx.secrets;
  }

  asAbsolutePath(relative: string): string {
    return this.extCtx.asAbsolutePath(relative);
  }

  /** Starts the language server unless it runs; a failed start leaves no half-started client behind. */
  async start(): Promise<void> {
    if (this.client) return;
    const serverModule = this.asAbsolutePath(serverModulePath);
    if (!existsSync(serverModule)) {
      throw new Error(`The language server is missing (${serverModule}). Reinstall the extension, or run \`npm run build\` in a development copy.`);
    }
    // A require of the separate bundle, not an import: esbuild would inline it into dist/extension.js.
    const { createLanguageClient } = require(this.asAbsolutePath(clientModulePath)) as typeof import('./languageClient');
    const client = createLanguageClient(serverModule, this.log);
    this.client = client;
    try {
      await client.start();
      this.log.info(`Language server started (${serverModule})`);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    // dispose() stops a running server and is safe on one that never started.
    await client?.dispose();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** The engine (CLI) to run jobs with, looked up once and again after its setting changes or a failed lookup. */
  resolveEngine(): Promise<Engine> {
    this.engine ??= resolveEngine({
      env: process.env,
      settingPath: this.config.enginePath,
      bundledPath: this.asAbsolutePath('dist/cli.js'),
      nodePath: process.execPath,
    }).then(
      (engine) => {
        this.log.info(`Engine ${engine.version} from the ${engine.source}: ${engine.path}`);
        return engine;
      },
      (err: unknown) => {
        this.engine = undefined;
        throw err;
      },
    );
    return this.engine;
  }

  /**
   * Logs an error and shows it with the actions that help: open the setting that picks the engine, or the log.
   * Never throws and does not wait for the user, so a command or activation can end with it.
   */
  showError(what: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.log.error(`${what}: ${err instanceof Error && err.stack ? err.stack : message}`);
    const actions = err instanceof EngineNotFoundError && err.source !== 'environment' ? ['Open Settings', 'Show Output'] : ['Show Output'];
    void vscode.window.showErrorMessage(`Taxonomy Studio: ${what}: ${message}`, ...actions).then((choice) => {
      if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', engineSetting);
      if (choice === 'Show Output') this.log.show(true);
    });
  }

  async dispose(): Promise<void> {
    await this.stop();
  }
}
