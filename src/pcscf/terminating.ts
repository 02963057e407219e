// A request from the core towards a UE (TS 24.229 §5.2.6.4):
//   validate -> our Route values off (the Path we registered, or our Record-Route) ->
//   initial request: the callee's binding from the Request-URI (alias: SEARCH_RECEIVED, else
//   SEARCH_NORMAL), Record-Route; in-dialog request: the next Route value if one is left, else
//   the binding of the Request-URI, else its IP literal (RFC 3261 §16.12) -> target -> forward.
// A UE is reached at the address and port its REGISTER came from, over the same transport, from
// the unprotected socket of that transport and family (a TCP connection the UE opened is reused
// by the transports while it is open).

import type { Target } from '../engine/plan.js';
import type { Binding } from '../shared/binding.js';
import { isSipUri } from '../sip/index.js';
import type { MessageEditor, SipMessage } from '../sip/index.js';
import { calleeBinding } from './bindings.js';
import type { PcscfContext } from './context.js';
import { forward, validateRequest } from './forwarding.js';
import type { InboundRequest } from './forwarding.js';
import { isRejection } from './rejection.js';
import type { Outcome, Rejection } from './rejection.js';
import { createsDialog, hopOfUri, looseHop, recordRoute, removeOurRoutes, targetOf } from './routing.js';
import type { RouteSet } from './routing.js';

function ueTarget(b: Binding, ctx: PcscfContext): Target | Rejection {
  return targetOf({ addr: b.receivedAddr, port: b.receivedPort, transport: b.transport }, 'access', ctx);
}

const ALIAS_PARAM = /;alias=[^;?]*/i;

/**
 * The alias parameter names the UE's address for the P-CSCF only; it leaves the Request-URI
 * before the request reaches the UE (as Kamailio's handle_ruri_alias does).
 */
function removeAlias(msg: SipMessage, ed: MessageEditor, set: RouteSet): void {
  if (set.requestUri !== msg.requestUriParsed()) return;
  const without = msg.requestUri.replace(ALIAS_PARAM, '');
  if (without !== msg.requestUri) ed.setRequestUri(without);
}

/** Where an in-dialog request goes: the next Route value; else the UE the Request-URI names, or its IP literal. */
function inDialogTarget(set: RouteSet, ctx: PcscfContext): Target | Rejection {
  if (set.uris.length > 0) {
    const hop = looseHop(set, ctx);
    return isRejection(hop) ? hop : targetOf(hop, 'access', ctx);
  }
  const callee = calleeBinding(set.requestUri, ctx);
  if (!isRejection(callee)) return ueTarget(callee, ctx);
  const uri = set.requestUri;
  if (!isSipUri(uri) || uri.hostKind === 'domain') return callee;
  const hop = hopOfUri(uri, ctx);
  return isRejection(hop) ? hop : targetOf(hop, 'access', ctx);
}

export function terminating(req: InboundRequest, ctx: PcscfContext): Outcome {
  const { msg } = req;
  const invalid = validateRequest(msg, ctx);
  if (invalid !== undefined) return invalid;

  const ed = msg.edit();
  const routes = removeOurRoutes(msg, ed, ctx.us);
  const initial = msg.to().tag === undefined;
  let target: Target | Rejection;
  if (initial) {
    const callee = calleeBinding(routes.requestUri, ctx);
    target = isRejection(callee) ? callee : ueTarget(callee, ctx);
  } else {
    target = inDialogTarget(routes, ctx);
  }
  if (isRejection(target)) return target;
  if (initial || routes.uris.length === 0) removeAlias(msg, ed, routes);
  if (initial && createsDialog(msg.method)) recordRoute(msg, ed, ctx.us, 'mt', ctx.sockets.byId(req.rx.socketId), ctx.sockets.byId(target.socketId)!);
  return forward(req, ed, target, 'terminating', { flow: 'terminating' }, ctx);
}
