// Provenance records: git blob hashes as git computes them, the sidecar, and the taxonomy_studio.provenance key in
// GGUF files, read back by an independent reader and harmless to llama.cpp.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gguf } from '@huggingface/gguf';
import { convertHfToGguf } from '../../../engine/gguf/convert';
import { openGguf } from '../../../engine/gguf/reader';
import {
  datasetHash,
  embedProvenance,
  gitBlobSha,
  leafHash,
  makeProvenance,
  PROVENANCE_KEY,
  readProvenance,
  recordProvenance,
  sidecarPath,
  writeAdapterProvenance,
  writeSidecar,
  type Provenance,
} from '../../../engine/provenance';
import { openLlamaModel } from '../../support/llama';
import { fixture, tempFolder } from '../gguf/convertFixtures';

const tmp = tempFolder('provenance-');
after(() => tmp.remove());

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

function sample(extra: Partial<Provenance> = {}): Provenance {
  return makeProvenance({
    leaves: [{ path: 'compositional_skills/haiku/qna.yaml', sha: 'a'.repeat(40) }],
    dataset: { path: '/runs/x/generate', sha256: 'b'.repeat(64) },
    teacher: 'http://127.0.0.1:8000/v1',
    baseModel: { path: '/models/student', sha256: 'c'.repeat(64), hashed: 'config.json' },
    settings: { rank: 8, epochs: 2, qlora: false },
    ...extra,
  });
}

describe('leaf hashes', () => {
  let repo: string;
  before(() => {
    repo = join(tmp.dir, 'repo');
    execFileSync('mkdir', ['-p', join(repo, 'skills', 'haiku')]);
    git(repo, 'init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'skills', 'haiku', 'qna.yaml'), 'version: 3\ntask_description: haiku ünïcode\n');
    git(repo, 'add', '.');
    git(repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'leaf');
  });

  test('the blob sha is what git hash-object computes', () => {
    const file = join(repo, 'skills', 'haiku', 'qna.yaml');
    assert.equal(gitBlobSha(readFileSync(file)), git(repo, 'hash-object', file));
    assert.equal(gitBlobSha(new Uint8Array()), git(repo, 'hash-object', '/dev/null'));
  });

  test('a tracked, unedited leaf is named by its blob sha; an edited or untracked one by sha256', async () => {
    const file = join(repo, 'skills', 'haiku', 'qna.yaml');
    const clean = await leafHash(file, 'skills/haiku/qna.yaml');
    assert.deepEqual(clean, { path: 'skills/haiku/qna.yaml', sha: git(repo, 'rev-parse', 'HEAD:skills/haiku/qna.yaml') });

    writeFileSync(file, 'version: 3\ntask_description: edited\n');
    const edited = await leafHash(file);
    assert.match(edited.sha, /^sha256:[0-9a-f]{64}$/);
    assert.equal(edited.sha, `sha256:${execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0]}`);
    git(repo, 'checkout', '--', 'skills/haiku/qna.yaml');

    const untracked = join(repo, 'skills', 'haiku', 'new.yaml');
    writeFileSync(untracked, 'x: 1\n');
    assert.match((await leafHash(untracked)).sha, /^sha256:/);
    const outside = join(tmp.dir, 'outside.yaml');
    writeFileSync(outside, 'x: 1\n');
    assert.equal((await leafHash(outside)).sha, (await leafHash(untracked)).sha);
  });

  test('a dataset folder is hashed over the mixed files its report lists', async () => {
    const dir = join(tmp.dir, 'generate');
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'knowledge.jsonl'), '{"a":1}\n');
    writeFileSync(join(dir, 'skills.jsonl'), '{"b":2}\n');
    writeFileSync(join(dir, 'empty.jsonl'), '');
    writeFileSync(join(dir, 'report.json'), JSON.stringify({ mixed: [{ file: 'skills.jsonl', lines: 1 }, { file: 'knowledge.jsonl', lines: 1 }, { file: 'empty.jsonl', lines: 0 }] }));
    const d = await datasetHash(dir);
    assert.deepEqual(d.files?.map((f) => f.path), [join(dir, 'knowledge.jsonl'), join(dir, 'skills.jsonl')]);
    // The folder's hash is sha256sum's listing of the files, hashed.
    const listing = execFileSync('sha256sum', ['knowledge.jsonl', 'skills.jsonl'], { cwd: dir, encoding: 'utf8' });
    assert.equal(d.sha256, execFileSync('sha256sum', { input: listing, encoding: 'utf8' }).split(' ')[0]);
  });
});

describe('sidecar', () => {
  test('round trip, and a damaged sidecar is an error naming the file', async () => {
    const model = join(tmp.dir, 'model.safetensors');
    writeFileSync(model, 'not really weights');
    assert.equal(await readProvenance(model), undefined);
    const prov = sample();
    const path = await writeSidecar(model, prov);
    assert.equal(path, `${model}.provenance.json`);
    assert.deepEqual(await readProvenance(model), { provenance: prov, source: path });
    assert.match(prov.tool, /^taxonomy-studio \d+\.\d+\.\d+/);

    // An adapter folder keeps its record as provenance.json inside it.
    const adapterDir = join(tmp.dir, 'adapter');
    mkdirSync(adapterDir);
    assert.equal(await readProvenance(adapterDir), undefined);
    const inFolder = await writeAdapterProvenance(adapterDir, prov);
    assert.equal(inFolder, join(adapterDir, 'provenance.json'));
    assert.deepEqual(await readProvenance(adapterDir), { provenance: prov, source: inFolder });

    writeFileSync(path, JSON.stringify({ ...prov, leaves: [{ path: 'x' }] }));
    await assert.rejects(readProvenance(model), (err: Error) => err.message.startsWith(`${path}: not a provenance record: leaves[0]`));
  });
});

describe('GGUF metadata', () => {
  let model: string;
  let plain: string;
  before(async () => {
    const dir = await fixture(tmp.dir, { size: 'tiny' });
    plain = join(tmp.dir, 'plain.gguf');
    await convertHfToGguf(dir, plain, 'f32', { threads: 1 });
    model = join(tmp.dir, 'with-provenance.gguf');
    copyFileSync(plain, model);
  });

  test('the key is added with everything else unchanged, and read back by @huggingface/gguf', async () => {
    const prov = sample();
    const { sidecar } = await recordProvenance(model, prov);
    assert.equal(sidecar, sidecarPath(model));
    assert.deepEqual(await readProvenance(model), { provenance: prov, source: 'gguf' });

    const theirs = await gguf(model, { allowLocalFile: true, typedMetadata: true });
    assert.deepEqual(JSON.parse(theirs.typedMetadata[PROVENANCE_KEY].value as string), prov);

    const [before, after] = [await openGguf(plain), await openGguf(model)];
    try {
      assert.deepEqual([...after.metadata.keys()], [...before.metadata.keys(), PROVENANCE_KEY]);
      for (const [key, value] of before.metadata) assert.deepEqual(after.metadata.get(key), value, key);
      assert.deepEqual(after.tensors.map((t) => [t.name, t.dims, t.type, t.offset]), before.tensors.map((t) => [t.name, t.dims, t.type, t.offset]));
      const data = (f: string, g: typeof before) => readFileSync(f).subarray(g.dataOffset);
      assert.ok(data(model, after).equals(data(plain, before)), 'tensor data differs');
    } finally {
      await before.close();
      await after.close();
    }

    // Embedding again replaces the record rather than adding a second key.
    const again = sample({ teacher: 'teacher.gguf' });
    await embedProvenance(model, again);
    assert.equal((await readProvenance(model))?.provenance.teacher, 'teacher.gguf');
  });

  test('llama.cpp loads the file and gives the same logits as without the key', async () => {
    const ids = [1, 5, 9, 13];
    const logits = async (path: string) => {
      const m = await openLlamaModel(path, { contextSize: 32, threads: 1 });
      try {
        return await m.nextTokenLogits(ids);
      } finally {
        await m.dispose();
      }
    };
    const [a, b] = [await logits(plain), await logits(model)];
    assert.equal(a.length, ids.length);
    for (let i = 0; i < a.length; i++) assert.deepEqual(b[i], a[i], `position ${i}`);
  });
});
