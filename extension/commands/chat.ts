// Chat commands: open the chat panel, ask a leaf's questions of base and tuned, and keep an endpoint's API key in
// SecretStorage (never in settings).
import * as vscode from 'vscode';
import { chatOf } from '../chat/index';
import { apiKeySecretName, endpointsSetting, parseEndpoints } from '../chat/endpoints';
import type { Ctx } from '../ctx';

export function openChat(ctx: Ctx) {
  return (): void => {
    chatOf(ctx).openPanel();
  };
}

/** From the code lens (the leaf's URI as a string) or the palette (the active qna.yaml). */
export function askLeaf(ctx: Ctx) {
  return async (uri?: string | vscode.Uri): Promise<void> => {
    const target = typeof uri === 'string' ? vscode.Uri.parse(uri) : (uri ?? vscode.window.activeTextEditor?.document.uri);
    if (!target || !target.path.endsWith('/qna.yaml')) throw new Error('open a qna.yaml leaf first (or use the "Ask this leaf" lens above one)');
    await chatOf(ctx).askLeaf(target, async (options) => {
      const picked = await vscode.window.showQuickPick(
        options.map((o) => ({ label: o.label, option: o })),
        { canPickMany: true, title: 'Ask this leaf: which models? (two side by side: base and tuned)' },
      );
      return picked?.slice(0, 2).map((p) => p.option);
    });
  };
}

export function setChatApiKey(ctx: Ctx) {
  return async (): Promise<void> => {
    const { endpoints } = parseEndpoints(vscode.workspace.getConfiguration().get(endpointsSetting));
    if (endpoints.length === 0) {
      const choice = await vscode.window.showInformationMessage(`Taxonomy Studio: add an endpoint to ${endpointsSetting} first ({"name": …, "url": …}).`, 'Open Settings');
      if (choice === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettingsJson');
      return;
    }
    const picked = endpoints.length === 1 ? endpoints[0] : (await vscode.window.showQuickPick(endpoints.map((e) => ({ label: e.name, description: e.url, e })), { title: 'API key for which endpoint?' }))?.e;
    if (!picked) return;
    const key = await vscode.window.showInputBox({ title: `API key for ${picked.name} (${picked.url})`, password: true, prompt: 'Kept in the editor\'s secret storage. Leave empty to remove the key.', ignoreFocusOut: true });
    if (key === undefined) return;
    const secrets = chatOf(ctx).secrets;
    if (key === '') await secrets.delete(apiKeySecretName(picked.name));
    else await secrets.store(apiKeySecretName(picked.name), key);
    void vscode.window.showInformationMessage(`Taxonomy Studio: API key for ${picked.name} ${key === '' ? 'removed' : 'saved'}.`);
  };
}
