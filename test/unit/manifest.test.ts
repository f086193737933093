// The extension manifest (package.json) against the code: every contributed command has a handler and every handler
// is contributed, every setting the code reads is contributed and every contributed setting is read by someone, and
// the files the manifest names exist and parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import picomatch from 'picomatch';
import { commandPrefix, commands } from '../../extension/commands/index';
import { defaultLimits } from '../../engine/taxonomy/limits';
import { readSettings } from '../../language-server/settings';
import { extensionBundles } from '../../scripts/build.mjs';

const repoRoot = resolve(__dirname, '../..');
const read = (rel: string) => readFileSync(join(repoRoot, rel), 'utf8');

interface SettingSchema {
  type: string;
  default: unknown;
  enum?: string[];
  markdownDescription?: string;
  description?: string;
}
interface Manifest {
  main: string;
  icon: string;
  engines: { vscode: string };
  activationEvents: string[];
  contributes: {
    languages: { id: string; filenames: string[]; configuration: string; icon: { light: string; dark: string } }[];
    grammars: { language: string; scopeName: string; path: string }[];
    commands: { command: string; title: string; category: string }[];
    menus: Record<string, { command: string; when?: string }[]>;
    configuration: { properties: Record<string, SettingSchema> };
    configurationDefaults: Record<string, Record<string, unknown>>;
  };
}
const pkg = JSON.parse(read('package.json')) as Manifest;
const settings = pkg.contributes.configuration.properties;
const contributedCommands = pkg.contributes.commands.map((c) => c.command);

function sources(dir: string): string[] {
  return readdirSync(join(repoRoot, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return sources(rel);
    return e.name.endsWith('.ts') ? [rel] : [];
  });
}

/** Every `'taxonomyStudio.something'` string literal in the given source folders, with where it was seen. */
function taxonomyStudioLiterals(dirs: string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of dirs.flatMap(sources)) {
    for (const m of read(file).matchAll(/['"`](taxonomyStudio\.[A-Za-z0-9_.]+)['"`]/g)) found.set(m[1], file);
  }
  return found;
}

test('the command table and contributes.commands name the same commands', () => {
  const table = Object.keys(commands).map((name) => commandPrefix + name).sort();
  assert.deepEqual([...contributedCommands].sort(), table);
  for (const c of pkg.contributes.commands) {
    assert.equal(c.category, 'Taxonomy Studio', `${c.command} has category "Taxonomy Studio"`);
    assert.ok(c.title.length > 0, `${c.command} has a title`);
  }
});

test('each command row loads an area module that exports the handler it names', () => {
  const index = read('extension/commands/index.ts');
  const rows = [...index.matchAll(/^\s+(\w+): \(\) => import\('\.\/(\w+)'\)\.then\(\(m\) => m\.(\w+)\)/gm)];
  assert.deepEqual(rows.map((r) => r[1]).sort(), Object.keys(commands).sort(), 'every row has the import(...).then(m => m.name) shape');
  for (const [, name, area, exported] of rows) {
    const file = `extension/commands/${area}.ts`;
    assert.ok(existsSync(join(repoRoot, file)), `${name}: ${file} exists`);
    assert.match(read(file), new RegExp(`^export (async )?function ${exported}\\(`, 'm'), `${file} exports function ${exported}`);
  }
});

test('menus only name contributed commands', () => {
  for (const [menu, items] of Object.entries(pkg.contributes.menus)) {
    for (const item of items) assert.ok(contributedCommands.includes(item.command), `${menu} names ${item.command}, which is contributed`);
  }
});

test('every taxonomyStudio.* name in the extension and the language server is a contributed command or setting', () => {
  const literals = taxonomyStudioLiterals(['extension', 'language-server']);
  // The scan must see the names the code really uses, or this test proves nothing.
  for (const known of ['taxonomyStudio.engine.path', 'taxonomyStudio.taxonomyRoot', 'taxonomyStudio.showLeafStatistics']) {
    assert.ok(literals.has(known), `the source scan finds ${known}`);
  }
  for (const [name, file] of literals) {
    const isSection = Object.keys(settings).some((key) => key.startsWith(`${name}.`));
    assert.ok(contributedCommands.includes(name) || name in settings || isSection, `${name} (used in ${file}) is contributed`);
  }
});

/** The object VS Code hands out for `getConfiguration('taxonomyStudio')`: dotted names become nested objects. */
function sectionObject(values: Record<string, unknown>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    const parts = key.slice('taxonomyStudio.'.length).split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]] = value;
  }
  return root;
}

test('every contributed setting is read by the extension, the language server or the language client', () => {
  const extensionReads = new Set(taxonomyStudioLiterals(['extension']).keys());
  const clientId = /export const clientId = '(\w+)'/.exec(read('extension/languageDocuments.ts'))?.[1];
  assert.equal(clientId, 'taxonomyStudio', 'the client id names the trace setting vscode-languageclient reads');
  const clientReads = new Set([`${clientId}.trace.server`]);

  // The server reads a setting if changing only that setting changes what readSettings makes of the section.
  const defaults = Object.fromEntries(Object.entries(settings).map(([k, s]) => [k, s.default]));
  const baseline = JSON.stringify(readSettings(sectionObject(defaults)));
  const changed = (s: SettingSchema) => (s.type === 'integer' ? (s.default as number) + 7 : s.enum ? s.enum[s.enum.length - 1] : '/tmp/elsewhere');
  const serverReads = new Set(
    Object.entries(settings)
      .filter(([key, s]) => JSON.stringify(readSettings(sectionObject({ ...defaults, [key]: changed(s) }))) !== baseline)
      .map(([key]) => key),
  );
  // The server's checks use the limits, the teacher's context window and the repo cache.
  const serverSide = Object.keys(settings).filter((k) => k.startsWith('taxonomyStudio.limits.'));
  serverSide.push('taxonomyStudio.teacherContextTokens', 'taxonomyStudio.documents.repoCacheDir');
  for (const key of serverSide) assert.ok(serverReads.has(key), `the language server reads ${key}`);

  for (const key of Object.keys(settings)) {
    assert.ok(extensionReads.has(key) || serverReads.has(key) || clientReads.has(key), `${key} is read by the extension, the language server or the client`);
  }
});

test('settings have descriptions, and the limits default to the engine defaults', () => {
  for (const [key, s] of Object.entries(settings)) {
    assert.ok((s.markdownDescription ?? s.description ?? '').length > 20, `${key} has a description`);
  }
  for (const [name, value] of Object.entries(defaultLimits)) {
    const key = name === 'teacherContextTokens' ? `taxonomyStudio.${name}` : `taxonomyStudio.limits.${name}`;
    assert.equal(settings[key]?.default, value, `${key} defaults to ${value}`);
  }
  assert.deepEqual(settings['taxonomyStudio.trace.server'].enum, ['off', 'messages', 'verbose']);
  for (const key of ['taxonomyStudio.documents.repoCacheDir', 'taxonomyStudio.engine.path', 'taxonomyStudio.taxonomyRoot']) {
    assert.equal(settings[key]?.default, '', `${key} defaults to ""`);
  }
});

test('activation, entry point and editor defaults', () => {
  assert.deepEqual(pkg.activationEvents, ['onLanguage:qna-yaml', 'workspaceContains:**/qna.yaml']);
  assert.equal(pkg.engines.vscode, '^1.90.0');
  assert.equal(pkg.main, './dist/extension.js');
  const build = read('scripts/build.mjs');
  assert.match(build, /outfile: 'dist\/extension\.js', external: \['vscode'\]/, 'the build writes main with vscode external');
  const serverModule = /export const serverModulePath = '([^']+)'/.exec(read('extension/languageDocuments.ts'))?.[1];
  assert.equal(serverModule, 'dist/language-server.js');
  assert.match(build, new RegExp(`outfile: '${serverModule}'`), 'the build writes the server module the client starts');
  const clientModule = /export const clientModulePath = '([^']+)'/.exec(read('extension/languageDocuments.ts'))?.[1];
  assert.equal(clientModule, 'dist/language-client.js');
  assert.match(build, new RegExp(`entryPoints: \\['extension/languageClient\\.ts'\\], outfile: '${clientModule}', external: \\['vscode'\\]`), 'the build writes the client bundle ctx.start requires');
  assert.deepEqual(pkg.contributes.configurationDefaults['[qna-yaml]'], {
    'editor.tabSize': 2,
    'editor.insertSpaces': true,
    'editor.detectIndentation': false,
    'editor.formatOnSave': false,
    'editor.quickSuggestions': { other: true, comments: false, strings: true },
  });
});

test('the language, grammar and icon files the manifest names exist and parse', () => {
  const [language] = pkg.contributes.languages;
  assert.equal(language.id, 'qna-yaml');
  assert.deepEqual(language.filenames, ['qna.yaml']);
  const config = JSON.parse(read(language.configuration)) as { comments: { lineComment: string } };
  assert.equal(config.comments.lineComment, '#');
  for (const icon of [language.icon.light, language.icon.dark]) assert.match(read(icon), /^<svg [^>]*viewBox="0 0 16 16"/);

  const [grammar] = pkg.contributes.grammars;
  assert.equal(grammar.language, 'qna-yaml');
  const parsed = JSON.parse(read(grammar.path)) as { scopeName: string };
  assert.equal(parsed.scopeName, grammar.scopeName);
  assert.equal(grammar.scopeName, 'source.qna-yaml');

  // Marketplace icons must be PNG; 128x128 is the size it shows.
  const png = readFileSync(join(repoRoot, pkg.icon));
  assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], `${pkg.icon} is a PNG`);
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [128, 128]);
});

interface EnterRule {
  beforeText: string;
  action: { indent: string; appendText?: string };
}

test('language configuration: Enter continues lists and indents under keys and block scalars', () => {
  const config = JSON.parse(read('language-configuration.json')) as {
    onEnterRules: EnterRule[];
    indentationRules: { increaseIndentPattern: string; decreaseIndentPattern: string };
  };
  // VS Code compiles these as JavaScript regular expressions.
  const rules = config.onEnterRules.map((r) => ({ re: new RegExp(r.beforeText), action: r.action }));
  const onEnter = (line: string) => rules.find((r) => r.re.test(line))?.action;
  assert.deepEqual(onEnter('seed_examples:'), { indent: 'indent' });
  assert.deepEqual(onEnter('  - context: |'), { indent: 'indent', appendText: '  ' });
  assert.deepEqual(onEnter('    questions_and_answers:  # three'), { indent: 'indent' });
  assert.deepEqual(onEnter('      - question: What orbits Earth?'), { indent: 'none', appendText: '  ' });
  assert.deepEqual(onEnter('  - "*.md"'), { indent: 'none', appendText: '- ' });
  assert.deepEqual(onEnter('answer: >-'), { indent: 'indent' });
  assert.deepEqual(onEnter('- |'), { indent: 'indent' });
  assert.equal(onEnter('answer: The Moon.'), undefined);
  assert.equal(onEnter('      The Moon orbits Earth.'), undefined);

  const increase = new RegExp(config.indentationRules.increaseIndentPattern);
  assert.ok(increase.test('document:'));
  assert.ok(increase.test('  - context: |-'));
  assert.ok(!increase.test('domain: astronomy'));
  assert.ok(new RegExp(config.indentationRules.decreaseIndentPattern).test('  ]'));
});

test('.vscodeignore ships dist, the grammar, the media and the example taxonomy, and leaves out sources, tests and node_modules', () => {
  const patterns = read('.vscodeignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  assert.ok(!patterns.some((p) => p.startsWith('!')), 'no negations: what ships is whatever no pattern excludes');
  const excluded = picomatch(patterns, { dot: true });
  const bundles = extensionBundles(repoRoot).map((b) => b.outfile);
  for (const file of ['package.json', 'README.md', 'dist/extension.js', 'dist/language-client.js', ...bundles, 'dist/language-server.js', 'dist/cli.js', pkg.contributes.grammars[0].path, 'language-configuration.json', pkg.icon, 'media/qna-yaml.svg', 'examples/taxonomy/knowledge/a/qna.yaml', 'examples/knowledge-docs/a.md']) {
    assert.ok(!excluded(file.replace(/^\.\//, '')), `${file} ships`);
  }
  for (const file of ['node_modules/yaml/package.json', 'extension/main.ts', 'engine/cli/main.ts', 'language-server/server.ts', 'test/unit/manifest.test.ts', 'examples/knowledge-docs-repo/.git/HEAD', 'scripts/build.mjs', 'tsconfig.json', 'dist/extension.js.map', 'dist/commands/check.js.map', '.ci/run', '.gitignore', 'media/screenshot.png']) {
    assert.ok(excluded(file), `${file} is left out`);
  }
  assert.ok(statSync(join(repoRoot, '.ci/run')).mode & 0o100, '.ci/run is executable');
});
