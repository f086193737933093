// Outline, folding, code lenses, completion and hover over stdio, on the skill leaf of leaves.ts.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CodeLens, CompletionItem, DocumentSymbol, FoldingRange, Hover, SymbolInformation, TextEdit } from 'vscode-languageserver-protocol';
import { LspTestClient, applyEdits, at, leafUri } from './client';
import { skillPath, validSkill } from './leaves';

const root = '/tmp/taxonomy-studio-lsp-features';
const uri = leafUri(root, ...skillPath);

function outline(symbols: DocumentSymbol[], depth = 0): string[] {
  return symbols.flatMap((s) => [`${'  '.repeat(depth)}${s.name} [${s.kind}] ${at(s)} sel ${at({ range: s.selectionRange })}`, ...outline(s.children ?? [], depth + 1)]);
}

describe('document features', () => {
  let c: LspTestClient;
  before(async () => {
    c = await LspTestClient.start();
    await c.open(uri, validSkill, 1);
  });
  after(async () => {
    await c.closeAll();
    assert.equal(await c.stop(), 0, `server exited badly; stderr:\n${c.stderr}`);
  });

  test('the outline lists the fields, each seed by its question, and its questions', async () => {
    const symbols = await c.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
    assert.deepEqual(outline(symbols), [
      'version [16] 0:0-0:10 sel 0:0-0:7',
      'created_by [15] 1:0-1:27 sel 1:0-1:10',
      'task_description [15] 2:0-4:60 sel 2:0-2:16',
      'seed_examples [18] 5:0-30:33 sel 5:0-5:13',
      '  Write a haiku about the Perseid meteor shower. [19] 6:4-10:30 sel 6:4-6:12',
      '    Write a haiku about the Perseid meteor shower. [8] 6:4-6:60 sel 6:4-6:12',
      '  Write a haiku about the full Moon rising over hills. [19] 11:4-15:29 sel 11:4-11:12',
      '    Write a haiku about the full Moon rising over hills. [8] 11:4-11:66 sel 11:4-11:12',
      '  Write a haiku about a comet seen at dusk. [19] 16:4-20:26 sel 16:4-16:12',
      '    Write a haiku about a comet seen at dusk. [8] 16:4-16:55 sel 16:4-16:12',
      '  Write a haiku about an observatory dome opening at night. [19] 21:4-25:28 sel 21:4-21:12',
      '    Write a haiku about an observatory dome opening at night. [8] 21:4-21:71 sel 21:4-21:12',
      '  Write a haiku about Orion in winter. [19] 26:4-30:33 sel 26:4-26:12',
      '    Write a haiku about Orion in winter. [8] 26:4-26:50 sel 26:4-26:12',
    ]);
    assert.equal(symbols[0].detail, '3');
    assert.equal(symbols[3].detail, '5 items');
  });

  test('folding covers block scalars, the seed list, each seed and each answer', async () => {
    const ranges = await c.request<FoldingRange[]>('textDocument/foldingRange', { textDocument: { uri } });
    assert.deepEqual(
      ranges.map((r) => `${r.startLine}-${r.endLine}`),
      ['2-4', '5-30', '6-10', '7-10', '11-15', '12-15', '16-20', '17-20', '21-25', '22-25', '26-30', '27-30'],
    );
  });

  test('code lenses show the leaf size, "Check taxonomy", and each seed size', async () => {
    const lenses = await c.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
    assert.deepEqual(
      lenses.map((l) => `${l.range.start.line} ${l.command?.title} (${l.command?.command})`),
      [
        '0 5 seed examples · 119 words (taxonomyStudio.showLeafStatistics)',
        '0 Check taxonomy (taxonomyStudio.checkTaxonomy)',
        '5 Generate data for this leaf (taxonomyStudio.generateLeafData)',
        '5 Preview data (taxonomyStudio.previewLeafData)',
        '6 22 words · 1 Q&A (taxonomyStudio.showLeafStatistics)',
        '11 25 words · 1 Q&A (taxonomyStudio.showLeafStatistics)',
        '16 25 words · 1 Q&A (taxonomyStudio.showLeafStatistics)',
        '21 26 words · 1 Q&A (taxonomyStudio.showLeafStatistics)',
        '26 21 words · 1 Q&A (taxonomyStudio.showLeafStatistics)',
      ],
    );
    assert.deepEqual(lenses[1].command?.arguments, [uri]);
    const [docUri, stats] = lenses[0].command!.arguments as [string, { seedExamples: number; words: number }];
    assert.equal(docUri, uri);
    assert.equal(stats.seedExamples, 5);
    assert.equal(stats.words, 119);
  });

  test('a version 2 knowledge leaf without attribution.txt gets the upgrade and attribution lenses', async () => {
    const { mkdirSync, rmSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const dir = join(root, 'knowledge', 'lenses', 'moon');
    const old = leafUri(root, 'knowledge', 'lenses', 'moon', 'qna.yaml');
    const text = 'version: 2\ncreated_by: x\ndomain: moon\ntask_description: t\nseed_examples:\n  - question: q\n    answer: a\n';
    const titles = async () =>
      (await c.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri: old } })).filter((l) => l.range.start.line === 0).map((l) => `${l.command?.title} (${l.command?.command})`);
    rmSync(dir, { recursive: true, force: true });
    await c.open(old, text, 1);
    try {
      assert.deepEqual(await titles(), [
        '1 seed example · 2 words (taxonomyStudio.showLeafStatistics)',
        'Check taxonomy (taxonomyStudio.checkTaxonomy)',
        'Upgrade to version 3 (taxonomyStudio.upgradeLeaf)',
        'Create attribution.txt (taxonomyStudio.createAttribution)',
      ]);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'attribution.txt'), 'Title: Moon\n');
      await c.replace(old, 2, text.replace('version: 2', 'version: 3'));
      assert.deepEqual((await titles()).slice(2), [], 'upgraded, and attribution.txt is there: no more authoring lenses');
    } finally {
      await c.close(old);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('completion and hover are answered from the parsed leaf', async () => {
    const items = await c.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: { line: 6, character: 4 } });
    assert.ok(Array.isArray(items));
    assert.ok(items.some((i) => i.label === 'question'), `labels: ${items.map((i) => i.label).join(', ')}`);
    const hover = await c.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line: 2, character: 3 } });
    assert.equal(at(hover as { range: NonNullable<Hover['range']> }), '2:0-2:16');
    assert.match((hover.contents as { value: string }).value, /\*\*task_description\*\*/);
  });

  test('formatting re-indents and strips trailing spaces, keeping comments and block scalars', async () => {
    const messy = leafUri(root, 'messy', ...skillPath);
    const text = validSkill
      .replace('version: 3\n', '# A haiku leaf.\nversion: 3   \n')
      .replace(/\n  - question/g, '\n- question')
      .replace(/\n    answer: \|/g, '\n  answer: |')
      .replace(/\n      (?=\S)/g, '\n    ');
    await c.open(messy, text, 1);
    try {
      const edits = await c.request<TextEdit[]>('textDocument/formatting', { textDocument: { uri: messy }, options: { tabSize: 4, insertSpaces: true } });
      assert.ok(edits.length > 0);
      assert.equal(applyEdits(text, edits), `# A haiku leaf.\n${validSkill}`);
    } finally {
      await c.close(messy);
    }
  });

  test('a leaf that does not parse is not formatted, and the user is told why once', async () => {
    const broken = leafUri(root, 'broken', ...skillPath);
    await c.open(broken, 'version: 3\ncreated_by: "unclosed\n', 1);
    try {
      const params = { textDocument: { uri: broken }, options: { tabSize: 2, insertSpaces: true } };
      assert.deepEqual(await c.request('textDocument/formatting', params), []);
      assert.deepEqual(await c.request('textDocument/formatting', params), []);
      const notices = c.shown.filter((m) => m.startsWith('Not formatted'));
      assert.equal(notices.length, 1, notices.join('\n'));
      assert.match(notices[0], /line \d+, column \d+/);
    } finally {
      await c.close(broken);
    }
  });

  describe('documents that are not leaves', () => {
    const other = 'file:///tmp/taxonomy-studio-lsp-features/config/settings.yaml';
    afterEach(() => c.close(other));
    test('get empty answers', async () => {
      await c.open(other, 'seed_examples:\n  - question: x\n', 1, 'yaml');
      const params = { textDocument: { uri: other } };
      assert.deepEqual(await c.request('textDocument/documentSymbol', params), []);
      assert.deepEqual(await c.request('textDocument/foldingRange', params), []);
      assert.deepEqual(await c.request('textDocument/codeLens', params), []);
      assert.deepEqual(await c.request('textDocument/completion', { ...params, position: { line: 1, character: 4 } }), []);
      assert.equal(await c.request('textDocument/hover', { ...params, position: { line: 0, character: 2 } }), null);
    });
  });
});

describe('a client without hierarchical outline support', () => {
  test('gets flat symbols with their containers', async () => {
    const c = await LspTestClient.start({ capabilities: { textDocument: { documentSymbol: { hierarchicalDocumentSymbolSupport: false } } } });
    try {
      await c.open(uri, validSkill, 1);
      const symbols = await c.request<SymbolInformation[]>('textDocument/documentSymbol', { textDocument: { uri } });
      assert.equal(symbols.length, 14);
      assert.deepEqual(
        symbols.slice(3, 6).map((s) => [s.name, s.containerName, at(s.location)]),
        [
          ['seed_examples', undefined, '5:0-30:33'],
          ['Write a haiku about the Perseid meteor shower.', 'seed_examples', '6:4-10:30'],
          ['Write a haiku about the Perseid meteor shower.', 'Write a haiku about the Perseid meteor shower.', '6:4-6:60'],
        ],
      );
      await c.close(uri);
      assert.equal(await c.stop(), 0);
    } finally {
      c.kill();
    }
  });
});
