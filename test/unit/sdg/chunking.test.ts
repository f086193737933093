// Chunking knowledge documents: the example documents at 1,000 and 300 words (exact chunks), invariants at sizes
// that force paragraph and sentence splits, and small hand-made Markdown for headings, lists, code and plain text.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chunkDocuments, chunkText, chunkWithHeadings, chunkWordsForContext, splitSentences, type DocumentChunk } from '../../../engine/sdg/chunking';
import { countWords } from '../../../engine/taxonomy/words';
import { repoRoot } from '../../../scripts/make-example-docs-repo';

const docsDir = join(repoRoot, 'examples', 'knowledge-docs');
const docs = ['observatory/history.md', 'observatory/instruments.md', 'observatory/observing-program.md', 'pipeline/calibration.md', 'pipeline/overview.md'];
const read = (f: string) => readFileSync(join(docsDir, f), 'utf8');
const words = (t: string) => t.split(/\s+/).filter(Boolean);
const path = (c: DocumentChunk) => c.headings.map((h) => `${'#'.repeat(h.level)} ${h.title}`).join(' > ');
const heading = /^#{1,6} /;

describe('the example documents', () => {
  const expected: [string, number, [number, string][]][] = [
    ['observatory/history.md', 1000, [[746, '# A history of Kestrel Hill Observatory']]],
    [
      'observatory/history.md',
      300,
      [
        [230, '# A history of Kestrel Hill Observatory'],
        [245, '# A history of Kestrel Hill Observatory > ## The dome and the growing years'],
        [271, '# A history of Kestrel Hill Observatory > ## Power, openness and automation'],
      ],
    ],
    [
      'observatory/instruments.md',
      1000,
      [
        [891, '# Instruments of Kestrel Hill Observatory'],
        [419, '# Instruments of Kestrel Hill Observatory > ## The weather station and dome safety'],
      ],
    ],
    [
      'observatory/instruments.md',
      300,
      [
        [249, '# Instruments of Kestrel Hill Observatory'],
        [195, "# Instruments of Kestrel Hill Observatory > ## Tern's camera and filters"],
        [236, '# Instruments of Kestrel Hill Observatory > ## Wren, the wide-field refractor'],
        [211, '# Instruments of Kestrel Hill Observatory > ## The all-sky camera'],
        [188, '# Instruments of Kestrel Hill Observatory > ## The weather station and dome safety'],
        [231, '# Instruments of Kestrel Hill Observatory > ## Maintenance'],
      ],
    ],
    ['observatory/observing-program.md', 1000, [[841, '# The observing programme at Kestrel Hill']]],
    [
      'observatory/observing-program.md',
      300,
      [
        [184, '# The observing programme at Kestrel Hill'],
        [292, '# The observing programme at Kestrel Hill > ## Exoplanet transits'],
        [214, '# The observing programme at Kestrel Hill > ## Meteor watches'],
        [151, '# The observing programme at Kestrel Hill > ## The nightly schedule'],
      ],
    ],
    ['pipeline/calibration.md', 1000, [[556, '# Calibration in kestrel-pipeline']]],
    [
      'pipeline/calibration.md',
      300,
      [
        [284, '# Calibration in kestrel-pipeline'],
        [272, '# Calibration in kestrel-pipeline > ## Flat fields'],
      ],
    ],
    ['pipeline/overview.md', 1000, [[666, '# kestrel-pipeline: an overview']]],
    [
      'pipeline/overview.md',
      300,
      [
        [225, '# kestrel-pipeline: an overview'],
        [273, '# kestrel-pipeline: an overview > ## File names and headers'],
        [168, '# kestrel-pipeline: an overview > ## Quality control'],
      ],
    ],
  ];

  for (const [file, max, chunks] of expected) {
    test(`${file} in chunks of ${max} words: break at headings, nothing lost`, () => {
      const text = read(file);
      const got = chunkText(text, { maxWords: max });
      assert.deepEqual(
        got.map((c) => [c.words, path(c)]),
        chunks,
      );
      for (const c of got) {
        assert.equal(c.words, countWords(c.text));
        assert.equal(c.startsAtHeading, true, 'at these sizes every chunk starts at a heading');
        assert.equal(c.text.split('\n')[0], `${'#'.repeat(c.headings.at(-1)!.level)} ${c.headings.at(-1)!.title}`);
      }
      // Whole blocks only: the chunks are the document's blocks, blank-line separated, in order.
      const blocks = text.trim().split(/\n{2,}/).join('\n\n');
      assert.equal(got.map((c) => c.text).join('\n\n'), blocks);
      assert.equal(
        got.reduce((n, c) => n + c.words, 0),
        countWords(text),
      );
    });
  }

  test('the instruments document at 1,000 words: where the second chunk starts and what it carries', () => {
    const [first, second] = chunkText(read('observatory/instruments.md'));
    assert.match(first.text, /^# Instruments of Kestrel Hill Observatory\n\nKestrel Hill Observatory has three telescopes/);
    assert.match(first.text, /booked at least a week in advance through the observing committee\.$/);
    assert.equal(second.text.split('\n\n')[0], '## The weather station and dome safety');
    assert.equal(chunkWithHeadings(second).split('\n\n').slice(0, 2).join('|'), '# Instruments of Kestrel Hill Observatory|## The weather station and dome safety');
    assert.equal(chunkWithHeadings(first), first.text);
  });

  for (const max of [80, 40, 12]) {
    test(`every document at ${max} words: within the limit, words in order, headings never last`, () => {
      for (const file of docs) {
        const text = read(file);
        const got = chunkText(text, { maxWords: max });
        assert.deepEqual(chunkText(text, { maxWords: max }), got, 'deterministic');
        assert.deepEqual(words(got.map((c) => c.text).join(' ')), words(text), `${file}: the words, in order`);
        got.forEach((c, i) => {
          assert.equal(c.index, i);
          assert.ok(c.words <= max, `${file} chunk ${i}: ${c.words} words`);
          const lines = c.text.split('\n');
          assert.equal(c.startsAtHeading, heading.test(lines[0]), `${file} chunk ${i} startsAtHeading`);
          assert.ok(!heading.test(lines.at(-1)!) || i === got.length - 1, `${file} chunk ${i} ends with a heading: ${lines.at(-1)}`);
        });
      }
    });
  }

  test('chunkDocuments tags each chunk with its file', () => {
    const loaded = docs.slice(0, 2).map((file) => ({ file, format: 'markdown' as const, text: read(file) }));
    const got = chunkDocuments(loaded, { maxWords: 1000 });
    assert.deepEqual(
      got.map((c) => [c.file, c.index]),
      [
        ['observatory/history.md', 0],
        ['observatory/instruments.md', 0],
        ['observatory/instruments.md', 1],
      ],
    );
  });
});

describe('chunkText on small documents', () => {
  test('heading paths follow levels; consecutive headings travel together', () => {
    const md = '# Guide\n\n## Setup\n\nInstall it.\n\n### Linux\n\nUse apt.\n\n## Use\n\nRun it now please.';
    const got = chunkText(md, { maxWords: 8 });
    assert.deepEqual(
      got.map((c) => [c.text, path(c), c.startsAtHeading]),
      [
        ['# Guide\n\n## Setup\n\nInstall it.', '# Guide', true],
        ['### Linux\n\nUse apt.', '# Guide > ## Setup > ### Linux', true],
        ['## Use\n\nRun it now please.', '# Guide > ## Use', true],
      ],
    );
    assert.equal(chunkWithHeadings(got[1]), '# Guide\n\n## Setup\n\n### Linux\n\nUse apt.');
  });

  test('setext headings, and # inside a code fence is code', () => {
    const md = 'Title\n=====\n\nIntro words here.\n\nPart\n----\n\n```sh\n# not a heading\necho hi\n```\n\nAfter.';
    const got = chunkText(md, { maxWords: 12 });
    assert.deepEqual(
      got.map((c) => [c.text, path(c)]),
      [
        ['Title\n=====\n\nIntro words here.', '# Title'],
        ['Part\n----\n\n```sh\n# not a heading\necho hi\n```\n\nAfter.', '# Title > ## Part'],
      ],
    );
    assert.equal(chunkWithHeadings(got[1]), `# Title\n\n${got[1].text}`);
    // Smaller: the code is cut between lines so that its first piece stays under the heading.
    assert.deepEqual(
      chunkText(md, { maxWords: 9 }).map((c) => c.text),
      ['Title\n=====\n\nIntro words here.', 'Part\n----\n\n```sh\n# not a heading\n```', '```sh\necho hi\n```\n\nAfter.'],
    );
  });

  test('a paragraph longer than a chunk splits at sentences; a sentence longer than a chunk at words', () => {
    const para = 'One two three. Four five six seven. Eight nine! Ten eleven twelve thirteen fourteen fifteen sixteen.';
    assert.deepEqual(
      chunkText(para, { maxWords: 5 }).map((c) => c.text),
      ['One two three.', 'Four five six seven.', 'Eight nine!', 'Ten eleven twelve thirteen fourteen', 'fifteen sixteen.'],
    );
    assert.deepEqual(
      chunkText(para, { maxWords: 9 }).map((c) => c.text),
      ['One two three. Four five six seven. Eight nine!', 'Ten eleven twelve thirteen fourteen fifteen sixteen.'],
    );
  });

  test('a long list splits between items and keeps them on their own lines', () => {
    const md = 'Intro.\n\n- alpha one two\n- beta three four\n  continued here\n- gamma five six';
    assert.deepEqual(
      chunkText(md, { maxWords: 10 }).map((c) => c.text),
      ['Intro.\n\n- alpha one two', '- beta three four\n  continued here\n- gamma five six'],
    );
  });

  test('a code block longer than a chunk splits between lines, each piece fenced', () => {
    const md = '```\na b c\nd e f\ng h i\n```';
    assert.deepEqual(
      chunkText(md, { maxWords: 8 }).map((c) => c.text),
      ['```\na b c\nd e f\n```', '```\ng h i\n```'],
    );
  });

  test("plain text has no headings: '#' lines are text", () => {
    const got = chunkText('# not a heading\n\nbody text', { maxWords: 4, format: 'text' });
    assert.deepEqual(
      got.map((c) => [c.text, c.headings, c.startsAtHeading]),
      [
        ['# not a heading', [], false],
        ['body text', [], false],
      ],
    );
  });

  test('empty text has no chunks; a bad size is refused', () => {
    assert.deepEqual(chunkText('\n\n  \n'), []);
    assert.throws(() => chunkText('x', { maxWords: 0 }), /maxWords must be a whole number of 1 or more, got 0/);
  });
});

describe('helpers', () => {
  test('splitSentences keeps abbreviations and initials inside sentences', () => {
    assert.deepEqual(splitSentences('Dr. Reyes built it, e.g. the dome. J. Penrose paid. "Really?" Yes. 3 more.'), [
      'Dr. Reyes built it, e.g. the dome.',
      'J. Penrose paid.',
      '"Really?"',
      'Yes.',
      '3 more.',
    ]);
  });

  test('chunkWordsForContext leaves room for the prompt at 1.3 tokens a word', () => {
    assert.equal(chunkWordsForContext(4096, 2048), 1000);
    assert.equal(chunkWordsForContext(2048, 1024), 787);
    assert.equal(chunkWordsForContext(1000, 2000), 1);
  });
});
