// The contract between the main I/O thread and the P-CSCF logic.
//
// The main thread receives bytes, matches them against its transaction table, and hands the
// messages that need a decision to the P-CSCF logic (pool workers, or inline when workers: 0) in
// batches. The logic answers each message with a Plan: plain data (structured-clone safe) that
// the main thread applies. The logic never touches a socket or a timer; the main thread never
// decides routing.

import type { XfrmOp } from '../netlink/xfrm-types.js';
import type { SaSet } from '../shared/binding.js';

export type Transport = 'udp' | 'tcp';

/** An IP endpoint. `addr` is an IP literal; IPv6 without brackets. */
export interface Endpoint {
  readonly addr: string;
  readonly port: number;
}

/** Where a message came from and on which local socket it arrived. */
export interface RxInfo {
  readonly transport: Transport;
  /** Registry id of the local socket (UDP socket or TCP listener / local endpoint). */
  readonly socketId: number;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** TCP only: the connection it arrived on. */
  readonly connId?: number;
}

/** Where and how to send. The main thread sends from exactly this local socket. */
export interface Target {
  readonly transport: Transport;
  /** Registry id of the local socket to send from (UDP) or whose address and port a new TCP connection binds to. */
  readonly socketId: number;
  readonly remote: Endpoint;
  /** TCP: prefer this connection while it is open. */
  readonly connId?: number;
  /** TCP: never open a new connection for this message (fail with a transport error instead). */
  readonly reuseOnly?: boolean;
}

/** Opaque data the logic attaches to a client transaction; it comes back with every response. */
export type TxContext = { readonly [key: string]: string | number | boolean | undefined };

/** A message that needs a decision. `id` names the server transaction (requests and the responses relayed to it). */
export type Inbound =
  | { readonly kind: 'request'; readonly id: number; readonly bytes: Uint8Array; readonly rx: RxInfo }
  | {
      readonly kind: 'response';
      readonly id: number;
      readonly bytes: Uint8Array;
      readonly rx: RxInfo;
      /** The request as the P-CSCF received it from upstream, and where from. */
      readonly request: { readonly bytes: Uint8Array; readonly rx: RxInfo };
      readonly context: TxContext;
    };

/**
 * Kernel work the main thread does for the logic (the logic never talks to the netlink worker).
 * `ops` are submitted through the netlink worker: a creation as one group (rolled back as a whole
 * when an op fails), a teardown op by op (every delete is tried, whatever happened to the others).
 */
export interface XfrmWork {
  readonly ops: readonly XfrmOp[];
  /**
   * SPI pairs (by spi_pc) the work concerns, released by the main thread: for a creation when it
   * failed and nothing of it is left in the kernel; for a teardown once its deletes are done.
   */
  readonly release: readonly number[];
  /** Why, for logs and metrics. */
  readonly what: XfrmWhy;
}

/** Why SAs are created or removed. */
export type XfrmWhy =
  | 'register' // ipsecCreate on a 401 / 407
  | 'superseded' // an unconfirmed set replaced by a newer one (ipsec_create flag 0x01)
  | 'replaced' // the previous set once a re-registration over the new one was accepted (TS 33.203 §7.4)
  | 'refused' // the registrar refused the REGISTER that came over a new set
  | 'deregistered' // the binding was removed by the registrar's answer
  | 'expired' // the binding expired
  | 'temporary' // a set never confirmed within security.temporary_sa_timeout_s
  | 'moved' // the UE registered the binding again from another address
  | 'unprotected' // the UE registered again without IPsec
  | 'admin' // ipsecDestroy / ipsecDestroyByContact
  | 'undo'; // a set created for a 401 that could not be delivered or stored

/** What a successful creation makes of the binding it is for (applied by the main thread). */
export interface BindingCommit {
  /** The binding (BindingId of the contact table). */
  readonly binding: number;
  /** The UE address the set was built for: the commit fails when the binding has moved to another one. */
  readonly ueAddr: string;
  readonly set: SaSet;
  /** The spi_pc of the superseded set whose SAs the plan's `before` deleted: only its SPI pair is owed. */
  readonly deleted?: number;
}

/** A plan other than `kernel`: what the main thread hands to the transaction layer. */
export type SipPlan =
  /** Forward a request statefully: the main thread opens a client transaction linked to server transaction `id`. */
  | { readonly kind: 'forward'; readonly bytes: Uint8Array; readonly target: Target; readonly branch: string; readonly context: TxContext; readonly after?: readonly XfrmWork[] }
  /** Send a response upstream through server transaction `id` (relayed or generated). `target` overrides RFC 3261 §18.2.2. */
  | { readonly kind: 'reply'; readonly bytes: Uint8Array; readonly status: number; readonly target?: Target; readonly after?: readonly XfrmWork[] }
  /** Send without a transaction (ACK for a 2xx, a stateless CANCEL). */
  | { readonly kind: 'send'; readonly bytes: Uint8Array; readonly target: Target; readonly after?: readonly XfrmWork[] }
  /** Nothing to send; `reason` is counted and logged at debug level. */
  | { readonly kind: 'drop'; readonly reason: string; readonly after?: readonly XfrmWork[] };

/**
 * What to do with one inbound message. `after` (any kind): kernel work to start once the message
 * was handed to the transports (or dropped): the teardown of the SA sets the decision removed from
 * the contact table, e.g. after the 200 to a de-REGISTER, which leaves over those SAs. Its
 * failures are logged, counted and retried, and never hold SIP back.
 */
export type Plan =
  | SipPlan
  /**
   * DESIGN.md invariant 1, kernel before the 401: submit `work` (the SAs and policies of a new set)
   * as one group; only when the kernel has acknowledged all of it, apply `commit` to the contact
   * table and then `then` (the 401 with Security-Server). When the kernel refuses, or the commit
   * or `then` cannot be carried out, nothing of the set is left: `undo` removes it, `work.release`
   * frees its SPI pair, and `otherwise` (security.create_failure_status) answers instead.
   */
  | {
      readonly kind: 'kernel';
      /**
       * Deletes tried (each on its own, whatever their outcome) before `work`: ipsec_create flag
       * 0x01, the binding's unconfirmed set that the new one supersedes, so that a UE that offers
       * the same SPIs again (an SQN resynchronisation) does not collide with it in the kernel.
       * Its SPI pair is released when the commit takes it out of the binding (commit.deleted).
       */
      readonly before?: readonly XfrmOp[];
      readonly work: XfrmWork;
      readonly undo: readonly XfrmOp[];
      readonly commit: BindingCommit;
      readonly then: SipPlan;
      readonly otherwise: SipPlan;
      readonly after?: readonly XfrmWork[];
    };

export interface Batch {
  readonly messages: readonly Inbound[];
}
export interface BatchResult {
  /** One plan per message, in order. */
  readonly plans: readonly Plan[];
  /** Events worth a log line at info level or above, logged by the main thread. */
  readonly events: readonly LogEvent[];
  /** Pool workers: milliseconds the worker spent deciding the batch (pcscf_pool_utilization). */
  readonly busyMs?: number;
}
export interface LogEvent {
  readonly level: 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields?: { readonly [key: string]: string | number | boolean };
}
