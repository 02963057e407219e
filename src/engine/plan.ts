// The contract between the main I/O thread and the P-CSCF logic.
//
// The main thread receives bytes, matches them against its transaction table, and hands the
// messages that need a decision to the P-CSCF logic (pool workers, or inline when workers: 0) in
// batches. The logic answers each message with a Plan: plain data (structured-clone safe) that
// the main thread applies. The logic never touches a socket or a timer; the main thread never
// decides routing.

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

/** What to do with one inbound message. */
export type Plan =
  /** Forward a request statefully: the main thread opens a client transaction linked to server transaction `id`. */
  | { readonly kind: 'forward'; readonly bytes: Uint8Array; readonly target: Target; readonly branch: string; readonly context: TxContext }
  /** Send a response upstream through server transaction `id` (relayed or generated). `target` overrides RFC 3261 §18.2.2. */
  | { readonly kind: 'reply'; readonly bytes: Uint8Array; readonly status: number; readonly target?: Target }
  /** Send without a transaction (ACK for a 2xx, a stateless CANCEL). */
  | { readonly kind: 'send'; readonly bytes: Uint8Array; readonly target: Target }
  /** Nothing to send; `reason` is counted and logged at debug level. */
  | { readonly kind: 'drop'; readonly reason: string };

export interface Batch {
  readonly messages: readonly Inbound[];
}
export interface BatchResult {
  /** One plan per message, in order. */
  readonly plans: readonly Plan[];
  /** Events worth a log line at info level or above, logged by the main thread. */
  readonly events: readonly LogEvent[];
}
export interface LogEvent {
  readonly level: 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields?: { readonly [key: string]: string | number | boolean };
}
