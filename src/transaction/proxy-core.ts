// The stateful proxy core (RFC 3261 §16) around the transaction layer (§17): it matches every
// parsed message against the transaction table, answers what the transaction layer answers
// itself (retransmissions, ACKs of non-2xx responses, 100 Trying, CANCEL), hands every new request
// and every response to relay to the P-CSCF logic, and applies the Plans that come back. One
// response context (§16.2) per server transaction links it to the client transactions the logic
// forwarded it on.
//
// Everything runs on the main thread; `decide` may hand a message to a worker and `apply` may come
// back later, in any order, or (inline logic) from inside `decide`.

import { randomBytes } from 'node:crypto';
import type { Inbound, Plan, RxInfo, Target } from '../engine/plan.js';
import { type SipMessage, SipError, buildCancel, buildResponse, parseMessage } from '../sip/index.js';
import type { TransportError } from './errors.js';
import { EVENTS, type GeneratedStatus, type TxEvent } from './events.js';
import { InviteClientTransaction } from './invite-client.js';
import { InviteServerTransaction } from './invite-server.js';
import { NonInviteClientTransaction } from './non-invite-client.js';
import { NonInviteServerTransaction } from './non-invite-server.js';
import { responseTarget } from './response-target.js';
import { TransactionTable, cookieBranch, legacyKey } from './table.js';
import { Timer, type TimerOwner, type TimerQueue } from './timer-queue.js';
import {
  type ClientFailure, type ClientTransaction, type ClientTransactionUser, type Durations, type ServerFailure,
  type ServerTransaction, type ServerTransactionUser, asBuffer, durations, requestMethod,
} from './transaction.js';

export interface ProxyCoreDeps {
  /** The transports: send from `target.socketId` (a new TCP connection binds that socket's address). */
  send(bytes: Uint8Array, target: Target, onError?: (err: TransportError) => void): void;
  /** Hands a message to the P-CSCF logic; its Plan comes back through apply(). */
  decide(inbound: Inbound): void;
  timers: TimerQueue;
  /** RFC 3261 T1, T2, T4 (config `sip.timers`). */
  t1Ms: number;
  t2Ms: number;
  t4Ms: number;
  /** Timer C (§16.6 item 11): more than 3 minutes; 181 s by default. */
  timerCMs?: number;
  /**
   * Where the responses to a request go when no Plan says otherwise (the responses the proxy
   * generates itself, 408 / 487 / 500 / 503); default RFC 3261 §18.2.2 (response-target.ts). The
   * P-CSCF answers requests from protected ports the way they came, over their SA (TS 33.203 §7.1).
   */
  responseTarget?(request: SipMessage, rx: RxInfo): Target;
  onEvent?(e: TxEvent): void;
}

export interface ProxyCoreStats {
  serverTx: number;
  clientTx: number;
  /** Response contexts: a server transaction and the client transactions forwarded for it. */
  contexts: number;
  /** Running timers of the queue. */
  timers: number;
  draining: boolean;
}

/** The decision guard of a response context: bounds the wait for the P-CSCF logic. */
class GuardTimer extends Timer {
  constructor(owner: TimerOwner, readonly context: ResponseContext) {
    super(owner);
  }
}

/** §16.2: what the proxy keeps between a request and its responses. */
class ResponseContext {
  readonly clients: ClientTransaction[] = [];
  /** Inbound messages handed to `decide` whose Plan has not come back. */
  pending = 0;
  /** A CANCEL matched the request. */
  cancelled = false;
  /** A client transaction was created (the request was forwarded). */
  forwarded = false;
  /** A final response was handed to the logic: the answer is its to give. */
  finalUp = false;
  /** The To tag of the responses the proxy writes itself (§9.2: the 200 to a CANCEL and the 487 "SHOULD be the same"). */
  localTag: string | undefined = undefined;
  readonly guard: GuardTimer;

  constructor(readonly id: number, readonly server: ServerTransaction, guardOwner: TimerOwner) {
    this.guard = new GuardTimer(guardOwner, this);
  }
}

const REASONS: Readonly<Record<GeneratedStatus, string>> = {
  408: 'Request Timeout',
  487: 'Request Terminated',
  500: 'Server Internal Error',
  503: 'Service Unavailable',
};

const NO_CONTEXT = Object.freeze({});

/** A client transaction that may still produce a final response. */
function awaitingFinal(tx: ClientTransaction): boolean {
  return tx.kind === 'invite-client' ? tx.state === 'Calling' || tx.state === 'Proceeding' : tx.state === 'Trying' || tx.state === 'Proceeding';
}

function validPlan(plan: Plan): boolean {
  if (plan === null || typeof plan !== 'object') return false;
  switch (plan.kind) {
    case 'forward':
      return plan.bytes instanceof Uint8Array && typeof plan.branch === 'string' && plan.branch !== '' && typeof plan.target === 'object' && plan.target !== null;
    case 'reply':
      return plan.bytes instanceof Uint8Array && Number.isInteger(plan.status) && plan.status >= 100 && plan.status <= 699
        && (plan.target === undefined || (typeof plan.target === 'object' && plan.target !== null));
    case 'send':
      return plan.bytes instanceof Uint8Array && typeof plan.target === 'object' && plan.target !== null;
    case 'drop':
      return true;
    default:
      return false;
  }
}

export class ProxyCore {
  readonly #deps: ProxyCoreDeps;
  readonly #durations: Durations;
  readonly #table = new TransactionTable();
  readonly #contexts = new Map<number, ResponseContext>();
  readonly #host: ServerTransactionUser & ClientTransactionUser;
  readonly #guardOwner: TimerOwner = { onTimer: (timer) => this.#guardExpired((timer as GuardTimer).context) };
  readonly #drainTimer: Timer = new Timer({ onTimer: () => this.#forceEnd() });
  #nextId = 1;
  #draining = false;
  #retryAfterS = 0;
  #drained: { promise: Promise<void>; resolve: () => void } | undefined = undefined;

  /** Throws TransactionError TX_BAD_CONFIG for timers out of range. */
  constructor(deps: ProxyCoreDeps) {
    this.#deps = deps;
    this.#durations = durations(deps.t1Ms, deps.t2Ms, deps.t4Ms, deps.timerCMs);
    this.#host = {
      timers: deps.timers,
      durations: this.#durations,
      send: (bytes, target, onError) => deps.send(bytes, target, onError),
      serverFailed: (_tx, cause) => this.#serverFailed(cause),
      serverTerminated: (tx) => this.#serverTerminated(tx),
      clientResponse: (tx, msg, rx) => this.#clientResponse(tx, msg, rx),
      clientFailed: (tx, cause) => this.#clientFailed(tx, cause),
      clientTimerC: (tx) => this.#clientTimerC(tx),
      clientTerminated: (tx) => this.#clientTerminated(tx),
    };
  }

  /** Every parsed message, request or response. */
  receive(msg: SipMessage, rx: RxInfo): void {
    if (msg.isRequest) this.#request(msg, rx);
    else this.#response(msg, rx);
  }

  /**
   * The P-CSCF logic's decision for the Inbound message with this `id` (0: no server transaction).
   * True when it was carried out (the request forwarded or sent, the reply handed to its server
   * transaction, the drop done); false when it was discarded or invalid (a `kernel` plan is the
   * IPsec executor's to carry out, never this core's).
   */
  apply(id: number, plan: Plan): boolean {
    const ctx = id === 0 ? undefined : this.#contexts.get(id);
    if (ctx !== undefined && ctx.pending > 0 && --ctx.pending === 0) this.#deps.timers.stop(ctx.guard);
    let done = false;
    if (!validPlan(plan)) {
      this.#invalidPlan(ctx);
    } else {
      switch (plan.kind) {
        case 'forward': done = this.#forward(ctx, plan); break;
        case 'reply': done = this.#replyPlan(ctx, plan); break;
        case 'send': this.#deps.send(plan.bytes, plan.target); done = true; break;
        case 'drop': this.#event({ type: 'plan-dropped', reason: String(plan.reason) }); done = true; break;
      }
    }
    if (ctx !== undefined) this.#settle(ctx);
    return done;
  }

  stats(): ProxyCoreStats {
    return {
      serverTx: this.#table.serverCount,
      clientTx: this.#table.clientCount,
      contexts: this.#contexts.size,
      timers: this.#deps.timers.size,
      draining: this.#draining,
    };
  }

  /**
   * Shutdown: from now on new requests are refused with 503 and Retry-After (§21.5.4); live
   * transactions run to their end. Resolves once none is left, or after `deadlineMs`: then every
   * request still unanswered gets a 503, and every transaction is ended.
   */
  drain(deadlineMs: number, retryAfterS = Math.max(1, Math.ceil(deadlineMs / 1000))): Promise<void> {
    if (!this.#draining) {
      this.#draining = true;
      this.#retryAfterS = Number.isInteger(retryAfterS) && retryAfterS >= 0 ? retryAfterS : 1;
    }
    if (this.#drained !== undefined) return this.#drained.promise;
    if (this.#empty()) return Promise.resolve();
    let resolve!: () => void;
    const promise = new Promise<void>((r) => { resolve = r; });
    this.#drained = { promise, resolve };
    this.#deps.timers.start(this.#drainTimer, 'drain', Number.isFinite(deadlineMs) && deadlineMs > 0 ? deadlineMs : 0);
    return promise;
  }

  // ---- Requests ----

  #request(msg: SipMessage, rx: RxInfo): void {
    if (msg.method === 'CANCEL') {
      this.#cancel(msg, rx);
      return;
    }
    const tx = this.#table.matchRequest(msg);
    if (msg.method === 'ACK') {
      if (tx?.kind === 'invite-server' && tx.ack() === 'absorbed') {
        this.#event(EVENTS.absorbedAck);
        return;
      }
      // For a 2xx, "the ACK is not considered part of the transaction" (§17): "when the ACK
      // arrives, there will be no matching server transaction, and based on this rule, the ACK is
      // passed to the UAS core" (§18.2.1). The proxy core routes it without a transaction (id 0),
      // as it does an ACK that RFC 6026 passes up from the "Accepted" state.
      this.#deps.decide({ kind: 'request', id: 0, bytes: msg.raw, rx });
      return;
    }
    if (tx !== undefined) {
      // §17.2.3: "A request is a retransmission if it matches the same server transaction".
      tx.retransmission();
      this.#event(EVENTS.absorbedRequest);
      return;
    }
    if (this.#draining) {
      this.#refuse(msg, rx);
      return;
    }
    this.#open(msg, rx);
  }

  /** A new server transaction and its response context; the request goes to the logic. */
  #open(msg: SipMessage, rx: RxInfo): void {
    const id = this.#nextId++;
    const branch = cookieBranch(msg);
    const key = branch ?? legacyKey(msg);
    const tx = msg.method === 'INVITE'
      ? new InviteServerTransaction(this.#host, msg, rx, id, key, branch === undefined)
      : new NonInviteServerTransaction(this.#host, msg, rx, id, key, branch === undefined);
    if (this.#deps.responseTarget !== undefined) tx.target = this.#deps.responseTarget(msg, rx);
    const ctx = new ResponseContext(id, tx, this.#guardOwner);
    this.#contexts.set(id, ctx);
    this.#table.addServer(tx);
    this.#event(EVENTS.created[tx.kind]);
    if (tx.kind === 'invite-server') {
      // §17.2.1: "The server transaction MUST generate a 100 (Trying) response unless it knows
      // that the TU will generate a provisional or final response within 200 ms"; the logic may
      // run in a worker, so it cannot know. §16.2: "a stateful proxy SHOULD NOT generate 100
      // (Trying) responses to non-INVITE requests."
      tx.respond(this.#trying(msg), 100);
    }
    this.#decide(ctx, { kind: 'request', id, bytes: msg.raw, rx });
  }

  /**
   * §17.2.1: "The 100 (Trying) response is constructed according to the procedures in Section
   * 8.2.6, except that the insertion of tags in the To header field of the response (when none
   * was present in the request) is downgraded from MAY to SHOULD NOT." §8.2.6.1: "When a 100
   * (Trying) response is generated, any Timestamp header field present in the request MUST be
   * copied into this 100 (Trying) response."
   */
  #trying(msg: SipMessage): Buffer {
    const timestamp = msg.first('timestamp');
    return buildResponse(msg, 100, 'Trying', timestamp === undefined ? undefined : { headers: [['Timestamp', timestamp.value]] });
  }

  /** During shutdown: "503 (Service Unavailable) ... The server MAY indicate when the client should retry the request in a Retry-After header field" (§21.5.4). */
  #refuse(msg: SipMessage, rx: RxInfo): void {
    const bytes = buildResponse(msg, 503, REASONS[503], { headers: [['Retry-After', String(this.#retryAfterS)]] });
    this.#deps.send(bytes, this.#deps.responseTarget?.(msg, rx) ?? responseTarget(msg, rx));
    this.#event(EVENTS.refused);
  }

  /** §9.2 and §16.10. */
  #cancel(msg: SipMessage, rx: RxInfo): void {
    const own = this.#table.matchRequest(msg);
    if (own !== undefined) {
      own.retransmission();
      this.#event(EVENTS.absorbedRequest);
      return;
    }
    const cancelled = this.#table.matchCancelled(msg);
    const ctx = cancelled === undefined ? undefined : this.#contexts.get(cancelled.contextId);
    if (ctx === undefined) {
      // §16.10: "If a response context is not found, the element does not have any knowledge of
      // the request to apply the CANCEL to. It MUST statelessly forward the CANCEL request".
      this.#deps.decide({ kind: 'request', id: 0, bytes: msg.raw, rx });
      return;
    }
    // §16.10: "While a CANCEL request is handled in a stateful proxy by its own server
    // transaction, a new response context is not created for it. ... If a matching response
    // context is found, the element MUST immediately return a 200 (OK) response to the CANCEL
    // request."
    const branch = cookieBranch(msg);
    const tx = new NonInviteServerTransaction(this.#host, msg, rx, 0, branch ?? legacyKey(msg), branch === undefined);
    this.#table.addServer(tx);
    this.#event(EVENTS.created[tx.kind]);
    tx.respond(buildResponse(msg, 200, 'OK', { toTag: this.#localTag(ctx) }), 200);
    this.#cancelContext(ctx);
  }

  /** A CANCEL matched the request of `ctx`. */
  #cancelContext(ctx: ResponseContext): void {
    ctx.cancelled = true;
    const server = ctx.server;
    // §9.2: "If the UAS has not issued a final response for the original request, its behavior
    // depends on the method of the original request. If the original request was an INVITE, the
    // UAS SHOULD immediately respond to the INVITE with a 487 (Request Terminated). A CANCEL
    // request has no impact on the processing of transactions with any other method".
    if (server.kind !== 'invite-server' || server.terminated || server.finalStatus !== 0) return;
    // §16.10: "Furthermore, the element MUST generate CANCEL requests for all pending client
    // transactions in the context as described in Section 16.7 step 10." The 487 then comes from
    // downstream and is relayed; the proxy answers 487 itself only when it forwarded nothing yet
    // and no final response is on its way to the logic.
    let live = false;
    for (const c of ctx.clients) {
      if (c.kind !== 'invite-client' || !awaitingFinal(c)) continue;
      live = true;
      this.#cancelBranch(c);
    }
    if (!live && !ctx.finalUp) this.#generate(ctx, 487);
  }

  /** Cancels one INVITE branch (§9.1). */
  #cancelBranch(tx: InviteClientTransaction): void {
    if (tx.cancel !== 'none' || !awaitingFinal(tx)) return;
    // §9.1: "If no provisional response has been received, the CANCEL request MUST NOT be sent;
    // rather, the client MUST wait for the arrival of a provisional response before sending the
    // request."
    if (!tx.provisional) tx.cancel = 'pending';
    else this.#sendCancel(tx);
  }

  /**
   * §9.1: "When the client decides to send the CANCEL, it creates a client transaction for the
   * CANCEL and passes it the CANCEL request along with the destination address, port, and
   * transport. The destination address, port, and transport for the CANCEL MUST be identical to
   * those used to send the original request." Its responses end in that client transaction
   * (§16.7 item 3: "the response was meant for this element").
   */
  #sendCancel(tx: InviteClientTransaction): void {
    tx.cancelSent();
    const invite = tx.sentRequest();
    let bytes: Buffer | undefined;
    try {
      bytes = invite === undefined ? undefined : buildCancel(invite);
    } catch (err) {
      if (!(err instanceof SipError)) throw err;
    }
    if (bytes === undefined) return;
    const cancel = new NonInviteClientTransaction(this.#host, tx.branch, 'CANCEL', bytes, tx.target, 0, NO_CONTEXT);
    if (!this.#table.addClient(cancel)) return;
    this.#event(EVENTS.created[cancel.kind]);
    this.#event(EVENTS.cancelSent);
    cancel.start();
  }

  // ---- Responses ----

  #response(msg: SipMessage, rx: RxInfo): void {
    const tx = this.#table.matchResponse(msg);
    if (tx === undefined) {
      // RFC 6026 §8.10 (§18.1.2): "If there is a match, the response MUST be passed to that
      // transaction. Otherwise, any element other than a stateless proxy MUST silently discard
      // the response."
      this.#event(EVENTS.stray);
      return;
    }
    if (!tx.receive(msg, rx)) this.#event(EVENTS.absorbedResponse);
  }

  /** §16.7: a client transaction passes a response up. */
  #clientResponse(tx: ClientTransaction, msg: SipMessage, rx: RxInfo): void {
    const status = msg.status;
    // §9.1: the CANCEL waited for this provisional response.
    if (tx.kind === 'invite-client' && status < 200 && tx.cancel === 'pending') this.#sendCancel(tx);
    const ctx = this.#contexts.get(tx.contextId);
    // §16.7 item 5: "a stateful proxy MUST NOT forward any 100 (Trying) response". Responses to
    // the proxy's own CANCEL have no context: they were meant for this element (item 3).
    if (ctx === undefined || status === 100) {
      this.#event(EVENTS.absorbedResponse);
      return;
    }
    const server = ctx.server;
    // §16.7 item 5: "Until a final response has been sent on the server transaction, the following
    // responses MUST be forwarded immediately: - Any provisional response other than 100 (Trying)
    // - Any 2xx response ... After a final response has been sent on the server transaction, the
    // following responses MUST be forwarded immediately: - Any 2xx response to an INVITE request".
    // The P-CSCF never forks, so the final response of its one branch is the best one (item 6) as
    // soon as it arrives: the branch has nothing else to give. RFC 6026 §8.9 (§16.7 item 9): "If
    // the server transaction is no longer available to handle the transmission, the response is
    // simply discarded."
    const final = server.finalStatus;
    const relay = !server.terminated
      && (final === 0 || (status >= 200 && status < 300 && server.kind === 'invite-server' && final < 300));
    if (!relay) {
      this.#event(EVENTS.absorbedResponse);
      return;
    }
    if (status >= 200) ctx.finalUp = true;
    this.#decide(ctx, { kind: 'response', id: ctx.id, bytes: msg.raw, rx, request: server.upstream, context: tx.context });
  }

  /** A branch ended without a final response: a timeout or a transport error. */
  #clientFailed(tx: ClientTransaction, cause: ClientFailure): void {
    if (cause === 'transport') this.#event(EVENTS.transportError.client);
    else if (cause !== 'timer-c') this.#event(EVENTS.timeout[cause === 'timer-b' ? 'B' : cause === 'timer-f' ? 'F' : 'cancel-wait']);
    const ctx = this.#contexts.get(tx.contextId);
    if (ctx === undefined) return;
    const server = ctx.server;
    if (server.terminated || server.finalStatus !== 0 || ctx.finalUp) return;
    for (const c of ctx.clients) if (c !== tx && awaitingFinal(c)) return;
    // §16.7 item 6: "If there are no final responses in the context, the proxy MUST send a 408
    // (Request Timeout) response to the server transaction." §16.9: on a transport error "the
    // proxy MUST behave as if the forwarded request received a 503 (Service Unavailable)
    // response", and item 6: "If the only response that was received is a 503, the proxy SHOULD
    // generate a 500 response". An INVITE its sender cancelled ends in 487 (§9.2).
    let status: GeneratedStatus = cause === 'transport' ? 500 : 408;
    if (ctx.cancelled && server.kind === 'invite-server') status = 487;
    this.#generate(ctx, status);
  }

  /** §16.8. */
  #clientTimerC(tx: InviteClientTransaction): void {
    this.#event(EVENTS.timeout.C);
    // "If the client transaction has received a provisional response, the proxy MUST generate a
    // CANCEL request matching that transaction. If the client transaction has not received a
    // provisional response, the proxy MUST behave as if the transaction received a 408 (Request
    // Timeout) response."
    if (tx.provisional) this.#sendCancel(tx);
    else tx.timeOut();
  }

  #clientTerminated(tx: ClientTransaction): void {
    this.#table.removeClient(tx);
    this.#event(EVENTS.terminated[tx.kind]);
    const ctx = this.#contexts.get(tx.contextId);
    if (ctx !== undefined) {
      const i = ctx.clients.indexOf(tx);
      if (i >= 0) ctx.clients.splice(i, 1);
      this.#settle(ctx);
    }
    this.#checkDrained();
  }

  #serverFailed(cause: ServerFailure): void {
    // §16.9: "If the proxy is notified of an error when forwarding a response, it drops the
    // response. The proxy SHOULD NOT cancel any outstanding client transactions"; Timer H (§17.2.1)
    // "implies that the ACK was never received". Both are only counted.
    this.#event(cause === 'transport' ? EVENTS.transportError.server : EVENTS.timeout.H);
  }

  #serverTerminated(tx: ServerTransaction): void {
    this.#table.removeServer(tx);
    this.#event(EVENTS.terminated[tx.kind]);
    const ctx = this.#contexts.get(tx.contextId);
    if (ctx !== undefined) this.#settle(ctx);
    this.#checkDrained();
  }

  // ---- Plans ----

  #forward(ctx: ResponseContext | undefined, plan: Extract<Plan, { kind: 'forward' }>): boolean {
    const server = ctx?.server;
    // The server transaction no longer wants it: gone, answered (the 487 of a CANCEL, the 500 of
    // the decision guard), or cancelled.
    if (ctx === undefined || server === undefined || server.terminated || server.finalStatus !== 0
      || (ctx.cancelled && server.kind === 'invite-server')) {
      this.#event(EVENTS.planDiscarded);
      return false;
    }
    // §17.1: "There is no client transaction for ACK"; a CANCEL the proxy sends itself (§16.10).
    const method = requestMethod(plan.bytes);
    if (method === '' || method === 'ACK' || method === 'CANCEL') {
      this.#invalidPlan(ctx);
      return false;
    }
    // §16.6 item 10: "A stateful proxy MUST create a new client transaction for this request as
    // described in Section 17.1 and instructs the transaction to send the request using the
    // address, port and transport determined in step 7."
    const tx = method === 'INVITE'
      ? new InviteClientTransaction(this.#host, plan.branch, method, plan.bytes, plan.target, ctx.id, plan.context ?? NO_CONTEXT)
      : new NonInviteClientTransaction(this.#host, plan.branch, method, plan.bytes, plan.target, ctx.id, plan.context ?? NO_CONTEXT);
    if (!this.#table.addClient(tx)) {
      this.#invalidPlan(ctx);
      return false;
    }
    ctx.clients.push(tx);
    ctx.forwarded = true;
    this.#event(EVENTS.created[tx.kind]);
    tx.start();
    return true;
  }

  /**
   * A plan the core cannot carry out (malformed, a forward without a request line or with a branch
   * in use) is the proxy's own failure: 500 (§21.5.1), unless a branch may still answer.
   */
  #invalidPlan(ctx: ResponseContext | undefined): void {
    this.#event(EVENTS.planInvalid);
    if (ctx === undefined || ctx.server.terminated || ctx.server.finalStatus !== 0 || ctx.clients.some(awaitingFinal)) return;
    this.#generate(ctx, 500);
  }

  #replyPlan(ctx: ResponseContext | undefined, plan: Extract<Plan, { kind: 'reply' }>): boolean {
    // RFC 6026 §8.9: "If the server transaction is no longer available to handle the
    // transmission, the response is simply discarded."
    if (ctx === undefined || ctx.server.terminated) {
      this.#event(EVENTS.planDiscarded);
      return false;
    }
    const server = ctx.server;
    const previous = server.target;
    if (plan.target !== undefined) server.target = plan.target;
    if (!this.#respond(ctx, plan.bytes, plan.status)) {
      server.target = previous;
      this.#event(EVENTS.planDiscarded);
      return false;
    }
    return true;
  }

  // ---- Response contexts ----

  #decide(ctx: ResponseContext, inbound: Inbound): void {
    ctx.pending++;
    this.#deps.timers.start(ctx.guard, 'decision-guard', this.#durations.t1x64);
    this.#deps.decide(inbound);
  }

  /** A response the proxy writes itself, through the server transaction. */
  #generate(ctx: ResponseContext, status: GeneratedStatus): void {
    const opts = status === 503
      ? { toTag: this.#localTag(ctx), headers: [['Retry-After', String(this.#retryAfterS)]] as [string, string][] }
      : { toTag: this.#localTag(ctx) };
    const request = ctx.server.request;
    if (this.#respond(ctx, buildResponse(request, status, REASONS[status], opts), status, request.to().tag ?? ctx.localTag)) {
      this.#event(EVENTS.generated[status]);
    }
  }

  /** Passes a response to the server transaction; false when its state discards it. */
  #respond(ctx: ResponseContext, bytes: Uint8Array, status: number, toTag?: string): boolean {
    const server = ctx.server;
    const sent = server.respond(bytes, status);
    if (!sent || status < 200) return sent;
    if (server.kind === 'invite-server') {
      if (server.legacy) server.ackToTag = toTag ?? this.#toTag(bytes);
      // §16.7 item 10: "If the forwarded response was a final response, the proxy MUST generate a
      // CANCEL request for all pending client transactions associated with this response context."
      // A branch still in "Calling" gets it on its first provisional response (§9.1).
      for (const c of ctx.clients) if (c.kind === 'invite-client') this.#cancelBranch(c);
    }
    return true;
  }

  /** The To tag of a response (RFC 2543 ACK matching, §17.2.3); undefined if it does not parse. */
  #toTag(bytes: Uint8Array): string | undefined {
    try {
      return parseMessage(asBuffer(bytes)).to().tag;
    } catch (err) {
      if (err instanceof SipError) return undefined;
      throw err;
    }
  }

  #localTag(ctx: ResponseContext): string {
    // §19.3: a tag "MUST be globally unique and cryptographically random with at least 32 bits of randomness".
    ctx.localTag ??= randomBytes(8).toString('hex');
    return ctx.localTag;
  }

  /**
   * After anything that may leave a server transaction with nothing left to wait for: no final
   * response, no decision pending, no branch that may still answer. §16.7 item 6: "If there are
   * no final responses in the context, the proxy MUST send a 408 (Request Timeout)"; if the logic
   * took the final response and chose not to relay it, or never forwarded, the transaction ends
   * without a response. A context is released once all its transactions are gone (§16.7 item 9:
   * "The proxy MUST maintain the response context until all of its associated transactions have
   * been terminated").
   */
  #settle(ctx: ResponseContext): void {
    const server = ctx.server;
    if (!server.terminated && server.finalStatus === 0 && ctx.pending === 0 && !ctx.clients.some(awaitingFinal)) {
      if (ctx.forwarded && !ctx.finalUp) {
        this.#generate(ctx, 408);
      } else {
        this.#event(EVENTS.abandoned);
        server.abandon();
        return;
      }
    }
    if (server.terminated && ctx.clients.length === 0 && this.#contexts.get(ctx.id) === ctx) {
      this.#contexts.delete(ctx.id);
      this.#deps.timers.stop(ctx.guard);
    }
  }

  /** The logic did not answer within 64*T1 (a lost batch, a stuck worker). */
  #guardExpired(ctx: ResponseContext): void {
    this.#event(EVENTS.timeout['decision-guard']);
    ctx.pending = 0;
    // A branch that may still answer bounds the transaction by its own timers (B, F, C); a lost
    // decision about a provisional response must not end the call.
    const server = ctx.server;
    if (!server.terminated && server.finalStatus === 0 && !ctx.clients.some(awaitingFinal)) this.#generate(ctx, 500);
    this.#settle(ctx);
  }

  // ---- Shutdown ----

  #empty(): boolean {
    return this.#table.serverCount === 0 && this.#table.clientCount === 0;
  }

  #checkDrained(): void {
    if (this.#drained === undefined || !this.#empty()) return;
    this.#deps.timers.stop(this.#drainTimer);
    this.#drained.resolve();
  }

  /** The drain deadline: answer what is unanswered with 503, then end every transaction. */
  #forceEnd(): void {
    for (const server of this.#table.servers()) {
      const ctx = this.#contexts.get(server.contextId);
      if (ctx !== undefined && !server.terminated && server.finalStatus === 0) this.#generate(ctx, 503);
    }
    for (const client of this.#table.clients()) client.destroy();
    for (const server of this.#table.servers()) server.destroy();
    for (const ctx of this.#contexts.values()) this.#deps.timers.stop(ctx.guard);
    this.#contexts.clear();
    this.#checkDrained();
  }

  #event(e: TxEvent): void {
    this.#deps.onEvent?.(e);
  }
}
