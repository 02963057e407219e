// The P-CSCF's decision on one message: a pure function of the message, the shared state and the
// configuration, run in a pool worker or inline. It never throws: a request it cannot use gets an
// answer, a response it cannot use is dropped, and a bug in the logic gives a 500 (or a drop) with
// an error event; every outcome is counted.

import type { Inbound, Plan } from '../engine/plan.js';
import { SipError, buildErrorFromRaw, buildResponse } from '../sip/index.js';
import type { SipMessage } from '../sip/index.js';
import type { PcscfContext } from './context.js';
import type { InboundRequest } from './forwarding.js';
import { originating } from './originating.js';
import { register } from './register.js';
import { answer, isRejection, reject } from './rejection.js';
import type { Outcome } from './rejection.js';
import { drop, relayResponse } from './responses.js';
import { terminating } from './terminating.js';

type InboundRequestMessage = Extract<Inbound, { kind: 'request' }>;
type InboundResponseMessage = Extract<Inbound, { kind: 'response' }>;

export function decide(inbound: Inbound, ctx: PcscfContext): Plan {
  try {
    return inbound.kind === 'request' ? onRequest(inbound, ctx) : onResponse(inbound, ctx);
  } catch (err) {
    return onBug(inbound, err, ctx);
  }
}

/** Which flow a request takes. */
function route(req: InboundRequest, ctx: PcscfContext): Outcome {
  if (req.msg.method === 'REGISTER') return register(req, ctx);
  return req.side === 'core' ? terminating(req, ctx) : originating(req, ctx);
}

/**
 * Errors the SIP layer raises from a lazy accessor are malformed input (a header only parsed when
 * a flow needed it): the request gets their status. A SipError the layer raises for misuse of its
 * editor or builders (SIP_BAD_ARGUMENT, SIP_EDIT_CONFLICT) is a bug here.
 */
function inputError(err: unknown): SipError | undefined {
  return err instanceof SipError && err.code !== 'SIP_BAD_ARGUMENT' && err.code !== 'SIP_EDIT_CONFLICT' ? err : undefined;
}

function onRequest(inbound: InboundRequestMessage, ctx: PcscfContext): Plan {
  let msg: SipMessage;
  try {
    msg = ctx.parse(inbound.bytes, inbound.rx.transport);
  } catch (err) {
    // The main thread parsed these bytes already; a difference in limits can still refuse them here.
    const bad = inputError(err);
    if (bad === undefined) throw err;
    const bytes = buildErrorFromRaw(Buffer.from(inbound.bytes), bad);
    if (bytes === undefined) return drop('malformed_request', ctx);
    ctx.metrics.rejected('', 'malformed');
    return { kind: 'reply', bytes, status: bad.status };
  }
  const isAck = msg.method === 'ACK';
  // The ACK for a 2xx "is not considered part of the transaction" (RFC 3261 §17): it is
  // forwarded without one; any other request needs the server transaction the main thread opened. A CANCEL is the main
  // thread's (RFC 3261 §16.10): one that matched no transaction cancels nothing this proxy
  // forwarded, since the P-CSCF forwards every request statefully.
  if (!isAck && (inbound.id === 0 || msg.method === 'CANCEL')) return drop('no_transaction', ctx);
  const req: InboundRequest = { msg, rx: inbound.rx, id: inbound.id, side: ctx.peers.sideOf(inbound.rx.remote.addr) };
  let outcome: Outcome;
  try {
    outcome = route(req, ctx);
  } catch (err) {
    const bad = inputError(err);
    if (bad === undefined) throw err;
    outcome = reject(bad.status, 'malformed', bad.reason);
  }
  if (!isRejection(outcome)) return outcome;
  // An ACK has no response: one that cannot be routed is dropped.
  return isAck ? drop('unroutable_ack', ctx) : answer(msg, outcome, ctx, req.side === 'ue' ? req.rx : undefined);
}

function onResponse(inbound: InboundResponseMessage, ctx: PcscfContext): Plan {
  if (inbound.id === 0) return drop('no_transaction', ctx);
  let msg: SipMessage;
  try {
    msg = ctx.parse(inbound.bytes, inbound.rx.transport);
  } catch (err) {
    if (inputError(err) === undefined) throw err;
    return drop('malformed_response', ctx);
  }
  if (msg.isRequest) return drop('malformed_response', ctx);
  return relayResponse(msg, inbound, ctx);
}

/** A bug: logged with what it was, counted, answered 500 when the message is a request that can be answered. */
function onBug(inbound: Inbound, err: unknown, ctx: PcscfContext): Plan {
  try {
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    ctx.log({ level: 'error', msg: 'P-CSCF logic failed on a message', fields: { kind: inbound.kind, id: inbound.id, error } });
    if (inbound.kind === 'request') {
      const msg = ctx.parse(inbound.bytes, inbound.rx.transport);
      if (msg.method !== 'ACK') {
        ctx.metrics.rejected(msg.method, 'internal_error');
        return { kind: 'reply', bytes: buildResponse(msg, 500, 'Server Internal Error', { toTag: ctx.newTag() }), status: 500 };
      }
    }
    return drop('internal_error', ctx);
  } catch {
    return { kind: 'drop', reason: 'internal_error' };
  }
}
