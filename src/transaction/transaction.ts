// What the four state machines share: the durations of their timers, the services their user
// (the proxy core) gives them, and the check that a transition is one of their figure's.

import type { SipMessage } from '../sip/index.js';
import type { RxInfo, Target } from '../engine/plan.js';
import { TransactionError, type TransportError } from './errors.js';
import type { InviteClientTransaction } from './invite-client.js';
import type { InviteServerTransaction } from './invite-server.js';
import type { NonInviteClientTransaction } from './non-invite-client.js';
import type { NonInviteServerTransaction } from './non-invite-server.js';
import type { TimerQueue } from './timer-queue.js';

export type TxKind = 'invite-server' | 'non-invite-server' | 'invite-client' | 'non-invite-client';

/** §16.6 item 11: Timer C "MUST be larger than 3 minutes". */
export const DEFAULT_TIMER_C_MS = 181_000;

/** Every timer value, from T1, T2, T4 (RFC 3261 Table 4, RFC 6026 §8.4 and §8.7). */
export interface Durations {
  readonly t1: number;
  readonly t2: number;
  readonly t4: number;
  /** Timers B, F, H, J (unreliable), L, M, the CANCEL wait of §9.1 and the decision guard: 64*T1. */
  readonly t1x64: number;
  /** §17.1.1.2: Timer D is "at least 32 seconds for unreliable transports"; it stands for Timer H (64*T1) of the server. */
  readonly d: number;
  readonly c: number;
}

export function durations(t1: number, t2: number, t4: number, timerC = DEFAULT_TIMER_C_MS): Durations {
  const ok = (v: number): boolean => Number.isFinite(v) && v > 0;
  if (!ok(t1) || !ok(t2) || !ok(t4) || t2 < t1) throw new TransactionError('TX_BAD_CONFIG', `T1, T2, T4 must be > 0 with T2 >= T1 (got ${t1}, ${t2}, ${t4})`);
  if (!(Number.isFinite(timerC) && timerC > 180_000)) throw new TransactionError('TX_BAD_CONFIG', `Timer C must be larger than 3 minutes (got ${timerC} ms)`);
  return { t1, t2, t4, t1x64: 64 * t1, d: Math.max(32_000, 64 * t1), c: timerC };
}

/** What a transaction needs from its user: the timer queue, the durations, the transports. */
export interface TransactionHost {
  readonly timers: TimerQueue;
  readonly durations: Durations;
  send(bytes: Uint8Array, target: Target, onError: (err: TransportError) => void): void;
}

/** Why a client transaction ended without passing a final response up. */
export type ClientFailure = 'timer-b' | 'timer-f' | 'timer-c' | 'cancel-wait' | 'transport';

/** A server transaction's reasons to "inform the TU" (RFC 3261 §17.2.1, §17.2.4). */
export type ServerFailure = 'timer-h' | 'transport';

export interface ServerTransactionUser extends TransactionHost {
  /** The transaction informs its user of a failure (Timer H, a transport error); RFC 6026 Figure 7 may keep it alive. */
  serverFailed(tx: ServerTransaction, cause: ServerFailure): void;
  /** The transaction is in "Terminated": "it MUST be destroyed immediately" (§17.2.1, §17.2.2). */
  serverTerminated(tx: ServerTransaction): void;
}

export interface ClientTransactionUser extends TransactionHost {
  /** A response the transaction passes up (§17.1.1.2, §17.1.2.2, RFC 6026 §8.4). */
  clientResponse(tx: ClientTransaction, msg: SipMessage, rx: RxInfo): void;
  /** The transaction ends without having passed a final response up (a timeout or a transport error). */
  clientFailed(tx: ClientTransaction, cause: ClientFailure): void;
  /** Timer C fired (§16.8): the proxy cancels the branch, or ends it as if it had received a 408. */
  clientTimerC(tx: InviteClientTransaction): void;
  /** The transaction is in "Terminated": "it MUST be destroyed immediately" (§17.1.1.2, §17.1.2.2). */
  clientTerminated(tx: ClientTransaction): void;
}

export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;
export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;

/** Throws if `to` is not reachable from `from` in `edges` (a bug, never bad input). */
export function checkTransition<S extends string>(kind: TxKind, edges: Readonly<Record<S, readonly S[]>>, from: S, to: S): void {
  if (!edges[from].includes(to)) throw new TransactionError('TX_ILLEGAL_TRANSITION', `${kind} transaction: ${from} -> ${to}`);
}

/** A view of `bytes` as a Buffer (no copy), for the SIP layer. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;

/**
 * The method of a request from its request line ('' unless the octets start with a token and a SP).
 * A method is a token of any length (RFC 3261 §25.1; RFC 4475 §3.1.1.2 uses one of 43 octets), so
 * the SP is looked for without a bound: every request line has one.
 */
export function requestMethod(bytes: Uint8Array): string {
  const sp = bytes.indexOf(0x20);
  if (sp <= 0) return '';
  const method = asBuffer(bytes).toString('latin1', 0, sp);
  return TOKEN.test(method) ? method : '';
}
