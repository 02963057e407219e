// REGISTER from a UE, both ways (TS 24.229 §5.2.2, RFC 3327, TS 24.228 registration flows):
//   request: validate -> read AOR and Contacts -> security agreement -> target (sip.next_hop)
//            -> record the pending binding -> edit (Path, Require: path, security headers,
//            integrity-protected) -> forward;
//   answer:  2xx -> store what the registrar registered; 401/407 to a REGISTER set for IPsec ->
//            where the SAs are created; another final answer -> drop what was pending.

import type { Inbound, Plan } from '../engine/plan.js';
import type { MessageEditor, SipMessage } from '../sip/index.js';
import { applyRegistrarAnswer, dropPending, readRegister, recordPending } from './bindings.js';
import type { PcscfContext } from './context.js';
import { forward, validateRequest } from './forwarding.js';
import type { InboundRequest } from './forwarding.js';
import { answer, isRejection, reject } from './rejection.js';
import type { Outcome } from './rejection.js';
import { removeOurRoutes, targetOf } from './routing.js';
import { createSecurityAssociations, registerSecurity, removeSecurityHeaders } from './sec-agree.js';

/**
 * RFC 3327 §5.2: a proxy that needs terminating requests routed through it inserts a Path value;
 * Require: path makes a registrar without Path support refuse (420) instead of ignoring it
 * (TS 24.228 §6.2 flow R1-1c).
 */
function addPath(msg: SipMessage, ed: MessageEditor, path: string): void {
  ed.addHeader('Path', path);
  if (!msg.optionTags('require').some((t) => t.toLowerCase() === 'path')) ed.addHeader('Require', 'path');
}

/**
 * TS 24.229 §5.2.2: a REGISTER that did not arrive over an SA carries integrity-protected="no" in
 * its Authorization towards the S-CSCF; a value the UE put there itself is replaced.
 */
function markUnprotected(msg: SipMessage, ed: MessageEditor): void {
  for (const f of msg.fields('authorization')) {
    ed.removeAuthParams(f, ['integrity-protected']);
    ed.appendToField(f, ', integrity-protected="no"');
  }
}

export function register(req: InboundRequest, ctx: PcscfContext): Outcome {
  const { msg, rx } = req;
  if (req.side === 'core') return reject(403, 'from_core', 'REGISTER from the core');
  const invalid = validateRequest(msg, ctx);
  if (invalid !== undefined) return invalid;
  const info = readRegister(msg);
  if (isRejection(info)) return info;
  const security = registerSecurity(msg, ctx);
  if (isRejection(security)) return security;
  const target = targetOf(ctx.nextHop, 'core', ctx);
  if (isRejection(target)) return target;
  const path = ctx.us.routeValue('term', ctx.sockets.byId(target.socketId)!);
  const unstored = recordPending(info, msg, rx, path, ctx);
  if (unstored !== undefined) return unstored;

  const ed = msg.edit();
  removeOurRoutes(msg, ed, ctx.us);
  removeSecurityHeaders(msg, ed);
  markUnprotected(msg, ed);
  addPath(msg, ed, path);
  return forward(req, ed, target, 'register', { flow: 'register', ipsec: security.ipsec }, ctx);
}

/**
 * The registrar's final answer to a REGISTER this P-CSCF forwarded: the contact table follows it.
 * Returns a Plan when the P-CSCF answers the UE itself instead of relaying, undefined to relay.
 */
export function registerAnswer(response: SipMessage, inbound: Extract<Inbound, { kind: 'response' }>, ctx: PcscfContext): Plan | undefined {
  const status = response.status;
  if (status < 200) return undefined;
  const request = ctx.parse(inbound.request.bytes, inbound.request.rx.transport);
  const info = readRegister(request);
  if (isRejection(info)) return undefined;
  if (status < 300) {
    const outcome = applyRegistrarAnswer(info, request, inbound.request.rx, response, ctx);
    if (outcome !== undefined) ctx.metrics.registration(outcome);
    return undefined;
  }
  if ((status === 401 || status === 407) && inbound.context.ipsec !== true) return undefined;
  dropPending(info, ctx);
  if (status === 401 || status === 407) return answer(request, createSecurityAssociations(ctx), ctx, inbound.request.rx);
  ctx.metrics.rejected('REGISTER', 'registrar');
  return undefined;
}
