// The worker pool behind the dispatcher: started with the service's shared state, it takes every
// batch handed to it, however many wait.

import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../src/config/index.js';
import { PoolLogic, type WorkerInit } from '../../src/engine/logic.js';
import { PCSCF_METRICS } from '../../src/pcscf/index.js';
import { ContactTable } from '../../src/shared/contact-table.js';
import { SharedCounters } from '../../src/shared/counters.js';
import { planSockets } from '../../src/transport/sockets.js';

const initWith = (env: Record<string, string> = {}): WorkerInit => {
  const config = loadConfig({ argv: [], env: { PCSCF_SIP__NEXT_HOP: 'sip:192.0.2.20:5060', PCSCF_SIP__LISTEN: '[{transport: udp, address: 192.0.2.1, port: 5060}]', ...env } });
  return { config, sockets: planSockets(config), contacts: ContactTable.create({ capacity: 16 }).buffer, counters: SharedCounters.create(PCSCF_METRICS).buffer };
};
const init = initWith();

/** How many threads of this process run under SCHED_BATCH (policy 3, field 41 of /proc/<pid>/task/<tid>/stat). */
const batchThreads = (): number => readdirSync('/proc/self/task').filter((t) => {
  try {
    return readFileSync(`/proc/self/task/${t}/stat`, 'utf8').split(') ')[1]!.split(' ')[38] === '3';
  } catch {
    return false; // a thread that ended meanwhile
  }
}).length;

test('batches beyond the threads are queued, not refused (the dispatcher bounds the backlog)', async () => {
  const pool = await PoolLogic.start(init, 1);
  try {
    const results = await Promise.all(Array.from({ length: 20 }, () => pool.run({ messages: [] })));
    assert.is(results.length, 20);
    for (const r of results) assert.equal([r.plans, r.events], [[], []]);
  } finally {
    await pool.close();
  }
});

test('utilization: the time the workers report deciding, over the wall time since the previous reading', async () => {
  const pool = await PoolLogic.start(init, 1);
  try {
    pool.utilizationSinceLast();
    const rx = { transport: 'udp', socketId: 0, local: { addr: '192.0.2.1', port: 5060 }, remote: { addr: '192.0.2.9', port: 5060 } } as const;
    const bytes = new TextEncoder().encode('OPTIONS sip:x@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKa\r\nMax-Forwards: 70\r\n' +
      'From: <sip:a@192.0.2.9>;tag=1\r\nTo: <sip:x@192.0.2.1>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n');
    const batch = { messages: Array.from({ length: 50 }, (_, i) => ({ kind: 'request', id: i + 1, bytes, rx }) as const) };
    const results = [];
    for (let i = 0; i < 20; i++) results.push(await pool.run(batch));
    const busy = results.reduce((n, r) => n + (r.busyMs ?? 0), 0);
    assert.ok(busy > 0, 'the worker reports its deciding time');
    const u = pool.utilizationSinceLast();
    assert.ok(u > 0 && u <= 1, `utilization ${u} in (0, 1]`);
    assert.ok(pool.stats().utilization > 0);
    assert.is(pool.utilizationSinceLast(), 0, 'nothing decided since the previous reading');
  } finally {
    await pool.close();
  }
});

test('workers.scheduling: batch puts every pool worker under SCHED_BATCH, and only them; normal leaves them alone', async () => {
  assert.is(batchThreads(), 0);
  for (const [scheduling, expected] of [['batch', 2], ['normal', 0]] as const) {
    const pool = await PoolLogic.start(initWith({ PCSCF_WORKERS__SCHEDULING: scheduling }), 2);
    try {
      assert.is(batchThreads(), expected, scheduling);
    } finally {
      await pool.close();
    }
  }
});

test.run();
