// What the proxy core reports for counters and debug logs. Events without data are shared constant
// objects, so reporting one allocates nothing.

import type { TxKind } from './transaction.js';

export type TxTimeout = 'B' | 'F' | 'C' | 'H' | 'cancel-wait' | 'decision-guard';
/** Responses the proxy writes itself: 408 and 500 for a failed branch (§16.7 item 6, §16.9), 487 after a CANCEL (§9.2), 500 when no decision came, 503 at shutdown. */
export type GeneratedStatus = 408 | 487 | 500 | 503;

export type TxEvent =
  /** A transaction was created / destroyed. */
  | { readonly type: 'created' | 'terminated'; readonly kind: TxKind }
  /** A request retransmission, an ACK of a non-2xx response, or a response that is not relayed (100, retransmission, late) was absorbed. */
  | { readonly type: 'absorbed'; readonly what: 'request' | 'ack' | 'response' }
  /** A response that matches no client transaction, dropped (RFC 6026 §8.10). */
  | { readonly type: 'stray' }
  | { readonly type: 'timeout'; readonly timer: TxTimeout }
  | { readonly type: 'transport-error'; readonly side: 'client' | 'server' }
  | { readonly type: 'generated'; readonly status: GeneratedStatus }
  /** A new request refused with 503 during shutdown. */
  | { readonly type: 'refused' }
  | { readonly type: 'cancel-sent' }
  /** A server transaction ended without a final response (the P-CSCF logic chose not to answer). */
  | { readonly type: 'abandoned' }
  /** A plan for a server transaction that no longer wants it (answered, cancelled, gone), or a response its state discards. */
  | { readonly type: 'plan-discarded' }
  /** A plan that cannot be applied (unknown kind, bad status, no request line, branch already in use). */
  | { readonly type: 'plan-invalid' }
  | { readonly type: 'plan-dropped'; readonly reason: string };

const ev = <T extends TxEvent>(e: T): T => Object.freeze(e);

const KINDS: readonly TxKind[] = ['invite-server', 'non-invite-server', 'invite-client', 'non-invite-client'];
const TIMEOUTS: readonly TxTimeout[] = ['B', 'F', 'C', 'H', 'cancel-wait', 'decision-guard'];
const GENERATED: readonly GeneratedStatus[] = [408, 487, 500, 503];

function table<K extends string | number>(keys: readonly K[], make: (key: K) => TxEvent): Readonly<Record<K, TxEvent>> {
  return Object.fromEntries(keys.map((key) => [key, make(key)])) as Record<K, TxEvent>;
}

export const EVENTS = {
  created: table(KINDS, (kind) => ev({ type: 'created', kind })),
  terminated: table(KINDS, (kind) => ev({ type: 'terminated', kind })),
  absorbedRequest: ev({ type: 'absorbed', what: 'request' }),
  absorbedAck: ev({ type: 'absorbed', what: 'ack' }),
  absorbedResponse: ev({ type: 'absorbed', what: 'response' }),
  stray: ev({ type: 'stray' }),
  timeout: table(TIMEOUTS, (timer) => ev({ type: 'timeout', timer })),
  transportError: { client: ev({ type: 'transport-error', side: 'client' }), server: ev({ type: 'transport-error', side: 'server' }) },
  generated: table(GENERATED, (status) => ev({ type: 'generated', status })),
  refused: ev({ type: 'refused' }),
  cancelSent: ev({ type: 'cancel-sent' }),
  abandoned: ev({ type: 'abandoned' }),
  planDiscarded: ev({ type: 'plan-discarded' }),
  planInvalid: ev({ type: 'plan-invalid' }),
};
