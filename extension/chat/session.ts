// One chat webview's host side: answers its messages, streams completions to it, stops them, restarts a dead Serve
// Model job, shows an "Ask this leaf" report. No vscode import: the webview and what it needs from the extension come
// as interfaces, so tests drive a session with a test double webview against a real local server.
import type { AskReport } from './report';
import { ChatRequestError, streamChat, type Endpoint } from './client';
import { buildMessages, chatRequestBody, normaliseSampling, type Exchange } from './messages';
import type { FromWebview, ModelOption, ToWebview } from './protocol';

export interface WebviewLike {
  postMessage(message: ToWebview): PromiseLike<boolean>;
  onDidReceiveMessage(listener: (message: unknown) => void): { dispose(): void };
}

export interface ResolvedModel {
  endpoint: Endpoint;
  model: string;
  /** The endpoint is the Serve Model job's. */
  served: boolean;
}

export interface ChatBackend {
  /** Every model the picker offers, with a line for each endpoint that could not be asked. */
  models(): Promise<{ models: ModelOption[]; problems: string[]; compare?: [string, string] }>;
  resolve(key: string): Promise<ResolvedModel>;
  /** True when a Serve Model job ran in this window and can be started again with the same model. */
  canRestartServer(): boolean;
  restartServer(): Promise<void>;
  exportReport(report: AskReport, format: 'csv' | 'markdown'): Promise<void>;
}

export class ChatSession {
  private readonly inFlight = new Map<string, AbortController>();
  private readonly subscription: { dispose(): void };
  private report: { report: AskReport; running: boolean } | undefined;
  private disposed = false;

  constructor(
    private readonly webview: WebviewLike,
    private readonly backend: ChatBackend,
    private readonly onError: (what: string, err: unknown) => void = () => undefined,
  ) {
    this.subscription = webview.onDidReceiveMessage((m) => void this.handle(m as FromWebview).catch((err: unknown) => this.onError('chat', err)));
  }

  /** Sends the model list again (after a setting, a key or the served job changed). */
  async refreshModels(): Promise<void> {
    const { models, problems, compare } = await this.backend.models();
    this.post({ type: 'models', models, problems, ...(compare ? { compare } : {}) });
  }

  /** Shows (or updates) an Ask-this-leaf report in this webview. */
  showReport(report: AskReport, running: boolean): void {
    this.report = { report, running };
    this.post({ type: 'report', report, running });
  }

  async handle(message: FromWebview): Promise<void> {
    switch (message.type) {
      case 'ready':
        if (this.report) this.post({ type: 'report', ...this.report });
        return this.refreshModels();
      case 'refreshModels':
        return this.refreshModels();
      case 'generate':
        return this.generate(message.id, message.model, message.system, message.exchanges, message.sampling);
      case 'stop':
        for (const [id, controller] of this.inFlight) if (message.id === undefined || message.id === id) controller.abort();
        return;
      case 'restartServer':
        await this.backend.restartServer();
        return;
      case 'exportReport':
        if (this.report) await this.backend.exportReport(this.report.report, message.format);
        return;
      case 'closeReport':
        this.report = undefined;
        return;
    }
  }

  private async generate(id: string, key: string, system: string, exchanges: Exchange[], rawSampling: unknown): Promise<void> {
    const controller = new AbortController();
    this.inFlight.set(id, controller);
    let served = false;
    try {
      const target = await this.backend.resolve(key);
      served = target.served;
      const body = chatRequestBody(target.model, buildMessages(typeof system === 'string' ? system : '', exchanges), normaliseSampling(rawSampling));
      const result = await streamChat(target.endpoint, body, { signal: controller.signal, onDelta: (text) => this.post({ type: 'delta', id, text }) });
      this.post({ type: 'done', id, ...(result.finishReason ? { finishReason: result.finishReason } : {}), ...(result.usage ? { usage: result.usage } : {}) });
    } catch (err) {
      if (err instanceof ChatRequestError && err.kind === 'aborted') return this.post({ type: 'stopped', id });
      const unreachable = err instanceof ChatRequestError && err.kind === 'unreachable';
      this.post({ type: 'failed', id, message: err instanceof Error ? err.message : String(err), unreachable, canRestart: unreachable && served && this.backend.canRestartServer() });
    } finally {
      this.inFlight.delete(id);
    }
  }

  private post(message: ToWebview): void {
    if (!this.disposed) void this.webview.postMessage(message);
  }

  dispose(): void {
    this.disposed = true;
    for (const controller of this.inFlight.values()) controller.abort();
    this.inFlight.clear();
    this.subscription.dispose();
  }
}
