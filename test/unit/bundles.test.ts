// The extension's bundles as scripts/build.mjs writes them (npm test builds first): activation loads dist/extension.js
// alone, each area's modules live in exactly one bundle (so its state, such as the jobs host, exists once), and every
// bundle loads with the requires of the others it names. Runs the built files under plain Node with a stand-in for
// the `vscode` module; test/e2e's activation suite measures the real thing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import Module from 'node:module';
import { join, relative, resolve } from 'node:path';
import { commandAreas, extensionBundles } from '../../scripts/build.mjs';
import { commandId, commands } from '../../extension/commands/index';

const repoRoot = resolve(__dirname, '../..');
const dist = join(repoRoot, 'dist');
const bundles = extensionBundles(repoRoot);
const builtHint = 'run npm run build first';

/** Sources a bundle was built from, relative to the repository, from its source map. */
function sourcesOf(outfile: string): string[] {
  const map = JSON.parse(readFileSync(join(repoRoot, `${outfile}.map`), 'utf8')) as { sources: string[] };
  return map.sources.map((s) => relative(repoRoot, resolve(join(repoRoot, outfile, '..'), s)));
}

test('the build splits every command area, the views, the Jobs view, the chat and yaml into bundles of their own', () => {
  const outfiles = bundles.map((b) => b.outfile);
  for (const area of commandAreas(repoRoot)) assert.ok(outfiles.includes(`dist/commands/${area}.js`), `${area} has a bundle`);
  // The table names only areas that exist (manifest.test.ts checks each row's module), so each row loads a bundle.
  const table = readFileSync(join(repoRoot, 'extension/commands/index.ts'), 'utf8');
  const rowAreas = new Set([...table.matchAll(/import\('\.\/(\w+)'\)/g)].map((m) => m[1]));
  assert.ok(rowAreas.size > 5, 'the command table names its areas');
  for (const area of rowAreas) assert.ok(area && outfiles.includes(`dist/commands/${area}.js`), `the command table's area ${area} has a bundle`);
  for (const f of ['dist/views.js', 'dist/jobs.js', 'dist/chat.js', 'dist/yaml.js']) assert.ok(outfiles.includes(f), `${f} is a bundle`);
  for (const f of outfiles) assert.ok(existsSync(join(repoRoot, f)), `${f} is built (${builtHint})`);
});

test('each bundle entry is built into its own bundle only; dist/extension.js holds none of them', () => {
  const entryOf = new Map(bundles.map((b) => [b.outfile, b.entry]));
  const all = ['dist/extension.js', ...bundles.map((b) => b.outfile)];
  for (const outfile of all) {
    const sources = sourcesOf(outfile);
    for (const b of bundles) {
      if (b.outfile === outfile) continue;
      const foreign = b.entry.startsWith('extension/') ? sources.filter((s) => s === b.entry) : sources.filter((s) => s.startsWith(`node_modules/${b.entry}/`));
      assert.deepEqual(foreign, [], `${outfile} holds a copy of ${b.entry}, the entry of ${b.outfile}`);
    }
    if (entryOf.has(outfile) && entryOf.get(outfile)!.startsWith('extension/')) assert.ok(sources.includes(entryOf.get(outfile)!), `${outfile} is built from ${entryOf.get(outfile)}`);
  }
  // What activation parses: the context, the settings, the engine lookup and the command table, no area and no library.
  const core = sourcesOf('dist/extension.js');
  assert.deepEqual(core.filter((s) => s.includes('node_modules/')), [], 'dist/extension.js bundles no package');
  assert.deepEqual(core.filter((s) => /^extension\/(views|jobs|chat|sdg|train|pipeline)\//.test(s) || (s.startsWith('extension/commands/') && s !== 'extension/commands/index.ts')), [], 'dist/extension.js bundles no area');
});

/** Every `vscode.X` name the bundles use, each a stand-in that accepts any use, so the bundles load under plain Node. */
function fakeVscode(registered: string[]): Record<string, unknown> {
  const any: unknown = new Proxy(function () {}, {
    get: (_t, p) => (p === 'then' || typeof p === 'symbol' ? undefined : any),
    apply: () => any,
    construct: () => any as object,
  });
  const names = new Set<string>();
  for (const f of ['dist/extension.js', ...bundles.map((b) => b.outfile)]) {
    for (const m of readFileSync(join(repoRoot, f), 'utf8').matchAll(/\bvscode\d*\.(\w+)/g)) names.add(m[1]);
  }
  const fake: Record<string, unknown> = Object.fromEntries([...names].map((n) => [n, any]));
  fake.commands = new Proxy({}, { get: (_t, p) => (p === 'registerCommand' ? (id: string) => (registered.push(id), { dispose() {} }) : any) });
  return fake;
}

function loadedBundles(): string[] {
  return Object.keys(require.cache)
    .filter((f) => f.startsWith(`${dist}/`) && f.endsWith('.js'))
    .map((f) => relative(repoRoot, f))
    .sort();
}

test('activation loads dist/extension.js alone and registers every command; the areas load after it returns', async () => {
  const registered: string[] = [];
  const fake = fakeVscode(registered);
  const mod = Module as unknown as { _load(request: string, ...rest: unknown[]): unknown };
  const load = mod._load;
  mod._load = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? fake : load.call(this, request, ...rest);
  };
  try {
    assert.deepEqual(loadedBundles(), [], 'no bundle loaded before the test');
    const ext = require(join(dist, 'extension.js')) as { activate(c: unknown): void; deactivate(): Promise<void> };
    assert.deepEqual(loadedBundles(), ['dist/extension.js'], 'loading the extension loads only dist/extension.js');
    const context = { subscriptions: [] as unknown[], secrets: {}, asAbsolutePath: (p: string) => join(repoRoot, 'no-such-folder', p) };
    ext.activate(context);
    assert.deepEqual(loadedBundles(), ['dist/extension.js'], 'activate() loads no other bundle');
    assert.deepEqual(registered.sort(), Object.keys(commands).map((n) => commandId(n as keyof typeof commands)).sort(), 'activate() registers every command of the table');
    // Deactivated before the registrations queued for after activation run: they must do nothing then.
    await ext.deactivate();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(loadedBundles(), ['dist/extension.js'], 'nothing loads after a deactivation');

    // Each bundle loads with the other bundles it requires, resolved beside it; those it shares are loaded once.
    for (const b of bundles) require(join(repoRoot, b.outfile));
    assert.deepEqual(loadedBundles(), ['dist/extension.js', ...bundles.map((b) => b.outfile)].sort());
    const pipeline = require(join(dist, 'commands', 'pipeline.js')) as Record<string, unknown>;
    assert.equal(typeof pipeline.runWholeLoop, 'function');
  } finally {
    mod._load = load;
  }
});
