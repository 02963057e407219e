import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Dispatcher, type DispatcherSink, type Logic } from '../../src/engine/dispatcher.js';
import type { Batch, BatchResult, Inbound, Plan } from '../../src/engine/plan.js';

const rx = { transport: 'udp', socketId: 0, local: { addr: '127.0.0.1', port: 5060 }, remote: { addr: '127.0.0.1', port: 5070 } } as const;
const msg = (id: number): Inbound => ({ kind: 'request', id, bytes: new Uint8Array([id]), rx });
const drop = (i: number): Plan => ({ kind: 'drop', reason: `r${i}` });
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

function recorder(): DispatcherSink & { applied: [number, Plan][]; failures: number[][]; sizes: number[]; threads: string[] } {
  const applied: [number, Plan][] = [];
  const failures: number[][] = [];
  const sizes: number[] = [];
  const threads: string[] = [];
  return {
    applied, failures, sizes, threads,
    apply: (id, plan) => applied.push([id, plan]),
    events: () => {},
    failed: (ms) => failures.push(ms.map((m) => m.id)),
    batchDone: (n, _ms, thread) => {
      sizes.push(n);
      threads.push(thread);
    },
  };
}

const echo = (async: boolean, concurrency = 4): Logic & { batches: number[][] } => {
  const batches: number[][] = [];
  return {
    batches,
    concurrency,
    thread: async ? 'worker' : 'main',
    run(b: Batch): BatchResult | Promise<BatchResult> {
      batches.push(b.messages.map((m) => m.id));
      const r = { plans: b.messages.map((m) => drop(m.id)), events: [] };
      return async ? Promise.resolve(r) : r;
    },
    close: async () => {},
  };
};

/** A pool of `concurrency` workers whose batches finish only when the test calls the next of `releases`. */
const gated = (concurrency: number): Logic & { batches: number[][]; releases: (() => void)[] } => {
  const batches: number[][] = [];
  const releases: (() => void)[] = [];
  return {
    batches,
    releases,
    concurrency,
    thread: 'worker',
    run: (b) => {
      batches.push(b.messages.map((m) => m.id));
      return new Promise((r) => { releases.push(() => r({ plans: b.messages.map((m) => drop(m.id)), events: [] })); });
    },
    close: async () => {},
  };
};

test('messages of one event-loop turn go out as one batch, split at batchMax, plans applied in order', async () => {
  const logic = echo(true);
  const sink = recorder();
  const d = new Dispatcher(logic, { batchMax: 4, handoffMin: 1, maxInFlight: 100 }, sink);
  for (let i = 1; i <= 10; i++) d.enqueue(msg(i));
  assert.equal(logic.batches, [[1, 2, 3, 4], [5, 6, 7, 8]], 'full batches leave at once');
  await turn();
  assert.equal(logic.batches, [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]], 'the rest leaves at the end of the turn');
  await turn();
  assert.equal(sink.applied.map(([id]) => id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(sink.applied.map(([, p]) => (p.kind === 'drop' ? p.reason : '')), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => `r${i}`));
  assert.equal(sink.sizes, [4, 4, 2]);
  assert.is(d.inFlight, 0);
});

test('no more batches out than the logic takes at once: what arrives meanwhile leaves as one batch when one comes back', async () => {
  const logic = gated(2);
  const { batches, releases } = logic;
  const sink = recorder();
  const d = new Dispatcher(logic, { batchMax: 3, handoffMin: 1, maxInFlight: 100 }, sink);
  d.enqueue(msg(1));
  await turn();
  d.enqueue(msg(2));
  await turn();
  assert.equal(batches, [[1], [2]], 'one batch per turn while a worker is free');
  for (let i = 3; i <= 9; i++) d.enqueue(msg(i));
  await turn();
  assert.equal(batches, [[1], [2]], 'both workers busy: the messages wait');
  releases.shift()!();
  await turn();
  assert.equal(batches, [[1], [2], [3, 4, 5]], 'a freed worker takes what waited, up to batchMax');
  releases.shift()!();
  await turn();
  assert.equal(batches, [[1], [2], [3, 4, 5], [6, 7, 8]]);
  while (releases.length > 0) {
    releases.shift()!();
    await turn();
  }
  assert.equal(batches, [[1], [2], [3, 4, 5], [6, 7, 8], [9]]);
  assert.equal(sink.applied.map(([id]) => id), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.is(d.inFlight, 0);
});

test('a further worker is woken only for a batch worth it (handoffMin); an idle logic gets any batch', async () => {
  const logic = gated(2);
  const { batches, releases } = logic;
  const d = new Dispatcher(logic, { batchMax: 8, handoffMin: 2, maxInFlight: 100 }, recorder());
  d.enqueue(msg(1));
  await turn();
  d.enqueue(msg(2));
  await turn();
  assert.equal(batches, [[1]], 'one message does not wake the second worker');
  d.enqueue(msg(3));
  await turn();
  assert.equal(batches, [[1], [2, 3]], 'two do');
  releases.shift()!();
  releases.shift()!();
  await turn();
  d.enqueue(msg(4));
  await turn();
  assert.equal(batches, [[1], [2, 3], [4]], 'the idle logic takes a single message at once');
  releases.shift()!();
  await turn();
  assert.is(d.inFlight, 0);
});

test('inline (synchronous) logic applies plans within the flush', async () => {
  const sink = recorder();
  const d = new Dispatcher(echo(false), { batchMax: 64, handoffMin: 16, maxInFlight: 100 }, sink);
  d.enqueue(msg(1));
  d.enqueue(msg(2));
  assert.is(sink.applied.length, 0);
  await turn();
  assert.equal(sink.applied.map(([id]) => id), [1, 2]);
});

test('a batch that fails (rejection, throw, wrong plan count) reaches failed() with all its messages', async () => {
  for (const run of [
    () => Promise.reject(new Error('worker died')),
    () => { throw new Error('bug'); },
    () => ({ plans: [drop(0)], events: [] }),
  ]) {
    const sink = recorder();
    const d = new Dispatcher({ concurrency: 1, thread: 'worker', run, close: async () => {} } as Logic, { batchMax: 64, handoffMin: 16, maxInFlight: 100 }, sink);
    d.enqueue(msg(7));
    d.enqueue(msg(8));
    await turn();
    await turn();
    assert.equal(sink.failures, [[7, 8]]);
    assert.is(sink.applied.length, 0);
    assert.is(d.inFlight, 0);
  }
});

test('overloaded() while too many messages wait for the logic, and clears as plans come back', async () => {
  let release: (r: BatchResult) => void = () => {};
  const logic: Logic = { concurrency: 1, thread: 'worker', run: (b) => new Promise((r) => { release = () => r({ plans: b.messages.map((m) => drop(m.id)), events: [] }); }), close: async () => {} };
  const d = new Dispatcher(logic, { batchMax: 64, handoffMin: 16, maxInFlight: 3 }, recorder());
  d.enqueue(msg(1));
  d.enqueue(msg(2));
  assert.not.ok(d.overloaded());
  d.enqueue(msg(3));
  assert.ok(d.overloaded());
  await turn();
  release({ plans: [], events: [] });
  await turn();
  assert.not.ok(d.overloaded());
});

test('with an inline logic beside the pool: a batch too small for a hand-off is decided here while the pool has none out', async () => {
  const pool = gated(2);
  const { batches: pooled, releases } = pool;
  const inline = echo(false);
  const sink = recorder();
  const d = new Dispatcher(pool, { batchMax: 12, handoffMin: 3, maxInFlight: 100, inline }, sink);
  d.enqueue(msg(1));
  await turn();
  assert.equal([inline.batches, pooled], [[[1]], []], 'one message, nothing out: inline');
  assert.equal(sink.applied.map(([id]) => id), [1]);
  for (let i = 2; i <= 3; i++) d.enqueue(msg(i));
  await turn();
  assert.equal([inline.batches, pooled], [[[1], [2, 3]], []], 'below handoffMin: still inline');
  for (let i = 4; i <= 6; i++) d.enqueue(msg(i));
  await turn();
  assert.equal(pooled, [[4, 5, 6]], 'handoffMin: to the pool');
  d.enqueue(msg(7));
  await turn();
  assert.equal([inline.batches.length, pooled.length], [2, 1], 'while a batch is out a small one waits for it rather than overtake it');
  releases.shift()!();
  await turn();
  assert.equal(inline.batches.at(-1), [7], 'then it is decided here');
  assert.equal(sink.applied.map(([id]) => id), [1, 2, 3, 4, 5, 6, 7]);
  assert.equal([sink.sizes, sink.threads], [[1, 2, 3, 1], ['main', 'main', 'worker', 'main']], 'each batch reported with the thread that decided it');
  assert.is(d.inFlight, 0);
});

test('a worker whose batch comes back gets what waited before that batch\'s plans are applied; a small rest is decided here after them', async () => {
  const pool = gated(1);
  const { batches: pooled, releases } = pool;
  const inline = echo(false);
  const order: string[] = [];
  const sink = recorder();
  const apply = sink.apply;
  sink.apply = (id, plan, m) => {
    order.push(`apply ${id}`);
    apply(id, plan, m);
  };
  const run = pool.run.bind(pool);
  pool.run = (b) => {
    order.push(`out ${b.messages.map((m) => m.id).join(',')}`);
    return run(b);
  };
  const d = new Dispatcher(pool, { batchMax: 8, handoffMin: 2, maxInFlight: 100, inline }, sink);
  for (let i = 1; i <= 2; i++) d.enqueue(msg(i));
  await turn();
  for (let i = 3; i <= 5; i++) d.enqueue(msg(i));
  await turn();
  assert.equal(order, ['out 1,2'], 'the worker is busy: 3-5 wait');
  releases.shift()!();
  await turn();
  assert.equal(order, ['out 1,2', 'out 3,4,5', 'apply 1', 'apply 2'], 'the next batch leaves before the plans of the first are applied');
  d.enqueue(msg(6));
  await turn();
  releases.shift()!();
  await turn();
  assert.equal(order.slice(4), ['apply 3', 'apply 4', 'apply 5', 'apply 6'], 'one message is not worth a hand-off: decided here, after the plans before it');
  assert.equal(inline.batches, [[6]]);
  assert.is(d.inFlight, 0);
});

test.run();
