// SequencePool without a model: free items first, then a FIFO queue bounded by queueLimit, a full queue refused at
// once, a waiter whose client leaves removed from the queue, and close() failing every waiter.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { QueueFullError, SequencePool } from '../../../engine/serve/sequencePool';

describe('SequencePool', () => {
  test('hands out free items, then queues, then refuses', async () => {
    const pool = new SequencePool(['a', 'b'], 1);
    const a = await pool.acquire();
    const b = await pool.acquire();
    assert.deepEqual([a.item, b.item, pool.busy], ['a', 'b', 2]);
    const waiting = pool.acquire();
    assert.equal(pool.queued, 1);
    await assert.rejects(pool.acquire(), QueueFullError);
    b.release();
    b.release(); // twice is harmless
    const c = await waiting;
    assert.deepEqual([c.item, pool.busy, pool.queued], ['b', 2, 0]);
    a.release();
    c.release();
    assert.equal(pool.busy, 0);
  });

  test('a queue of 0 refuses as soon as every item is taken', async () => {
    const pool = new SequencePool(['only'], 0);
    const lease = await pool.acquire();
    await assert.rejects(pool.acquire(), QueueFullError);
    lease.release();
    assert.equal((await pool.acquire()).item, 'only');
  });

  test('waiters are served first come first served', async () => {
    const pool = new SequencePool([1], 5);
    const first = await pool.acquire();
    const order: string[] = [];
    const w1 = pool.acquire().then((l) => (order.push('w1'), l));
    const w2 = pool.acquire().then((l) => (order.push('w2'), l));
    first.release();
    (await w1).release();
    (await w2).release();
    assert.deepEqual(order, ['w1', 'w2']);
  });

  test('an aborted waiter leaves the queue and the item goes to the next', async () => {
    const pool = new SequencePool(['s'], 2);
    const held = await pool.acquire();
    const gone = new AbortController();
    const w1 = pool.acquire(gone.signal);
    const w2 = pool.acquire();
    gone.abort(new Error('client left'));
    await assert.rejects(w1, /client left/);
    assert.equal(pool.queued, 1);
    held.release();
    assert.equal((await w2).item, 's');
  });

  test('pick chooses among free items', async () => {
    const pool = new SequencePool(['x', 'y', 'z'], 0);
    const l = await pool.acquire(undefined, (free) => free.indexOf('z'));
    assert.equal(l.item, 'z');
  });

  test('close fails every waiter and refuses new requests', async () => {
    const pool = new SequencePool(['s'], 3);
    await pool.acquire();
    const w = pool.acquire();
    pool.close(new Error('shutting down'));
    await assert.rejects(w, /shutting down/);
    await assert.rejects(pool.acquire(), /closed/);
  });
});
