// The chat webview in two places: an editor panel (Open Chat; restored after a reload by its serializer) and a view
// in the Taxonomy Studio sidebar. Both get the same HTML (html.ts) and a ChatSession each.
import * as vscode from 'vscode';
import { chatHtml, makeNonce } from './html';
import { ChatSession, type ChatBackend } from './session';

/** The prefix of the chat's ids; its view sits in the Taxonomy Studio sidebar, below Jobs (package.json views). */
export const chatContainerId = 'taxonomyStudioChat';
export const chatPanelViewType = `${chatContainerId}.panel`;
export const chatViewId = `${chatContainerId}.view`;

/** Only the webview's stylesheet folder and its bundled script are readable by the webview. */
function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media', 'chat'), vscode.Uri.joinPath(extensionUri, 'dist')],
  };
}

function setHtml(webview: vscode.Webview, extensionUri: vscode.Uri, layout: 'panel' | 'view'): void {
  webview.html = chatHtml({
    cspSource: webview.cspSource,
    nonce: makeNonce(),
    scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'chat-webview.js')).toString(),
    styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'chat', 'chat.css')).toString(),
    layout,
  });
}

export interface SessionHost {
  readonly extensionUri: vscode.Uri;
  readonly backend: ChatBackend;
  add(session: ChatSession): vscode.Disposable;
  onError(what: string, err: unknown): void;
}

export class ChatPanel implements vscode.Disposable {
  private static current: ChatPanel | undefined;
  readonly session: ChatSession;
  private readonly disposables: vscode.Disposable[] = [];

  /** Shows the chat panel, making it when there is none. */
  static createOrShow(host: SessionHost): ChatPanel {
    if (ChatPanel.current) {
      ChatPanel.current.panel.reveal(undefined, false);
      return ChatPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(chatPanelViewType, 'Taxonomy Studio Chat', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, { ...webviewOptions(host.extensionUri), retainContextWhenHidden: true });
    return new ChatPanel(panel, host);
  }

  /** After a reload VS Code hands back the panel it had; the conversation comes back through the webview's state. */
  static revive(panel: vscode.WebviewPanel, host: SessionHost): ChatPanel {
    ChatPanel.current?.dispose();
    panel.webview.options = webviewOptions(host.extensionUri);
    return new ChatPanel(panel, host);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    host: SessionHost,
  ) {
    ChatPanel.current = this;
    panel.iconPath = vscode.Uri.joinPath(host.extensionUri, 'media', 'activitybar.svg');
    setHtml(panel.webview, host.extensionUri, 'panel');
    this.session = new ChatSession(panel.webview, host.backend, (what, err) => host.onError(what, err));
    this.disposables.push(host.add(this.session), panel.onDidDispose(() => this.dispose()));
  }

  dispose(): void {
    if (ChatPanel.current === this) ChatPanel.current = undefined;
    this.session.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

export class ChatViewProvider implements vscode.WebviewViewProvider {
  constructor(private readonly host: SessionHost) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    view.webview.options = webviewOptions(this.host.extensionUri);
    setHtml(view.webview, this.host.extensionUri, 'view');
    const session = new ChatSession(view.webview, this.host.backend, (what, err) => this.host.onError(what, err));
    const registration = this.host.add(session);
    view.onDidDispose(() => {
      session.dispose();
      registration.dispose();
    });
  }
}
