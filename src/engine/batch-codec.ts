// The pool hand-off in flat buffers: a batch of inbound messages, and the plans that answer it,
// as one array of numbers, one array of strings and one buffer holding every message's octets.
//
// A structured clone of the objects themselves costs per object and per property on both sides
// (measured in the running P-CSCF: 2-7 us per inbound message to post, as much again to read;
// nested objects are most of it: rx, its endpoints, the request of a response, the context), and
// it did so in the main thread, the one that must stay free for I/O. Flat, the main thread copies
// each message's octets once into a batch buffer that is transferred, not cloned, and writes a
// few numbers; the other side rebuilds the objects it needs.
//
// Numbers travel as float64: transaction and connection ids are counters that pass 2^31 on a
// long-running P-CSCF. Plans that carry kernel work (kind 'kernel', or `after`) are rare and
// deep; they go as themselves, by structured clone, in `rare`.

import type { BatchResult, Endpoint, Inbound, LogEvent, Plan, RxInfo, Target, Transport, TxContext } from './plan.js';

/** A batch of inbound messages as the pool worker receives it. */
export interface WireBatch {
  readonly count: number;
  readonly numbers: Float64Array;
  readonly text: readonly string[];
  /** Every message's octets, back to back. */
  readonly octets: Uint8Array;
}

/** The plans for a WireBatch, in order, as the main thread receives them. */
export interface WireResult {
  readonly count: number;
  readonly numbers: Float64Array;
  readonly text: readonly string[];
  readonly octets: Uint8Array;
  /** The plans that are not flat, referred to by index. */
  readonly rare: readonly Plan[];
  readonly events: readonly LogEvent[];
  readonly busyMs: number;
}

/** What must move rather than be copied when posting a wire batch. */
export function transferList(w: WireBatch): ArrayBuffer[] {
  return [w.numbers.buffer as ArrayBuffer, w.octets.buffer as ArrayBuffer];
}

const UDP = 0;
const TCP = 1;
const REQUEST = 0;
const RESPONSE = 1;
/** Numbers per message: kind, id, octets (offset, length), rx (5); a response adds the request's octets, its rx (5) and the context. */
const MAX_NUMBERS_PER_MESSAGE = 2 + 2 + 5 + 2 + 5;

const FORWARD = 0;
const REPLY = 1;
const SEND = 2;
const DROP = 3;
const RARE = 4;
/** Numbers per plan at most: kind, octets (offset, length), status, target (6). */
const MAX_NUMBERS_PER_PLAN = 1 + 2 + 1 + 6;

const transportCode = (t: Transport): number => (t === 'udp' ? UDP : TCP);
const transportOf = (n: number): Transport => (n === UDP ? 'udp' : 'tcp');

/** Appends numbers, strings and octets to a wire message under construction. */
class Writer {
  readonly numbers: Float64Array;
  readonly text: string[] = [];
  readonly octets: Uint8Array;
  #n = 0;
  #o = 0;

  constructor(numbers: number, octets: number) {
    this.numbers = new Float64Array(numbers);
    this.octets = new Uint8Array(octets);
  }

  number(x: number): void {
    this.numbers[this.#n++] = x;
  }

  bytes(b: Uint8Array): void {
    this.octets.set(b, this.#o);
    this.number(this.#o);
    this.number(b.byteLength);
    this.#o += b.byteLength;
  }

  /** rx: transport, socket, local port, remote port, connection (-1: none); the addresses as text. */
  rx(rx: RxInfo): void {
    this.number(transportCode(rx.transport));
    this.number(rx.socketId);
    this.number(rx.local.port);
    this.number(rx.remote.port);
    this.number(rx.connId ?? -1);
    this.text.push(rx.local.addr, rx.remote.addr);
  }

  /** A target: transport, socket, remote port, connection (-1: none), reuse-only; the remote address as text. */
  target(t: Target): void {
    this.number(transportCode(t.transport));
    this.number(t.socketId);
    this.number(t.remote.port);
    this.number(t.connId ?? -1);
    this.number(t.reuseOnly === true ? 1 : 0);
    this.text.push(t.remote.addr);
  }
}

/** Reads back what a Writer wrote, in the same order. */
class Reader {
  #n = 0;
  #t = 0;

  constructor(
    private readonly numbers: Float64Array,
    private readonly text: readonly string[],
    private readonly octets: Uint8Array,
  ) {}

  number(): number {
    return this.numbers[this.#n++]!;
  }

  string(): string {
    return this.text[this.#t++]!;
  }

  /** A view of the batch buffer, not a copy. */
  bytes(): Uint8Array {
    const offset = this.number();
    const length = this.number();
    return this.octets.subarray(offset, offset + length);
  }

  rx(): RxInfo {
    const transport = transportOf(this.number());
    const socketId = this.number();
    const localPort = this.number();
    const remotePort = this.number();
    const connId = this.number();
    const local: Endpoint = { addr: this.string(), port: localPort };
    const remote: Endpoint = { addr: this.string(), port: remotePort };
    return connId < 0 ? { transport, socketId, local, remote } : { transport, socketId, local, remote, connId };
  }

  target(): Target {
    const transport = transportOf(this.number());
    const socketId = this.number();
    const port = this.number();
    const connId = this.number();
    const reuseOnly = this.number() === 1;
    const remote: Endpoint = { addr: this.string(), port };
    const t: { -readonly [K in keyof Target]: Target[K] } = { transport, socketId, remote };
    if (connId >= 0) t.connId = connId;
    if (reuseOnly) t.reuseOnly = true;
    return t;
  }
}

export function encodeBatch(messages: readonly Inbound[]): WireBatch {
  let octets = 0;
  for (const m of messages) octets += m.bytes.byteLength + (m.kind === 'response' ? m.request.bytes.byteLength : 0);
  const w = new Writer(messages.length * MAX_NUMBERS_PER_MESSAGE, octets);
  for (const m of messages) {
    w.number(m.kind === 'request' ? REQUEST : RESPONSE);
    w.number(m.id);
    w.bytes(m.bytes);
    w.rx(m.rx);
    if (m.kind === 'response') {
      w.bytes(m.request.bytes);
      w.rx(m.request.rx);
      w.text.push(JSON.stringify(m.context));
    }
  }
  return { count: messages.length, numbers: w.numbers, text: w.text, octets: w.octets };
}

export function decodeBatch(wire: WireBatch): Inbound[] {
  const r = new Reader(wire.numbers, wire.text, wire.octets);
  const messages = new Array<Inbound>(wire.count);
  for (let i = 0; i < wire.count; i++) {
    const kind = r.number();
    const id = r.number();
    const bytes = r.bytes();
    const rx = r.rx();
    if (kind === REQUEST) {
      messages[i] = { kind: 'request', id, bytes, rx };
      continue;
    }
    const request = { bytes: r.bytes(), rx: r.rx() };
    messages[i] = { kind: 'response', id, bytes, rx, request, context: JSON.parse(r.string()) as TxContext };
  }
  return messages;
}

/** A plan that travels flat: a SIP plan without kernel work. */
function flat(p: Plan): p is Exclude<Plan, { kind: 'kernel' }> {
  return p.kind !== 'kernel' && p.after === undefined;
}

export function encodeResult(result: BatchResult, busyMs: number): WireResult {
  let octets = 0;
  for (const p of result.plans) if (flat(p) && p.kind !== 'drop') octets += p.bytes.byteLength;
  const w = new Writer(result.plans.length * MAX_NUMBERS_PER_PLAN, octets);
  const rare: Plan[] = [];
  for (const p of result.plans) {
    if (!flat(p)) {
      w.number(RARE);
      w.number(rare.push(p) - 1);
      continue;
    }
    switch (p.kind) {
      case 'forward':
        w.number(FORWARD);
        w.bytes(p.bytes);
        w.target(p.target);
        w.text.push(p.branch, JSON.stringify(p.context));
        break;
      case 'reply':
        w.number(REPLY);
        w.bytes(p.bytes);
        w.number(p.status);
        w.number(p.target === undefined ? 0 : 1);
        if (p.target !== undefined) w.target(p.target);
        break;
      case 'send':
        w.number(SEND);
        w.bytes(p.bytes);
        w.target(p.target);
        break;
      case 'drop':
        w.number(DROP);
        w.text.push(p.reason);
        break;
    }
  }
  return { count: result.plans.length, numbers: w.numbers, text: w.text, octets: w.octets, rare, events: result.events, busyMs };
}

export function decodeResult(wire: WireResult): BatchResult {
  const r = new Reader(wire.numbers, wire.text, wire.octets);
  const plans = new Array<Plan>(wire.count);
  for (let i = 0; i < wire.count; i++) {
    const kind = r.number();
    if (kind === RARE) {
      plans[i] = wire.rare[r.number()]!;
    } else if (kind === FORWARD) {
      const bytes = r.bytes();
      const target = r.target();
      plans[i] = { kind: 'forward', bytes, target, branch: r.string(), context: JSON.parse(r.string()) as TxContext };
    } else if (kind === REPLY) {
      const bytes = r.bytes();
      const status = r.number();
      plans[i] = r.number() === 1 ? { kind: 'reply', bytes, status, target: r.target() } : { kind: 'reply', bytes, status };
    } else if (kind === SEND) {
      const bytes = r.bytes();
      plans[i] = { kind: 'send', bytes, target: r.target() };
    } else {
      plans[i] = { kind: 'drop', reason: r.string() };
    }
  }
  return { plans, events: wire.events, busyMs: wire.busyMs };
}
