// The P-CSCF's registrations in the shared contact table (src/shared/contact-table.ts): what a
// REGISTER records while it is pending, what the registrar's answer makes of it, and the lookups
// of the originating and terminating flows (kamailio-behaviour.md §3.1: SEARCH_RECEIVED and
// SEARCH_NORMAL).
//
// The P-CSCF's view follows the registrar's answer, never the request: a REGISTER only records a
// "pending" binding (or refreshes one), with the short life Kamailio's pcscf_save_pending gives it;
// a 2xx makes the UE's contact registered, or removes it; any other final answer (but a challenge)
// removes what the REGISTER left pending.
//
// A binding's SA sets (src/ipsec/sets.ts) go with it: every removal takes the binding out of the
// table and its sets with it in one step, and notes their teardown; a binding that moves to
// another UE address, or registers again without IPsec, loses its sets. A REGISTER that came over
// an SA set is the registration of that set's binding, whatever its Contact says (TS 24.229: the
// protected REGISTER's Contact carries the protected server port, the first one did not).

import type { RxInfo, Transport, TxContext, XfrmWhy } from '../engine/plan.js';
import type { ProtectedOrigin } from '../ipsec/inbound.js';
import { abandon, changeSets, detach, establish, isTemporary, removeBinding, type SetChange } from '../ipsec/sets.js';
import { SharedStateError } from '../shared/errors.js';
import type { Binding, BindingId, BindingPatch } from '../shared/binding.js';
import { SipError, isSipUri, parseNameAddr, parseUri, uriParam } from '../sip/index.js';
import type { Contact, SipMessage, SipUri, Uri } from '../sip/index.js';
import type { PcscfContext } from './context.js';
import type { RegistrationOutcome } from './metrics.js';
import { defaultPort, hostKey } from './our-uris.js';
import { reject } from './rejection.js';
import type { Rejection } from './rejection.js';
import { aorOf, sameUri, uriOfNameAddr } from './uri-match.js';

/** Life of a binding recorded from a REGISTER until the registrar answers (Kamailio: 30 s). */
export const PENDING_SECONDS = 30;

/** Registration interval when neither the Contact nor the request says (RFC 3261 §10.2.1.1 suggests 3600 s). */
const DEFAULT_EXPIRES = 3600;

export interface RequestedContact {
  readonly contact: Contact;
  readonly uri: SipUri;
  /** The interval asked for: the Contact's expires, else the Expires header, else 3600. */
  readonly expires: number;
}

/** What a REGISTER asks for (RFC 3261 §10.2). */
export interface RegisterInfo {
  readonly aor: string;
  /** '*' for "remove every binding" (RFC 3261 §10.2.2). */
  readonly contacts: readonly RequestedContact[] | '*';
}

/** Reads the AOR and Contacts of a REGISTER; a REGISTER the P-CSCF cannot record is a 400. */
export function readRegister(msg: SipMessage): RegisterInfo | Rejection {
  const to = parseUri(msg.to().uri);
  if (!isSipUri(to) && to.scheme !== 'tel') return reject(400, 'malformed', 'To is not a SIP or TEL URI');
  const aor = aorOf(to);
  const contacts = msg.contacts();
  if (contacts === '*') {
    // RFC 3261 §10.2.2: "*" only with Expires: 0.
    return msg.expires() === 0 ? { aor, contacts } : reject(400, 'malformed', 'Contact * without Expires: 0');
  }
  if (contacts.length === 0) return reject(400, 'malformed', 'REGISTER without Contact');
  const headerExpires = msg.expires();
  const requested: RequestedContact[] = [];
  for (const contact of contacts) {
    const uri = parseUri(contact.uri);
    if (!isSipUri(uri)) return reject(400, 'malformed', 'Contact is not a SIP URI');
    requested.push({ contact, uri, expires: contact.expires ?? headerExpires ?? DEFAULT_EXPIRES });
  }
  return { aor, contacts: requested };
}

/** The binding of `aor` whose Contact is `uri` (RFC 3261 §19.1.4 comparison). */
export function findBinding(ctx: PcscfContext, aor: string, uri: SipUri): { id: BindingId; binding: Binding } | undefined {
  for (const id of ctx.contacts.findByAor(aor)) {
    const binding = ctx.contacts.get(id);
    if (binding !== undefined && sameUri(uriOfNameAddr(binding.contactUri, 'Contact'), uri)) return { id, binding };
  }
  return undefined;
}

/** Where the REGISTER came from: the fields of a binding that the request, not the registrar, decides. */
function sourceFields(msg: SipMessage, rx: RxInfo, c: RequestedContact): Pick<Binding, 'contactUri' | 'contactHost' | 'contactPort' | 'receivedAddr' | 'receivedPort' | 'transport' | 'viaHost' | 'viaPort'> {
  const via = msg.topVia();
  return {
    contactUri: c.contact.raw,
    contactHost: c.uri.host,
    contactPort: c.uri.port ?? defaultPort(c.uri.scheme),
    receivedAddr: rx.remote.addr,
    receivedPort: rx.remote.port,
    transport: rx.transport,
    viaHost: via.host,
    viaPort: via.port ?? 5060,
  };
}

/** The contact table is full (of bindings or of their strings), rather than refusing this binding. */
function isCapacityError(e: SharedStateError): boolean {
  return e.code === 'CONTACT_TABLE_FULL' || e.code === 'ARENA_FULL';
}

/** A contact-table failure as the answer to the REGISTER that caused it. */
function tableRejection(e: SharedStateError): Rejection {
  return isCapacityError(e) ? reject(503, 'capacity', 'Registration capacity exhausted') : reject(400, 'malformed', 'Registration data too long');
}

/** How a REGISTER asked for security, as its forward recorded it in the client transaction's context. */
export interface RegisterSecurity {
  /** It carried an acceptable Security-Client (the registrar's challenge creates a set). */
  readonly ipsec: boolean;
  /** The spi_pc of the SA set it came over, when it came over one. */
  readonly spiPc: number | undefined;
}

export function registerSecurityOf(context: TxContext): RegisterSecurity {
  return { ipsec: context.ipsec === true, spiPc: typeof context.sa === 'number' ? context.sa : undefined };
}

/**
 * Writes `fields` into binding `id`; its SA sets go when the UE address changes ('moved'), and
 * `sets` may change them further. The sets removed are noted for teardown.
 */
function rewrite(ctx: PcscfContext, id: BindingId, fields: BindingPatch, sets?: (b: Binding) => SetChange | undefined): boolean {
  const ipsec = ctx.ipsec;
  if (ipsec === undefined) return ctx.contacts.update(id, fields);
  return changeSets(ipsec, id, (b) => {
    const next = { ...b, ...fields };
    if (fields.receivedAddr !== undefined && hostKey(fields.receivedAddr) !== hostKey(b.receivedAddr)) return detach(next, 'moved');
    return sets?.(next) ?? { next, removed: [] };
  }, 'moved');
}

/** Removes binding `id` with its SA sets (noted for teardown); false when it was already gone. */
export function removeBindingOf(ctx: PcscfContext, id: BindingId, why: XfrmWhy, when?: (b: Binding) => boolean): boolean {
  return removeBinding(ctx.contacts, ctx.ipsec, id, why, when) !== undefined;
}

/**
 * Records the pending binding of each Contact the REGISTER adds (none for a de-registration): a
 * new one, or a pending one refreshed; a registered binding is left as it is until the registrar
 * answers. A REGISTER over an SA set (`origin`) refreshes that set's binding.
 */
export function recordPending(info: RegisterInfo, msg: SipMessage, rx: RxInfo, path: string, ctx: PcscfContext, origin?: ProtectedOrigin): Rejection | undefined {
  if (info.contacts === '*') return undefined;
  const now = ctx.now();
  try {
    for (const c of info.contacts) {
      if (c.expires === 0) continue;
      const found = origin === undefined ? findBinding(ctx, info.aor, c.uri) : { id: origin.id, binding: origin.binding };
      const fields = { ...sourceFields(msg, rx, c), path, expiresAt: now + PENDING_SECONDS, updatedAt: now };
      if (found === undefined) {
        ctx.contacts.insert({ state: 'pending', aor: info.aor, serviceRoute: [], associatedUris: [], createdAt: now, ...fields });
      } else if (found.binding.state === 'pending') {
        rewrite(ctx, found.id, fields);
      }
    }
  } catch (e) {
    if (e instanceof SharedStateError) return tableRejection(e);
    throw e;
  }
  return undefined;
}

/**
 * Removes what a REGISTER left pending once the registrar refused it; a refused re-registration
 * over a new SA set gives that set up, and the previous one is in use again.
 */
export function dropPending(info: RegisterInfo, ctx: PcscfContext, security: RegisterSecurity): void {
  if (info.contacts === '*') return;
  const ipsec = ctx.ipsec;
  const spiPc = security.spiPc;
  if (ipsec !== undefined && spiPc !== undefined) {
    const id = ctx.contacts.findBySpi(spiPc);
    if (id === undefined) return;
    if (!removeBindingOf(ctx, id, 'refused', (b) => b.state === 'pending')) changeSets(ipsec, id, (b) => abandon(b, spiPc), 'refused');
    return;
  }
  for (const c of info.contacts) {
    const found = findBinding(ctx, info.aor, c.uri);
    if (found?.binding.state === 'pending') removeBindingOf(ctx, found.id, 'refused', (b) => b.state === 'pending');
  }
}

/**
 * Applies a 2xx to a REGISTER (RFC 3261 §10.3 item 8: its Contact values are the registrar's view
 * of all the AOR's bindings, each with its expires). Each Contact of the request that the answer
 * lists with a non-zero interval becomes registered, with the Path, Service-Route (RFC 3608) and
 * P-Associated-URI (RFC 3455) of the answer; one it does not list, or lists with 0, is removed.
 * "Contact: *" removes every binding of the AOR registered from the same address. Returns what
 * happened, or undefined when the answer could not be stored (logged and counted; the 2xx is
 * relayed all the same: the registrar has registered the UE).
 */
export function applyRegistrarAnswer(info: RegisterInfo, msg: SipMessage, rx: RxInfo, answer: SipMessage, ctx: PcscfContext, security: RegisterSecurity): RegistrationOutcome | undefined {
  try {
    if (info.contacts === '*') {
      const from = hostKey(rx.remote.addr);
      for (const id of ctx.contacts.findByAor(info.aor)) removeBindingOf(ctx, id, 'deregistered', (b) => b.receivedAddr === from);
      return 'de';
    }
    const answered = answer.contacts();
    const listed = answered === '*' ? [] : answered.map((contact) => ({ contact, uri: parseUri(contact.uri) }));
    const answerExpires = answer.expires();
    const now = ctx.now();
    const learned = {
      path: answer.paths().map((p) => p.raw).join(', '),
      serviceRoute: answer.serviceRoutes().map((r) => r.raw),
      associatedUris: associatedUris(answer),
      state: 'registered' as const,
      updatedAt: now,
    };
    let kept = false;
    let renewed = false;
    const overSet = security.spiPc === undefined ? undefined : bindingOfSet(ctx, info.aor, security.spiPc);
    for (const c of info.contacts) {
      const match = listed.find((l) => sameUri(l.uri, c.uri));
      const expires = match === undefined ? 0 : match.contact.expires ?? answerExpires ?? c.expires;
      const found = overSet ?? findBinding(ctx, info.aor, c.uri);
      if (expires === 0) {
        if (found !== undefined) removeBindingOf(ctx, found.id, 'deregistered');
        continue;
      }
      const fields = { ...sourceFields(msg, rx, c), ...learned, contactUri: match!.contact.raw, expiresAt: now + expires };
      kept = true;
      if (found === undefined) {
        ctx.contacts.insert({ aor: info.aor, createdAt: now, ...fields });
      } else {
        renewed ||= found.binding.state === 'registered';
        rewrite(ctx, found.id, fields, (b) => registeredSets(b, security));
      }
    }
    return !kept ? 'de' : renewed ? 're' : 'initial';
  } catch (e) {
    if (!(e instanceof SharedStateError) && !(e instanceof SipError)) throw e;
    ctx.metrics.bindingError(e instanceof SharedStateError && isCapacityError(e) ? 'capacity' : 'invalid');
    ctx.log({ level: 'warn', msg: 'registration accepted by the registrar could not be stored', fields: { aor: info.aor, error: e.message } });
    return undefined;
  }
}

/** The binding of `aor` whose SA set has spi_pc `spiPc`. */
function bindingOfSet(ctx: PcscfContext, aor: string, spiPc: number): { id: BindingId; binding: Binding } | undefined {
  const id = ctx.contacts.findBySpi(spiPc);
  const binding = id === undefined ? undefined : ctx.contacts.get(id);
  return id !== undefined && binding?.aor === aor ? { id, binding } : undefined;
}

/**
 * What a registration the registrar accepted makes of the binding's sets: over its newest set,
 * that set is established and the previous one goes (TS 33.203 §7.4); registered again without
 * IPsec (no Security-Client, not over a set), it keeps none.
 */
function registeredSets(b: Binding, security: RegisterSecurity): SetChange | undefined {
  if (security.spiPc !== undefined) return establish(b, security.spiPc);
  if (!security.ipsec && (b.sa !== undefined || b.previousSa !== undefined)) return detach(b, 'unprotected');
  return undefined;
}

/**
 * Removes every binding whose time is up: pending ones the registrar never answered, registered
 * ones not renewed (RFC 3261 §10.2.1: a binding the UA does not refresh expires), with their SA
 * sets; and gives up every SA set still temporary security.temporary_sa_timeout_s after its
 * creation (sets.ts). A pass over the whole table (ContactTable.forEachDue), for a periodic timer
 * in the main thread; returns how many bindings were removed. Each binding is checked again as
 * it is removed or changed, so one renewed by a worker since the pass saw it is kept. `busy`
 * names bindings whose temporary set must be left alone for now (a new set is being created).
 */
export function removeExpired(ctx: PcscfContext, busy?: (id: BindingId) => boolean): number {
  const now = ctx.now();
  const ipsec = ctx.ipsec;
  const before = ipsec === undefined ? -Infinity : now - ipsec.temporarySeconds;
  let removed = 0;
  ctx.contacts.forEachDue(now, before, (id, why) => {
    if (why === 'expired') {
      if (removeBindingOf(ctx, id, 'expired', (b) => b.expiresAt <= now)) removed++;
    } else if (ipsec !== undefined && busy?.(id) !== true) {
      changeSets(ipsec, id, (b) => (isTemporary(b) && b.sa!.createdAt <= before ? abandon(b, b.sa!.spiPc) : undefined), 'temporary');
    }
  });
  return removed;
}

/** P-Associated-URI values (RFC 3455 §4.1: name-addr *(SEMI ai-param)), as bare URIs. */
function associatedUris(answer: SipMessage): string[] {
  return answer.values('p-associated-uri').map((v) => parseNameAddr(v.text, 0, v.text.length, 'P-Associated-URI', true).uri);
}

/** A registered binding whose registration has not expired. */
export function usable(b: Binding | undefined, now: number): b is Binding {
  return b !== undefined && b.state === 'registered' && b.expiresAt > now;
}

/**
 * The registered binding a UE's request comes from (SEARCH_RECEIVED: source address and port,
 * over the same transport). None: sip.unregistered_status (TS 24.229 §5.2.6.3.1 leaves the answer
 * to the operator; 403 by default).
 */
export function callerBinding(rx: RxInfo, ctx: PcscfContext): Binding | Rejection {
  const id = ctx.contacts.findByReceived(rx.remote.addr, rx.remote.port, rx.transport);
  const binding = id === undefined ? undefined : ctx.contacts.get(id);
  return usable(binding, ctx.now()) ? binding : reject(ctx.config.sip.unregistered_status, 'unregistered', 'Not registered');
}

/** alias=host~port~proto, the received address a registrar keeps in a Contact (Kamailio's add_contact_alias: proto 1 udp, 2 tcp). */
export interface Alias {
  readonly host: string;
  readonly port: number;
  readonly transport: Transport | undefined;
}

const ALIAS_TRANSPORTS: Readonly<Record<string, Transport>> = { 1: 'udp', 2: 'tcp' };

export function parseAlias(value: string): Alias | undefined {
  const parts = value.split('~');
  if (parts.length !== 3 || !/^\d{1,5}$/.test(parts[1]!) || !/^\d$/.test(parts[2]!)) return undefined;
  const port = Number(parts[1]);
  let host: Uri;
  try {
    host = parseUri(`sip:${parts[0]!}`);
  } catch {
    return undefined;
  }
  if (!isSipUri(host) || host.hostKind === 'domain' || host.user !== undefined || host.port !== undefined || host.params.length > 0 || port < 1 || port > 65535) return undefined;
  return { host: host.host, port, transport: ALIAS_TRANSPORTS[parts[2]!] };
}

/**
 * The registered binding a terminating request is for: with an alias parameter in the
 * Request-URI, the binding registered from that address (SEARCH_RECEIVED); otherwise the binding
 * whose Contact is at the Request-URI's host and port (SEARCH_NORMAL). None: 480 (RFC 3261 §16.5:
 * "If the target set remains empty ... SHOULD be the 480 (Temporarily Unavailable) response"; the
 * P-CSCF knows no binding for the URI, not that the user does not exist, which 404 would claim).
 */
export function calleeBinding(uri: Uri, ctx: PcscfContext): Binding | Rejection {
  const none = reject(480, 'unknown_target', 'Not registered');
  if (!isSipUri(uri)) return none;
  const alias = uriParam(uri, 'alias');
  let id: BindingId | undefined;
  if (typeof alias === 'string') {
    const a = parseAlias(alias);
    if (a === undefined) return reject(400, 'malformed', 'Invalid alias parameter');
    if (a.transport === undefined) return none;
    id = ctx.contacts.findByReceived(a.host, a.port, a.transport);
  } else {
    id = ctx.contacts.findByContact(uri.host, uri.port ?? defaultPort(uri.scheme));
  }
  const binding = id === undefined ? undefined : ctx.contacts.get(id);
  return usable(binding, ctx.now()) ? binding : none;
}
