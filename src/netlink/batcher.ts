// The netlink worker's core: groups of ops wait in a queue; each batch takes whatever is queued
// (from any number of groups, up to the limits the socket buffers allow), sends it in one
// datagram and settles every op from the replies. A group with a failed op is rolled back:
// what it created is deleted before its result is reported (DESIGN.md invariant 1).

import { errnoName, SyscallError } from './libc.js';
import { NlWriter } from './nlmsg.js';
import type { StatsWriter } from './stats.js';
import { describeRequest, MAX_OP_BYTES, writeUndo, type EncodedOps } from './xfrm.js';
import type { XfrmSocket } from './xfrm-socket.js';
import type { GroupResult, OpFailureCode, OpResult } from './xfrm-types.js';

/** user: a caller's group (rolled back on failure); rollback / cleanup: deletes, never rolled back. */
type GroupKind = 'user' | 'rollback' | 'cleanup';

interface Group {
  kind: GroupKind;
  /** The group's requests, encoded by the caller (the batcher gives them sequence numbers). */
  enc: EncodedOps;
  results: (OpResult | undefined)[];
  pending: number;
  failed: boolean;
  done: (result: GroupResult) => void;
  rolledBack?: OpResult[];
}

interface Slot {
  g: Group;
  i: number;
}

const OK: OpResult = Object.freeze({ ok: true });
const ETIMEDOUT = 110;
const ECANCELED = 125;
const EINVAL = 22;
const ENOBUFS = 105;

/** Budget of receive buffer per op of a batch: an error reply with ext-ack text costs < 1 KiB of skb. */
const RCVBUF_PER_OP = 2048;

function failure(code: OpFailureCode, errnoValue: number, message: string): OpResult {
  return { ok: false, code, errno: errnoValue, errnoName: errnoName(errnoValue), message };
}

export class Batcher {
  private readonly urgent: Slot[] = [];
  private readonly queue: Slot[] = [];
  private urgentHead = 0;
  private queueHead = 0;
  private readonly w = new NlWriter(256 * 1024);
  private readonly slots: Slot[] = [];
  private seq = 1;
  private readonly maxOps: number;
  private readonly maxBytes: number;

  constructor(private readonly sock: XfrmSocket, private readonly stats: StatsWriter, batchMax: number) {
    this.maxOps = Math.max(1, Math.min(batchMax, Math.floor(sock.receiveBufferBytes / RCVBUF_PER_OP)));
    // netlink refuses a datagram longer than SO_SNDBUF - 32 (EMSGSIZE).
    this.maxBytes = Math.max(MAX_OP_BYTES, sock.sendBufferBytes - 4096);
  }

  get queued(): number {
    return this.queue.length - this.queueHead + this.urgent.length - this.urgentHead;
  }

  /** Queues a caller's group; `done` gets its result once every op (and any rollback) is settled. */
  submit(enc: EncodedOps, done: (r: GroupResult) => void): void {
    this.add('user', enc, done, false);
  }

  /** Queues deletes that must not be rolled back (cleanup by marker). */
  submitCleanup(enc: EncodedOps, done: (r: GroupResult) => void): void {
    this.add('cleanup', enc, done, false);
  }

  /** Runs one batch; returns whether ops remain queued. */
  runBatch(): boolean {
    const w = this.w;
    w.reset();
    const firstSeq = this.seq;
    let count = 0;
    let lastStart = 0;
    for (let s = this.next(); s; s = count < this.maxOps && w.off + MAX_OP_BYTES <= this.maxBytes ? this.next() : undefined) {
      if (s.g.failed && s.g.kind === 'user') {
        this.settle(s, failure('NOT_ATTEMPTED', ECANCELED, `${this.describe(s)}: not attempted, an earlier op of its group failed`));
        continue;
      }
      lastStart = w.append(s.g.enc.buf, s.g.enc.offsets[s.i]!, this.seq);
      this.slots[count++] = s;
      this.seq = (this.seq + 1) >>> 0;
    }
    if (count > 0) this.exchange(lastStart, firstSeq, count);
    this.compact();
    return this.queued > 0;
  }

  /** Runs batches until nothing is queued (rollbacks included). */
  drain(): void {
    while (this.runBatch());
  }

  private add(kind: GroupKind, enc: EncodedOps, done: (r: GroupResult) => void, urgent: boolean): void {
    const n = enc.offsets.length;
    const g: Group = { kind, enc, results: new Array<OpResult | undefined>(n), pending: n, failed: false, done };
    if (n === 0) {
      this.finish(g);
      return;
    }
    const q = urgent ? this.urgent : this.queue;
    for (let i = 0; i < n; i++) q.push({ g, i });
  }

  private describe(s: Slot): string {
    return describeRequest(s.g.enc.buf, s.g.enc.offsets[s.i]!);
  }

  private next(): Slot | undefined {
    if (this.urgentHead < this.urgent.length) return this.urgent[this.urgentHead++];
    if (this.queueHead < this.queue.length) return this.queue[this.queueHead++];
    return undefined;
  }

  private compact(): void {
    if (this.urgentHead === this.urgent.length) { this.urgent.length = 0; this.urgentHead = 0; }
    if (this.queueHead === this.queue.length) { this.queue.length = 0; this.queueHead = 0; }
    else if (this.queueHead > 4096) { this.queue.splice(0, this.queueHead); this.queueHead = 0; }
  }

  private exchange(lastStart: number, firstSeq: number, count: number): void {
    const t0 = performance.now();
    let errors: ReturnType<XfrmSocket['exchangeBatch']>['errors'];
    let complete: boolean;
    let overrun: boolean;
    try {
      ({ errors, complete, overrun } = this.sock.exchangeBatch(this.w, lastStart, firstSeq, count));
    } catch (e) {
      const errnoValue = e instanceof SyscallError ? e.errno : EINVAL;
      const why = e instanceof Error ? e.message : String(e);
      for (let k = 0; k < count; k++) this.settle(this.slots[k]!, failure('SYSCALL_FAILED', errnoValue, `${this.describe(this.slots[k]!)}: ${why}`));
      return;
    }
    this.stats.batch(count, (performance.now() - t0) * 1000);
    if (!complete) this.stats.timeout();
    if (overrun) this.stats.overrun();
    for (let k = 0; k < count; k++) {
      const e = errors[k];
      const s = this.slots[k]!;
      let r: OpResult;
      if (e) {
        r = failure('KERNEL', e.errno, `${this.describe(s)}: ${errnoName(e.errno)}${e.extMessage ? ` (${e.extMessage})` : ''}`);
      } else if (!complete) {
        r = failure('NETLINK_TIMEOUT', ETIMEDOUT, `${this.describe(s)}: NETLINK_TIMEOUT, the kernel did not answer within the timeout; outcome unknown`);
      } else if (overrun) {
        r = failure('SYSCALL_FAILED', ENOBUFS, `${this.describe(s)}: receive buffer overrun, its reply may be lost; outcome unknown`);
      } else {
        r = OK;
      }
      this.settle(s, r);
    }
  }

  private settle(s: Slot, r: OpResult): void {
    const g = s.g;
    g.results[s.i] = r;
    if (!r.ok) {
      g.failed = true;
      this.stats.failure(r.errno);
    }
    if (--g.pending === 0) this.finish(g);
  }

  private finish(g: Group): void {
    if (g.kind === 'user' && g.failed) {
      const undo = this.rollbackOps(g);
      if (undo.offsets.length > 0) {
        this.stats.rollback();
        this.add('rollback', undo, (r) => {
          g.rolledBack = r.results;
          this.report(g);
        }, true);
        return;
      }
    }
    this.report(g);
  }

  /** Deletes for what the group created, newest first; an op whose outcome is unknown may have created something too. */
  private rollbackOps(g: Group): EncodedOps {
    const w = new NlWriter(1024);
    const offsets: number[] = [];
    for (let i = g.results.length - 1; i >= 0; i--) {
      const r = g.results[i]!;
      const created = r.ok || r.code === 'NETLINK_TIMEOUT' || (r.code === 'SYSCALL_FAILED' && r.errno === ENOBUFS);
      const start = w.off;
      if (created && writeUndo(w, g.enc.buf, g.enc.offsets[i]!, 0)) offsets.push(start);
    }
    return { buf: w.buf, offsets };
  }

  private report(g: Group): void {
    const results = g.results as OpResult[];
    const result: GroupResult = { ok: !g.failed, results };
    if (g.failed) {
      let index = results.findIndex((r) => !r.ok && r.code !== 'NOT_ATTEMPTED');
      if (index < 0) index = results.findIndex((r) => !r.ok);
      result.firstError = { index, result: results[index]! };
      if (g.rolledBack) result.rolledBack = g.rolledBack;
    }
    if (g.kind === 'user') this.stats.group(result.ok);
    g.done(result);
  }
}
