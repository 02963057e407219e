// The worker pool behind the dispatcher: started with the service's shared state, it takes every
// batch handed to it, however many wait.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../src/config/index.js';
import { PoolLogic, type WorkerInit } from '../../src/engine/logic.js';
import { PCSCF_METRICS } from '../../src/pcscf/index.js';
import { ContactTable } from '../../src/shared/contact-table.js';
import { SharedCounters } from '../../src/shared/counters.js';
import { planSockets } from '../../src/transport/sockets.js';

const config = loadConfig({ argv: [], env: { PCSCF_SIP__NEXT_HOP: 'sip:192.0.2.20:5060', PCSCF_SIP__LISTEN: '[{transport: udp, address: 192.0.2.1, port: 5060}]' } });
const init: WorkerInit = {
  config, sockets: planSockets(config), contacts: ContactTable.create({ capacity: 16 }).buffer, counters: SharedCounters.create(PCSCF_METRICS).buffer,
};

test('batches beyond the threads are queued, not refused (the dispatcher bounds the backlog)', async () => {
  const pool = await PoolLogic.start(init, 1);
  try {
    const results = await Promise.all(Array.from({ length: 20 }, () => pool.run({ messages: [] })));
    assert.is(results.length, 20);
    for (const r of results) assert.equal(r, { plans: [], events: [] });
  } finally {
    await pool.close();
  }
});

test.run();
