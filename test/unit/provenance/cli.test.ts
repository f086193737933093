// The CLI side of provenance: export-adapter and convert embed a record (--provenance, or the input folder's
// provenance.json), and inspect shows it as text and as the "provenance" JSON field.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../../engine/cli/run';
import { writeFixtureAdapter } from '../../../engine/gguf/lora/fixtureAdapter';
import { makeProvenance, readProvenance, type Provenance } from '../../../engine/provenance';
import { fixture, tempFolder } from '../gguf/convertFixtures';

const tmp = tempFolder('provenance-cli-');
after(() => tmp.remove());

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: tmp.dir, env: { ...process.env, TERM: 'dumb' } });
  return { code, stdout, stderr };
}

const record: Provenance = makeProvenance({
  leaves: [
    { path: 'compositional_skills/writing/haiku/qna.yaml', sha: '0123456789abcdef0123456789abcdef01234567' },
    { path: 'knowledge/science/physics/qna.yaml', sha: `sha256:${'fe'.repeat(32)}` },
  ],
  dataset: { path: '/runs/r1/generate', sha256: 'ab'.repeat(32) },
  teacher: 'teacher.gguf',
  baseModel: { path: '/models/student', sha256: 'cd'.repeat(32), hashed: 'config.json' },
  settings: { rank: 4, epochs: 1, lr: 0.0002 },
});

describe('export-adapter, convert, inspect', () => {
  let base: string;
  let peft: string;
  before(async () => {
    base = await fixture(tmp.dir, { size: 'tiny' });
    peft = join(tmp.dir, 'peft');
    await writeFixtureAdapter(peft, base, { rank: 4 });
  });

  test('export-adapter embeds the adapter folder\'s provenance.json; inspect shows it', async () => {
    writeFileSync(join(peft, 'provenance.json'), JSON.stringify(record));
    const out = await cli(['export-adapter', peft, '--base', base, '--out', 'adapter.gguf']);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /provenance from peft\/provenance\.json \(2 leaves\) recorded in the file and adapter\.gguf\.provenance\.json/);
    assert.deepEqual(await readProvenance(join(tmp.dir, 'adapter.gguf')), { provenance: record, source: 'gguf' });
    assert.deepEqual(JSON.parse(readFileSync(join(tmp.dir, 'adapter.gguf.provenance.json'), 'utf8')), record);

    const text = await cli(['inspect', 'adapter.gguf']);
    assert.equal(text.code, 0, text.stderr);
    const section = text.stdout.slice(text.stdout.indexOf('Provenance (in the file):'));
    assert.ok(text.stdout.includes('Provenance (in the file):'), text.stdout);
    assert.match(section, /leaves {5}2\n {4}0123456789ab {8}compositional_skills\/writing\/haiku\/qna\.yaml\n {4}sha256:fefefefefefe knowledge\/science\/physics\/qna\.yaml/);
    assert.match(section, /dataset {4}\/runs\/r1\/generate \(sha256 abababababab\)/);
    assert.match(section, /teacher {4}teacher\.gguf/);
    assert.match(section, /base {7}\/models\/student \(config\.json sha256 cdcdcdcdcdcd\)/);
    assert.match(section, /settings\n {4}rank {4}4\n {4}epochs {2}1\n {4}lr {6}0\.0002/);

    const json = await cli(['inspect', 'adapter.gguf', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as { provenance: unknown; metadata: { key: string }[] };
    assert.deepEqual(parsed.provenance, { ...record, source: 'gguf' });
    assert.ok(parsed.metadata.some((m) => m.key === 'taxonomy_studio.provenance'));
  });

  test('convert embeds the record --provenance names; a file without one has no section', async () => {
    writeFileSync(join(tmp.dir, 'given.json'), JSON.stringify({ ...record, teacher: 'http://127.0.0.1:8000/v1' }));
    const out = await cli(['convert', base, '--out', 'model.gguf', '--type', 'f32', '--threads', '1', '--provenance', 'given.json']);
    assert.equal(out.code, 0, out.stderr);
    assert.equal((await readProvenance(join(tmp.dir, 'model.gguf')))?.provenance.teacher, 'http://127.0.0.1:8000/v1');

    const plain = await cli(['convert', base, '--out', 'plain.gguf', '--type', 'f32', '--threads', '1']);
    assert.equal(plain.code, 0, plain.stderr);
    const shown = await cli(['inspect', 'plain.gguf', '--json']);
    assert.equal((JSON.parse(shown.stdout) as { provenance?: unknown }).provenance, undefined);
    assert.doesNotMatch((await cli(['inspect', 'plain.gguf'])).stdout, /Provenance/);
  });

  test('a missing --provenance file is bad usage; a damaged one fails before anything is written', async () => {
    const missing = await cli(['convert', base, '--out', 'x.gguf', '--provenance', 'nope.json']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no such file: nope\.json \(--provenance\)/);

    writeFileSync(join(tmp.dir, 'bad.json'), '{"leaves": 3}');
    const bad = await cli(['export-adapter', peft, '--base', base, '--out', 'y.gguf', '--provenance', 'bad.json']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /bad\.json: not a provenance record: leaves: expected an array/);
    assert.ok(!existsSync(join(tmp.dir, 'y.gguf')), 'nothing is written with a damaged record');
  });
});
