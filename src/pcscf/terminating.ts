// A request from the core towards a UE (TS 24.229 §5.2.6.4):
//   validate -> our Route values off (the Path we registered, or our Record-Route) ->
//   initial request: the callee's binding from the Request-URI (alias: SEARCH_RECEIVED, else
//   SEARCH_NORMAL), Record-Route; in-dialog request: the next Route value if one is left, else
//   the binding of the Request-URI, else its IP literal (RFC 3261 §16.12) -> target -> forward.
// A UE is reached at the address and port its REGISTER came from, over the same transport, from
// the unprotected socket of that transport and family (a TCP connection the UE opened is reused
// by the transports while it is open); a UE with an SA set only over it: ipsecForward with
// security.forward_flags picks the protected socket and UE port (src/ipsec/forward.ts), and the
// Record-Route towards it names the protected server port (TS 24.229 §5.2.6.4: the UE sends its
// in-dialog requests to port_ps).

import type { Target, Transport } from '../engine/plan.js';
import { ipsecForward } from '../ipsec/api.js';
import { sendingSet } from '../ipsec/sets.js';
import type { Binding } from '../shared/binding.js';
import { isSipUri, uriParam } from '../sip/index.js';
import type { MessageEditor, SipMessage, Uri } from '../sip/index.js';
import type { LocalSocket } from '../transport/sockets.js';
import { calleeBinding } from './bindings.js';
import type { PcscfContext } from './context.js';
import { forward, validateRequest } from './forwarding.js';
import type { InboundRequest } from './forwarding.js';
import { isRejection, reject } from './rejection.js';
import type { Outcome, Rejection } from './rejection.js';
import { createsDialog, hopOfUri, looseHop, recordRoute, removeOurRoutes, targetOf } from './routing.js';
import type { RouteSet } from './routing.js';

/** Where a request towards a UE goes, and the socket our Record-Route towards the UE names. */
interface UeTarget {
  readonly target: Target;
  readonly towardsUe: LocalSocket;
}

/** The transport the Request-URI asks for (ipsecForward flag 0x100). */
function uriTransport(uri: Uri): Transport {
  const t = isSipUri(uri) ? uriParam(uri, 'transport') : undefined;
  return typeof t === 'string' && t.toLowerCase() === 'tcp' ? 'tcp' : 'udp';
}

function ueTarget(b: Binding, requestUri: Uri, ctx: PcscfContext): UeTarget | Rejection {
  const ipsec = ctx.ipsec;
  if (ipsec !== undefined && sendingSet(b) !== undefined) {
    const p = ipsecForward(ipsec, ipsec.domain, ipsec.forwardFlags, { kind: 'request', binding: b, nextHopTransport: uriTransport(requestUri) });
    return p === undefined ? reject(503, 'no_socket', 'no protected socket for the UE') : { target: p.target, towardsUe: p.recordRoute };
  }
  const target = targetOf({ addr: b.receivedAddr, port: b.receivedPort, transport: b.transport }, 'access', ctx);
  return isRejection(target) ? target : { target, towardsUe: ctx.sockets.byId(target.socketId)! };
}

function hopTarget(target: Target | Rejection, ctx: PcscfContext): UeTarget | Rejection {
  return isRejection(target) ? target : { target, towardsUe: ctx.sockets.byId(target.socketId)! };
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
function inDialogTarget(set: RouteSet, ctx: PcscfContext): UeTarget | Rejection {
  if (set.uris.length > 0) {
    const hop = looseHop(set, ctx);
    return isRejection(hop) ? hop : hopTarget(targetOf(hop, 'access', ctx), ctx);
  }
  const callee = calleeBinding(set.requestUri, ctx);
  if (!isRejection(callee)) return ueTarget(callee, set.requestUri, ctx);
  const uri = set.requestUri;
  if (!isSipUri(uri) || uri.hostKind === 'domain') return callee;
  const hop = hopOfUri(uri, ctx);
  return isRejection(hop) ? hop : hopTarget(targetOf(hop, 'access', ctx), ctx);
}

export function terminating(req: InboundRequest, ctx: PcscfContext): Outcome {
  const { msg } = req;
  const invalid = validateRequest(msg, ctx);
  if (invalid !== undefined) return invalid;

  const ed = msg.edit();
  const routes = removeOurRoutes(msg, ed, ctx.us);
  const initial = msg.to().tag === undefined;
  let to: UeTarget | Rejection;
  if (initial) {
    const callee = calleeBinding(routes.requestUri, ctx);
    to = isRejection(callee) ? callee : ueTarget(callee, routes.requestUri, ctx);
  } else {
    to = inDialogTarget(routes, ctx);
  }
  if (isRejection(to)) return to;
  if (initial || routes.uris.length === 0) removeAlias(msg, ed, routes);
  if (initial && createsDialog(msg.method)) recordRoute(msg, ed, ctx.us, 'mt', ctx.sockets.byId(req.rx.socketId), to.towardsUe);
  return forward(req, ed, to.target, 'terminating', { flow: 'terminating' }, ctx);
}
