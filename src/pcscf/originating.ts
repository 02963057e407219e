// A request from a registered UE towards the core (TS 24.229 §5.2.6.3), other than REGISTER:
//   validate -> the caller's binding (the one of the SA set it came over; else SEARCH_RECEIVED,
//   and then it must not be a UE registered with IPsec) -> our Route values off ->
//   initial request: route set = the binding's Service-Route, P-Asserted-Identity, Record-Route;
//   in-dialog request: loose routing -> security headers off -> target -> forward.

import type { Binding } from '../shared/binding.js';
import { parseUri } from '../sip/index.js';
import type { MessageEditor, SipMessage } from '../sip/index.js';
import { confirmArrival } from '../ipsec/inbound.js';
import { callerBinding, usable } from './bindings.js';
import type { PcscfContext } from './context.js';
import { forward, validateRequest } from './forwarding.js';
import type { InboundRequest } from './forwarding.js';
import { isRejection, reject } from './rejection.js';
import type { Outcome, Rejection } from './rejection.js';
import { createsDialog, hopOfRoute, looseHop, recordRoute, removeOurRoutes, replaceRoutes, targetOf } from './routing.js';
import type { Hop, RouteSet } from './routing.js';
import { removeSecurityHeaders } from './sec-agree.js';
import { sameUri, uriOfNameAddr } from './uri-match.js';

/**
 * TS 24.229 §5.2.6.3.2: the P-CSCF verifies the route set the UE preloaded (after its own entry)
 * against the Service-Route of the registration and replaces it when it differs, so that the
 * request reaches the S-CSCF that serves the UE (RFC 3608 §6). Returns the hop of the first entry
 * of the route set sent, sip.next_hop when it is empty.
 */
function enforceServiceRoute(msg: SipMessage, ed: MessageEditor, set: RouteSet, caller: Binding, ctx: PcscfContext): Hop | Rejection {
  const wanted = caller.serviceRoute.map((r) => uriOfNameAddr(r, 'Service-Route'));
  const same = wanted.length === set.uris.length && wanted.every((u, i) => sameUri(u, set.uris[i]!));
  if (!same) replaceRoutes(msg, ed, set, caller.serviceRoute);
  const first = wanted[0];
  return first === undefined ? ctx.nextHop : hopOfRoute(first, ctx);
}

/**
 * TS 24.229 §5.2.6.3.2 and RFC 3325 §9.1: P-Asserted-Identity is the P-Preferred-Identity when it
 * is one of the UE's registered identities (P-Associated-URI), else the first of them; the
 * P-Preferred-Identity is removed, and so is any P-Asserted-Identity the UE wrote (it is outside
 * the trust domain, RFC 3325 §5).
 */
function assertIdentity(msg: SipMessage, ed: MessageEditor, caller: Binding): void {
  const registered = caller.associatedUris.map((u) => parseUri(u));
  let asserted: string | undefined;
  for (const v of msg.values('p-preferred-identity')) {
    const uri = uriOfNameAddr(v.text, 'P-Preferred-Identity');
    if (registered.some((r) => sameUri(r, uri))) {
      asserted = v.text;
      break;
    }
  }
  asserted ??= caller.associatedUris.length > 0 ? `<${caller.associatedUris[0]!}>` : undefined;
  for (const f of msg.fields('p-asserted-identity')) ed.removeField(f);
  const preferred = msg.fields('p-preferred-identity');
  if (asserted !== undefined) ed.addHeader('P-Asserted-Identity', asserted, preferred.length > 0 ? { before: preferred[0]! } : undefined);
  for (const f of preferred) ed.removeField(f);
}

/**
 * Who sends: over an SA set, the binding of that set (the set is confirmed by the request: TS
 * 33.203 §7.4); otherwise the binding of the source address, which must not have agreed on IPsec
 * (its UE sends over its SAs: a request outside them is not its own, or not protected as agreed).
 */
function callerOf(req: InboundRequest, ctx: PcscfContext): Binding | Rejection {
  const o = req.origin;
  if (o !== undefined) {
    confirmArrival(ctx.ipsec!, o);
    return usable(o.binding, ctx.now()) ? o.binding : reject(ctx.config.sip.unregistered_status, 'unregistered', 'Not registered');
  }
  const caller = callerBinding(req.rx, ctx);
  if (ctx.ipsec !== undefined && !isRejection(caller) && (caller.sa !== undefined || caller.previousSa !== undefined)) {
    ctx.ipsec.metrics.protectedReject('unprotected');
    return reject(ctx.config.sip.unregistered_status, 'unprotected', 'Not sent over the security association');
  }
  return caller;
}

export function originating(req: InboundRequest, ctx: PcscfContext): Outcome {
  const { msg } = req;
  const invalid = validateRequest(msg, ctx);
  if (invalid !== undefined) return invalid;
  const caller = callerOf(req, ctx);
  if (isRejection(caller)) return caller;

  const ed = msg.edit();
  const routes = removeOurRoutes(msg, ed, ctx.us);
  const initial = msg.to().tag === undefined;
  let hop: Hop | Rejection;
  if (initial) {
    hop = enforceServiceRoute(msg, ed, routes, caller, ctx);
    assertIdentity(msg, ed, caller);
  } else {
    hop = looseHop(routes, ctx);
    for (const f of msg.fields('p-asserted-identity')) ed.removeField(f);
  }
  if (isRejection(hop)) return hop;
  const target = targetOf(hop, 'core', ctx);
  if (isRejection(target)) return target;
  removeSecurityHeaders(msg, ed);
  if (initial && createsDialog(msg.method)) recordRoute(msg, ed, ctx.us, 'mo', ctx.sockets.byId(req.rx.socketId), ctx.sockets.byId(target.socketId)!);
  return forward(req, ed, target, 'originating', { flow: 'originating' }, ctx);
}
