// The netlink worker's core: groups of ops wait in a queue; each batch takes whatever is queued
// (from any number of groups, up to the limits the socket buffers allow), sends it in one
// datagram and settles every op from the replies. A group with a failed op is rolled back:
// what it created is deleted before its result is reported (DESIGN.md invariant 1).
//
// Per op, nothing is allocated on the way of an op that succeeds: a group is one object, the
// batch's slots are reused arrays, and per-op results exist only once a group has failed.

import { errnoName, SyscallError } from './libc.js';
import { nlmsgAlign, NlWriter } from './nlmsg.js';
import type { StatsWriter } from './stats.js';
import { writeU32LE } from './wire.js';
import { describeRequest, MAX_OP_BYTES, writeUndo } from './xfrm.js';
import type { XfrmSocket } from './xfrm-socket.js';
import { allOk, OP_OK, type GroupResult, type OpFailureCode, type OpResult } from './xfrm-types.js';

/** user: a caller's group (rolled back on failure); rollback / cleanup: deletes, never rolled back. */
type GroupKind = 'user' | 'rollback' | 'cleanup';

/** Who hears of a group's result, with the `tag` it submitted the group under. */
export interface GroupOwner {
  groupDone(result: GroupResult, tag: number): void;
}

interface Group {
  kind: GroupKind;
  /** The group's requests, encoded by the caller one after another from `start` (the batcher gives them sequence numbers). */
  buf: Buffer;
  start: number;
  count: number;
  /** Ops taken into batches so far, and where the next one starts. */
  taken: number;
  next: number;
  /** Ops settled so far: a group's ops are settled in order. */
  settled: number;
  /** Per-op results, made at the group's first failure (every op settled before it had succeeded). */
  results: OpResult[] | undefined;
  owner: GroupOwner | undefined;
  tag: number;
  /** For a rollback: the failed group it undoes, reported once the rollback is settled. */
  undoes: Group | undefined;
  rolledBack: OpResult[] | undefined;
}

const ETIMEDOUT = 110;
const ECANCELED = 125;
const EINVAL = 22;
const ENOBUFS = 105;

/** Budget of receive buffer per op of a batch: an error reply with ext-ack text costs < 1 KiB of skb. */
const RCVBUF_PER_OP = 2048;

function failure(code: OpFailureCode, errnoValue: number, message: string): OpResult {
  return { ok: false, code, errno: errnoValue, errnoName: errnoName(errnoValue), message };
}

/** Offsets of the group's requests, found by walking their lengths (failure paths only). */
function offsetsOf(g: Group): number[] {
  const offsets: number[] = [];
  for (let i = 0, off = g.start; i < g.count; i++, off += nlmsgAlign(g.buf.readUInt32LE(off))) offsets.push(off);
  return offsets;
}

export class Batcher {
  private readonly urgent: Group[] = [];
  private readonly queue: Group[] = [];
  private urgentHead = 0;
  private queueHead = 0;
  private readonly w = new NlWriter(256 * 1024);
  /** The batch in flight: op k is of group slotGroup[k], its request at slotOff[k] in that group's buffer. */
  private readonly slotGroup: Group[] = [];
  private readonly slotOff: number[] = [];
  private seq = 1;
  private readonly maxOps: number;
  private readonly maxBytes: number;

  constructor(private readonly sock: XfrmSocket, private readonly stats: StatsWriter, batchMax: number) {
    this.maxOps = Math.max(1, Math.min(batchMax, Math.floor(sock.receiveBufferBytes / RCVBUF_PER_OP)));
    // netlink refuses a datagram longer than SO_SNDBUF - 32 (EMSGSIZE).
    this.maxBytes = Math.max(MAX_OP_BYTES, sock.sendBufferBytes - 4096);
  }

  /**
   * Queues a caller's group: `count` requests one after another from `buf[start]`, which are the
   * batcher's until the group is settled (it writes their sequence numbers in place).
   * `owner.groupDone(result, tag)` hears of it once every op (and any rollback) is settled.
   */
  submit(buf: Buffer, start: number, count: number, owner: GroupOwner, tag: number): void {
    this.add('user', buf, start, count, owner, tag, undefined);
  }

  /** Queues deletes that must not be rolled back (cleanup by marker). */
  submitCleanup(buf: Buffer, start: number, count: number, owner: GroupOwner, tag: number): void {
    this.add('cleanup', buf, start, count, owner, tag, undefined);
  }

  /**
   * Runs one batch; returns whether ops remain queued. Requests get their sequence numbers in
   * place and go into the datagram by runs (the requests of consecutive groups of one submit lie
   * one after another), so a batch costs a few copies rather than one per op.
   */
  runBatch(): boolean {
    const w = this.w;
    w.reset();
    const firstSeq = this.seq;
    let count = 0;
    let lastStart = 0;
    let bytes = 0;
    let runBuf: Buffer | undefined;
    let runStart = 0;
    let runEnd = 0;
    while (count < this.maxOps && bytes + MAX_OP_BYTES <= this.maxBytes) {
      const g = this.nextGroup();
      if (g === undefined) break;
      const off = g.next;
      const len = nlmsgAlign(g.buf.readUInt32LE(off));
      g.next += len;
      if (++g.taken === g.count) this.dequeue(g);
      if (g.results !== undefined && g.kind === 'user') {
        this.settle(g, failure('NOT_ATTEMPTED', ECANCELED, `${describeRequest(g.buf, off)}: not attempted, an earlier op of its group failed`));
        continue;
      }
      writeU32LE(g.buf, off + 8, this.seq);
      if (g.buf !== runBuf || off !== runEnd) {
        if (runBuf) w.appendMessages(runBuf, runStart, runEnd);
        runBuf = g.buf;
        runStart = off;
      }
      runEnd = off + len;
      lastStart = w.off + (off - runStart); // where it lands once its run is copied
      bytes += len;
      this.slotGroup[count] = g;
      this.slotOff[count] = off;
      count++;
      this.seq = (this.seq + 1) >>> 0;
    }
    if (runBuf) w.appendMessages(runBuf, runStart, runEnd);
    if (count > 0) this.exchange(lastStart, firstSeq, count);
    this.compact();
    return this.nextGroup() !== undefined;
  }

  /** Runs batches until nothing is queued (rollbacks included). */
  drain(): void {
    while (this.runBatch());
  }

  private add(kind: GroupKind, buf: Buffer, start: number, count: number, owner: GroupOwner | undefined, tag: number, undoes: Group | undefined): void {
    const g: Group = {
      kind, buf, start, count, taken: 0, next: start, settled: 0, results: undefined, owner, tag, undoes, rolledBack: undefined,
    };
    if (count === 0) this.report(g);
    else if (kind === 'rollback') this.urgent.push(g);
    else this.queue.push(g);
  }

  /** The group whose next op goes into a batch next: rollbacks first. */
  private nextGroup(): Group | undefined {
    if (this.urgentHead < this.urgent.length) return this.urgent[this.urgentHead];
    if (this.queueHead < this.queue.length) return this.queue[this.queueHead];
    return undefined;
  }

  /** Removes `g`, the current head of its queue, once all its ops are taken. */
  private dequeue(g: Group): void {
    if (this.urgentHead < this.urgent.length && this.urgent[this.urgentHead] === g) this.urgentHead++;
    else this.queueHead++;
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
      for (let k = 0; k < count; k++) this.settle(this.slotGroup[k]!, failure('SYSCALL_FAILED', errnoValue, `${this.describe(k)}: ${why}`));
      return;
    }
    this.stats.batch(count, (performance.now() - t0) * 1000);
    if (!complete) this.stats.timeout();
    if (overrun) this.stats.overrun();
    for (let k = 0; k < count; k++) {
      const e = errors[k];
      let r: OpResult;
      if (e) {
        r = failure('KERNEL', e.errno, `${this.describe(k)}: ${errnoName(e.errno)}${e.extMessage ? ` (${e.extMessage})` : ''}`);
      } else if (!complete) {
        r = failure('NETLINK_TIMEOUT', ETIMEDOUT, `${this.describe(k)}: NETLINK_TIMEOUT, the kernel did not answer within the timeout; outcome unknown`);
      } else if (overrun) {
        r = failure('SYSCALL_FAILED', ENOBUFS, `${this.describe(k)}: receive buffer overrun, its reply may be lost; outcome unknown`);
      } else {
        r = OP_OK;
      }
      this.settle(this.slotGroup[k]!, r);
    }
  }

  private describe(k: number): string {
    return describeRequest(this.slotGroup[k]!.buf, this.slotOff[k]!);
  }

  /** Settles the group's next op. */
  private settle(g: Group, r: OpResult): void {
    if (!r.ok) {
      g.results ??= new Array<OpResult>(g.settled).fill(OP_OK);
      this.stats.failure(r.errno);
    }
    g.results?.push(r);
    if (++g.settled === g.count) this.finish(g);
  }

  private finish(g: Group): void {
    if (g.kind === 'user' && g.results !== undefined && this.rollBack(g)) return;
    this.report(g);
  }

  /**
   * Queues the deletes of what a failed group created, newest first (an op whose outcome is
   * unknown may have created something too); false when there is nothing to delete.
   */
  private rollBack(g: Group): boolean {
    const results = g.results!;
    const offsets = offsetsOf(g);
    const w = new NlWriter(1024);
    let count = 0;
    for (let i = g.count - 1; i >= 0; i--) {
      const r = results[i]!;
      const created = r.ok || r.code === 'NETLINK_TIMEOUT' || (r.code === 'SYSCALL_FAILED' && r.errno === ENOBUFS);
      if (created && writeUndo(w, g.buf, offsets[i]!, 0)) count++;
    }
    if (count === 0) return false;
    this.stats.rollback();
    this.add('rollback', w.buf, 0, count, undefined, 0, g);
    return true;
  }

  private report(g: Group): void {
    const results = g.results;
    let result: GroupResult;
    if (results === undefined) {
      result = allOk(g.count);
    } else {
      let index = results.findIndex((r) => !r.ok && r.code !== 'NOT_ATTEMPTED');
      if (index < 0) index = results.findIndex((r) => !r.ok);
      result = { ok: false, results, firstError: { index, result: results[index]! } };
      if (g.rolledBack) result.rolledBack = g.rolledBack;
    }
    if (g.kind === 'user') this.stats.group(result.ok);
    if (g.undoes) {
      g.undoes.rolledBack = result.results;
      this.report(g.undoes);
    } else {
      g.owner?.groupDone(result, g.tag);
    }
  }
}
