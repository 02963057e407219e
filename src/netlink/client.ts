// The main thread's handle on the netlink worker. submit() sends a group of XFRM ops and resolves
// with one result per op; the client bounds how many ops may wait (backpressure: a typed
// NETLINK_QUEUE_FULL rejection, never unbounded memory).

import { Worker } from 'node:worker_threads';
import { VALID_ALG_PAIRS } from '../ipsec/algorithms.js';
import { NetlinkClosedError, NetlinkQueueFullError, NetlinkRequestError, XfrmRecordError } from './errors.js';
import { InFlight } from './in-flight.js';
import { errnoName, SyscallError } from './libc.js';
import { NlWriter } from './nlmsg.js';
import { writeOp } from './xfrm.js';
import type { AlgPair, FromWorker, KernelCapabilities, ToWorker, WireError, WorkerInit } from './protocol.js';
import { newStatsBuffer, readStats, type NetlinkStats } from './stats.js';
import {
  allOk, describeOp, type GroupResult, type OpResult, type XfrmOp, type XfrmPolicy, type XfrmSa, type XfrmSaId,
} from './xfrm-types.js';

export type { AlgorithmCheck, AlgPair, KernelCapabilities } from './protocol.js';
export type { NetlinkStats } from './stats.js';
export type { GroupResult, OpFailureCode, OpResult, XfrmOp } from './xfrm-types.js';

export interface XfrmClientOptions {
  /** Network namespace (a name under /run/netns) the worker enters before opening its socket. */
  netns?: string;
  /** Selector `user` marking what this process owns (Kamailio uses 143956232). */
  marker: number;
  /** Most ops that may wait for the kernel at once (default 65536). */
  queueMax?: number;
  /** How long the worker waits for a kernel reply before failing the batch with NETLINK_TIMEOUT (default 5000). */
  timeoutMs?: number;
  /** Most ops in one datagram (default 1024; also bounded by the socket buffers). */
  batchMax?: number;
  /** Requested SO_SNDBUF / SO_RCVBUF of the socket (default 4 MiB; the kernel doubles it); batches are sized to fit. */
  socketBufferBytes?: number;
  /** Tests only: send to this netlink port id instead of the kernel (a socket that never answers). */
  peerPortId?: number;
}

function toError(e: WireError): Error {
  if (e.code === 'SYSCALL_FAILED' && e.op !== undefined && e.errno !== undefined) return new SyscallError(e.op, e.errno);
  const code = e.code === 'NETLINK_TIMEOUT' ? 'NETLINK_TIMEOUT' : 'NETLINK_REQUEST_FAILED';
  return new NetlinkRequestError(code, e.message, e.errno ?? 0, e.errnoName ?? '');
}

/** Keys arrive as Uint8Array after the structured clone: hand Buffers to callers, as decoders do. */
function withBufferKeys(sa: XfrmSa): XfrmSa {
  const b = (k: Uint8Array): Buffer => Buffer.from(k.buffer, k.byteOffset, k.byteLength);
  if (sa.auth) sa.auth.key = b(sa.auth.key);
  if (sa.crypt) sa.crypt.key = b(sa.crypt.key);
  if (sa.aead) sa.aead.key = b(sa.aead.key);
  return sa;
}

/**
 * Starts worker.ts / worker.js beside this module. Under tsx (this file is .ts) the worker needs
 * tsx's loader registered in its own thread first: on Node 20 workers inherit neither the
 * main thread's module hooks nor `--import tsx`.
 */
function startWorker(init: WorkerInit): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(new URL('./worker.ts', import.meta.url).href);
  return new Worker(`import(${api}).then((tsx) => { tsx.register(); return import(${entry}); })`, { eval: true, workerData: init });
}

const EINVAL = 22;
// Room for a datagram's worth of policies (1024) without growing (growing allocates and copies).
const SUBMIT_BUFFER_BYTES = 320 * 1024;
const SPARE_BUFFERS = 16;

const ECANCELED = 125;

/** The result of a group that never reached the kernel because op `index` cannot be encoded. */
function invalidGroup(group: readonly XfrmOp[], index: number, e: unknown): GroupResult {
  const why = e instanceof XfrmRecordError ? e.message : String(e);
  const results = group.map((op, i): OpResult => (i === index
    ? { ok: false, code: 'INVALID_RECORD', errno: EINVAL, errnoName: errnoName(EINVAL), message: `${describeOp(op)}: ${why}` }
    : { ok: false, code: 'NOT_ATTEMPTED', errno: ECANCELED, errnoName: errnoName(ECANCELED), message: `${describeOp(op)}: not attempted, op ${index} of its group is invalid` }));
  return { ok: false, results, firstError: { index, result: results[index]! } };
}

export class XfrmClient {
  private readonly inFlight = new InFlight();
  /** What `capture` took from the last Promise constructed: one executor for every request, not a closure each. */
  private newResolve: ((v: never) => void) | undefined;
  private newReject: ((e: Error) => void) | undefined;
  private readonly capture = (resolve: (v: never) => void, reject: (e: Error) => void): void => {
    this.newResolve = resolve;
    this.newReject = reject;
  };
  /** Groups submitted in this turn of the event loop, encoded, waiting to go to the worker together. */
  private readonly out = new NlWriter(SUBMIT_BUFFER_BYTES);
  private outGroups: number[] = [];
  private outOps = 0;
  private outScheduled = false;
  /** Submit buffers the worker gave back: reused, so a busy client does not allocate one per turn. */
  private readonly spare: ArrayBuffer[] = [];
  private readonly sendOut = (): void => this.flushOut();
  private closing: Promise<void> | undefined;
  private closedWhy: string | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly statsBuffer: SharedArrayBuffer,
    private readonly queueMax: number,
    /**
     * The ops of a datagram (batchMax): a turn's submits go to the worker when the turn ends, or
     * as soon as this many are encoded, so the worker sends them while this thread encodes the
     * rest of a long turn.
     */
    private readonly flushOps: number,
    /** The worker's netlink port id (what `ss -f netlink` shows). */
    readonly portId: number,
  ) {
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (e) => this.fail(`worker error: ${e.message}`));
    worker.on('exit', (code) => this.fail(`worker exited with code ${code}`));
  }

  static start(opts: XfrmClientOptions): Promise<XfrmClient> {
    const stats = newStatsBuffer();
    const init: WorkerInit = {
      marker: opts.marker >>> 0,
      timeoutMs: opts.timeoutMs ?? 5000,
      batchMax: opts.batchMax ?? 1024,
      stats,
      ...(opts.netns !== undefined ? { netns: opts.netns } : {}),
      ...(opts.peerPortId !== undefined ? { peerPortId: opts.peerPortId } : {}),
      ...(opts.socketBufferBytes !== undefined ? { bufferBytes: opts.socketBufferBytes } : {}),
    };
    const worker = startWorker(init);
    return new Promise((resolve, reject) => {
      const onFirst = (m: FromWorker): void => {
        worker.off('error', onError);
        if (m.kind === 'ready') {
          resolve(new XfrmClient(worker, stats, opts.queueMax ?? 65536, init.batchMax, m.portId));
        } else {
          reject(m.kind === 'startFailed' ? toError(m.error) : new NetlinkClosedError(`unexpected first message ${m.kind}`));
          void worker.terminate();
        }
      };
      const onError = (e: Error): void => reject(new NetlinkClosedError(`worker failed to start: ${e.message}`));
      worker.once('message', onFirst);
      worker.once('error', onError);
    });
  }

  /**
   * Sends a group of ops; resolves with one result per op, in order (the result of a group that
   * fully succeeded is shared and frozen, its results array too). Rejects only with NETLINK_QUEUE_FULL,
   * NETLINK_CLOSED, or XFRM_INVALID_RECORD when `group` is not an array.
   */
  submit(group: XfrmOp[]): Promise<GroupResult> {
    if (this.closedWhy !== undefined || this.closing) return Promise.reject(new NetlinkClosedError(this.closedWhy ?? 'close() was called'));
    if (!Array.isArray(group)) return Promise.reject(new XfrmRecordError('group', 'not an array of ops'));
    const queued = this.inFlight.waitingOps;
    if (queued + group.length > this.queueMax) return Promise.reject(new NetlinkQueueFullError(queued, group.length, this.queueMax));
    // Encoded here, on the caller's thread, and the bytes of a whole turn cross to the worker in
    // one transfer: structured-cloning a policy record was measured at ~7 us here, encoding it
    // at ~0.4 us.
    const start = this.out.off;
    for (let i = 0; i < group.length; i++) {
      try {
        writeOp(this.out, group[i]!, 0, false);
      } catch (e) {
        this.out.off = start;
        return Promise.resolve(invalidGroup(group, i, e));
      }
    }
    const promise = this.track<GroupResult>(group.length);
    this.outGroups.push(this.inFlight.lastId, group.length);
    this.outOps += group.length;
    if (this.outOps >= this.flushOps) {
      this.flushOut();
    } else if (!this.outScheduled) {
      this.outScheduled = true;
      queueMicrotask(this.sendOut);
    }
    return promise;
  }

  /** Every SA in the kernel, or (ours) only those with our marker. */
  async dumpSas(filter: { ours?: boolean } = {}): Promise<XfrmSa[]> {
    const sas = await this.request<XfrmSa[]>((id) => ({ kind: 'dump', id, what: 'sa', ours: filter.ours ?? false }), 0);
    return sas.map(withBufferKeys);
  }

  /** One SA by id (GETSA), or undefined when the kernel has none. */
  async getSa(id: XfrmSaId): Promise<XfrmSa | undefined> {
    const sa = await this.request<XfrmSa | undefined>((rid) => ({ kind: 'getSa', id: rid, sa: id }), 0);
    return sa && withBufferKeys(sa);
  }

  dumpPolicies(filter: { ours?: boolean } = {}): Promise<XfrmPolicy[]> {
    return this.request((id) => ({ kind: 'dump', id, what: 'policy', ours: filter.ours ?? false }), 0);
  }

  /** Deletes every policy, then every SA, that carries our marker; nothing else is touched. */
  deleteOurs(): Promise<{ sas: number; policies: number; errors: OpResult[] }> {
    return this.request((id) => ({ kind: 'deleteOurs', id }), 0);
  }

  /** Whether this kernel has ESP (IPv4, IPv6) and each algorithm pair works, with a message for the operator. */
  probe(pairs: readonly AlgPair[] = VALID_ALG_PAIRS): Promise<KernelCapabilities> {
    return this.request((id) => ({ kind: 'probe', id, pairs: [...pairs] }), 0);
  }

  stats(): NetlinkStats {
    return readStats(this.statsBuffer, this.inFlight.waitingOps, this.queueMax);
  }

  /** Lets queued work finish, closes the socket and ends the worker. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = new Promise((resolve) => {
      this.worker.once('exit', () => resolve());
      this.flushOut();
      if (this.closedWhy === undefined) this.worker.postMessage({ kind: 'close' } satisfies ToWorker);
      else resolve();
    });
    return this.closing;
  }

  private flushOut(): void {
    this.outScheduled = false;
    if (this.outGroups.length === 0 || this.closedWhy !== undefined) return;
    const length = this.out.off;
    const spare = this.spare.pop();
    const bytes = this.out.swap(spare ? Buffer.from(spare) : NlWriter.allocate(SUBMIT_BUFFER_BYTES)).buffer as ArrayBuffer;
    this.worker.postMessage({ kind: 'submit', groups: this.outGroups, bytes, length } satisfies ToWorker, [bytes]);
    this.outGroups = [];
    this.outOps = 0;
  }

  private request<T>(make: (id: number) => ToWorker, ops: number): Promise<T> {
    if (this.closedWhy !== undefined || this.closing) return Promise.reject(new NetlinkClosedError(this.closedWhy ?? 'close() was called'));
    this.flushOut(); // keep the order of requests: submits of this turn go first
    const promise = this.track<T>(ops);
    this.worker.postMessage(make(this.inFlight.lastId));
    return promise;
  }

  /** A promise for a request of `ops` ops, recorded in flight under the next id (inFlight.lastId). */
  private track<T>(ops: number): Promise<T> {
    const promise = new Promise<T>(this.capture);
    this.inFlight.add(this.newResolve!, this.newReject!, ops);
    return promise;
  }

  private onMessage(m: FromWorker): void {
    switch (m.kind) {
      case 'groups':
        for (const id of m.ok) {
          const ops = this.inFlight.ops(id);
          if (ops >= 0) this.inFlight.resolve(id, allOk(ops));
        }
        for (const f of m.failed) this.inFlight.resolve(f.id, f.result);
        for (const b of m.recycled) if (this.spare.length < SPARE_BUFFERS) this.spare.push(b);
        return;
      case 'dump': this.inFlight.resolve(m.id, m.sas ?? m.policies ?? []); return;
      case 'sa': this.inFlight.resolve(m.id, m.sa); return;
      case 'deleted': this.inFlight.resolve(m.id, { sas: m.sas, policies: m.policies, errors: m.errors }); return;
      case 'probe': this.inFlight.resolve(m.id, m.capabilities); return;
      case 'failed': this.inFlight.reject(m.id, toError(m.error)); return;
      case 'closed': this.fail('closed'); return;
      default: return;
    }
  }

  private fail(why: string): void {
    if (this.closedWhy === undefined) this.closedWhy = why;
    this.inFlight.rejectAll(new NetlinkClosedError(why));
  }
}
