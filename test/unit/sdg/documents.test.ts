// Reading a knowledge leaf's documents: the example leaf against the example documents repository, a scratch
// repository with Markdown, plain text, PDF and files SDG does not read, and PDFs written by hand.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLeaf, parseLeafBytes } from '../../../engine/taxonomy/leaf';
import { DocumentResolutionError } from '../../../engine/taxonomy/documents';
import { decodeDocument, documentFormat, DocumentReadError, extractPdfText, loadLeafDocuments } from '../../../engine/sdg/documents';
import { buildDocsRepo, EXPECTED_COMMIT, repoRoot } from '../../../scripts/make-example-docs-repo';
import { git } from '../helpers/git';
import { makePdf } from './pdfFixture';

const exampleLeaf = join(repoRoot, 'examples', 'taxonomy', 'knowledge', 'astronomy', 'observatories', 'kestrel_hill', 'instruments', 'qna.yaml');
const docsDir = join(repoRoot, 'examples', 'knowledge-docs');

async function readError(p: Promise<unknown>): Promise<DocumentReadError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof DocumentReadError, String(e));
    return e;
  }
  assert.fail('expected a DocumentReadError');
}

describe('PDF text', () => {
  test('pdfjs reads a hand-written PDF: lines of a paragraph joined, paragraphs and pages apart', async () => {
    const pdf = makePdf([
      [['Kestrel Hill Observatory has three telescopes.', 'The dome opens at dusk.'], ['Tern is the main telescope (0.5 m).']],
      [['Second page text.']],
    ]);
    const { text, pages } = await extractPdfText(pdf);
    assert.equal(pages, 2);
    assert.equal(text, 'Kestrel Hill Observatory has three telescopes. The dome opens at dusk.\n\nTern is the main telescope (0.5 m).\n\nSecond page text.');
    // the caller's buffer is still whole
    assert.equal(pdf.subarray(0, 8).toString('latin1'), '%PDF-1.4');
  });

  test('a PDF without text, a broken PDF: DocumentReadError saying what to do', async () => {
    const blank = await readError(decodeDocument('scan.pdf', makePdf([[]])));
    assert.equal(blank.message, 'scan.pdf: the PDF has no text layer on any of its 1 page (a scanned document?): convert it to Markdown');
    const broken = await readError(decodeDocument('broken.pdf', Buffer.from('%PDF-1.4\nnot really a pdf\n')));
    assert.match(broken.message, /^broken\.pdf: not a readable PDF \(/);
  });
});

describe('decodeDocument', () => {
  test('formats by extension; UTF-8 text with CRLF and a BOM', async () => {
    assert.equal(documentFormat('a/b.md'), 'markdown');
    assert.equal(documentFormat('notes.MARKDOWN'), 'markdown');
    assert.equal(documentFormat('notes.txt'), 'text');
    assert.equal(documentFormat('paper.pdf'), 'pdf');
    assert.equal(documentFormat('image.png'), undefined);
    const d = await decodeDocument('a.md', Buffer.from('\ufeff# Title\r\n\r\nBody.\r\n'));
    assert.deepEqual(d, { file: 'a.md', format: 'markdown', text: '# Title\n\nBody.\n' });
  });

  test('refuses text that is not UTF-8, binary content and oversized files', async () => {
    assert.equal((await readError(decodeDocument('latin.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9])))).reason, 'not UTF-8 text: save it as UTF-8');
    assert.equal((await readError(decodeDocument('bin.md', Buffer.from('a\0b')))).reason, 'binary content (NUL bytes) in a text document');
    assert.equal((await readError(decodeDocument('big.md', Buffer.alloc(11, 97), { maxBytes: 10 }))).reason, '11 bytes is more than the 10 bytes SDG reads from one document');
  });
});

describe('loadLeafDocuments', () => {
  before(() => {
    buildDocsRepo();
  });

  test('the example instruments leaf reads observatory/instruments.md at its commit', async () => {
    const leaf = parseLeafBytes(readFileSync(exampleLeaf), exampleLeaf);
    const { resolved, documents, skipped } = await loadLeafDocuments(leaf);
    assert.equal(resolved.commit, EXPECTED_COMMIT);
    assert.deepEqual(resolved.files, ['observatory/instruments.md']);
    assert.deepEqual(skipped, []);
    assert.equal(documents.length, 1);
    assert.equal(documents[0].file, 'observatory/instruments.md');
    assert.equal(documents[0].format, 'markdown');
    assert.equal(documents[0].text, readFileSync(join(docsDir, 'observatory', 'instruments.md'), 'utf8'));
  });

  describe('a scratch repository', () => {
    let dir: string;
    let repo: string;
    let commit: string;
    const pdf = makePdf([[['Spectrograph notes.', 'Resolving power about 1,000.']]]);

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'sdg-docs-'));
      repo = join(dir, 'docs');
      mkdirSync(join(repo, 'guides'), { recursive: true });
      writeFileSync(join(repo, 'guides', 'a.md'), '# A\n\nAlpha.\n');
      writeFileSync(join(repo, 'guides', 'b.txt'), 'Plain text.\r\n');
      writeFileSync(join(repo, 'guides', 'c.pdf'), pdf);
      writeFileSync(join(repo, 'guides', 'd.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
      writeFileSync(join(repo, 'guides', 'e.txt'), Buffer.from([0xff, 0xfe, 0x00]));
      git(repo, 'init', '-q', '-b', 'main');
      git(repo, 'add', '.');
      git(repo, 'commit', '-q', '-m', 'docs');
      commit = git(repo, 'rev-parse', 'HEAD');
      // A later commit changes a.md: the leaf's commit is what is read.
      writeFileSync(join(repo, 'guides', 'a.md'), '# A\n\nChanged later.\n');
      git(repo, 'commit', '-q', '-am', 'later');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    function leafFor(patterns: string[], sha = commit) {
      const file = join(dir, 'taxonomy', 'knowledge', 'science', 'leaf', 'qna.yaml');
      const text = [
        'version: 3',
        'domain: science',
        'created_by: tester',
        'seed_examples: []',
        'document_outline: Notes',
        'document:',
        `  repo: ${repo}`,
        `  commit: ${sha}`,
        '  patterns:',
        ...patterns.map((p) => `    - ${JSON.stringify(p)}`),
        '',
      ].join('\n');
      return parseLeaf(text, file);
    }

    test('reads Markdown, text and PDF at the commit; says why others are skipped', async () => {
      const { documents, skipped } = await loadLeafDocuments(leafFor(['guides/*']));
      assert.deepEqual(
        documents.map((d) => [d.file, d.format, d.text, d.pages]),
        [
          ['guides/a.md', 'markdown', '# A\n\nAlpha.\n', undefined],
          ['guides/b.txt', 'text', 'Plain text.\n', undefined],
          ['guides/c.pdf', 'pdf', 'Spectrograph notes. Resolving power about 1,000.', 1],
        ],
      );
      assert.deepEqual(skipped, [
        { file: 'guides/d.png', reason: 'not a document SDG reads (.md, .markdown, .txt or .pdf)' },
        { file: 'guides/e.txt', reason: 'not UTF-8 text: save it as UTF-8' },
      ]);
    });

    test("a commit the clone lacks is the checker's error", async () => {
      await assert.rejects(loadLeafDocuments(leafFor(['guides/*.md'], '0123456789abcdef0123456789abcdef01234567'), { cache: undefined }), (e) => {
        assert.ok(e instanceof DocumentResolutionError);
        assert.equal(e.code, 'QNA261');
        assert.match(e.message, /^Commit 0123456789abcdef0123456789abcdef01234567 is not in /);
        return true;
      });
    });
  });
});
