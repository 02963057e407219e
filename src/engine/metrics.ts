// What the main thread counts: SIP messages in and out by transport and method / status class,
// malformed input, transaction events, overload. One SharedCounters instance written only by the
// main thread (one atomic add per count, cells resolved once), exported with the others.

import type { MetricCell, MetricSpec } from '../shared/counters.js';
import { SharedCounters } from '../shared/counters.js';
import type { TxEvent } from '../transaction/index.js';
import type { Transport } from './plan.js';

const METHODS = ['REGISTER', 'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'MESSAGE', 'SUBSCRIBE', 'NOTIFY', 'PRACK', 'UPDATE', 'INFO', 'REFER', 'PUBLISH', 'other'] as const;
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', '6xx'] as const;
const TRANSPORTS = ['udp', 'tcp'] as const;
const DIRECTIONS = ['in', 'out'] as const;
const TX_KINDS = ['invite-server', 'non-invite-server', 'invite-client', 'non-invite-client'] as const;
const TIMERS = ['B', 'F', 'C', 'H', 'cancel-wait', 'decision-guard'] as const;
const GENERATED = ['408', '487', '500', '503'] as const;
const TX_EVENTS = ['absorbed-request', 'absorbed-ack', 'absorbed-response', 'stray', 'transport-error-client', 'transport-error-server',
  'refused', 'cancel-sent', 'abandoned', 'plan-discarded', 'plan-invalid', 'plan-dropped'] as const;

export const ENGINE_METRICS: readonly MetricSpec[] = [
  { name: 'pcscf_sip_requests_total', help: 'SIP requests received (in) and sent (out), by transport and method.', kind: 'counter',
    labels: { direction: DIRECTIONS, transport: TRANSPORTS, method: METHODS } },
  { name: 'pcscf_sip_responses_total', help: 'SIP responses received (in) and sent (out), by transport and status class.', kind: 'counter',
    labels: { direction: DIRECTIONS, transport: TRANSPORTS, class: CLASSES } },
  { name: 'pcscf_sip_malformed_total', help: 'Messages that failed to parse: requests are answered with the error status, responses dropped.', kind: 'counter',
    labels: { transport: TRANSPORTS, kind: ['request', 'response'] } },
  { name: 'pcscf_transactions_created_total', help: 'Transactions created, by RFC 3261 kind.', kind: 'counter', labels: { kind: TX_KINDS } },
  { name: 'pcscf_transaction_timeouts_total', help: 'Transaction timers that fired as a failure (B, F, C, H) or as a guard.', kind: 'counter', labels: { timer: TIMERS } },
  { name: 'pcscf_generated_responses_total', help: 'Responses the proxy wrote itself (408 / 500 for a failed branch, 487 after CANCEL, 503 at shutdown).', kind: 'counter', labels: { status: GENERATED } },
  { name: 'pcscf_transaction_events_total', help: 'Retransmissions absorbed, stray responses, transport errors and plans the transaction layer could not use.', kind: 'counter', labels: { event: TX_EVENTS } },
  { name: 'pcscf_overload_rejections_total', help: 'New requests answered 503 because workers.max_in_flight messages were already waiting for the logic.', kind: 'counter' },
  { name: 'pcscf_logic_messages_total', help: 'Messages the P-CSCF logic decided, by thread: the main thread (workers: 0, or a batch too small for a hand-off) or a pool worker.',
    kind: 'counter', labels: { thread: ['main', 'worker'] } },
  { name: 'pcscf_logic_failures_total', help: 'Messages of batches the P-CSCF logic failed on (a worker died or threw); requests were answered 500.', kind: 'counter' },
];

function index<T extends string>(list: readonly T[], value: string, fallback: number): number {
  const i = (list as readonly string[]).indexOf(value);
  return i >= 0 ? i : fallback;
}

/** Main-thread counters with their cells resolved once. */
export class EngineMetrics {
  readonly counters = SharedCounters.create(ENGINE_METRICS);
  readonly #requests: MetricCell[] = [];
  readonly #responses: MetricCell[] = [];
  readonly #malformed: MetricCell[] = [];
  readonly #tx = new Map<TxEvent, MetricCell>();
  readonly overload = this.counters.cell('pcscf_overload_rejections_total');
  readonly logicFailures = this.counters.cell('pcscf_logic_failures_total');
  readonly decidedInMain = this.counters.cell('pcscf_logic_messages_total', { thread: 'main' });
  readonly decidedInWorker = this.counters.cell('pcscf_logic_messages_total', { thread: 'worker' });

  constructor() {
    const c = this.counters;
    for (const direction of DIRECTIONS) {
      for (const transport of TRANSPORTS) {
        for (const method of METHODS) this.#requests.push(c.cell('pcscf_sip_requests_total', { direction, transport, method }));
        for (const cls of CLASSES) this.#responses.push(c.cell('pcscf_sip_responses_total', { direction, transport, class: cls }));
      }
    }
    for (const transport of TRANSPORTS) for (const kind of ['request', 'response']) this.#malformed.push(c.cell('pcscf_sip_malformed_total', { transport, kind }));
  }

  /** Counts a message from its start line: a method, or "SIP/2.0 <status>". */
  message(direction: 'in' | 'out', transport: Transport, bytes: Uint8Array): void {
    const base = (direction === 'in' ? 0 : 2) + (transport === 'udp' ? 0 : 1);
    if (isResponse(bytes)) {
      const cls = bytes[8]! - 0x31;
      if (cls >= 0 && cls < CLASSES.length) this.counters.inc(this.#responses[base * CLASSES.length + cls]!);
      return;
    }
    this.counters.inc(this.#requests[base * METHODS.length + index(METHODS, methodOf(bytes), METHODS.length - 1)]!);
  }

  malformed(transport: Transport, request: boolean): void {
    this.counters.inc(this.#malformed[(transport === 'udp' ? 0 : 2) + (request ? 0 : 1)]!);
  }

  txEvent(e: TxEvent): void {
    // Terminations show in the live-transaction gauge (ProxyCore.stats()), not in a counter.
    if (e.type === 'terminated') return;
    let cell = this.#tx.get(e);
    if (cell === undefined) {
      cell = this.#cellOf(e);
      // Events without data are shared constants (src/transaction/events.ts): cache by identity.
      if (e.type !== 'plan-dropped') this.#tx.set(e, cell);
    }
    this.counters.inc(cell);
  }

  #cellOf(e: Exclude<TxEvent, { type: 'terminated' }>): MetricCell {
    const c = this.counters;
    switch (e.type) {
      case 'created': return c.cell('pcscf_transactions_created_total', { kind: e.kind });
      case 'timeout': return c.cell('pcscf_transaction_timeouts_total', { timer: e.timer });
      case 'generated': return c.cell('pcscf_generated_responses_total', { status: String(e.status) });
      case 'absorbed': return c.cell('pcscf_transaction_events_total', { event: `absorbed-${e.what}` });
      case 'transport-error': return c.cell('pcscf_transaction_events_total', { event: `transport-error-${e.side}` });
      default: return c.cell('pcscf_transaction_events_total', { event: e.type });
    }
  }
}

const isResponse = (b: Uint8Array): boolean => b.length > 10 && b[0] === 0x53 && b[1] === 0x49 && b[2] === 0x50 && b[3] === 0x2f;

function methodOf(b: Uint8Array): string {
  let end = 0;
  while (end < b.length && end < 16 && b[end] !== 0x20) end++;
  return Buffer.from(b.buffer, b.byteOffset, end).toString('latin1');
}
