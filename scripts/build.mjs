// Bundles the entry points: the extension (vscode stays external) split into bundles loaded at first use, the
// language server, the engine CLI, and the quantization worker.
//
//   node scripts/build.mjs [--watch]
import { build, context } from 'esbuild';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: repo,
};

/** The areas of the command table: one module each under extension/commands/, besides the table (index.ts). */
export function commandAreas(root = repo) {
  return readdirSync(join(root, 'extension', 'commands'))
    .filter((n) => n.endsWith('.ts') && n !== 'index.ts')
    .map((n) => n.slice(0, -3))
    .sort();
}

/**
 * The extension host's bundles besides dist/extension.js, each loaded when first needed. An import of one of these
 * entries from any other extension bundle (an `import()` in the command table or in main.ts, or one area importing
 * another) is left out of the importer and becomes a `require` of the entry's file, so activation parses only
 * dist/extension.js, and each area's state (the jobs host, the chat host, the teacher last used) exists once.
 * `entry` is a source file, or a package name for a library several areas share.
 */
export function extensionBundles(root = repo) {
  return [
    // Registered right after activation returns (extension/main.ts).
    { entry: 'extension/views/index.ts', outfile: 'dist/views.js' },
    { entry: 'extension/jobs/index.ts', outfile: 'dist/jobs.js' },
    { entry: 'extension/chat/index.ts', outfile: 'dist/chat.js' },
    // An area of the command table, when one of its commands first runs.
    ...commandAreas(root).map((area) => ({ entry: `extension/commands/${area}.ts`, outfile: `dist/commands/${area}.js` })),
    // The YAML library the views, the chat and several command areas parse leaves with: one copy, not one per bundle.
    { entry: 'yaml', outfile: 'dist/yaml.js' },
  ];
}

/**
 * An esbuild plugin for the bundle written to `outfile`: imports of another bundle's entry become requires of that
 * bundle's file, relative to this one.
 */
function lazyBundles(bundles, outfile) {
  const byEntry = new Map(bundles.map((b) => [b.entry.startsWith('extension/') ? join(repo, b.entry) : b.entry, join(repo, b.outfile)]));
  const self = join(repo, outfile);
  const sourceFile = (dir, path) => [`${path}.ts`, join(path, 'index.ts'), path].map((p) => resolve(dir, p)).find((p) => existsSync(p) && statSync(p).isFile());
  return {
    name: 'lazy-bundles',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        const key = args.path.startsWith('.') ? sourceFile(args.resolveDir, args.path) : args.path;
        const target = key && byEntry.get(key);
        if (!target || target === self) return undefined;
        const path = relative(dirname(self), target);
        return { path: path.startsWith('.') ? path : `./${path}`, external: true };
      });
    },
  };
}

/** Every build: the extension's bundles (with lazyBundles) first, then the other programs. */
export function entries(root = repo) {
  const bundles = extensionBundles(root);
  const extension = {
    external: ['vscode'],
    // `import()` of another bundle becomes Promise.resolve().then(() => require(...)): loaded through the extension
    // host's require (which provides `vscode`), not Node's ESM loader.
    supported: { 'dynamic-import': false },
  };
  // Loaded after activation; whitespace and syntax minified (a third less to parse), names kept for stack traces.
  const lazy = { minifyWhitespace: true, minifySyntax: true };
  return [
    { entryPoints: ['extension/main.ts'], outfile: 'dist/extension.js', external: ['vscode'], supported: extension.supported, plugins: [lazyBundles(bundles, 'dist/extension.js')] },
    ...bundles.map((b) => ({ ...extension, ...lazy, entryPoints: [b.entry], outfile: b.outfile, plugins: [lazyBundles(bundles, b.outfile)] })),
    // The language client (vscode-languageclient and its protocol), required when the server starts rather than at
    // activation.
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
}

async function main(watch) {
  const all = entries();
  if (watch) {
    for (const e of all) await (await context({ ...common, ...e })).watch();
    return;
  }
  await Promise.all(all.map((e) => build({ ...common, ...e })));
  // A command area that no longer exists must not ship from an old build (removed after, not before: tests that
  // rebuild a stale dist/ may run beside others that load it).
  const current = new Set(extensionBundles().flatMap((b) => [b.outfile, `${b.outfile}.map`]));
  const commandsDir = join(repo, 'dist', 'commands');
  for (const name of existsSync(commandsDir) ? readdirSync(commandsDir) : []) {
    if (!current.has(`dist/commands/${name}`)) rmSync(join(commandsDir, name), { force: true });
  }
}

// No top-level await: the unit tests load this file through require.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.includes('--watch')).catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
