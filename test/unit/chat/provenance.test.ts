// Provenance in the chat: the host reads the `provenance` field of /v1/models entries (only valid records), and the
// webview shows a compact line that opens into the whole record, as text only. The view is built through a test
// double of `document` that records elements and refuses innerHTML, so a record full of markup must arrive as text.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listModelEntries, listModels } from '../../../extension/chat/client';
import { makeProvenance, type Provenance } from '../../../engine/provenance/record';
import { provenanceDetail, provenanceSummary, provenanceView } from '../../../media/chat/provenance';

const record: Provenance = makeProvenance({
  leaves: [
    { path: 'knowledge/science/astronomy/qna.yaml', sha: 'b'.repeat(40) },
    { path: 'compositional_skills/haiku/qna.yaml', sha: `sha256:${'d'.repeat(64)}` },
  ],
  taxonomy: '/work/taxonomy',
  dataset: { path: '/work/.taxonomy-studio/runs/generate-20250102-0405/', sha256: 'c'.repeat(64) },
  teacher: 'http://127.0.0.1:9000/v1',
  baseModel: { path: '/models/granite-tiny', sha256: 'a'.repeat(64), hashed: 'config.json' },
  settings: { rank: 8, evalFraction: 0.2 },
  createdAt: '2025-01-02T04:05:06.000Z',
});

let server: Server;
let url: string;

before(async () => {
  // A test double of an OpenAI-compatible server: one valid record, one damaged, one model without the field.
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: [{ id: 'tuned', provenance: record }, { id: 'odd', provenance: { leaves: 'many' } }, { id: 'base' }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('client: /v1/models entries keep a valid provenance record and drop a damaged one', async () => {
  assert.deepEqual(await listModelEntries({ url }), [{ id: 'tuned', provenance: record }, { id: 'odd' }, { id: 'base' }]);
  assert.deepEqual(await listModels({ url }), ['tuned', 'odd', 'base']);
});

test('compact line: base model, leaves, dataset, teacher, created; missing fields left out', () => {
  assert.equal(provenanceSummary(record), 'base granite-tiny · 2 leaves · dataset generate-20250102-0405 · teacher http://127.0.0.1:9000/v1 · created 2025-01-02 04:05');
  const bare = makeProvenance({ leaves: [{ path: 'a/qna.yaml', sha: 'e'.repeat(40) }], createdAt: 'yesterday' });
  assert.equal(provenanceSummary(bare), '1 leaf · created yesterday');
  assert.equal(provenanceSummary({ ...bare, teacher: '/models/teacher.gguf' }), '1 leaf · teacher teacher.gguf · created yesterday');
});

test('the whole record: every leaf with its short hash, the dataset, teacher, base and settings', () => {
  const lines = provenanceDetail(record);
  assert.match(lines[0], /^tool {7}taxonomy-studio /);
  assert.ok(lines.includes(`  ${'b'.repeat(12)}        knowledge/science/astronomy/qna.yaml`), lines.join('\n'));
  assert.ok(lines.includes(`  sha256:${'d'.repeat(12)} compositional_skills/haiku/qna.yaml`), lines.join('\n'));
  assert.ok(lines.some((l) => l.startsWith('dataset    /work/.taxonomy-studio/runs/generate-20250102-0405/')));
  assert.ok(lines.includes('teacher    http://127.0.0.1:9000/v1'));
  assert.ok(lines.some((l) => /^base {7}\/models\/granite-tiny \(config\.json sha256 a{12}\)$/.test(l)));
  assert.ok(lines.includes('  evalFraction  0.2'), lines.join('\n'));
});

/** A test double of the few DOM element features the view uses; innerHTML throws. */
class FakeElement {
  className = '';
  readonly attributes = new Map<string, string>();
  readonly children: (FakeElement | string)[] = [];
  readonly listeners = new Map<string, () => void>();
  open = false;
  private text = '';
  constructor(readonly tagName: string) {}
  setAttribute(name: string, value: string) {
    this.attributes.set(name, value);
    if (name === 'open') this.open = true;
  }
  addEventListener(type: string, listener: () => void) {
    this.listeners.set(type, listener);
  }
  append(...nodes: (FakeElement | string)[]) {
    this.children.push(...nodes);
  }
  set textContent(value: string) {
    this.text = value;
  }
  get textContent(): string {
    return this.text + this.children.map((c) => (typeof c === 'string' ? c : c.textContent)).join('');
  }
  set innerHTML(_value: string) {
    throw new Error('the provenance view must not write HTML');
  }
  find(tag: string): FakeElement {
    for (const c of this.children) {
      if (typeof c === 'string') continue;
      if (c.tagName === tag) return c;
      try {
        return c.find(tag);
      } catch {
        // not under this child
      }
    }
    throw new Error(`no <${tag}> under <${this.tagName}>`);
  }
}

const fakeDocument = { createElement: (tag: string): FakeElement => new FakeElement(tag) };

test('view: a <details> whose <summary> is the compact line and whose body is the record; markup stays text', () => {
  const hostile = { ...record, teacher: '<img src=x onerror=alert(1)>', leaves: [{ path: '<script>alert(2)</script>/qna.yaml', sha: 'f'.repeat(40) }] };
  const toggles: boolean[] = [];
  const view = provenanceView(fakeDocument, hostile, { label: 'tuned · <b>Served</b>', open: false, onToggle: (o) => void toggles.push(o) });
  assert.equal(view.tagName, 'details');
  assert.equal(view.className, 'provenance');
  assert.equal(view.attributes.has('open'), false);
  const summary = view.find('summary');
  assert.equal(summary.textContent, `tuned · <b>Served</b>${provenanceSummary(hostile)}`);
  assert.match(summary.textContent, /teacher <img src=x onerror=alert\(1\)>/);
  const pre = view.find('pre');
  assert.equal(pre.textContent, provenanceDetail(hostile).join('\n'));
  assert.match(pre.textContent, /<script>alert\(2\)<\/script>\/qna\.yaml/);
  // Opening it (Enter or Space on the summary, or a click) reports the new state so a re-render keeps it open.
  view.open = true;
  view.listeners.get('toggle')!();
  assert.deepEqual(toggles, [true]);
  const reopened = provenanceView(fakeDocument, record, { label: 'tuned', open: true, onToggle: () => undefined });
  assert.equal(reopened.attributes.get('open'), '');
});
