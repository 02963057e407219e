// Counters of the netlink worker in a SharedArrayBuffer: the worker writes, the main thread reads
// them (stats(), Prometheus) without a message per batch. Float64 slots: only the worker
// writes, and an aligned 8-byte store is not torn on x86-64.

import { errnoName } from './libc.js';

const BATCHES = 0;
const OPS = 1;
const OPS_FAILED = 2;
const TIMEOUTS = 3;
const GROUPS = 4;
const GROUPS_FAILED = 5;
const ROLLBACKS = 6;
const OVERRUNS = 7;
const LAT_SUM_US = 8;
const LAT_MAX_US = 9;
const WORKER_BUSY_US = 10;
const OPS_HIST = 16;
const LAT_HIST = 32;
const ERRNO = 64;
const ERRNO_SLOTS = 192;
const SLOTS = ERRNO + ERRNO_SLOTS;

/** Upper bounds of the ops-per-batch histogram buckets (the last one is open). */
export const OPS_PER_BATCH_BOUNDS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, Infinity] as const;
/** Upper bounds (microseconds) of the kernel round-trip histogram, one batch from sendto to its last ACK. */
export const LATENCY_BOUNDS_US = [50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 100_000, 1_000_000, Infinity] as const;

export interface NetlinkStats {
  /** Ops submitted and not yet answered. */
  queueDepth: number;
  queueMax: number;
  batches: number;
  ops: number;
  opsFailed: number;
  timeouts: number;
  groups: number;
  groupsFailed: number;
  rollbacks: number;
  /** Batches during which the receive buffer overflowed (error replies may be lost). */
  overruns: number;
  /** Cumulative counts per bucket, `le` = upper bound. */
  opsPerBatch: { le: number; count: number }[];
  kernelLatencyUs: { count: number; sum: number; max: number; buckets: { le: number; count: number }[] };
  /** Failed ops by errno name. */
  errors: Record<string, number>;
  /** Time the worker spent handling requests and running batches (kernel time included), in microseconds: its saturation. */
  workerBusyUs: number;
}

export const newStatsBuffer = (): SharedArrayBuffer => new SharedArrayBuffer(SLOTS * 8);

function bucket(bounds: readonly number[], v: number): number {
  let i = 0;
  while (v > bounds[i]!) i++;
  return i;
}

/** The worker's side: record what happened. */
export class StatsWriter {
  private readonly s: Float64Array;

  constructor(buf: SharedArrayBuffer) {
    this.s = new Float64Array(buf);
  }

  batch(ops: number, latencyUs: number): void {
    const s = this.s;
    s[BATCHES]!++;
    s[OPS]! += ops;
    s[OPS_HIST + bucket(OPS_PER_BATCH_BOUNDS, ops)]!++;
    s[LAT_HIST + bucket(LATENCY_BOUNDS_US, latencyUs)]!++;
    s[LAT_SUM_US]! += latencyUs;
    if (latencyUs > s[LAT_MAX_US]!) s[LAT_MAX_US] = latencyUs;
  }

  failure(errnoValue: number): void {
    this.s[OPS_FAILED]!++;
    this.s[ERRNO + Math.min(Math.max(errnoValue, 0), ERRNO_SLOTS - 1)]!++;
  }

  busy(us: number): void { this.s[WORKER_BUSY_US]! += us; }
  timeout(): void { this.s[TIMEOUTS]!++; }
  overrun(): void { this.s[OVERRUNS]!++; }
  rollback(): void { this.s[ROLLBACKS]!++; }

  group(ok: boolean): void {
    this.s[GROUPS]!++;
    if (!ok) this.s[GROUPS_FAILED]!++;
  }
}

/** The main thread's side. */
export function readStats(buf: SharedArrayBuffer, queueDepth: number, queueMax: number): NetlinkStats {
  const s = new Float64Array(buf);
  const cumulative = (base: number, bounds: readonly number[]): { le: number; count: number }[] => {
    let acc = 0;
    return bounds.map((le, i) => ({ le, count: (acc += s[base + i]!) }));
  };
  const errors: Record<string, number> = {};
  for (let i = 0; i < ERRNO_SLOTS; i++) if (s[ERRNO + i]! > 0) errors[errnoName(i)] = s[ERRNO + i]!;
  return {
    queueDepth,
    queueMax,
    batches: s[BATCHES]!,
    ops: s[OPS]!,
    opsFailed: s[OPS_FAILED]!,
    timeouts: s[TIMEOUTS]!,
    groups: s[GROUPS]!,
    groupsFailed: s[GROUPS_FAILED]!,
    rollbacks: s[ROLLBACKS]!,
    overruns: s[OVERRUNS]!,
    opsPerBatch: cumulative(OPS_HIST, OPS_PER_BATCH_BOUNDS),
    kernelLatencyUs: { count: s[BATCHES]!, sum: s[LAT_SUM_US]!, max: s[LAT_MAX_US]!, buckets: cumulative(LAT_HIST, LATENCY_BOUNDS_US) },
    errors,
    workerBusyUs: s[WORKER_BUSY_US]!,
  };
}
