// A SIP endpoint of the lab (S-CSCF, UE, test stand-ins): the product's transports, opened in
// groups that come and go (a UE opens its protected ports with its SAs and closes them with the
// SAs), and the product's RFC 3261 non-INVITE transactions on top, so that requests over UDP are
// retransmitted (Timer E), time out (Timer F), and retransmitted requests are answered from the
// server transaction (§17.2.3) instead of being handled twice.
//
// Socket ids in RxInfo and Target are the node's own: unique over all groups and never reused.

import type { RxInfo, Target, Transport } from '../engine/plan.js';
import { buildErrorFromRaw, buildResponse, parseMessage, SipError, type SipMessage } from '../sip/index.js';
import type { ClientTransaction, ClientTransactionUser, ServerTransaction, ServerTransactionUser } from '../transaction/transaction.js';
import { durations } from '../transaction/transaction.js';
import { NonInviteClientTransaction } from '../transaction/non-invite-client.js';
import { NonInviteServerTransaction } from '../transaction/non-invite-server.js';
import { TimerQueue } from '../transaction/timer-queue.js';
import type { TransportError } from '../transaction/errors.js';
import { responseTarget } from '../transaction/response-target.js';
import { DEFAULT_SIP_LIMITS } from '../sip/limits.js';
import type { LocalSocket, SocketRole } from '../transport/index.js';
import { Transports, type TransportOptions } from '../transport/index.js';

export interface SocketSpec {
  readonly transport: Transport;
  /** An IP literal (IPv6 without brackets). */
  readonly addr: string;
  readonly port: number;
  /** Protected sockets bind outbound TCP connections to exactly their port (TS 33.203 §7.1). */
  readonly role: SocketRole;
  /** UDP sockets always receive; a TCP socket accepts connections only when listening. */
  readonly listening: boolean;
}

/** Receives every request that is not a retransmission; it answers through `node.respond(tx, ...)`. */
export type RequestHandler = (msg: SipMessage, rx: RxInfo, tx: ServerTransaction) => void;

/** How a client transaction ended: its final response, or why there was none. */
export type Outcome =
  | { readonly ok: true; readonly response: SipMessage; readonly rx: RxInfo }
  | { readonly ok: false; readonly cause: 'timeout' | 'transport'; readonly message: string };

/** A request ready to send: its octets and what its responses are matched on (RFC 3261 §17.1.3). */
export interface OutgoingRequest {
  readonly bytes: Buffer;
  readonly branch: string;
  readonly method: string;
}

export interface SipNodeOptions {
  /** RFC 3261 T1 / T2 / T4 in ms (500 / 4000 / 5000): Timer F, the wait for a final response, is 64*T1. */
  readonly t1Ms?: number;
  readonly t2Ms?: number;
  readonly t4Ms?: number;
}

interface Group {
  readonly transports: Transports;
  readonly base: number;
  readonly sockets: readonly LocalSocket[];
  readonly onRequest: RequestHandler;
}

/** The sockets one open() call bound, with the node's socket ids. */
export class SocketGroup {
  constructor(readonly id: number, readonly sockets: readonly LocalSocket[]) {}

  /** The socket of this transport, if the group has one. */
  socket(transport: Transport): LocalSocket | undefined {
    return this.sockets.find((s) => s.transport === transport);
  }
}

const LAB_TRANSPORT_OPTIONS: TransportOptions = {
  limits: DEFAULT_SIP_LIMITS,
  idleTimeoutMs: 3_600_000,
  maxConnections: 65536,
  connectTimeoutMs: 10_000,
  maxWriteBufferBytes: 1 << 20,
  closeLingerMs: 1000,
  udpBufferBytes: 1 << 20,
};

const NO_CONTEXT = Object.freeze({});

export class SipNode {
  readonly #groups = new Map<number, Group>();
  /** Node socket id -> its group. */
  readonly #bySocket = new Map<number, Group>();
  readonly #clients = new Map<string, ClientTransaction>();
  readonly #pending = new Map<ClientTransaction, (o: Outcome) => void>();
  readonly #servers = new Map<string, ServerTransaction>();
  #nextSocketId = 0;
  #nextGroupId = 0;
  #closed = false;

  /** What the RFC 3261 §17 state machines of src/transaction need from their user. */
  readonly #host: ClientTransactionUser & ServerTransactionUser;

  constructor(opts: SipNodeOptions = {}) {
    this.#host = {
      timers: new TimerQueue(),
      durations: durations(opts.t1Ms ?? 500, opts.t2Ms ?? 4000, opts.t4Ms ?? 5000),
      send: (bytes, target, onError) => this.#send(bytes, target, onError),
      clientResponse: (tx, msg, rx) => {
        if (msg.status >= 200) this.#settle(tx, { ok: true, response: msg, rx });
      },
      clientFailed: (tx, cause) => this.#settle(tx, cause === 'transport'
        ? { ok: false, cause: 'transport', message: `${tx.method} could not be sent to ${tx.target.remote.addr} port ${tx.target.remote.port}` }
        : { ok: false, cause: 'timeout', message: `no final response to ${tx.method} within 64*T1` }),
      clientTimerC: () => {},
      clientTerminated: (tx) => {
        this.#clients.delete(`${tx.branch} ${tx.method}`);
        this.#settle(tx, { ok: false, cause: 'transport', message: `${tx.method} transaction ended` });
      },
      serverFailed: () => {},
      serverTerminated: (tx) => {
        if (this.#servers.get(tx.key) === tx) this.#servers.delete(tx.key);
      },
    };
  }

  /**
   * Binds a group of sockets; requests arriving on them go to `onRequest`. Rejects with the
   * transports' TransportOpenError (a port in use...) having bound nothing.
   */
  async open(specs: readonly SocketSpec[], onRequest: RequestHandler): Promise<SocketGroup> {
    const local: LocalSocket[] = specs.map((s, id) => ({
      id, transport: s.transport, family: s.addr.includes(':') ? 6 : 4, local: { addr: s.addr, port: s.port },
      role: s.role, side: 'both', advertised: s.addr.includes(':') ? `[${s.addr}]` : s.addr, listening: s.listening,
    }));
    const base = this.#nextSocketId;
    this.#nextSocketId += specs.length;
    let group: Group | undefined;
    const transports = await Transports.open(local, LAB_TRANSPORT_OPTIONS, {
      onMessage: (bytes, rx) => { if (group !== undefined) this.#receive(group, bytes, rx); },
      onStreamError: () => {},
    });
    group = { transports, base, sockets: local.map((s) => ({ ...s, id: s.id + base })), onRequest };
    const id = this.#nextGroupId++;
    this.#groups.set(id, group);
    for (const s of group.sockets) this.#bySocket.set(s.id, group);
    return new SocketGroup(id, group.sockets);
  }

  /** Closes the sockets (and TCP connections) of a group. */
  async closeGroup(g: SocketGroup): Promise<void> {
    const group = this.#groups.get(g.id);
    if (group === undefined) return;
    this.#groups.delete(g.id);
    for (const s of group.sockets) this.#bySocket.delete(s.id);
    await group.transports.close();
  }

  /** Starts a client transaction; resolves with its final response (1xx are skipped) or why there is none. */
  request(req: OutgoingRequest, target: Target): Promise<Outcome> {
    if (this.#closed) return Promise.resolve({ ok: false, cause: 'transport', message: 'the node is closed' });
    const tx = new NonInviteClientTransaction(this.#host, req.branch, req.method, req.bytes, target, 0, NO_CONTEXT);
    this.#clients.set(`${req.branch} ${req.method}`, tx);
    return new Promise((resolve) => {
      this.#pending.set(tx, resolve);
      tx.start();
    });
  }

  /** Sends a response through a server transaction; `target` overrides RFC 3261 §18.2.2 (e.g. symmetric over an SA). */
  respond(tx: ServerTransaction, bytes: Buffer, status: number, target?: Target): void {
    if (target !== undefined) tx.target = target;
    if (tx instanceof NonInviteServerTransaction) tx.respond(bytes, status);
  }

  /** Answers `req` with `status` and no other header than RFC 3261 §8.2.6 copies. */
  reply(tx: ServerTransaction, status: number, reason: string, headers?: readonly (readonly [string, string])[], target?: Target): void {
    this.respond(tx, buildResponse(tx.request, status, reason, headers === undefined ? undefined : { headers }), status, target);
  }

  /** Closes every group; transactions still waiting end with a transport failure. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const tx of [...this.#clients.values()]) tx.destroy();
    for (const tx of [...this.#servers.values()]) tx.destroy();
    await Promise.all([...this.#groups.values()].map((g) => g.transports.close()));
    this.#groups.clear();
    this.#bySocket.clear();
  }

  #settle(tx: ClientTransaction, outcome: Outcome): void {
    const resolve = this.#pending.get(tx);
    if (resolve === undefined) return;
    this.#pending.delete(tx);
    resolve(outcome);
  }

  #send(bytes: Uint8Array, target: Target, onError: (err: TransportError) => void): void {
    const group = this.#bySocket.get(target.socketId);
    if (group === undefined) {
      process.nextTick(onError, { code: 'TRANSPORT_NO_SOCKET', message: `socket ${target.socketId} is closed` });
      return;
    }
    group.transports.send(bytes, { ...target, socketId: target.socketId - group.base }, onError);
  }

  #receive(group: Group, bytes: Buffer, transportRx: RxInfo): void {
    const rx: RxInfo = { ...transportRx, socketId: transportRx.socketId + group.base };
    let msg: SipMessage;
    try {
      msg = parseMessage(bytes, { framing: rx.transport === 'tcp' ? 'stream' : 'datagram' });
    } catch (e) {
      if (!(e instanceof SipError)) throw e;
      const answer = buildErrorFromRaw(bytes, e);
      if (answer !== undefined) this.#send(answer, { transport: rx.transport, socketId: rx.socketId, remote: rx.remote, connId: rx.connId }, () => {});
      return;
    }
    if (!msg.isRequest) {
      this.#clients.get(`${msg.topVia().branch} ${msg.cseq().method}`)?.receive(msg, rx);
      return;
    }
    // No INVITE dialog in the lab: an ACK has nothing to acknowledge.
    if (msg.method === 'ACK') return;
    const key = `${msg.topVia().branch ?? `${msg.callId()} ${msg.cseq().seq}`} ${msg.method}`;
    const known = this.#servers.get(key);
    if (known !== undefined) {
      if (known instanceof NonInviteServerTransaction) known.retransmission();
      return;
    }
    if (msg.method === 'INVITE') {
      // No INVITE transaction either: one 501, sent statelessly (RFC 3261 §8.2.2.1 style refusal).
      this.#send(buildResponse(msg, 501, 'Not Implemented'), responseTarget(msg, rx), () => {});
      return;
    }
    const tx = new NonInviteServerTransaction(this.#host, msg, rx, 0, key, false);
    // RFC 3261 §18.2.2: over TCP "the response MUST be sent using the existing connection to the
    // source of the original request", whatever port the Via names (the transports' default
    // target would open a new connection when the two differ).
    if (rx.transport === 'tcp') tx.target = { transport: 'tcp', socketId: rx.socketId, remote: rx.remote, ...(rx.connId === undefined ? {} : { connId: rx.connId }) };
    this.#servers.set(key, tx);
    group.onRequest(msg, rx, tx);
  }
}
