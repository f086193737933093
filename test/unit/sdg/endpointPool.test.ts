// The endpoint pool's bookkeeping (down periods, probing, cool-downs) and the semaphore, on a virtual clock.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EndpointPool } from '../../../engine/sdg/teachers/endpointPool';
import { Semaphore } from '../../../engine/sdg/teachers/semaphore';
import { VirtualClock } from './virtualClock';

function pool(limits: number[], policy: 'least-busy' | 'round-robin' = 'least-busy') {
  const clock = new VirtualClock();
  const p = new EndpointPool(
    limits.map((limit, i) => ({ url: `http://e${i}/v1`, limit })),
    clock,
    { policy, downBaseMs: 1000, downMaxMs: 5000 },
  );
  return { p, clock };
}

describe('EndpointPool', () => {
  test('down periods double per consecutive failure up to the ceiling; concurrent failures count once', () => {
    const { p, clock } = pool([4]);
    const e = p.endpoints[0];
    assert.equal(p.markDown(e, 'refused'), 1000);
    assert.equal(p.markDown(e, 'refused'), 0, 'a second request failing in the same outage does not extend it');
    assert.equal(e.failures, 1);
    clock.time += 1000;
    assert.equal(p.markDown(e, 'refused'), 2000);
    clock.time += 2000;
    assert.equal(p.markDown(e, 'refused'), 4000);
    clock.time += 4000;
    assert.equal(p.markDown(e, 'refused'), 5000);
    assert.equal(p.succeeded(e), true);
    assert.equal(e.failures, 0);
    assert.equal(e.problem, undefined);
    assert.equal(p.succeeded(e), false);
  });

  test('a down endpoint whose time is up gets one probing request; the rest go elsewhere', async () => {
    const { p, clock } = pool([4, 4]);
    const [a, b] = p.endpoints;
    p.markDown(a, 'refused');
    assert.equal((await p.acquire()).index, 1, 'a is down');
    assert.equal((await p.acquire()).index, 1, 'a is down');
    clock.time += 1000;
    const first = await p.acquire();
    assert.equal(first.index, 0, 'least busy: the probe goes to a');
    const second = await p.acquire();
    assert.equal(second.index, 1, 'a is being probed: no second request, though b is busier');
    p.succeeded(a);
    p.release(first);
    const third = await p.acquire();
    assert.equal(third.index, 0, 'a is up again');
    assert.equal(b.inFlight, 3);
  });

  test('waits for a release when every endpoint is full, in the order of asking', async () => {
    const { p } = pool([1]);
    const held = await p.acquire();
    const order: number[] = [];
    const w1 = p.acquire().then((e) => (order.push(1), e));
    const w2 = p.acquire().then((e) => (order.push(2), e));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, []);
    p.release(held);
    const e1 = await w1;
    assert.deepEqual(order, [1]);
    p.release(e1);
    await w2;
    assert.deepEqual(order, [1, 2]);
  });

  test('when all are down, waits until the first comes back (virtual time)', async () => {
    const { p, clock } = pool([2, 2]);
    p.markDown(p.endpoints[0], 'x');
    clock.time += 0;
    p.coolDown(p.endpoints[1], 300);
    const start = clock.now();
    const e = await p.acquire();
    assert.equal(e.index, 1);
    assert.equal(clock.now() - start, 300);
  });

  test('an aborted wait rejects with the reason and leaves no waiter behind', async () => {
    const { p } = pool([1]);
    const held = await p.acquire();
    const ac = new AbortController();
    const waiting = p.acquire(ac.signal);
    const reason = new Error('stop');
    ac.abort(reason);
    await assert.rejects(waiting, (e) => e === reason);
    p.release(held);
    assert.equal((await p.acquire()).index, 0);
  });

  test('refuses an empty endpoint list and a bad limit', () => {
    const clock = new VirtualClock();
    assert.throws(() => new EndpointPool([], clock), /at least one endpoint URL/);
    assert.throws(() => new EndpointPool([{ url: 'http://x/v1', limit: 0 }], clock), /concurrency for http:\/\/x\/v1 must be a whole number of 1 or more, got 0/);
  });
});

describe('Semaphore', () => {
  test('at most `limit` holders, FIFO, a double release frees one slot', async () => {
    const s = new Semaphore(2);
    const r1 = await s.acquire();
    const r2 = await s.acquire();
    const got: string[] = [];
    const a = s.acquire().then((r) => (got.push('a'), r));
    const b = s.acquire().then((r) => (got.push('b'), r));
    assert.equal(s.inUse, 2);
    assert.equal(s.waiting, 2);
    r1();
    r1();
    const ra = await a;
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(got, ['a']);
    assert.equal(s.inUse, 2);
    r2();
    await b;
    assert.deepEqual(got, ['a', 'b']);
    ra();
    assert.equal(s.inUse, 1);
  });

  test('use() releases on failure; an aborted wait leaves the queue', async () => {
    const s = new Semaphore(1);
    await assert.rejects(s.use(async () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(s.inUse, 0);
    const release = await s.acquire();
    const ac = new AbortController();
    const p = s.acquire(ac.signal);
    ac.abort(new Error('cancelled'));
    await assert.rejects(p, /cancelled/);
    assert.equal(s.waiting, 0);
    release();
    assert.equal(s.inUse, 0);
    assert.throws(() => new Semaphore(0), /limit of 1 or more, got 0/);
  });
});
