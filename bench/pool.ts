// What a round trip to a pool worker costs against what a decision costs: batches of 0, 1, 8 and
// 32 messages (an OPTIONS the P-CSCF answers itself) through PoolLogic with one worker, one batch
// at a time, and the same batches decided inline. Per batch: wall time, CPU of the whole process
// (all threads: both ends of the hand-off) and the time the worker reports deciding. The CPU over
// and above the deciding is what the hand-off costs; the dispatcher sizes batches after it.
//
//   npx tsx bench/pool.ts [--seconds 1.5]
//
// The machine is shared: compare the lines of one run, not runs.

import { loadConfig } from '../src/config/index.js';
import { InlineLogic, PoolLogic, type WorkerInit } from '../src/engine/logic.js';
import type { Batch, Inbound } from '../src/engine/plan.js';
import { PCSCF_METRICS } from '../src/pcscf/index.js';
import { ContactTable } from '../src/shared/contact-table.js';
import { SharedCounters } from '../src/shared/counters.js';
import { planSockets } from '../src/transport/sockets.js';

const i = process.argv.indexOf('--seconds');
const SECONDS = i >= 0 ? Number(process.argv[i + 1]) : 1.5;

const config = loadConfig({ argv: [], env: { PCSCF_SIP__NEXT_HOP: 'sip:192.0.2.20:5060', PCSCF_SIP__LISTEN: '[{transport: udp, address: 192.0.2.1, port: 5060}]' } });
const init: WorkerInit = {
  config, sockets: planSockets(config), contacts: ContactTable.create({ capacity: 16 }).buffer, counters: SharedCounters.create(PCSCF_METRICS).buffer,
};
const rx = { transport: 'udp', socketId: 0, local: { addr: '192.0.2.1', port: 5060 }, remote: { addr: '192.0.2.9', port: 5060 } } as const;
const bytes = new TextEncoder().encode('OPTIONS sip:192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKa\r\nMax-Forwards: 70\r\n' +
  'From: <sip:a@192.0.2.9>;tag=1\r\nTo: <sip:192.0.2.1>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n');
const batchOf = (n: number): Batch => ({ messages: Array.from({ length: n }, (_, k): Inbound => ({ kind: 'request', id: k + 1, bytes, rx })) });

const cpuUs = (c: NodeJS.CpuUsage): number => c.user + c.system;
const pool = await PoolLogic.start(init, 1);
const inline = new InlineLogic(init);
console.log(`bench/pool.ts: node ${process.version}, ${SECONDS} s per case, one worker, one batch at a time`);
for (const n of [0, 1, 8, 32]) {
  const batch = batchOf(n);
  for (let k = 0; k < 200; k++) await pool.run(batch);
  let rounds = 0;
  let busyMs = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    busyMs += (await pool.run(batch)).busyMs ?? 0;
    rounds++;
  }
  const poolCpu = cpuUs(process.cpuUsage(c0)) / rounds;
  const poolWall = ((performance.now() - t0) * 1000) / rounds;
  for (let k = 0; k < 200; k++) inline.run(batch);
  let inlineRounds = 0;
  const c1 = process.cpuUsage();
  const t1 = performance.now();
  while (performance.now() - t1 < SECONDS * 1000) {
    inline.run(batch);
    inlineRounds++;
  }
  const inlineCpu = cpuUs(process.cpuUsage(c1)) / inlineRounds;
  const busy = (busyMs * 1000) / rounds;
  console.log(`  batch of ${String(n).padStart(2)}: pool ${poolWall.toFixed(1)} us wall, ${poolCpu.toFixed(1)} us CPU, worker deciding ${busy.toFixed(1)} us; ` +
    `inline ${inlineCpu.toFixed(1)} us CPU; hand-off ${(poolCpu - busy).toFixed(1)} us CPU per batch`);
  console.log(`BENCH ${JSON.stringify({ name: 'pool_round_trip', batch: n, pool_cpu_us: Math.round(poolCpu), pool_wall_us: Math.round(poolWall), worker_busy_us: Math.round(busy), inline_cpu_us: Math.round(inlineCpu) })}`);
}
await pool.close();
