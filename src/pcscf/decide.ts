// The P-CSCF's decision on one message: a pure function of the message, the shared state and the
// configuration, run in a pool worker or inline. It never throws: a request it cannot use gets an
// answer, a response it cannot use is dropped, and a bug in the logic gives a 500 (or a drop) with
// an error event; every outcome is counted.
//
// Protected ports (DESIGN.md invariant 3): a message on one is taken only when it came over an SA
// set of ours (src/ipsec/inbound.ts): a request from elsewhere gets 403, a response is dropped.
// Every reply to a UE's request that came over a set goes back over that set (ipsecForward with
// security.forward_flags), or not at all. SA sets the decision took out of the contact table leave
// with the plan as its `after` teardown.

import type { Inbound, Plan, RxInfo, SipPlan, XfrmWork } from '../engine/plan.js';
import { ipsecForward } from '../ipsec/api.js';
import { isProtected, protectedOrigin } from '../ipsec/inbound.js';
import type { SaSet } from '../shared/binding.js';
import { SipError, buildErrorFromRaw, buildResponse } from '../sip/index.js';
import type { SipMessage, Via } from '../sip/index.js';
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
  let plan: Plan;
  try {
    plan = inbound.kind === 'request' ? onRequest(inbound, ctx) : onResponse(inbound, ctx);
  } catch (err) {
    plan = onBug(inbound, err, ctx);
  }
  const after = ctx.ipsec?.takeTeardown();
  return after === undefined ? plan : withAfter(plan, after);
}

function withAfter(plan: Plan, after: readonly XfrmWork[]): Plan {
  return { ...plan, after: plan.after === undefined ? after : [...plan.after, ...after] } as Plan;
}

/**
 * A reply to a UE's request that came as `rx` over `set` (with top Via `via`) leaves over the set:
 * the target ipsecForward picks, or, when there is none, not at all. The 401 and 503 of a kernel
 * plan get theirs too.
 */
function overSet(plan: Plan, rx: RxInfo, via: Via, set: SaSet, ctx: PcscfContext): Plan {
  if (plan.kind !== 'reply' && plan.kind !== 'kernel') return plan;
  const ipsec = ctx.ipsec!;
  const target = ipsecForward(ipsec, ipsec.domain, ipsec.forwardFlags, { kind: 'reply', rx, via, set });
  if (plan.kind === 'kernel') {
    // Without a target the kernel plan still goes ahead: the transaction layer answers a protected
    // request the way it came (its response target for protected ports), which the set covers.
    if (target === undefined) return plan;
    const at = (p: SipPlan): SipPlan => (p.kind === 'reply' ? { ...p, target } : p);
    return { ...plan, then: at(plan.then), otherwise: at(plan.otherwise) };
  }
  return target === undefined ? drop('no_security_association', ctx) : { ...plan, target };
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
  const ipsec = ctx.ipsec;
  const onProtected = ipsec !== undefined && isProtected(ctx.sockets, inbound.rx.socketId);
  const origin = onProtected ? protectedOrigin(ipsec, inbound.rx, 'request') : undefined;
  // What arrives over an SA always comes from the UE that owns it.
  const side = onProtected ? 'ue' : ctx.peers.sideOf(inbound.rx.remote.addr);
  const req: InboundRequest = origin === undefined ? { msg, rx: inbound.rx, id: inbound.id, side } : { msg, rx: inbound.rx, id: inbound.id, side, origin };
  let outcome: Outcome;
  if (onProtected && origin === undefined) {
    ipsec!.metrics.protectedReject('request');
    outcome = reject(403, 'protected_port', 'Not from the security association of this port');
  } else {
    try {
      outcome = route(req, ctx);
    } catch (err) {
      const bad = inputError(err);
      if (bad === undefined) throw err;
      outcome = reject(bad.status, 'malformed', bad.reason);
    }
  }
  let plan: Plan;
  if (!isRejection(outcome)) plan = outcome;
  // An ACK has no response: one that cannot be routed is dropped.
  else if (isAck) return drop('unroutable_ack', ctx);
  else plan = answer(msg, outcome, ctx, req.side === 'ue' ? req.rx : undefined);
  return origin === undefined ? plan : overSet(plan, inbound.rx, msg.topVia(), origin.set, ctx);
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
  const ipsec = ctx.ipsec;
  if (ipsec === undefined) return relayResponse(msg, inbound, ctx);
  // A UE's answer to a request of ours comes back over the set it was sent over.
  if (isProtected(ctx.sockets, inbound.rx.socketId) && protectedOrigin(ipsec, inbound.rx, 'response') === undefined) {
    ipsec.metrics.protectedReject('response');
    return drop('protected_port', ctx);
  }
  const rx = inbound.request.rx;
  if (!isProtected(ctx.sockets, rx.socketId)) return relayResponse(msg, inbound, ctx);
  // Looked up before the answer is applied: a de-registration removes the set it must leave over.
  const origin = protectedOrigin(ipsec, rx, 'request');
  if (origin === undefined) return drop('no_security_association', ctx);
  const via = msg.vias()[1];
  const plan = relayResponse(msg, inbound, ctx);
  return via === undefined ? plan : overSet(plan, rx, via, origin.set, ctx);
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
