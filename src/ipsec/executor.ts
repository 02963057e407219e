// The main thread's side of the IPsec engine: it carries out the kernel work that the logic puts in
// its plans, through the netlink worker, and applies the SIP part of each plan through the
// transaction layer in the order the invariants require.
//
//   kernel plan:  submit the set's ops as one group
//                 -> refused: the netlink worker rolled back what the group created; the SPI pair
//                    is released (or, if the rollback did not finish, the set's deletes are retried
//                    and the pair is released when they are done); `otherwise` (503) is answered
//                 -> acknowledged: the set goes into the binding (commit) -> `then` (the 401) is
//                    handed to its server transaction; a commit that finds the binding gone or
//                    moved, or a transaction that ended meanwhile, takes the set out again.
//   after:        teardown, started teardownDelayMs after the plan's message was handed to the
//                 transports: a datagram is handed to the kernel on a later tick than the delete
//                 reaches the netlink worker (measured in the ESP VM: the delete won, and the
//                 de-REGISTER's 200 left unprotected and was dropped), and TCP may retransmit after
//                 that; the message and its retransmissions must leave over the SAs it ends.
//   teardown:     every delete is its own op (one failing delete does not stop the others); an SA
//                 or policy already gone (ESRCH / ENOENT) counts as deleted; the SPI pair is
//                 released once all of them are gone; failures are counted, logged and retried
//                 with back-off, and keep the pair allocated meanwhile, so a pair is never handed
//                 out again while the kernel may still hold an SA with its SPIs.

import type { BindingCommit, LogEvent, Plan, SipPlan, XfrmWork } from '../engine/plan.js';
import type { GroupResult, OpResult, XfrmOp } from '../netlink/xfrm-types.js';
import { SharedStateError } from '../shared/errors.js';
import type { BindingId, SaSet } from '../shared/binding.js';
import type { IpsecContext } from './context.js';
import type { CreateFailure } from './metrics.js';
import { abandon, attach, changeSets } from './sets.js';

/** What the executor needs of the netlink client (XfrmClient, or a fake in tests). */
export interface XfrmSubmitter {
  submit(group: XfrmOp[]): Promise<GroupResult>;
}

/** The SIP metrics the executor moves (a 401 relayed, or the REGISTER refused instead). */
export interface CreateOutcomeSink {
  relayed(status: number): void;
  refused(): void;
}

export interface IpsecExecutorOptions {
  readonly xfrm: XfrmSubmitter;
  /** The main thread's IPsec context (its contact table, SPI pool, teardown notes). */
  readonly ipsec: IpsecContext;
  /** Hands a plan to the transaction layer (ProxyCore.apply): false when it was discarded. */
  readonly deliver: (id: number, plan: SipPlan) => boolean;
  readonly outcomes: CreateOutcomeSink;
  readonly log: (e: LogEvent) => void;
  /** Milliseconds, for the retry back-off; default performance.now. */
  readonly clockMs?: () => number;
  /** How long after a message the teardown its plan carries starts (security.teardown_delay_ms). */
  readonly teardownDelayMs: number;
}

export interface IpsecExecutorStats {
  /** Kernel work submitted and not answered yet. */
  readonly inFlight: number;
  /** Sets whose SAs are in the kernel (complete, or partly left by a failure and being removed). */
  readonly setsInstalled: number;
  /** Teardowns waiting for a retry. */
  readonly retrying: number;
}

interface Retry {
  readonly work: XfrmWork;
  readonly attempt: number;
  readonly dueMs: number;
}

const ENOBUFS = 105;
const RETRY_BASE_MS = 1000;
const RETRY_MAX_MS = 60_000;

/** An op whose object is not in the kernel any more. */
function gone(r: OpResult): boolean {
  return r.ok || (r.code === 'KERNEL' && (r.errnoName === 'ENOENT' || r.errnoName === 'ESRCH'));
}

/** Whether an op may have created something even though the group failed (its outcome is unknown). */
function mayHaveCreated(r: OpResult): boolean {
  return r.ok || r.code === 'NETLINK_TIMEOUT' || (r.code === 'SYSCALL_FAILED' && r.errno === ENOBUFS);
}

function asResult(e: unknown): OpResult {
  const code = (e as { code?: unknown } | null)?.code;
  return { ok: false, code: 'SYSCALL_FAILED', errno: 0, errnoName: typeof code === 'string' ? code : 'UNKNOWN', message: e instanceof Error ? e.message : String(e) };
}

/**
 * The commit of a created set: into its binding, unless the binding is gone or now belongs to
 * another UE address. The set it supersedes is torn down, or only its SPI pair released when the
 * plan's `before` already deleted its SAs (their identities may now be the new set's).
 */
export function commitSet(ipsec: IpsecContext, c: BindingCommit): boolean {
  const ueAddr = c.ueAddr.toLowerCase();
  let removed: readonly SaSet[] = [];
  const stored = ipsec.contacts.update(c.binding as BindingId, (b) => {
    if (b.receivedAddr.toLowerCase() !== ueAddr) return undefined;
    const change = attach(b, c.set);
    removed = change.removed;
    return change.next;
  });
  if (stored) for (const s of removed) ipsec.teardown(ueAddr, s, 'superseded', s.spiPc === c.deleted);
  return stored;
}

export class IpsecExecutor {
  readonly #o: IpsecExecutorOptions;
  readonly #clock: () => number;
  readonly #installed = new Set<number>();
  /** Bindings with a set being created (the sweep leaves their temporary set alone meanwhile). */
  readonly #creating = new Map<number, number>();
  #retries: Retry[] = [];
  #inFlight = 0;
  #idle: (() => void)[] = [];

  constructor(o: IpsecExecutorOptions) {
    this.#o = o;
    this.#clock = o.clockMs ?? (() => performance.now());
  }

  /** Carries out a plan of the logic for server transaction `id`. */
  apply(id: number, plan: Plan): void {
    if (plan.kind === 'kernel') {
      this.#create(id, plan);
      return;
    }
    this.#o.deliver(id, plan);
    if (plan.after !== undefined) this.#teardownLater(plan.after);
  }

  /** Starts the removal of sets (the logic's Plan.after, or the main thread's own sweep). */
  teardown(works: readonly XfrmWork[]): void {
    for (const w of works) this.#teardown(w, 0);
  }

  /** Starts the removals whose retry is due; called by the periodic sweep. */
  retryDue(): void {
    if (this.#retries.length === 0) return;
    const now = this.#clock();
    const due = this.#retries.filter((r) => r.dueMs <= now);
    if (due.length === 0) return;
    this.#retries = this.#retries.filter((r) => r.dueMs > now);
    for (const r of due) this.#teardown(r.work, r.attempt);
  }

  /**
   * Whether a set is being created for this binding. Its temporary set must not be given up
   * meanwhile: its SAs may share identities with the new set's (a UE that offers its SPIs again),
   * and deleting them after the new set exists would take the new set's with them.
   */
  creating(binding: number): boolean {
    return this.#creating.has(binding);
  }

  stats(): IpsecExecutorStats {
    return { inFlight: this.#inFlight, setsInstalled: this.#installed.size, retrying: this.#retries.length };
  }

  /** Resolves once no kernel work is in flight (shutdown waits for it before the final cleanup). */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #create(id: number, plan: Extract<Plan, { kind: 'kernel' }>): void {
    this.#begin();
    const binding = plan.commit.binding;
    this.#creating.set(binding, (this.#creating.get(binding) ?? 0) + 1);
    const before = plan.before === undefined || plan.before.length === 0
      ? Promise.resolve()
      : Promise.all(plan.before.map((op) => this.#o.xfrm.submit([op]).catch(asResult)));
    before.then(() => this.#o.xfrm.submit([...plan.work.ops])).then(
      (r) => this.#created(id, plan, r),
      (e: unknown) => this.#notSubmitted(id, plan, e),
    ).catch((e: unknown) => this.#o.log({ level: 'error', msg: 'IPsec executor failed on a kernel plan', fields: { error: String(e) } }))
      .finally(() => {
        const n = this.#creating.get(binding)! - 1;
        if (n === 0) this.#creating.delete(binding);
        else this.#creating.set(binding, n);
        this.#end();
      });
  }

  #created(id: number, plan: Extract<Plan, { kind: 'kernel' }>, r: GroupResult): void {
    const spiPc = plan.commit.set.spiPc;
    const ipsec = this.#o.ipsec;
    if (!r.ok) {
      const first = r.firstError?.result;
      const failed = first !== undefined && !first.ok ? first : undefined;
      this.#o.log({ level: 'warn', msg: 'the kernel refused an SA set; the UE gets security.create_failure_status', fields: {
        spiPc, errno: failed?.errnoName ?? '', code: failed?.code ?? '', error: failed?.message ?? '',
      } });
      const leftovers = r.results.some(mayHaveCreated) && (r.rolledBack === undefined || !r.rolledBack.every(gone));
      if (leftovers) {
        this.#installed.add(spiPc);
        this.#teardown({ ops: plan.undo, release: plan.work.release, what: 'undo' }, 0);
      } else {
        this.#release(plan.work.release);
      }
      this.#fail(id, plan, failed?.code === 'KERNEL' || failed?.code === 'INVALID_RECORD' ? 'kernel' : 'netlink');
      return;
    }
    this.#installed.add(spiPc);
    ipsec.metrics.setCreated();
    if (!commitSet(ipsec, plan.commit)) {
      this.#teardown({ ops: plan.undo, release: plan.work.release, what: 'undo' }, 0);
      this.#fail(id, plan, 'binding_changed');
      return;
    }
    if (this.#o.deliver(id, plan.then)) {
      this.#o.outcomes.relayed(plan.then.kind === 'reply' ? plan.then.status : 0);
    } else {
      // The 401 cannot reach the UE any more (its transaction ended): the set would never be used.
      changeSets(ipsec, plan.commit.binding as BindingId, (b) => abandon(b, spiPc), 'undo');
      ipsec.metrics.createFailed('undelivered');
    }
    this.#flushNotes();
    if (plan.after !== undefined) this.#teardownLater(plan.after);
  }

  #notSubmitted(id: number, plan: Extract<Plan, { kind: 'kernel' }>, e: unknown): void {
    const code = (e as { code?: unknown } | null)?.code;
    this.#o.log({ level: 'warn', msg: 'an SA set could not be submitted to the netlink worker', fields: { code: String(code), error: e instanceof Error ? e.message : String(e) } });
    // A full queue or an invalid record: nothing reached the kernel. A closed client may have sent
    // part of it: the pair stays taken, and the cleanup at shutdown (deleteOurs) removes the rest.
    if (code === 'NETLINK_QUEUE_FULL' || code === 'XFRM_INVALID_RECORD') this.#release(plan.work.release);
    this.#fail(id, plan, 'netlink');
  }

  #fail(id: number, plan: Extract<Plan, { kind: 'kernel' }>, reason: CreateFailure): void {
    this.#o.ipsec.metrics.createFailed(reason);
    if (this.#o.deliver(id, plan.otherwise)) this.#o.outcomes.refused();
    this.#flushNotes();
    if (plan.after !== undefined) this.#teardownLater(plan.after);
  }

  /** The teardown a plan carries, once its message has had time to leave over the SAs it ends. */
  #teardownLater(works: readonly XfrmWork[]): void {
    this.#begin();
    setTimeout(() => {
      this.teardown(works);
      this.#end();
    }, this.#o.teardownDelayMs);
  }

  /** Starts the teardown the main thread's own contact-table changes noted. */
  #flushNotes(): void {
    const notes = this.#o.ipsec.takeTeardown();
    if (notes !== undefined) this.teardown(notes);
  }

  #teardown(work: XfrmWork, attempt: number): void {
    if (work.ops.length === 0) {
      this.#done(work);
      return;
    }
    this.#begin();
    Promise.all(work.ops.map((op) => this.#o.xfrm.submit([op]).then((g) => g.results[0] ?? asResult('no result'), asResult)))
      .then((results) => {
        const left = work.ops.filter((_, i) => !gone(results[i]!));
        if (left.length === 0) {
          this.#done(work);
          return;
        }
        const failed = results.find((x) => !gone(x));
        this.#o.ipsec.metrics.teardownFailed();
        const delayMs = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(attempt, 6));
        this.#o.log({ level: attempt === 0 ? 'warn' : 'info', msg: 'SA teardown failed; retrying', fields: {
          what: work.what, spiPc: work.release.join(','), left: left.length, attempt, retryInMs: delayMs,
          error: failed !== undefined && !failed.ok ? failed.message : '',
        } });
        this.#retries.push({ work: { ...work, ops: left }, attempt: attempt + 1, dueMs: this.#clock() + delayMs });
      })
      .catch((e: unknown) => this.#o.log({ level: 'error', msg: 'IPsec executor failed on a teardown', fields: { error: String(e) } }))
      .finally(() => this.#end());
  }

  #done(work: XfrmWork): void {
    for (const spiPc of work.release) this.#installed.delete(spiPc);
    this.#release(work.release);
    this.#o.ipsec.metrics.setRemoved(work.what);
  }

  #release(pairs: readonly number[]): void {
    for (const spiPc of pairs) {
      try {
        this.#o.ipsec.spis.release(spiPc);
      } catch (e) {
        if (!(e instanceof SharedStateError)) throw e;
        // Every pair is released by the one party that took its set out of the contact table: a
        // failure here is a bug, logged rather than allowed to stop the process.
        this.#o.log({ level: 'error', msg: 'an SPI pair could not be released', fields: { spiPc, code: e.code, error: e.message } });
      }
    }
  }

  #begin(): void {
    this.#inFlight++;
  }

  #end(): void {
    if (--this.#inFlight > 0) return;
    const waiting = this.#idle;
    this.#idle = [];
    for (const resolve of waiting) resolve();
  }
}
