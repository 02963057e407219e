// REGISTER from a UE, both ways (TS 24.229 §5.2.2, RFC 3327, TS 24.228 registration flows):
//   request: validate -> read AOR and Contacts -> over an SA set: Security-Verify / -Client
//            checked, the set confirmed -> security agreement -> target (sip.next_hop) -> record
//            the pending binding -> edit (Path, Require: path, security headers,
//            integrity-protected) -> forward;
//   answer:  2xx -> store what the registrar registered; 401/407 to a REGISTER set for IPsec ->
//            ipsecCreate (the SAs, then the 401); another final answer -> drop what was pending.

import type { Inbound, Plan } from '../engine/plan.js';
import { ipsecCreate } from '../ipsec/api.js';
import { CREATE_DELETE_UNUSED } from '../ipsec/create.js';
import { confirmArrival, verifyProtectedRegister } from '../ipsec/inbound.js';
import type { ProtectedOrigin } from '../ipsec/inbound.js';
import type { BindingId } from '../shared/binding.js';
import type { MessageEditor, SipMessage } from '../sip/index.js';
import { applyRegistrarAnswer, dropPending, findBinding, readRegister, recordPending, registerSecurityOf } from './bindings.js';
import type { RegisterInfo, RegisterSecurity } from './bindings.js';
import type { PcscfContext } from './context.js';
import { forward, validateRequest } from './forwarding.js';
import type { InboundRequest } from './forwarding.js';
import { answer, isRejection, reject, rejectionReply } from './rejection.js';
import type { Outcome, Rejection } from './rejection.js';
import { removeOurRoutes, targetOf } from './routing.js';
import { registerSecurity, removeAkaKeys, removeSecurityHeaders, SEC_AGREE } from './sec-agree.js';

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
 * TS 24.229 §5.2.2: the P-CSCF tells the S-CSCF in the Authorization of a REGISTER whether it
 * arrived over an SA (integrity-protected="yes") or not ("no"); a value the UE put there itself is
 * replaced.
 */
function markIntegrity(msg: SipMessage, ed: MessageEditor, overSa: boolean): void {
  for (const f of msg.fields('authorization')) {
    ed.removeAuthParams(f, ['integrity-protected']);
    ed.appendToField(f, `, integrity-protected="${overSa ? 'yes' : 'no'}"`);
  }
}

/**
 * DESIGN.md invariant 3 for a REGISTER over an SA set: Security-Verify must mirror the set's
 * Security-Server, and over a set not used before, Security-Client must be the one that asked for
 * it. Otherwise RFC 3329 §2.3.1: "If modification of the list is detected, the server MUST respond
 * to the client with a 494 (Security Agreement Required) response. This response MUST include the
 * server's unmodified list of supported security mechanisms." The set is not confirmed by it.
 * Over the SAs of one binding only that binding's AOR registers: the sets belong to one binding.
 */
function checkProtected(msg: SipMessage, info: RegisterInfo, o: ProtectedOrigin, ctx: PcscfContext): Rejection | undefined {
  const failed = verifyProtectedRegister(msg, o);
  if (failed !== undefined) {
    ctx.ipsec!.metrics.verifyMismatch(failed.header, failed.code);
    const what = failed.header === 'verify' ? 'Security-Verify does not match Security-Server' : 'Security-Client changed';
    return reject(494, 'security_verify', what, [['Require', SEC_AGREE], ['Security-Server', failed.server]]);
  }
  if (info.aor !== o.binding.aor) return reject(403, 'other_identity', 'REGISTER of another identity over these SAs');
  confirmArrival(ctx.ipsec!, o);
  return undefined;
}

export function register(req: InboundRequest, ctx: PcscfContext): Outcome {
  const { msg, rx, origin } = req;
  if (req.side === 'core') return reject(403, 'from_core', 'REGISTER from the core');
  const invalid = validateRequest(msg, ctx);
  if (invalid !== undefined) return invalid;
  const info = readRegister(msg);
  if (isRejection(info)) return info;
  if (origin !== undefined) {
    const refused = checkProtected(msg, info, origin, ctx);
    if (refused !== undefined) return refused;
  }
  const security = registerSecurity(msg, rx, ctx);
  if (isRejection(security)) return security;
  // An SA set belongs to one binding: a REGISTER that asks for one, or comes over one, names one Contact.
  if ((security.ipsec || origin !== undefined) && info.contacts !== '*' && info.contacts.length > 1) return reject(400, 'malformed', 'One Contact per protected registration');
  const target = targetOf(ctx.nextHop, 'core', ctx);
  if (isRejection(target)) return target;
  const path = ctx.us.routeValue('term', ctx.sockets.byId(target.socketId)!);
  const unstored = recordPending(info, msg, rx, path, ctx, origin);
  if (unstored !== undefined) return unstored;

  const ed = msg.edit();
  removeOurRoutes(msg, ed, ctx.us);
  removeSecurityHeaders(msg, ed);
  markIntegrity(msg, ed, origin !== undefined);
  addPath(msg, ed, path);
  const context = origin === undefined ? { flow: 'register', ipsec: security.ipsec } : { flow: 'register', ipsec: security.ipsec, sa: origin.set.spiPc };
  return forward(req, ed, target, 'register', context, ctx);
}

/** The binding a challenged REGISTER's set is for: the one it came over, else the one of its Contact. */
function challengedBinding(info: RegisterInfo, security: RegisterSecurity, ctx: PcscfContext): BindingId | undefined {
  if (security.spiPc !== undefined) return ctx.contacts.findBySpi(security.spiPc);
  if (info.contacts === '*' || info.contacts.length !== 1) return undefined;
  return findBinding(ctx, info.aor, info.contacts[0]!.uri)?.id;
}

/**
 * ipsecCreate on the registrar's challenge (kamailio-behaviour.md §5, decisions.md): a `kernel`
 * Plan whose 401 leaves only once the SAs exist, or security.create_failure_status now.
 */
function challenge(response: SipMessage, request: SipMessage, info: RegisterInfo, inbound: Extract<Inbound, { kind: 'response' }>, ctx: PcscfContext): Plan {
  const ipsec = ctx.ipsec!;
  const rx = inbound.request.rx;
  const failure = reject(ipsec.createFailureStatus, 'ipsec_unavailable', 'IPsec SAs could not be created');
  const id = challengedBinding(info, registerSecurityOf(inbound.context), ctx);
  const ed = response.edit();
  ed.removeTopVia();
  removeAkaKeys(response, ed);
  const created = id === undefined
    ? 'no_binding' as const
    : ipsecCreate(ipsec, ipsec.domain, CREATE_DELETE_UNUSED, { request, rx, response, edit: ed, binding: id, otherwise: rejectionReply(request, failure, ctx, rx) });
  if (typeof created !== 'string') return created;
  ipsec.metrics.createFailed(created);
  ctx.log({ level: 'warn', msg: 'no SA set for a challenged REGISTER; the UE gets security.create_failure_status', fields: { aor: info.aor, reason: created } });
  dropPending(info, ctx, registerSecurityOf(inbound.context));
  return answer(request, failure, ctx, rx);
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
  const security = registerSecurityOf(inbound.context);
  if (status < 300) {
    const outcome = applyRegistrarAnswer(info, request, inbound.request.rx, response, ctx, security);
    if (outcome !== undefined) ctx.metrics.registration(outcome);
    return undefined;
  }
  if (status === 401 || status === 407) return security.ipsec && ctx.ipsec !== undefined ? challenge(response, request, info, inbound, ctx) : undefined;
  dropPending(info, ctx, security);
  ctx.metrics.rejected('REGISTER', 'registrar');
  return undefined;
}
