// Security agreement at the P-CSCF (RFC 3329, TS 33.203 Annex H, TS 24.229 §5.2.2):
// - with IPsec disabled (no ipsec_listen_addr*), sec-agree is an extension the P-CSCF does not
//   support: Proxy-Require: sec-agree gets 420 (RFC 3261 §16.3 item 5, in forwarding.ts), and a
//   Security-Client alone is removed and the REGISTER forwarded unprotected;
// - with IPsec enabled, a REGISTER with an acceptable ipsec-3gpp offer is forwarded, and the
//   registrar's challenge is where the SAs are created (register.ts, src/ipsec/create.ts);
// - security.require_sec_agree refuses a REGISTER without Security-Client with 421 or 494.

import { isDeprecatedAuth, isDeprecatedEnc, VALID_ALG_PAIRS } from '../ipsec/algorithms.js';
import { NoOffer, SecAgreeError, parseSecurityHeader, selectOffer } from '../secagree/index.js';
import type { Selected, SelectionPolicy } from '../secagree/index.js';
import type { RxInfo } from '../engine/plan.js';
import type { MessageEditor, OptionTagHeader, SipMessage } from '../sip/index.js';
import { familyOf } from '../transport/addresses.js';
import type { PcscfContext } from './context.js';
import { reject } from './rejection.js';
import type { Rejection } from './rejection.js';

export const SEC_AGREE = 'sec-agree';

/**
 * The mechanisms the P-CSCF accepts, one ipsec-3gpp value per algorithm pair the configuration
 * allows, without SPIs or ports (there is no SA to describe): the list RFC 3329 §2.3.1 wants in a
 * 494, which "MUST NOT depend on the contents of the client's list".
 */
export function serverMechanisms(policy: SelectionPolicy): string {
  const offers: string[] = [];
  for (const [alg, ealg] of VALID_ALG_PAIRS) {
    if (!policy.allowedAuth.includes(alg) || !policy.allowedEnc.includes(ealg)) continue;
    if (policy.disableDeprecated === true && (isDeprecatedAuth(alg) || isDeprecatedEnc(ealg))) continue;
    offers.push(`ipsec-3gpp;q=0.1;prot=esp;mod=trans;alg=${alg};ealg=${ealg}`);
  }
  return offers.join(', ');
}

function hasTag(msg: SipMessage, header: OptionTagHeader, tag: string): boolean {
  return msg.optionTags(header).some((t) => t.toLowerCase() === tag);
}

/** Whether the UE announced sec-agree support (Supported) or asked for it (Require, Proxy-Require). */
function announcesSecAgree(msg: SipMessage): boolean {
  return hasTag(msg, 'supported', SEC_AGREE) || hasTag(msg, 'require', SEC_AGREE) || hasTag(msg, 'proxy-require', SEC_AGREE);
}

/**
 * RFC 3329 §2.3.2 (server initiated): a server that requires security agreement answers a UA that
 * does not announce sec-agree with 421 (Extension Required) and Require: sec-agree, and one that
 * does with 494 (Security Agreement Required), Require: sec-agree and its Security-Server list;
 * §2.3.1 gives the same 494 to an unprotected request that requires sec-agree.
 */
function secAgreeRequired(msg: SipMessage, ctx: PcscfContext): Rejection {
  if (!announcesSecAgree(msg)) return reject(421, 'sec_agree_required', undefined, [['Require', SEC_AGREE]]);
  return reject(494, 'sec_agree_required', undefined, [['Require', SEC_AGREE], ['Security-Server', ctx.securityServer]]);
}

/** What a REGISTER from a UE asks of security agreement: forwarded for IPsec, forwarded unprotected, or answered here. */
export function registerSecurity(msg: SipMessage, rx: RxInfo, ctx: PcscfContext): { ipsec: boolean } | Rejection {
  if (ctx.ipsec === undefined) return { ipsec: false };
  const client = msg.fieldValues('security-client');
  if (client.length === 0) return ctx.config.security.require_sec_agree ? secAgreeRequired(msg, ctx) : { ipsec: false };
  let selected: Selected | NoOffer;
  try {
    selected = selectOffer(parseSecurityHeader(client), ctx.selection);
  } catch (e) {
    if (e instanceof SecAgreeError) return reject(400, 'malformed', 'Invalid Security-Client');
    throw e;
  }
  if (selected instanceof NoOffer) {
    return reject(494, 'sec_agree_no_offer', 'No acceptable ipsec-3gpp offer', [['Require', SEC_AGREE], ['Security-Server', ctx.securityServer]]);
  }
  const family = familyOf(rx.remote.addr);
  if (ctx.sockets.protectedAddress(family) === undefined) {
    return reject(ctx.config.security.create_failure_status, 'ipsec_unavailable', `no IPsec address for IPv${family} (ipsec_listen_addr${family === 6 ? '6' : ''})`);
  }
  return { ipsec: true };
}

/**
 * Security-Client, Security-Verify and the sec-agree option tag concern the UE and the P-CSCF only:
 * removed before the request goes to the core; a Require or Proxy-Require left empty disappears
 * (TS 24.229 §5.2.2 and §5.2.6.3; TS 24.228 flows: "As the Proxy-Require header is empty, it
 * removes this header completely").
 */
export function removeSecurityHeaders(msg: SipMessage, ed: MessageEditor): void {
  for (const f of msg.fields('security-client')) ed.removeField(f);
  for (const f of msg.fields('security-verify')) ed.removeField(f);
  for (const header of ['require', 'proxy-require'] as const) {
    for (const v of msg.values(header)) if (v.text.toLowerCase() === SEC_AGREE) ed.removeValue(v);
  }
}

/**
 * The S-CSCF gives the P-CSCF the IMS AKA keys in its challenge (TS 33.203 §7.1: ck and ik
 * auth-params); they never go further towards the UE (DESIGN.md invariant 2), whatever the flow
 * and whether IPsec is on or not.
 */
export function removeAkaKeys(response: SipMessage, ed: MessageEditor): void {
  for (const f of response.fields('www-authenticate')) ed.removeAuthParams(f, ['ck', 'ik']);
  for (const f of response.fields('proxy-authenticate')) ed.removeAuthParams(f, ['ck', 'ik']);
}
