// Benchmark of the shared-memory state (src/shared/): SPI-pair allocate+release on one and two
// threads, contact-table insert / lookup / update / delete, bytes per binding with typical IMS
// strings, and counter increments. Each figure is printed for people and as a line
// `BENCH {"name":…,"value":…,"unit":…}` for machines; the bars of issue 4 are checked at the end.
//
//   npx tsx bench/shared.ts [--quick]
//
// The SPI figure is compared in the same run with a Kamailio-style FIFO free list (kamailio-
// behaviour.md §9: pop the head, push released pairs at the tail) kept in a plain, unshared
// Int32Array: what a single thread pays without sharing anything.

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { BindingId } from '../src/shared/binding.js';
import { BindingPeek, ContactTable } from '../src/shared/contact-table.js';
import { SharedCounters } from '../src/shared/counters.js';
import { SpiAllocator } from '../src/shared/spi-allocator.js';
import { firstMessage, startTsWorker } from '../test/helpers/ts-worker.js';
import { typicalBinding } from '../test/shared/fixtures.js';

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 0.3 : 1;
const BINDINGS = quick ? 20_000 : 100_000;
const POOL_PAIRS = 2 ** 20;

interface WorkerJob {
  kind: 'spi';
  buffer: SharedArrayBuffer;
  seconds: number;
}

/** Allocate+release cycles per second on `pool`, for `seconds`. */
function spiCycles(pool: SpiAllocator, seconds: number): number {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 1024; i++) {
      const p = pool.allocate();
      if (p !== undefined) pool.release(p.spiPc);
    }
    n += 1024;
  }
  return n / seconds;
}

if (!isMainThread) {
  const job = workerData as WorkerJob;
  parentPort!.postMessage(spiCycles(SpiAllocator.attach(job.buffer), job.seconds));
} else {
  await main();
}

function report(name: string, value: number, unit: string, label: string): number {
  const shown = value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
  console.log(`${label.padEnd(58)} ${shown.padStart(14)} ${unit}`);
  console.log(`BENCH ${JSON.stringify({ name, value: Math.round(value * 100) / 100, unit })}`);
  return value;
}

/** A pool half full, in a scattered pattern, as after a while of registrations coming and going. */
function halfFullPool(): SpiAllocator {
  const pool = SpiAllocator.create({ spiStart: 0x10000, spiRange: 2 * POOL_PAIRS });
  const held: number[] = [];
  for (let i = 0; i < POOL_PAIRS; i++) held.push(pool.allocate()!.spiPc);
  for (let i = 0; i < POOL_PAIRS; i += 2) pool.release(held[i]!);
  return pool;
}

function kamailioFifoCycles(seconds: number): number {
  // Ring buffer of free pair starts, half of them free, as above.
  const ring = new Int32Array(POOL_PAIRS);
  let head = 0;
  let tail = 0;
  let free = 0;
  for (let i = 0; i < POOL_PAIRS; i += 2) {
    ring[tail] = 0x10000 + 2 * i;
    tail = (tail + 1) % POOL_PAIRS;
    free++;
  }
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 1024; i++) {
      if (free === 0) continue;
      const spiPc = ring[head]!;
      head = (head + 1) % POOL_PAIRS;
      ring[tail] = spiPc;
      tail = (tail + 1) % POOL_PAIRS;
    }
    n += 1024;
  }
  return n / seconds;
}

function timed(count: number, fn: (i: number) => void): number {
  const start = performance.now();
  for (let i = 0; i < count; i++) fn(i);
  return count / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  console.log(`bench/shared.ts: node ${process.version}, ${quick ? 'quick run' : 'full run'}; figures are noisy on a shared machine, compare ratios within one run`);

  // ---- SPI pairs ----
  const pool = halfFullPool();
  spiCycles(pool, 0.2); // warm-up
  const one = report('spi_alloc_release_1t', spiCycles(pool, SECONDS), 'pairs/s', 'SPI allocate+release, 1 thread (2^20 pairs, half in use)');
  const fifo = report('spi_kamailio_fifo_1t', kamailioFifoCycles(SECONDS), 'pairs/s', 'Kamailio-style FIFO list, unshared, 1 thread (baseline)');
  const jobs = [0, 1].map(() => startTsWorker(new URL(import.meta.url), { workerData: { kind: 'spi', buffer: pool.buffer, seconds: SECONDS } satisfies WorkerJob }));
  const perThread = await Promise.all(jobs.map((w) => firstMessage<number>(w)));
  await Promise.all(jobs.map((w) => w.terminate()));
  const two = report('spi_alloc_release_2t', perThread[0]! + perThread[1]!, 'pairs/s', 'SPI allocate+release, 2 threads, same pool (sum)');
  report('spi_2t_over_1t', two / one, 'ratio', '  2 threads / 1 thread');
  report('spi_shared_over_fifo', one / fifo, 'ratio', '  shared bitmap / unshared FIFO, 1 thread');

  // ---- contact table ----
  const table = ContactTable.create({ capacity: BINDINGS });
  const bindings = Array.from({ length: BINDINGS }, (_, i) => typicalBinding(i));
  const ids: BindingId[] = new Array(BINDINGS);
  const insert = report('contact_insert', timed(BINDINGS, (i) => { ids[i] = table.insert(bindings[i]!); }), 'ops/s', `contact insert (${BINDINGS.toLocaleString('en-US')} typical bindings)`);

  const arenaPerBinding = table.arenaUsage.usedBytes / BINDINGS;
  const arenaReserved = table.arenaUsage.capacityBytes;
  const fixedPerBinding = (table.buffer.byteLength - arenaReserved) / BINDINGS;
  const perBinding = report('bytes_per_binding', fixedPerBinding + arenaPerBinding, 'bytes', 'bytes per binding (record + indexes + its strings)');
  report('bytes_per_binding_fixed', fixedPerBinding, 'bytes', '  record, index buckets, bitmaps');
  report('bytes_per_binding_strings', arenaPerBinding, 'bytes', '  strings in the arena (typical IMS binding)');
  report('bytes_per_binding_reserved', table.buffer.byteLength / BINDINGS, 'bytes', '  whole buffer / capacity, default arena sizing');

  const lookups = quick ? 500_000 : 2_000_000;
  const pick = (i: number): number => (Math.imul(i, 2654435761) >>> 0) % BINDINGS;
  const addrs = bindings.map((b) => b.receivedAddr);
  const spis = bindings.map((b) => b.sa!.spiPc);
  const aors = bindings.map((b) => b.aor);
  const out: BindingId[] = [];
  let misses = 0;
  const check = (id: BindingId | undefined, i: number): void => {
    if (id !== ids[pick(i)]) misses++;
  };
  const lookupRates: number[] = [];
  for (let round = 0; round < 2; round++) { // the first round warms the JIT up
    const last = round === 1;
    const r = (name: string, label: string, fn: (i: number) => void): void => {
      const rate = timed(lookups, fn);
      if (last) lookupRates.push(report(name, rate, 'ops/s', label));
    };
    r('lookup_received', 'lookup by received address/port (SEARCH_RECEIVED)', (i) => check(table.findByReceived(addrs[pick(i)]!, 31800, 'udp'), i));
    r('lookup_spi', 'lookup by P-CSCF SPI', (i) => check(table.findBySpi(spis[pick(i)]!), i));
    r('lookup_contact', 'lookup by Contact host/port (SEARCH_NORMAL)', (i) => check(table.findByContact(addrs[pick(i)]!, 5060), i));
    r('lookup_aor', 'lookup by AOR (all its bindings, into a reused array)', (i) => {
      out.length = 0;
      check(table.findByAor(aors[pick(i)]!, out)[0], i);
    });
    const peek = new BindingPeek();
    r('peek', 'peek (numbers of a binding, no strings)', (i) => {
      if (!table.peek(ids[pick(i)]!, peek)) misses++;
    });
  }
  const gets = quick ? 100_000 : 400_000;
  report('get', timed(gets, (i) => { if (table.get(ids[pick(i)]!) === undefined) misses++; }), 'ops/s', 'get (whole binding, strings decoded)');
  report('contact_update_expiry', timed(gets, (i) => { table.update(ids[pick(i)]!, { expiresAt: i }); }), 'ops/s', 'update: patch expiresAt (no string changes)');
  report('contact_update_reregister', timed(gets / 4, (i) => {
    table.update(ids[pick(i)]!, (b) => ({ ...b, previousSa: b.sa, sa: { ...b.sa!, spiPc: 0x4000_0000 + 2 * i, spiPs: 0x4000_0001 + 2 * i } }));
  }), 'ops/s', 'update: re-registration (new SA set, old one kept)');
  const del = report('contact_delete', timed(BINDINGS, (i) => { if (!table.delete(ids[i]!)) misses++; }), 'ops/s', 'contact delete');
  if (misses !== 0) throw new Error(`benchmark lookups went wrong: ${misses} misses`);

  // ---- counters ----
  const counters = SharedCounters.create([{ name: 'bench_total', help: 'benchmark', kind: 'counter', labels: { k: ['a', 'b'] } }]);
  const cell = counters.cell('bench_total', { k: 'b' });
  timed(1_000_000, () => counters.inc(cell));
  report('counter_inc', timed(quick ? 2_000_000 : 10_000_000, () => counters.inc(cell)), 'ops/s', 'counter increment (shared BigInt64, atomic)');

  // ---- bars (issue 4) ----
  const bars: [string, boolean][] = [
    ['>= 5,000,000 allocate+release/s on one thread', one >= 5_000_000],
    ['>= 2,000,000 lookups/s on one thread (every lookup kind and peek)', Math.min(...lookupRates) >= 2_000_000],
    ['<= 1 KiB per binding', perBinding <= 1024],
  ];
  console.log(`insert ${Math.round(insert)} ops/s, delete ${Math.round(del)} ops/s`);
  for (const [bar, ok] of bars) console.log(`${ok ? 'meets' : 'MISSES'}: ${bar}`);
}
