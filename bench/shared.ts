// Benchmark of the shared-memory state (src/shared/): SPI-pair allocate+release on one and two
// threads, contact-table insert / lookup / update / delete, bytes per binding with typical IMS
// strings, and counter increments. Each figure is printed for people and as a line
// `BENCH {"name":…,"value":…,"unit":…}` for machines; the bars of issue 4 are checked at the end.
//
//   npx tsx bench/shared.ts [--quick]
//
// The SPI figures are compared in the same run with Kamailio's design moved to shared memory
// (kamailio-behaviour.md §9: one lock around a FIFO free list; here a CAS spin lock and a ring of
// free pairs in a SharedArrayBuffer). Contact-table figures are given for a table that fits in the
// CPU caches and for a large one, whose lookups are bound by memory latency: the run measures that
// latency (dependent random loads over 128 MiB) so the lookup figures can be read against it.
// Lookup keys are fresh strings read in order, as an engine's would be (just parsed from a
// message), while the bindings they hit are spread at random over the table.

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { BindingId } from '../src/shared/binding.js';
import { BindingPeek, ContactTable } from '../src/shared/contact-table.js';
import { SharedCounters } from '../src/shared/counters.js';
import { SpiAllocator } from '../src/shared/spi-allocator.js';
import { firstMessage, startTsWorker } from '../test/helpers/ts-worker.js';
import { typicalBinding } from '../test/shared/fixtures.js';

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 0.3 : 1;
const SMALL_TABLE = 2_000;
const LARGE_TABLE = quick ? 20_000 : 100_000;
const POOL_PAIRS = 2 ** 20;

interface WorkerJob {
  kind: 'spi' | 'fifo';
  buffer: SharedArrayBuffer;
  seconds: number;
}

/** Kamailio's allocator design in shared memory, for comparison: a spin lock taken with a CAS
 * around a FIFO ring of free pairs. Words: lock, head, tail, free count, then the ring. */
class LockedFifo {
  private readonly w: Int32Array;
  constructor(readonly buffer: SharedArrayBuffer) {
    this.w = new Int32Array(buffer);
  }

  static create(freePairs: number): LockedFifo {
    const f = new LockedFifo(new SharedArrayBuffer((4 + POOL_PAIRS) * 4));
    for (let i = 0; i < freePairs; i++) f.release(0x10000 + 4 * i);
    return f;
  }

  allocate(): number {
    this.lock();
    const w = this.w;
    let spi = -1;
    if (Atomics.load(w, 3) > 0) {
      const head = Atomics.load(w, 1);
      spi = Atomics.load(w, 4 + head);
      Atomics.store(w, 1, (head + 1) % POOL_PAIRS);
      Atomics.sub(w, 3, 1);
    }
    Atomics.store(w, 0, 0);
    return spi;
  }

  release(spi: number): void {
    this.lock();
    const w = this.w;
    const tail = Atomics.load(w, 2);
    Atomics.store(w, 4 + tail, spi);
    Atomics.store(w, 2, (tail + 1) % POOL_PAIRS);
    Atomics.add(w, 3, 1);
    Atomics.store(w, 0, 0);
  }

  private lock(): void {
    while (Atomics.compareExchange(this.w, 0, 0, 1) !== 0);
  }
}

/** How many times per second `batch` (which returns how many operations it did) can run. */
function perSecond(seconds: number, batch: () => number): number {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) n += batch();
  return n / seconds;
}

/** Allocate+release cycles per second on `pool`, for `seconds`. */
function spiCycles(pool: SpiAllocator, seconds: number): number {
  return perSecond(seconds, () => {
    for (let i = 0; i < 1024; i++) {
      const p = pool.allocate();
      if (p !== undefined) pool.release(p.spiPc);
    }
    return 1024;
  });
}

function fifoCycles(fifo: LockedFifo, seconds: number): number {
  return perSecond(seconds, () => {
    for (let i = 0; i < 1024; i++) {
      const spi = fifo.allocate();
      if (spi >= 0) fifo.release(spi);
    }
    return 1024;
  });
}

if (!isMainThread) {
  const job = workerData as WorkerJob;
  parentPort!.postMessage(job.kind === 'spi'
    ? spiCycles(SpiAllocator.attach(job.buffer), job.seconds)
    : fifoCycles(new LockedFifo(job.buffer), job.seconds));
} else {
  await main();
}

/** Sum of the rates of two worker threads running the same loop on the same buffer. */
async function twoThreads(kind: WorkerJob['kind'], buffer: SharedArrayBuffer): Promise<number> {
  const workers = [0, 1].map(() => startTsWorker(new URL(import.meta.url), { workerData: { kind, buffer, seconds: SECONDS } satisfies WorkerJob }));
  try {
    const rates = await Promise.all(workers.map((w) => firstMessage<number>(w)));
    return rates[0]! + rates[1]!;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Nanoseconds per dependent random load over 128 MiB: this machine's memory latency. */
function memoryLatencyNs(): number {
  const a = new Int32Array(new SharedArrayBuffer(128 * 1024 * 1024));
  const n = a.length;
  for (let i = 0; i < n; i += 16) a[i] = ((Math.imul(i + 16, 2654435761) >>> 0) % n) & ~15;
  const loads = 2_000_000;
  let p = 0;
  const start = performance.now();
  for (let i = 0; i < loads; i++) p = Atomics.load(a, p);
  return ((performance.now() - start) * 1e6) / loads + (p & 0);
}

function report(name: string, value: number, unit: string, label: string): number {
  const shown = value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
  console.log(`${label.padEnd(62)} ${shown.padStart(14)} ${unit}`);
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

function timed(count: number, fn: (i: number) => void): number {
  const start = performance.now();
  for (let i = 0; i < count; i++) fn(i);
  return count / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  console.log(`bench/shared.ts: node ${process.version}, ${quick ? 'quick run' : 'full run'}; figures are noisy on a shared machine, compare ratios within one run`);
  const latency = report('memory_latency_ns', memoryLatencyNs(), 'ns', 'memory latency (dependent random load, 128 MiB)');

  // ---- SPI pairs ----
  const pool = halfFullPool();
  const fifo = LockedFifo.create(POOL_PAIRS / 2);
  spiCycles(pool, 0.2); // warm-up
  fifoCycles(fifo, 0.2);
  const one = report('spi_alloc_release_1t', spiCycles(pool, SECONDS), 'pairs/s', 'SPI allocate+release, 1 thread (2^20 pairs, half in use)');
  const fifoOne = report('spi_locked_fifo_1t', fifoCycles(fifo, SECONDS), 'pairs/s', '  Kamailio design (lock + FIFO) in shared memory, 1 thread');
  const two = report('spi_alloc_release_2t', await twoThreads('spi', pool.buffer), 'pairs/s', 'SPI allocate+release, 2 threads on one pool (sum)');
  const fifoTwo = report('spi_locked_fifo_2t', await twoThreads('fifo', fifo.buffer), 'pairs/s', '  Kamailio design (lock + FIFO), 2 threads (sum)');
  report('spi_bitmap_over_fifo_1t', one / fifoOne, 'ratio', '  bitmap / lock+FIFO, 1 thread');
  report('spi_bitmap_over_fifo_2t', two / fifoTwo, 'ratio', '  bitmap / lock+FIFO, 2 threads');

  // ---- contact table ----
  const small = tableFigures(SMALL_TABLE, 'small');
  const large = tableFigures(LARGE_TABLE, 'large');
  report('lookup_large_in_memory_latencies', 1e9 / large.slowestLookup / latency, 'latencies', `  slowest lookup, ${LARGE_TABLE.toLocaleString('en-US')} bindings, in memory latencies`);

  // ---- counters ----
  const counters = SharedCounters.create([{ name: 'bench_total', help: 'benchmark', kind: 'counter', labels: { k: ['a', 'b'] } }]);
  const cell = counters.cell('bench_total', { k: 'b' });
  timed(1_000_000, () => counters.inc(cell));
  report('counter_inc', timed(quick ? 2_000_000 : 10_000_000, () => counters.inc(cell)), 'ops/s', 'counter increment (shared BigInt64, atomic)');

  // ---- bars (issue 4) ----
  const bars: [string, boolean][] = [
    ['>= 5,000,000 allocate+release/s on one thread', one >= 5_000_000],
    [`>= 2,000,000 lookups/s on one thread, every lookup kind, ${SMALL_TABLE.toLocaleString('en-US')} bindings`, small.slowestLookup >= 2_000_000],
    [`>= 2,000,000 lookups/s on one thread, every lookup kind, ${LARGE_TABLE.toLocaleString('en-US')} bindings`, large.slowestLookup >= 2_000_000],
    ['<= 1 KiB per binding', large.bytesPerBinding <= 1024],
  ];
  for (const [bar, ok] of bars) console.log(`${ok ? 'meets ' : 'MISSES'} ${bar}`);
}

/** Insert, lookups, reads, updates and deletes on a table of `size` typical bindings. */
function tableFigures(size: number, tag: string): { slowestLookup: number; bytesPerBinding: number } {
  const n = size.toLocaleString('en-US');
  console.log(`-- contact table, ${n} typical bindings`);
  const table = ContactTable.create({ capacity: size });
  const bindings = Array.from({ length: size }, (_, i) => typicalBinding(i));
  const ids: BindingId[] = new Array(size);
  // A first fill and empty warms the JIT up and faults the buffer's pages in (a one-time cost at
  // start-up); the figure is the second fill.
  for (let i = 0; i < size; i++) ids[i] = table.insert(bindings[i]!);
  for (let i = 0; i < size; i++) table.delete(ids[i]!);
  report(`contact_insert_${tag}`, timed(size, (i) => { ids[i] = table.insert(bindings[i]!); }), 'ops/s', 'insert');

  const arenaPerBinding = table.arenaUsage.usedBytes / size;
  const fixedPerBinding = (table.buffer.byteLength - table.arenaUsage.capacityBytes) / size;
  const bytesPerBinding = report(`bytes_per_binding_${tag}`, fixedPerBinding + arenaPerBinding, 'bytes', 'bytes per binding (record + indexes + its strings)');
  report(`bytes_per_binding_fixed_${tag}`, fixedPerBinding, 'bytes', '  record, index buckets, bitmaps');
  report(`bytes_per_binding_strings_${tag}`, arenaPerBinding, 'bytes', '  its strings in the arena');
  report(`bytes_per_binding_reserved_${tag}`, table.buffer.byteLength / size, 'bytes', '  whole buffer / capacity (default arena size)');

  // Queries in order, each a fresh copy of the key of a binding picked at random.
  const queries = quick ? 200_000 : 1_000_000;
  const target = Array.from({ length: queries }, (_, i) => (Math.imul(i, 2654435761) >>> 0) % size);
  const fresh = (text: string): string => Buffer.from(text).toString();
  const addr = target.map((k) => fresh(bindings[k]!.receivedAddr));
  const aor = target.map((k) => fresh(bindings[k]!.aor));
  const spi = Int32Array.from(target, (k) => bindings[k]!.sa!.spiPc);
  const expect = Float64Array.from(target, (k) => ids[k]!);
  const out: BindingId[] = [];
  const peek = new BindingPeek();
  let misses = 0;
  const lookupRates: number[] = [];
  for (let round = 0; round < 2; round++) { // the first round warms the JIT up
    const r = (name: string, label: string, fn: (i: number) => void): void => {
      const rate = timed(queries, fn);
      if (round === 1) lookupRates.push(report(`${name}_${tag}`, rate, 'ops/s', label));
    };
    r('lookup_received', 'lookup by received address/port (SEARCH_RECEIVED)', (i) => {
      if (table.findByReceived(addr[i]!, 31800, 'udp') !== expect[i]) misses++;
    });
    r('lookup_spi', 'lookup by P-CSCF SPI', (i) => {
      if (table.findBySpi(spi[i]!) !== expect[i]) misses++;
    });
    r('lookup_contact', 'lookup by Contact host/port (SEARCH_NORMAL)', (i) => {
      if (table.findByContact(addr[i]!, 5060) !== expect[i]) misses++;
    });
    r('lookup_aor', 'lookup by AOR (all its bindings, into a reused array)', (i) => {
      out.length = 0;
      if (table.findByAor(aor[i]!, out)[0] !== expect[i]) misses++;
    });
  }
  timed(queries, (i) => { table.peek(expect[i] as BindingId, peek); });
  report(`peek_${tag}`, timed(queries, (i) => { if (!table.peek(expect[i] as BindingId, peek)) misses++; }), 'ops/s', 'peek (all numbers of a binding, no strings)');
  const some = Math.min(queries, quick ? 50_000 : 200_000);
  report(`get_${tag}`, timed(some, (i) => { if (table.get(expect[i] as BindingId) === undefined) misses++; }), 'ops/s', 'get (whole binding, strings decoded)');
  report(`update_expiry_${tag}`, timed(some, (i) => { table.update(expect[i] as BindingId, { expiresAt: i }); }), 'ops/s', 'update: patch expiresAt (no string changes)');
  report(`update_reregister_${tag}`, timed(some / 4, (i) => {
    table.update(expect[i] as BindingId, (b) => ({ ...b, previousSa: b.sa, sa: { ...b.sa!, spiPc: 0x4000_0000 + 2 * i, spiPs: 0x4000_0001 + 2 * i } }));
  }), 'ops/s', 'update: re-registration (new SA set, old one kept)');
  report(`contact_delete_${tag}`, timed(size, (i) => { if (!table.delete(ids[i]!)) misses++; }), 'ops/s', 'delete');
  if (misses !== 0) throw new Error(`benchmark went wrong: ${misses} lookups did not find their binding`);
  return { slowestLookup: Math.min(...lookupRates), bytesPerBinding };
}
