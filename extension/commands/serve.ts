// Serve Model: a GGUF model (and optional GGUF LoRA adapters, served as "tuned" or by file name) as the engine's
// serve job. The Jobs view shows it with its URL; Cancel Job stops the server. The chat lists its models.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { ServeListening } from '../../engine/serve/job';
import { chatOf } from '../chat/index';
import { adapterSpecs, type ServeRequest } from '../chat/serveArgs';
import type { Ctx } from '../ctx';
import { jobsOf } from '../jobs/index';

async function pickModel(): Promise<ServeRequest | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const model = await vscode.window.showOpenDialog({ title: 'Serve Model (1/2): the GGUF model', canSelectMany: false, filters: { 'GGUF model': ['gguf'] }, openLabel: 'Serve', ...(folder ? { defaultUri: folder } : {}) });
  if (!model?.[0]) return undefined;
  const adapters = await vscode.window.showOpenDialog({
    title: 'Serve Model (2/2): GGUF LoRA adapters to serve beside it (Cancel: none)',
    canSelectMany: true,
    filters: { 'GGUF LoRA adapter': ['gguf'] },
    openLabel: 'Serve with these adapters',
    defaultUri: vscode.Uri.joinPath(model[0], '..'),
  });
  return { model: model[0].fsPath, adapters: (adapters ?? []).map((u) => u.fsPath) };
}

/**
 * Starts the serve job. Resolves with the URL once the server listens (undefined when it failed or was cancelled
 * first); the job itself runs until cancelled. Takes `{model, adapters}` from other commands (the chat's restart).
 */
export function serveModel(ctx: Ctx) {
  return async (given?: ServeRequest): Promise<string | undefined> => {
    const request = given && typeof given.model === 'string' ? { model: given.model, adapters: Array.isArray(given.adapters) ? given.adapters : [] } : await pickModel();
    if (!request) return undefined;
    const jobs = jobsOf(ctx);
    const chat = chatOf(ctx);
    const runDir = jobs.newRunDir('serve');
    chat.willServe(request);
    let listening!: (url: string | undefined) => void;
    const ready = new Promise<string | undefined>((resolve) => (listening = resolve));
    const outcome = jobs.run(
      { kind: 'serve', args: { model: request.model, adapters: adapterSpecs(request.adapters) }, settings: {}, runDir },
      {
        title: `Serving ${basename(request.model)}`,
        onPartial: (name, data) => {
          if (name !== 'listening') return;
          const { url, models } = data as ServeListening;
          // The Jobs view's row and tooltip name the address (the entry's title is what they show).
          const entry = jobs.manager.get(runDir);
          if (entry) entry.title = `Serving ${models.join(', ')} at ${url}`;
          chat.servedStarted({ runDir, url, models, request });
          listening(url);
          void vscode.window.showInformationMessage(`Taxonomy Studio: serving ${models.join(', ')} at ${url}. Cancel the job in the Jobs view to stop it.`, 'Open Chat', 'Copy URL').then(async (choice) => {
            if (choice === 'Open Chat') chat.openPanel();
            if (choice === 'Copy URL') await vscode.env.clipboard.writeText(url);
          });
        },
      },
    );
    void outcome.finally(() => {
      chat.servedEnded(runDir);
      listening(undefined);
    });
    return ready;
  };
}
