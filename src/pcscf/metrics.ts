// The counters the P-CSCF logic increments, declared for SharedCounters (src/shared/counters.ts):
// the lead creates one SharedCounters from PCSCF_METRICS in the main thread, every worker attaches
// to its buffer, and PcscfMetrics resolves each cell once so that counting is one atomic add.

import { IPSEC_METRICS } from '../ipsec/metrics.js';
import type { MetricCell, MetricSpec, SharedCounters } from '../shared/counters.js';

/** Methods counted by name; any other is counted as "other" (the label set is fixed). */
export const COUNTED_METHODS = [
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'MESSAGE', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'REFER',
  'INFO', 'UPDATE', 'PRACK', 'other',
] as const;

export type Direction = 'originating' | 'terminating' | 'register';
export type RegistrationOutcome = 'initial' | 're' | 'de';

/** Why a request was answered with an error instead of being forwarded. */
export type RejectReason =
  | 'malformed' // a message the parser let through but the flow cannot use (400)
  | 'too_many_hops' // Max-Forwards 0 (483, RFC 3261 §16.3 item 3)
  | 'unsupported_extension' // Proxy-Require with a tag we do not support (420, RFC 3261 §16.3 item 5)
  | 'sec_agree_required' // security.require_sec_agree and no Security-Client (421 / 494, RFC 3329 §2.3)
  | 'sec_agree_no_offer' // a Security-Client without an acceptable ipsec-3gpp offer (494)
  | 'ipsec_unavailable' // IPsec SAs cannot be created (security.create_failure_status)
  | 'security_verify' // a protected REGISTER whose Security-Verify or Security-Client does not match (494, RFC 3329 §2.3.1)
  | 'protected_port' // a request on a protected port that came over no SA set of ours (403)
  | 'unprotected' // a request of a UE registered with IPsec that did not come over its SAs (sip.unregistered_status)
  | 'other_identity' // a REGISTER of another AOR over the SAs of a registration (403)
  | 'capacity' // the contact table has no room for the binding (503)
  | 'registrar' // the registrar refused the REGISTER (its final response relayed)
  | 'unregistered' // originating request from a UE without a registered binding (sip.unregistered_status)
  | 'unknown_target' // terminating request for no registered binding (480)
  | 'from_core' // REGISTER received from a trusted core node (403)
  | 'no_socket' // no local socket for the next hop's transport and address family (503)
  | 'internal_error'; // a bug in the logic (500)

export const REJECT_REASONS: readonly RejectReason[] = [
  'malformed', 'too_many_hops', 'unsupported_extension', 'sec_agree_required', 'sec_agree_no_offer', 'ipsec_unavailable',
  'security_verify', 'protected_port', 'unprotected', 'other_identity', 'capacity', 'registrar', 'unregistered', 'unknown_target', 'from_core', 'no_socket', 'internal_error',
];

/** Why a message was dropped without an answer. */
export type DropReason =
  | 'malformed_request' // a request that does not parse and cannot be answered (no Via, From, To, Call-ID or CSeq, or an ACK)
  | 'malformed_response' // a response that does not parse (RFC 3261 §16.7: dropped)
  | 'stray_via' // a response whose top Via is not ours (RFC 3261 §16.7 item 3 / §18.1.2)
  | 'trying' // 100 Trying is never forwarded by a stateful proxy (RFC 3261 §16.7 item 5)
  | 'no_transaction' // a message that needs a server transaction arrived without one
  | 'unroutable_ack' // an ACK for a 2xx that cannot be routed (an ACK is never answered)
  | 'protected_port' // a response on a protected port that came over no SA set of ours
  | 'no_security_association' // a reply to a UE's protected request whose SA set is gone (it never leaves unprotected)
  | 'internal_error'; // a bug in the logic while handling a response or an ACK

export const DROP_REASONS: readonly DropReason[] = [
  'malformed_request', 'malformed_response', 'stray_via', 'trying', 'no_transaction', 'unroutable_ack', 'protected_port', 'no_security_association', 'internal_error',
];

/** Why a 2xx to a REGISTER could not be stored (the 2xx is relayed all the same). */
export type BindingErrorReason = 'capacity' | 'invalid';

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', '6xx'] as const;

export const PCSCF_METRICS: readonly MetricSpec[] = [
  {
    name: 'pcscf_registrations_total',
    help: 'REGISTER transactions answered 2xx by the registrar, by outcome: initial, re- or de-registration',
    kind: 'counter',
    labels: { outcome: ['initial', 're', 'de'] },
  },
  {
    name: 'pcscf_registrations_rejected_total',
    help: 'REGISTER requests refused by the P-CSCF or by the registrar, by reason',
    kind: 'counter',
    labels: { reason: REJECT_REASONS },
  },
  {
    name: 'pcscf_requests_rejected_total',
    help: 'Requests other than REGISTER answered with an error by the P-CSCF, by reason',
    kind: 'counter',
    labels: { reason: REJECT_REASONS },
  },
  {
    name: 'pcscf_requests_routed_total',
    help: 'Requests forwarded, by direction (originating, terminating, register) and method',
    kind: 'counter',
    labels: { direction: ['originating', 'terminating', 'register'], method: COUNTED_METHODS },
  },
  {
    name: 'pcscf_responses_relayed_total',
    help: 'Responses relayed upstream, by status class',
    kind: 'counter',
    labels: { class: STATUS_CLASSES },
  },
  {
    name: 'pcscf_messages_dropped_total',
    help: 'Messages dropped without an answer, by reason',
    kind: 'counter',
    labels: { reason: DROP_REASONS },
  },
  {
    name: 'pcscf_binding_errors_total',
    help: 'Registrations the registrar accepted but the contact table could not store, by reason',
    kind: 'counter',
    labels: { reason: ['capacity', 'invalid'] },
  },
  ...IPSEC_METRICS,
];

function cells<K extends string>(counters: SharedCounters, name: string, label: string, values: readonly K[]): Record<K, MetricCell> {
  const out = {} as Record<K, MetricCell>;
  for (const v of values) out[v] = counters.cell(name, { [label]: v });
  return out;
}

/** The cells of PCSCF_METRICS in one SharedCounters, resolved once. */
export class PcscfMetrics {
  private readonly registrations: Record<RegistrationOutcome, MetricCell>;
  private readonly registrationsRejected: Record<RejectReason, MetricCell>;
  private readonly requestsRejected: Record<RejectReason, MetricCell>;
  private readonly routed: Record<Direction, Map<string, MetricCell>>;
  private readonly relayed: MetricCell[];
  private readonly dropped: Record<DropReason, MetricCell>;
  private readonly bindingErrors: Record<BindingErrorReason, MetricCell>;

  constructor(private readonly counters: SharedCounters) {
    this.registrations = cells(counters, 'pcscf_registrations_total', 'outcome', ['initial', 're', 'de']);
    this.registrationsRejected = cells(counters, 'pcscf_registrations_rejected_total', 'reason', REJECT_REASONS);
    this.requestsRejected = cells(counters, 'pcscf_requests_rejected_total', 'reason', REJECT_REASONS);
    const byMethod = (direction: Direction): Map<string, MetricCell> =>
      new Map(COUNTED_METHODS.map((method) => [method, counters.cell('pcscf_requests_routed_total', { direction, method })]));
    this.routed = { originating: byMethod('originating'), terminating: byMethod('terminating'), register: byMethod('register') };
    this.relayed = STATUS_CLASSES.map((c) => counters.cell('pcscf_responses_relayed_total', { class: c }));
    this.dropped = cells(counters, 'pcscf_messages_dropped_total', 'reason', DROP_REASONS);
    this.bindingErrors = cells(counters, 'pcscf_binding_errors_total', 'reason', ['capacity', 'invalid']);
  }

  registration(outcome: RegistrationOutcome): void {
    this.counters.inc(this.registrations[outcome]);
  }

  rejected(method: string, reason: RejectReason): void {
    this.counters.inc(method === 'REGISTER' ? this.registrationsRejected[reason] : this.requestsRejected[reason]);
  }

  routedRequest(direction: Direction, method: string): void {
    const byMethod = this.routed[direction];
    this.counters.inc(byMethod.get(method) ?? byMethod.get('other')!);
  }

  relayedResponse(status: number): void {
    this.counters.inc(this.relayed[Math.floor(status / 100) - 1]!);
  }

  droppedMessage(reason: DropReason): void {
    this.counters.inc(this.dropped[reason]);
  }

  bindingError(reason: BindingErrorReason): void {
    this.counters.inc(this.bindingErrors[reason]);
  }
}
