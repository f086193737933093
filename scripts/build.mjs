// Bundles the entry points: the extension (vscode stays external), the language server, the engine CLI, and the
// quantization worker.
import { build } from 'esbuild';

const watch = process.argv.includes('--watch');
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
};

const entries = [
  { entryPoints: ['extension/main.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  // The language client (vscode-languageclient and its protocol, ~40% of the extension's code), required when the
  // server starts rather than at activation.
  { entryPoints: ['extension/languageClient.ts'], outfile: 'dist/language-client.js', external: ['vscode'] },
  { entryPoints: ['language-server/main.ts'], outfile: 'dist/language-server.js' },
  // node-llama-cpp and onnxruntime-node load native binaries relative to their own package folders, so they stay
  // runtime dependencies.
  { entryPoints: ['engine/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' }, external: ['node-llama-cpp', 'onnxruntime-node'] },
  // QuantPool's worker threads load this file from beside the bundle that starts them.
  { entryPoints: ['engine/gguf/quant/worker.ts'], outfile: 'dist/quant-worker.js' },
  // The chat webview's script (marked and DOMPurify inside), loaded by the webview from the extension's files.
  { entryPoints: ['media/chat/main.ts'], outfile: 'dist/chat-webview.js', platform: 'browser', format: 'iife', target: 'es2022' },
];

if (watch) {
  const { context } = await import('esbuild');
  for (const e of entries) await (await context({ ...common, ...e })).watch();
} else {
  await Promise.all(entries.map((e) => build({ ...common, ...e })));
}
