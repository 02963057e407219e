// Lock-free lookups under index churn: a binding whose keys never change must be found by every
// lookup, however its own record and the chains around it are rewritten at the same time.
//
// The table has two buckets per index, so every insert, delete and relink by the writer threads
// changes a chain the readers are walking (an entry unlinked under a reader, its slot reused and
// linked into the other bucket, is exactly the walk that goes astray and must be retried), and the
// rotator keeps moving the stable binding's SPIs between its current and previous SA sets (an SPI
// that an update keeps must never leave the index). Two readers count every miss.

import type { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ContactTable } from '../../src/shared/contact-table.js';
import { firstMessage, startTsWorker } from '../helpers/ts-worker.js';
import { typicalBinding } from './fixtures.js';
import { SET_A, SET_B, STABLE_N } from './index-race-worker.js';
import type { RaceInput, RaceReport } from './index-race-worker.js';

const MIN_OPS = 20_000;

test('a binding whose keys stay is never missed while chains and its own record change', async () => {
  const table = ContactTable.create({ capacity: 4, indexBuckets: 2 });
  const stable = table.insert(typicalBinding(STABLE_N, { sa: SET_A, previousSa: SET_B }));
  const roles: RaceInput['role'][] = ['reader', 'reader', 'rotator', 'churner', 'churner'];
  const workers: Worker[] = [];
  let reports: RaceReport[];
  try {
    for (const [seed, role] of roles.entries()) {
      const workerData: RaceInput = { role, table: table.buffer, stable, durationMs: 2000, minOps: MIN_OPS, seed };
      workers.push(startTsWorker(new URL('./index-race-worker.ts', import.meta.url), { workerData }));
    }
    reports = await Promise.all(workers.map((w) => firstMessage<RaceReport>(w)));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  console.log(reports.map((r) => `${r.role}: ${r.ops} ops`).join(', '));
  assert.equal(reports.flatMap((r) => r.misses), []);
  for (const r of reports) assert.ok(r.ops >= MIN_OPS, `${r.role} stopped after ${r.ops} operations`);
  assert.is(table.size, 1, 'the churner left nothing behind');
  assert.is(table.findBySpi(SET_A.spiPs), stable);
});

test.run();
