// Helpers of the transaction suites: a fake clock and scheduler, SIP messages written as text, and
// a harness around a ProxyCore with a recording transport and a scripted P-CSCF logic.

import type { Inbound, Plan, RxInfo, Target, TxContext } from '../../src/engine/plan.js';
import { type SipMessage, buildResponse, parseMessage } from '../../src/sip/index.js';
import { ProxyCore, type TransportError, type TxEvent, TimerQueue } from '../../src/transaction/index.js';
import type { Clock, Scheduler } from '../../src/transaction/index.js';
import {
  type ClientFailure, type ClientTransaction, type ClientTransactionUser, type Durations, type ServerFailure,
  type ServerTransaction, type ServerTransactionUser, durations,
} from '../../src/transaction/transaction.js';

/** A clock that only moves when told, and the scheduler that goes with it. */
export class FakeTime implements Clock, Scheduler {
  t = 0;
  readonly #pending = new Set<{ at: number; callback: () => void }>();

  now(): number {
    return this.t;
  }

  schedule(callback: () => void, delayMs: number): unknown {
    const entry = { at: this.t + delayMs, callback };
    this.#pending.add(entry);
    return entry;
  }

  cancel(handle: unknown): void {
    this.#pending.delete(handle as { at: number; callback: () => void });
  }

  /** Scheduler timers armed now (the queue keeps at most one). */
  get armed(): number {
    return this.#pending.size;
  }

  /** Moves the clock by `ms`, running every scheduler callback that falls due on the way, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: { at: number; callback: () => void } | undefined;
      for (const e of this.#pending) if (e.at <= end && (next === undefined || e.at < next.at)) next = e;
      if (next === undefined) break;
      this.#pending.delete(next);
      this.t = Math.max(this.t, next.at);
      next.callback();
    }
    this.t = end;
  }
}

/** A message written with LF line ends, as CRLF octets. */
export function sip(text: string): Buffer {
  return Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1');
}

export function parse(bytes: Uint8Array): SipMessage {
  return parseMessage(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

export interface RequestSpec {
  method: string;
  /** Top Via branch; '' for none (an RFC 2543 client). */
  branch?: string;
  /** Sent-by of the top Via. */
  sentBy?: string;
  transport?: 'UDP' | 'TCP';
  /** Extra Via parameters, e.g. ';rport'. */
  viaParams?: string;
  uri?: string;
  callId?: string;
  seq?: number;
  fromTag?: string;
  toTag?: string;
  extra?: string[];
}

/** A request as a UE (or an RFC 2543 client) would send it. */
export function request(r: RequestSpec): Buffer {
  const branch = r.branch === undefined ? `z9hG4bK-${r.method.toLowerCase()}-1` : r.branch;
  const via = `Via: SIP/2.0/${r.transport ?? 'UDP'} ${r.sentBy ?? '192.0.2.1:5060'}${branch === '' ? '' : `;branch=${branch}`}${r.viaParams ?? ''}`;
  const lines = [
    `${r.method} ${r.uri ?? 'sip:bob@ims.example.net'} SIP/2.0`,
    via,
    'Max-Forwards: 70',
    `From: <sip:alice@ims.example.net>;tag=${r.fromTag ?? 'a1'}`,
    `To: <sip:bob@ims.example.net>${r.toTag === undefined ? '' : `;tag=${r.toTag}`}`,
    `Call-ID: ${r.callId ?? 'call-1@192.0.2.1'}`,
    `CSeq: ${r.seq ?? 1} ${r.method}`,
    ...(r.extra ?? []),
    'Content-Length: 0',
    '',
    '',
  ];
  return sip(lines.join('\n'));
}

/** An ACK for a non-2xx final response to `invite` (what a UAC sends, §17.1.1.3). */
export function ackFor(invite: Uint8Array, response: Uint8Array): Buffer {
  const inv = parse(invite);
  const res = parse(response);
  const to = res.first('to')!;
  return sip([
    `ACK ${inv.requestUri} SIP/2.0`,
    `Via: ${inv.values('via')[0]!.text}`,
    'Max-Forwards: 70',
    `From: ${inv.first('from')!.value}`,
    `To: ${to.value}`,
    `Call-ID: ${inv.callId()}`,
    `CSeq: ${inv.cseq().seq} ACK`,
    'Content-Length: 0',
    '',
    '',
  ].join('\n'));
}

/** A response to `req` (as built by a UAS: every Via, To tag added). */
export function respond(req: Uint8Array, status: number, toTag = 'b1'): Buffer {
  const reasons: Record<number, string> = { 100: 'Trying', 180: 'Ringing', 183: 'Session Progress', 200: 'OK', 401: 'Unauthorized', 404: 'Not Found', 486: 'Busy Here', 487: 'Request Terminated', 603: 'Decline' };
  return buildResponse(parse(req), status, reasons[status] ?? 'Other', { toTag });
}

export const UE_ADDR = '192.0.2.1';
export const CORE_ADDR = '198.51.100.7';
export const PCSCF_ADDR = '192.0.2.10';

export function rxFrom(addr: string, port: number, transport: 'udp' | 'tcp' = 'udp', socketId = 0): RxInfo {
  return { transport, socketId, local: { addr: PCSCF_ADDR, port: 5060 }, remote: { addr, port }, ...(transport === 'tcp' ? { connId: 7 } : {}) };
}

export interface Sent {
  readonly text: string;
  readonly bytes: Uint8Array;
  readonly target: Target;
  readonly onError: ((err: TransportError) => void) | undefined;
}

export const CORE_TARGET: Target = { transport: 'udp', socketId: 0, remote: { addr: CORE_ADDR, port: 5060 } };

export interface HarnessOptions {
  t1?: number;
  t2?: number;
  t4?: number;
  timerC?: number;
  /** Throw from send() for these remote addresses, as if the transport failed at once. */
  failTo?: string[];
  /** ProxyCoreDeps.responseTarget. */
  responseTarget?: (request: SipMessage, rx: RxInfo) => Target;
}

/** A ProxyCore on a fake clock with a recording transport and decide(). */
export class Harness {
  readonly time = new FakeTime();
  readonly timers = new TimerQueue(this.time, this.time);
  readonly sent: Sent[] = [];
  readonly inbound: Inbound[] = [];
  readonly events: TxEvent[] = [];
  readonly core: ProxyCore;
  #branch = 0;

  constructor(opts: HarnessOptions = {}) {
    this.core = new ProxyCore({
      send: (bytes, target, onError) => {
        this.sent.push({ text: Buffer.from(bytes).toString('latin1'), bytes, target, onError });
        if (opts.failTo?.includes(target.remote.addr)) onError?.({ code: 'ECONNREFUSED', message: 'refused' });
      },
      decide: (i) => this.inbound.push(i),
      timers: this.timers,
      t1Ms: opts.t1 ?? 500,
      t2Ms: opts.t2 ?? 4000,
      t4Ms: opts.t4 ?? 5000,
      ...(opts.timerC === undefined ? {} : { timerCMs: opts.timerC }),
      ...(opts.responseTarget === undefined ? {} : { responseTarget: opts.responseTarget }),
      onEvent: (e) => this.events.push(e),
    });
  }

  receive(bytes: Uint8Array, rx: RxInfo): void {
    this.core.receive(parse(bytes), rx);
  }

  /** The last Inbound handed to the logic (and removes it). */
  take(): Inbound {
    const i = this.inbound.shift();
    if (i === undefined) throw new Error('no Inbound pending');
    return i;
  }

  /** Forwards a request Inbound to the core with a Via of the P-CSCF prepended; returns the bytes forwarded. */
  forward(inbound: Inbound, target: Target = CORE_TARGET, context: TxContext = { leg: 'mo' }): Buffer {
    const branch = `z9hG4bK-pcscf-${++this.#branch}`;
    const ed = parse(inbound.bytes).edit();
    ed.prependVia(`SIP/2.0/${target.transport.toUpperCase()} ${PCSCF_ADDR}:5060;branch=${branch}`);
    const bytes = ed.serialize();
    this.core.apply(inbound.id, { kind: 'forward', bytes, target, branch, context });
    return bytes;
  }

  /** Relays a response Inbound upstream without the P-CSCF's Via; returns the bytes sent. */
  relay(inbound: Inbound, target?: Target): Buffer {
    const msg = parse(inbound.bytes);
    const ed = msg.edit();
    ed.removeTopVia();
    const bytes = ed.serialize();
    const plan: Plan = target === undefined ? { kind: 'reply', bytes, status: msg.status } : { kind: 'reply', bytes, status: msg.status, target };
    this.core.apply(inbound.id, plan);
    return bytes;
  }

  advance(ms: number): void {
    this.time.advance(ms);
  }

  /** Texts sent to `addr` since `from` (an index into `sent`). */
  sentTo(addr: string, from = 0): Sent[] {
    return this.sent.slice(from).filter((s) => s.target.remote.addr === addr);
  }

  count(type: TxEvent['type'], pick?: (e: TxEvent) => boolean): number {
    return this.events.filter((e) => e.type === type && (pick === undefined || pick(e))).length;
  }

  /** Nothing left: no transaction, no context, no timer. */
  empty(): boolean {
    const s = this.core.stats();
    return s.serverTx === 0 && s.clientTx === 0 && s.contexts === 0 && s.timers === 0;
  }
}

/** The status line of a text. */
export function statusOf(text: string): number {
  const m = /^SIP\/2\.0 (\d{3}) /.exec(text);
  return m === null ? 0 : Number(m[1]);
}

export function methodOf(text: string): string {
  return text.slice(0, text.indexOf(' '));
}

/** A transaction user that records what the transactions do, for the state machine suites. */
export class FakeUser implements ServerTransactionUser, ClientTransactionUser {
  readonly time = new FakeTime();
  readonly timers = new TimerQueue(this.time, this.time);
  readonly durations: Durations;
  /** Every send: time, text, and the error callback the transaction gave. */
  readonly sends: { at: number; text: string; onError: (err: TransportError) => void }[] = [];
  /** What the transactions told their user, in order: 'up 180', 'failed timer-b', 'timer-c', 'terminated', 'server-failed transport'. */
  readonly log: string[] = [];

  constructor(t1 = 500, t2 = 4000, t4 = 5000, timerC?: number) {
    this.durations = durations(t1, t2, t4, timerC);
  }

  send(bytes: Uint8Array, _target: Target, onError: (err: TransportError) => void): void {
    this.sends.push({ at: this.time.t, text: Buffer.from(bytes).toString('latin1'), onError });
  }

  serverFailed(_tx: ServerTransaction, cause: ServerFailure): void {
    this.log.push(`server-failed ${cause}`);
  }

  serverTerminated(): void {
    this.log.push('terminated');
  }

  clientResponse(_tx: ClientTransaction, msg: SipMessage): void {
    this.log.push(`up ${msg.status}`);
  }

  clientFailed(_tx: ClientTransaction, cause: ClientFailure): void {
    this.log.push(`failed ${cause}`);
  }

  clientTimerC(): void {
    this.log.push('timer-c');
  }

  clientTerminated(): void {
    this.log.push('terminated');
  }

  /** Times of the sends whose text starts with `prefix`. */
  sendTimes(prefix: string): number[] {
    return this.sends.filter((s) => s.text.startsWith(prefix)).map((s) => s.at);
  }

  /** The transport reports a failure of the last send. */
  failLastSend(): void {
    this.sends.at(-1)!.onError({ code: 'ECONNRESET', message: 'reset' });
  }
}
