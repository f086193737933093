// The client side of the qna.yaml language server (language-server/, bundled to dist/language-server.js): how it is
// started (Node IPC) over the documents and settings of languageDocuments.ts. Files changed on disk reach
// the server through the watchers it registers itself (workspace/didChangeWatchedFiles, dynamic registration, which
// VS Code's client supports); watchers here too would send every change twice. Bundled on its own as
// dist/language-client.js and loaded when the server starts, so activation does not pay for vscode-languageclient.
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { clientId, documentSelector, settingsSection } from './languageDocuments';

export function createLanguageClient(serverModule: string, outputChannel: vscode.LogOutputChannel): LanguageClient {
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc },
    debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector,
    synchronize: { configurationSection: settingsSection },
    outputChannel,
    markdown: { isTrusted: false, supportHtml: false },
  };
  return new LanguageClient(clientId, 'Taxonomy Studio Language Server', serverOptions, clientOptions);
}
