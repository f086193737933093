// GET /v1/models carries each served id's provenance record: the base model's from its GGUF metadata key, an
// adapter's from its sidecar, and nothing for a file that has none. Read with the official `openai` client (which
// passes unknown fields through) and with fetch for /v1/models/<id>.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { convertHfToGguf } from '../../../engine/gguf/convert/index';
import { exportLoraAdapter } from '../../../engine/gguf/lora/export';
import { writeFixtureAdapter } from '../../../engine/gguf/lora/fixtureAdapter';
import { writeFixtureModel } from '../../../engine/hf/fixtureModel';
import { embedProvenance, makeProvenance, writeSidecar, type Provenance } from '../../../engine/provenance/index';
import { startServer, type RunningServer } from '../../../engine/serve/server';

const tmp = mkdtempSync(join(tmpdir(), 'serve-prov-'));
const hfDir = join(tmp, 'hf');
const modelPath = join(tmp, 'base.gguf');
const tunedPath = join(tmp, 'tuned.gguf');
const plainPath = join(tmp, 'plain.gguf');
const damagedPath = join(tmp, 'damaged.gguf');
let server: RunningServer;
const logged: string[] = [];

const baseRecord: Provenance = makeProvenance({ leaves: [], baseModel: { path: hfDir, sha256: 'a'.repeat(64), hashed: 'config.json' }, settings: { baseType: 'f16' }, createdAt: '2025-01-02T03:04:05.000Z' });
const tunedRecord: Provenance = makeProvenance({
  leaves: [{ path: 'knowledge/science/astronomy/qna.yaml', sha: 'b'.repeat(40) }],
  taxonomy: '/work/taxonomy',
  dataset: { path: '/work/runs/generate-1', sha256: 'c'.repeat(64) },
  teacher: 'http://127.0.0.1:9000/v1',
  baseModel: { path: hfDir, sha256: 'a'.repeat(64), hashed: 'config.json' },
  settings: { rank: 8, evalFraction: 0.2, seed: 42 },
  createdAt: '2025-01-02T04:05:06.000Z',
});

before(async () => {
  await writeFixtureModel(hfDir, { size: 'tiny', seed: 7 });
  await convertHfToGguf(hfDir, modelPath, 'f16', { threads: 1 });
  await embedProvenance(modelPath, baseRecord);
  await writeFixtureAdapter(join(tmp, 'peft'), hfDir, { seed: 5 });
  await exportLoraAdapter({ peftDir: join(tmp, 'peft'), baseDir: hfDir, out: tunedPath });
  copyFileSync(tunedPath, plainPath);
  copyFileSync(tunedPath, damagedPath);
  await writeSidecar(tunedPath, tunedRecord);
  writeFileSync(`${damagedPath}.provenance.json`, '{"leaves": "not a list"}');
  server = await startServer({
    modelPath,
    adapters: [
      { id: 'tuned', path: tunedPath },
      { id: 'plain', path: plainPath },
      { id: 'damaged', path: damagedPath },
    ],
    port: 0,
    parallel: 1,
    threads: 1,
    contextSize: 64,
    gpu: 'off',
    log: (line) => logged.push(line),
  });
});

after(async () => {
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

test('/v1/models: the base GGUF metadata record, the adapter sidecar record, none for files without one', async () => {
  const client = new OpenAI({ baseURL: server.url, apiKey: 'x', maxRetries: 0 });
  const byId = new Map<string, Record<string, unknown>>();
  for await (const m of client.models.list()) byId.set(m.id, m as unknown as Record<string, unknown>);
  assert.deepEqual([...byId.keys()], ['base', 'tuned', 'plain', 'damaged']);
  assert.deepEqual(byId.get('base')!.provenance, baseRecord);
  assert.deepEqual(byId.get('tuned')!.provenance, tunedRecord);
  assert.equal('provenance' in byId.get('plain')!, false);
  assert.equal('provenance' in byId.get('damaged')!, false);
  // The damaged record is named in the server's log, not silently dropped.
  assert.ok(logged.some((l) => l.startsWith('damaged: provenance not shown:') && l.includes('leaves: expected an array')), logged.join('\n'));
});

test('/v1/models/<id> carries the same record; a model without one has no field', async () => {
  const tuned = (await (await fetch(`${server.url}/models/tuned`)).json()) as Record<string, unknown>;
  assert.equal(tuned.id, 'tuned');
  assert.deepEqual(tuned.provenance, tunedRecord);
  const plain = (await (await fetch(`${server.url}/models/plain`)).json()) as Record<string, unknown>;
  assert.equal(plain.id, 'plain');
  assert.equal(plain.provenance, undefined);
});
