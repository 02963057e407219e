// Multi-threaded stress test of the shared-memory state: 3 worker threads, 2 s each, of random
// allocate / release / insert / update / lookup / delete on one SPI pool, one contact table and one
// set of counters (see stress-worker.ts for what each thread checks as it goes). The structures
// are small on purpose so that every index bucket is shared, slots and arena units are reused all
// the time, and the pool and the table run full now and then.
//
// At the end, from the main thread: no pair handed out twice and none leaked, no binding lost or
// duplicated and each exactly as its owner last wrote it, no update of the shared "hot" bindings
// lost, counters equal to the sums of what the threads counted, and after cleanup nothing left.

import { isDeepStrictEqual } from 'node:util';
import type { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BindingId } from '../../src/shared/binding.js';
import { ContactTable } from '../../src/shared/contact-table.js';
import { SharedCounters } from '../../src/shared/counters.js';
import { SpiAllocator } from '../../src/shared/spi-allocator.js';
import { firstMessage, startTsWorker } from '../helpers/ts-worker.js';
import { hotBinding, versionOf } from './stress-bindings.js';
import { BIG_ADD, STRESS_OPS } from './stress-protocol.js';
import type { StressInput, StressReport } from './stress-protocol.js';

const THREADS = Number(process.env.STRESS_THREADS ?? 3);
const DURATION_MS = 2000;
const HOT = 4;

test('threads hammering the shared state keep every invariant', async () => {
  const spi = SpiAllocator.create({ spiStart: 0x10000, spiRange: 2 * 80 });
  const table = ContactTable.create({ capacity: 48, arenaBytes: 48 * 400, indexBuckets: 4 });
  const counters = SharedCounters.create([
    { name: 'stress_ops_total', help: 'operations done by the stress threads', kind: 'counter', labels: { op: [...STRESS_OPS] } },
    { name: 'stress_big_total', help: 'large additions', kind: 'counter' },
  ]);
  const owners = new SharedArrayBuffer(spi.capacity * 4);
  const hotIds = Array.from({ length: HOT }, (_, i) => table.insert(hotBinding(i, 0)));
  const seed = Number(process.env.STRESS_SEED ?? Date.now() % 1_000_000);

  const workers: Worker[] = [];
  let reports: StressReport[];
  try {
    for (let tid = 0; tid < THREADS; tid++) {
      const workerData: StressInput = {
        tid, seed: seed * 31 + tid, durationMs: DURATION_MS, threads: THREADS, spi: spi.buffer, table: table.buffer,
        counters: counters.buffer, owners, hotIds, maxBindings: 20, maxHeldPairs: 8,
      };
      workers.push(startTsWorker(new URL('./stress-worker.ts', import.meta.url), { workerData }));
    }
    reports = await Promise.all(workers.map((w) => firstMessage<StressReport>(w)));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  const context = `(seed ${seed}; rerun with STRESS_SEED=${seed})`;
  for (const r of reports) {
    console.log(`thread ${r.tid}: ${Math.round(r.elapsedMs)} ms, ${JSON.stringify(r.ops)}`);
  }

  // Checks made by the threads while they ran.
  assert.equal(reports.flatMap((r) => r.violations), [], context);
  for (const r of reports) {
    assert.ok(r.elapsedMs >= 1000, `thread ${r.tid} ran ${r.elapsedMs} ms`);
    for (const op of ['allocate', 'release', 'insert', 'update', 'delete', 'own_lookup', 'other_lookup', 'hot_update', 'hot_read'] as const) {
      assert.ok(r.ops[op] >= 5, `thread ${r.tid} did only ${r.ops[op]} ${op} operations ${context}`);
    }
  }

  // SPI pairs: exactly the pairs the threads hold are taken, each by one thread.
  const owner = new Int32Array(owners);
  const holder = new Map<number, number>();
  for (const r of reports) {
    const pairs = [...r.heldPairs, ...r.bindings.flatMap((b) => [b.binding.sa?.spiPc, b.binding.previousSa?.spiPc])];
    for (const p of pairs) {
      if (p === undefined) continue;
      assert.not.ok(holder.has(p), `pair ${p} held by threads ${holder.get(p)} and ${r.tid} ${context}`);
      holder.set(p, r.tid);
    }
  }
  assert.is(spi.inUse, holder.size, `pool counts ${spi.inUse} pairs in use, threads hold ${holder.size} ${context}`);
  for (let k = 0; k < spi.capacity; k++) {
    const spiPc = spi.spiStart + 2 * k;
    assert.is(spi.isAllocated(spiPc), holder.has(spiPc), `pair ${spiPc} ${context}`);
    assert.is(owner[k], holder.has(spiPc) ? holder.get(spiPc)! + 1 : 0, `owner of pair ${spiPc} ${context}`);
  }

  // Bindings: every surviving binding exactly once, as its owner last wrote it, found by every index.
  const expected = new Map<BindingId, unknown>();
  for (const r of reports) for (const b of r.bindings) expected.set(b.id, b.binding);
  const hotVersions = hotIds.map((_, i) => reports.reduce((n, r) => n + r.hotIncrements[i]!, 0));
  hotIds.forEach((id, i) => expected.set(id, hotBinding(i, hotVersions[i]!)));
  assert.is(table.size, expected.size, context);
  const listed = [...table.entries()];
  assert.is(listed.length, expected.size, `entries() ${context}`);
  for (const [id, b] of listed) {
    assert.ok(expected.has(id), `entries() lists ${id}, which no thread holds ${context}`);
    assert.ok(isDeepStrictEqual(b, expected.get(id)), `binding ${id} is at version ${versionOf(b)} ${context}`);
  }
  for (const r of reports) {
    for (const { id, binding: b } of r.bindings) {
      assert.is(table.findBySpi(b.sa!.spiPc), id);
      assert.is(table.findByReceived(b.receivedAddr, b.receivedPort, b.transport), id);
      assert.is(table.findByContact(b.contactHost, b.contactPort), id);
      assert.equal(table.findByAor(b.aor), [id]);
    }
  }
  hotIds.forEach((id, i) => assert.is(versionOf(table.get(id)!), hotVersions[i], `hot binding ${i}: updates lost ${context}`));

  // Counters: exact sums, past 2^32.
  for (const op of STRESS_OPS) {
    const sum = reports.reduce((n, r) => n + r.ops[op], 0);
    assert.is(counters.read(counters.cell('stress_ops_total', { op })), sum, `counter ${op} ${context}`);
  }
  assert.is(counters.read(counters.cell('stress_big_total')), reports.reduce((n, r) => n + r.bigAdds, 0) * BIG_ADD);

  // Cleanup gives everything back: nothing leaked in the pool, the slots or the arena.
  for (const id of expected.keys()) assert.ok(table.delete(id));
  for (const p of holder.keys()) spi.release(p);
  assert.is(table.size, 0);
  assert.is(table.arenaUsage.usedBytes, 0, 'arena units leaked');
  assert.is(spi.inUse, 0);
  assert.is([...table.entries()].length, 0);
});

test.run();
