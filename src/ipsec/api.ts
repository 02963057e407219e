// The four functions of Kamailio's ims_ipsec_pcscf (seed/ims_ipsec_pcscf-admin-guide.txt §4) as
// the engine's API. The built-in routing (src/pcscf/) calls them; a different routing could too.
// Each takes the IpsecContext of the calling thread and acts on the message or binding it is
// given, where Kamailio reads the "current message" of the routing script.
//
//   domain  the contact table's name (Kamailio's usrloc domain, contacts.domain, "location" by
//           default). There is one table: another name throws IpsecError IPSEC_UNKNOWN_DOMAIN.
//   flags   the whole integer (Kamailio hands its functions only the lowest byte: §1.1). A value
//           that is not a non-negative integer throws IPSEC_BAD_FLAGS; unknown bits are ignored.
//
// Differences from Kamailio (spec/decisions.md):
// - ipsecCreate: the SAs exist in the kernel before the 401 leaves, or the UE gets
//   security.create_failure_status and nothing is left (Kamailio never reads the kernel's answer);
//   it strips ck / ik itself; the Security-Client is read as whole offers; the set goes into the
//   binding only once the kernel acknowledged it.
//   Flag 0x01 ("delete unused tunnels before every registration") is accepted and has no extra
//   effect: an unconfirmed set of the binding that a new one supersedes is always removed at
//   once (a binding holds one unconfirmed set), and a set never confirmed by traffic is removed
//   after security.temporary_sa_timeout_s; no sweep over the kernel's tables runs per
//   registration (Kamailio's dumps every SA and policy, and releases the wrong SPI pair).
// - ipsecForward: returns where the message goes instead of rewriting $du and the send socket;
//   the port choices of §7.3 that fall outside the SA set are clamped (forward.ts); the
//   contact-search flags belong to the caller's lookup; 0x400 is ours (TS 33.203 §7.1 replies).
//   The Supported / Require: sec-agree that Kamailio adds to a 200 to REGISTER are added by the
//   built-in routing when the REGISTER came over SAs.
// - ipsecDestroy / ipsecDestroyByContact: remove the bindings with their SA sets, not only the
//   SAs: a binding that agreed on IPsec is never reached outside its SAs, so without them it has
//   no use. `aor` is required (an API call has no current message; a caller with a request
//   passes the AOR of its Request-URI). The SPI pairs released are the ones the P-CSCF recorded
//   when it created the sets, never values a UE sent (§12: Kamailio releases what a UE's
//   Security-Verify claims).

import type { Plan, RxInfo, Target, Transport } from '../engine/plan.js';
import type { Binding, SaSet } from '../shared/binding.js';
import type { Via } from '../sip/index.js';
import type { IpsecContext } from './context.js';
import { createSet, type CreateSubject } from './create.js';
import { IpsecError } from './errors.js';
import { replyTarget, requestTarget, type ProtectedTarget } from './forward.js';
import type { CreateFailure } from './metrics.js';
import { removeBinding } from './sets.js';

export type { CreateSubject } from './create.js';
export type { ProtectedTarget } from './forward.js';

function checkFlags(flags: number): void {
  if (!Number.isSafeInteger(flags) || flags < 0) throw new IpsecError('IPSEC_BAD_FLAGS', `flags must be a non-negative integer, got ${String(flags)}`);
}

/**
 * ipsec_create(domain, flags): the SA set for the UE of a 401 / 407 to a REGISTER with
 * Security-Client. A `kernel` Plan for the main thread to carry out, or why there is none (then
 * the caller answers subject.otherwise's status, counted with the reason).
 */
export function ipsecCreate(ctx: IpsecContext, domain: string, flags: number, subject: CreateSubject): Plan | CreateFailure {
  ctx.checkDomain(domain);
  checkFlags(flags);
  return createSet(ctx, flags, subject);
}

/** Where ipsecForward sends a request: to the UE of `binding` (found by the caller's lookup). */
export interface ForwardRequest {
  readonly kind: 'request';
  readonly binding: Binding;
  /** The transport of the next hop (the Request-URI's), used with flag 0x100. */
  readonly nextHopTransport: Transport;
}

/** Where ipsecForward sends a reply: to the UE whose request arrived as `rx` over `set`, with top Via `via`. */
export interface ForwardReply {
  readonly kind: 'reply';
  readonly rx: RxInfo;
  readonly via: Via;
  readonly set: SaSet;
}

/**
 * ipsec_forward(domain, flags): the protected socket and UE port a message leaves from and goes
 * to. Undefined when there is no SA set to send over (or no local socket for it): the message
 * must then not be sent at all.
 */
export function ipsecForward(ctx: IpsecContext, domain: string, flags: number, subject: ForwardRequest): ProtectedTarget | undefined;
export function ipsecForward(ctx: IpsecContext, domain: string, flags: number, subject: ForwardReply): Target | undefined;
export function ipsecForward(ctx: IpsecContext, domain: string, flags: number, subject: ForwardRequest | ForwardReply): ProtectedTarget | Target | undefined {
  ctx.checkDomain(domain);
  checkFlags(flags);
  return subject.kind === 'request'
    ? requestTarget(ctx, subject.binding, flags, subject.nextHopTransport)
    : replyTarget(ctx, subject.rx, subject.via, subject.set, flags);
}

/**
 * ipsec_destroy(domain, aor): removes every binding of `aor` (as stored: the AOR of the To of
 * its REGISTER) with its SA sets. Returns how many; the SAs' teardown is noted in `ctx`.
 */
export function ipsecDestroy(ctx: IpsecContext, domain: string, aor: string): number {
  ctx.checkDomain(domain);
  let removed = 0;
  for (const id of ctx.contacts.findByAor(aor)) if (removeBinding(ctx.contacts, ctx, id, 'admin') !== undefined) removed++;
  return removed;
}

/**
 * ipsec_destroy_by_contact(domain, aor, recv_host, recv_port): removes the bindings of `aor`
 * registered from `host` whose received port or Contact port is `port` (Kamailio's
 * SEARCH_RECEIVED), with their SA sets. Returns how many.
 */
export function ipsecDestroyByContact(ctx: IpsecContext, domain: string, aor: string, host: string, port: number): number {
  ctx.checkDomain(domain);
  const addr = (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host).toLowerCase();
  const matches = (b: Binding): boolean => b.receivedAddr === addr && (b.receivedPort === port || b.contactPort === port);
  let removed = 0;
  for (const id of ctx.contacts.findByAor(aor)) if (removeBinding(ctx.contacts, ctx, id, 'admin', matches) !== undefined) removed++;
  return removed;
}
