// The index chains' write lock under contention: three threads link and unlink their own entries
// in one shared bucket as fast as they can (a link or unlink is a few plain stores under the
// bucket's seqlock, so without mutual exclusion two of them interleave and an entry is lost or a
// chain is cut). Each thread checks its entries with validated walks; at the end the chain must
// hold exactly the entries the threads left linked.

import type { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ChainIndex } from '../../src/shared/chain-index.js';
import { NEXT_ADDR, RECORD_WORDS } from '../../src/shared/contact-record.js';
import { firstMessage, startTsWorker } from '../helpers/ts-worker.js';
import type { ChainRaceInput, ChainRaceReport } from './chain-race-worker.js';

const MIN_OPS = 100_000;

test('concurrent links and unlinks in one bucket never lose or cut a chain', async () => {
  const threads = 3;
  const perThread = 64;
  const capacity = threads * perThread;
  const buckets = new SharedArrayBuffer(8);
  const records = new SharedArrayBuffer(capacity * RECORD_WORDS * 4);
  const workers: Worker[] = [];
  let reports: ChainRaceReport[];
  try {
    for (let t = 0; t < threads; t++) {
      const workerData: ChainRaceInput = { buckets, records, capacity, first: t * perThread, count: perThread, durationMs: 1500, minOps: MIN_OPS };
      workers.push(startTsWorker(new URL('./chain-race-worker.ts', import.meta.url), { workerData }));
    }
    reports = await Promise.all(workers.map((w) => firstMessage<ChainRaceReport>(w)));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  console.log(reports.map((r) => `${r.ops} ops`).join(', '));
  assert.equal(reports.flatMap((r) => r.errors), []);
  for (const r of reports) assert.ok(r.ops >= MIN_OPS, `a thread stopped after ${r.ops} operations`);
  const index = new ChainIndex(new Int32Array(buckets), 1, new Int32Array(records), 1, NEXT_ADDR, capacity);
  const inChain: number[] = [];
  for (let ref = index.head(0); ref !== 0 && inChain.length <= capacity; ref = index.next(ref)) inChain.push(index.slotOf(ref));
  assert.equal(inChain.sort((a, b) => a - b), reports.flatMap((r) => r.linked).sort((a, b) => a - b));
});

test.run();
