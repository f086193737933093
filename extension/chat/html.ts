// The chat webview's HTML: a strict Content-Security-Policy (nothing by default; the one bundled script by nonce;
// styles, fonts and images only from the extension's own files), no remote content, no inline script or style.
// No vscode import: the caller passes the webview's cspSource and resource URIs.
import { randomBytes } from 'node:crypto';

export interface ChatHtmlOptions {
  /** webview.cspSource: the origin the webview serves extension files from. */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  /** 'panel' (editor tab) or 'view' (sidebar): the layout differs a little. */
  layout: 'panel' | 'view';
}

/** A nonce for one rendering: 128 random bits, base64 (CSP accepts base64 values). */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource}`,
    "connect-src 'none'",
    "form-action 'none'",
    "frame-src 'none'",
    "base-uri 'none'",
  ].join('; ');
}

const attr = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function chatHtml(o: ChatHtmlOptions): string {
  if (!/^[A-Za-z0-9+/=]+$/.test(o.nonce)) throw new Error('the nonce must be base64');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${attr(o.styleUri)}">
<title>Taxonomy Studio Chat</title>
</head>
<body class="layout-${o.layout}">
<div id="app" role="application" aria-label="Chat with a model"></div>
<script nonce="${o.nonce}" src="${attr(o.scriptUri)}"></script>
</body>
</html>
`;
}
