// JSONL files: atomic writes leave the old file or the new one, appends survive a writer killed mid-line.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countJsonlLines, JsonlAppender, JsonlError, readJsonl, repairTornTail, writeJsonlAtomic, writeTextAtomic } from '../../../engine/sdg/jsonl';

const dir = mkdtempSync(join(tmpdir(), 'sdg-jsonl-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function all<T>(file: string): Promise<T[]> {
  const out: T[] = [];
  for await (const l of readJsonl<T>(file)) out.push(l.value);
  return out;
}

describe('writeJsonlAtomic', () => {
  test('writes one JSON per line, from sync or async iterables, creating folders', async () => {
    const file = join(dir, 'a', 'b', 'out.jsonl');
    assert.equal(await writeJsonlAtomic(file, [{ x: 1 }, { y: 'é\n' }]), 2);
    assert.equal(readFileSync(file, 'utf8'), '{"x":1}\n{"y":"é\\n"}\n');
    async function* gen() {
      yield 1;
      yield [2];
    }
    assert.equal(await writeJsonlAtomic(file, gen()), 2);
    assert.equal(readFileSync(file, 'utf8'), '1\n[2]\n');
    assert.deepEqual(readdirSync(join(dir, 'a', 'b')), ['out.jsonl']);
  });

  test('a failure while writing leaves the previous file and no temporary file', async () => {
    const file = join(dir, 'keep.jsonl');
    writeFileSync(file, '{"old":true}\n');
    async function* failing() {
      yield { new: 1 };
      throw new Error('disk full');
    }
    await assert.rejects(writeJsonlAtomic(file, failing()), /disk full/);
    assert.equal(readFileSync(file, 'utf8'), '{"old":true}\n');
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.includes('keep')),
      ['keep.jsonl'],
    );
    await writeTextAtomic(join(dir, 'r.yaml'), 'a: 1\n');
    assert.equal(readFileSync(join(dir, 'r.yaml'), 'utf8'), 'a: 1\n');
  });
});

describe('appending and reading back', () => {
  test('a torn last line is not a line: readers skip it, the next appender cuts it', async () => {
    const file = join(dir, 'grow.jsonl');
    const a = new JsonlAppender(file);
    await a.append({ n: 1 });
    await a.append({ n: 2 });
    await a.close();
    await a.close();
    appendFileSync(file, '{"n": 3, "half');
    assert.deepEqual(await all(file), [{ n: 1 }, { n: 2 }]);
    assert.equal(await countJsonlLines(file), 2);
    // A torn line that happens to parse is still unfinished.
    writeFileSync(join(dir, 'torn2.jsonl'), '{"n":1}\n{"n":2}');
    assert.deepEqual(await all(join(dir, 'torn2.jsonl')), [{ n: 1 }]);

    const b = new JsonlAppender(file);
    await b.append({ n: 3 });
    await b.close();
    assert.equal(readFileSync(file, 'utf8'), '{"n":1}\n{"n":2}\n{"n":3}\n');
    assert.deepEqual(await all(file), [{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  test('repairTornTail: nothing to do, a torn tail, a file that is all torn, no file', async () => {
    const f = join(dir, 'repair.jsonl');
    writeFileSync(f, 'a\nb\n');
    assert.equal(await repairTornTail(f), 0);
    writeFileSync(f, 'a\nbc');
    assert.equal(await repairTornTail(f), 2);
    assert.equal(readFileSync(f, 'utf8'), 'a\n');
    writeFileSync(f, 'abc');
    assert.equal(await repairTornTail(f), 3);
    assert.equal(readFileSync(f, 'utf8'), '');
    assert.equal(await repairTornTail(join(dir, 'none.jsonl')), 0);
  });

  test('a line that is not JSON in the middle is an error with its line number; blank lines are skipped', async () => {
    const f = join(dir, 'bad.jsonl');
    writeFileSync(f, '{"a":1}\n\n{"b":\n{"c":3}\n');
    const got: unknown[] = [];
    await assert.rejects(
      (async () => {
        for await (const l of readJsonl(f)) got.push([l.line, l.value]);
      })(),
      (e) => e instanceof JsonlError && e.line === 3 && e.message.startsWith(`${f}:3: not JSON (`),
    );
    assert.deepEqual(got, [[1, { a: 1 }]]);
    writeFileSync(f, '{"a":1}\n\n{"c":3}\n');
    assert.deepEqual(
      (await (async () => {
        const out = [];
        for await (const l of readJsonl(f)) out.push(l.line);
        return out;
      })()),
      [1, 3],
    );
  });
});
