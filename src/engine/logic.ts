// The two ways the P-CSCF logic runs: inline in the main thread (workers: 0), or on a piscina pool
// whose workers attach the same shared memory. Both decide a batch with decideBatch(); a batch and
// its plans cross to and from a worker in flat buffers (batch-codec.ts).

import { Piscina } from 'piscina';
import type { Config } from '../config/index.js';
import { decide, PcscfContext } from '../pcscf/index.js';
import { ContactTable } from '../shared/contact-table.js';
import { SharedCounters } from '../shared/counters.js';
import { ProtectedPorts } from '../shared/protected-ports.js';
import { SpiAllocator } from '../shared/spi-allocator.js';
import { SocketTable, type LocalSocket } from '../transport/sockets.js';
import { decodeResult, encodeBatch, transferList, type WireBatch, type WireResult } from './batch-codec.js';
import type { Logic } from './dispatcher.js';
import type { Batch, BatchResult, LogEvent, Plan } from './plan.js';

/** Everything a pool worker needs to build its context: plain data and shared buffers. */
export interface WorkerInit {
  readonly config: Config;
  readonly sockets: readonly LocalSocket[];
  readonly contacts: SharedArrayBuffer;
  readonly counters: SharedArrayBuffer;
  /** With IPsec enabled: the SPI pool and the protected-port cursors. */
  readonly spis?: SharedArrayBuffer;
  readonly ports?: SharedArrayBuffer;
}

/** A context that collects the log events of the batch being decided. */
export interface BatchContext {
  readonly ctx: PcscfContext;
  readonly events: LogEvent[];
}

export function batchContext(init: WorkerInit): BatchContext {
  const events: LogEvent[] = [];
  const ctx = new PcscfContext({
    config: init.config,
    sockets: new SocketTable(init.sockets),
    contacts: ContactTable.attach(init.contacts),
    counters: SharedCounters.attach(init.counters),
    ...(init.spis === undefined ? {} : { spis: SpiAllocator.attach(init.spis) }),
    ...(init.ports === undefined ? {} : { ports: ProtectedPorts.attach(init.ports) }),
    log: (e) => events.push(e),
  });
  return { ctx, events };
}

export function decideBatch(batch: Batch, bc: BatchContext): BatchResult {
  const plans: Plan[] = new Array<Plan>(batch.messages.length);
  for (let i = 0; i < plans.length; i++) plans[i] = decide(batch.messages[i]!, bc.ctx);
  return { plans, events: bc.events.splice(0) };
}

export class InlineLogic implements Logic {
  /** Synchronous: a batch is decided before the next one is handed over. */
  readonly concurrency = 1;
  readonly thread = 'main';
  readonly #bc: BatchContext;

  constructor(init: WorkerInit) {
    this.#bc = batchContext(init);
  }

  run(batch: Batch): BatchResult {
    return decideBatch(batch, this.#bc);
  }

  async close(): Promise<void> {}
}

export interface PoolStats {
  readonly threads: number;
  /** Share of the workers' time spent deciding since the pool started (0..1). */
  readonly utilization: number;
  readonly completed: number;
  readonly queued: number;
}

/**
 * The worker module: pcscf-worker.js beside the compiled code; under tsx (sources run as .ts)
 * a bootstrap that registers tsx in the worker first, since Node 20 workers inherit neither the
 * main thread's module hooks nor `--import`.
 */
function workerFilename(): string {
  const ts = import.meta.url.endsWith('.ts');
  return new URL(ts ? '../workers/pcscf-worker.boot.mjs' : '../workers/pcscf-worker.js', import.meta.url).pathname;
}

export class PoolLogic implements Logic {
  readonly #pool: Piscina<WireBatch, WireResult>;
  readonly concurrency: number;
  readonly thread = 'worker';
  readonly #startedAt = performance.now();
  /** Milliseconds the workers spent deciding, all of them together, as they report it. */
  #busyMs = 0;
  /** Where the previous utilizationSinceLast() reading left off. */
  #window = { at: this.#startedAt, busyMs: 0 };

  private constructor(pool: Piscina<WireBatch, WireResult>, threads: number) {
    this.#pool = pool;
    this.concurrency = threads;
  }

  /** Starts `threads` workers and waits until each has built its context (a bad setup fails here, not on the first message). */
  static async start(init: WorkerInit, threads: number): Promise<PoolLogic> {
    const pool = new Piscina<WireBatch, WireResult>({
      filename: workerFilename(),
      workerData: init,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      // Batches are the unit of work: more than one in flight per worker only adds queueing inside it.
      concurrentTasksPerWorker: 1,
      // No queue limit of piscina's own: the dispatcher bounds what waits (workers.max_in_flight
      // messages, new requests answered 503 beyond it), while a batch refused here would fail every
      // message in it (500). With 'auto' (threads squared) a loaded host failed REGISTERs at 200/s.
      maxQueue: Number.POSITIVE_INFINITY,
    });
    const logic = new PoolLogic(pool, threads);
    try {
      await Promise.all(Array.from({ length: threads }, () => logic.run({ messages: [] })));
    } catch (e) {
      await pool.destroy();
      throw e;
    }
    return logic;
  }

  run(batch: Batch): Promise<BatchResult> {
    const wire = encodeBatch(batch.messages);
    return this.#pool.run(wire, { transferList: transferList(wire) }).then(this.#account);
  }

  readonly #account = (r: WireResult): BatchResult => {
    this.#busyMs += r.busyMs;
    return decodeResult(r);
  };

  /**
   * Share of the workers' time spent deciding since the previous call (0..1), for a gauge read
   * once per scrape: piscina's own figure averages over the pool's whole life and reads near 0
   * while the workers are saturated.
   */
  utilizationSinceLast(): number {
    const now = performance.now();
    const { at, busyMs } = this.#window;
    this.#window = { at: now, busyMs: this.#busyMs };
    return now > at ? Math.min(1, (this.#busyMs - busyMs) / ((now - at) * this.concurrency)) : 0;
  }

  stats(): PoolStats {
    const wall = (performance.now() - this.#startedAt) * this.concurrency;
    return { threads: this.#pool.threads.length, utilization: wall > 0 ? Math.min(1, this.#busyMs / wall) : 0, completed: this.#pool.completed, queued: this.#pool.queueSize };
  }

  close(): Promise<void> {
    return this.#pool.destroy();
  }
}
