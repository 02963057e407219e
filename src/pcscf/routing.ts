// The route set, the next hop and the target of a forwarded request (RFC 3261 §16.4, §16.6,
// §16.12).
//
// No DNS on the data path: a Route value or Request-URI whose host is an IP literal is sent there;
// one whose host is a name (Service-Route and Route values in IMS are usually FQDNs of the
// S-CSCF or I-CSCF) is sent to sip.next_hop, the configured entry into the core, which resolves
// it. A lookup would block a worker for as long as the resolver takes.

import type { Target, Transport } from '../engine/plan.js';
import { isSipUri, parseUri, uriParam } from '../sip/index.js';
import type { HeaderValue, MessageEditor, SipMessage, SipUri, Uri } from '../sip/index.js';
import type { IpFamily, LocalSocket } from '../transport/sockets.js';
import type { PcscfContext } from './context.js';
import { defaultPort } from './our-uris.js';
import type { OurUris } from './our-uris.js';
import { reject } from './rejection.js';
import type { Rejection } from './rejection.js';

/** Where a request goes: an IP literal (IPv6 without brackets), a port and a transport. */
export interface Hop {
  readonly addr: string;
  readonly port: number;
  readonly transport: Transport;
}

export interface RouteSet {
  /** The Route values left once ours are removed, in order, and their URIs. */
  readonly values: readonly HeaderValue[];
  readonly uris: readonly Uri[];
  /** The Request-URI, after RFC 3261 §16.4 when a strict router sent the request. */
  readonly requestUri: Uri;
}

export function familyOf(addr: string): IpFamily {
  return addr.includes(':') ? 6 : 4;
}

/** Requests that create a dialog, which the P-CSCF record-routes (RFC 3261 §16.6 item 4, RFC 6665 §4.1.2, RFC 3515 §2.4.1). */
const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY']);

export function createsDialog(method: string): boolean {
  return DIALOG_CREATING.has(method);
}

/**
 * RFC 3261 §16.4: if the Request-URI is a value this proxy put in a Record-Route (the previous hop
 * is a strict router), the last Route value becomes the Request-URI; then every Route value at the
 * top that indicates this proxy is removed. Returns what is left.
 */
export function removeOurRoutes(msg: SipMessage, ed: MessageEditor, us: OurUris): RouteSet {
  const values = msg.values('route');
  const names = msg.routes();
  const uris = names.map((na) => parseUri(na.uri));
  let end = values.length;
  let requestUri = msg.requestUriParsed();
  if (end > 0 && isSipUri(requestUri) && us.isOurs(requestUri)) {
    end--;
    requestUri = uris[end]!;
    ed.setRequestUri(names[end]!.uri);
    ed.removeValue(values[end]!);
  }
  let start = 0;
  while (start < end && isOurUri(uris[start]!, us)) ed.removeValue(values[start++]!);
  return { values: values.slice(start, end), uris: uris.slice(start, end), requestUri };
}

function isOurUri(uri: Uri, us: OurUris): boolean {
  return isSipUri(uri) && us.isOurs(uri);
}

/** Replaces the remaining route set with `routes` (name-addr values), as one Route line where the first Route line was. */
export function replaceRoutes(msg: SipMessage, ed: MessageEditor, set: RouteSet, routes: readonly string[]): void {
  for (const v of set.values) ed.removeValue(v);
  if (routes.length === 0) return;
  const first = msg.first('route');
  ed.addHeader('Route', routes.join(', '), first === undefined ? undefined : { before: first });
}

/**
 * Adds the P-CSCF's Record-Route (RFC 3261 §16.6 item 4) above the existing ones (after the Vias
 * when there are none). When the request leaves from another socket than it arrived on (another
 * transport or port), two values are written (RFC 5658 double record-routing): the top one
 * reachable from the next hop, the second from the previous hop.
 */
export function recordRoute(msg: SipMessage, ed: MessageEditor, us: OurUris, user: 'mo' | 'mt', inbound: LocalSocket | undefined, outbound: LocalSocket): void {
  const out = us.routeValue(user, outbound);
  const back = inbound === undefined ? out : us.routeValue(user, inbound);
  const first = msg.first('record-route');
  const vias = msg.fields('via');
  ed.addHeader('Record-Route', back === out ? out : `${out}, ${back}`, first !== undefined ? { before: first } : { after: vias[vias.length - 1]! });
}

/** The hop a SIP URI names (RFC 3263 without DNS: IP literal, port, transport parameter). */
export function hopOfUri(uri: SipUri, ctx: PcscfContext): Hop | Rejection {
  if (uri.hostKind === 'domain') return ctx.nextHop;
  const param = uriParam(uri, 'transport');
  const transport = typeof param === 'string' ? param.toLowerCase() : uri.scheme === 'sips' ? 'tls' : 'udp';
  if (transport !== 'udp' && transport !== 'tcp') return reject(503, 'no_socket', `no ${transport} transport`);
  const addr = uri.hostKind === 'ipv6' ? uri.host.slice(1, -1) : uri.host;
  return { addr, port: uri.port ?? defaultPort(uri.scheme), transport };
}

/** The hop of a Route value, which must be a SIP or SIPS URI (RFC 3261 §20.34). */
export function hopOfRoute(uri: Uri, ctx: PcscfContext): Hop | Rejection {
  return isSipUri(uri) ? hopOfUri(uri, ctx) : reject(400, 'malformed', `Route URI scheme ${uri.scheme} is not routable`);
}

/** RFC 3261 §16.12: the first remaining Route value, else the Request-URI (a non-SIP one goes to the core). */
export function looseHop(set: RouteSet, ctx: PcscfContext): Hop | Rejection {
  const first = set.uris[0];
  if (first !== undefined) return hopOfRoute(first, ctx);
  return isSipUri(set.requestUri) ? hopOfUri(set.requestUri, ctx) : ctx.nextHop;
}

/** Sends to `hop` from the unprotected socket of its transport and address family that faces `side`. */
export function targetOf(hop: Hop, side: 'access' | 'core', ctx: PcscfContext): Target | Rejection {
  const family = familyOf(hop.addr);
  const socket = ctx.socketFor(hop.transport, family, side);
  if (socket === undefined) return reject(503, 'no_socket', `no ${hop.transport} socket for IPv${family} facing the ${side === 'core' ? 'core' : 'UEs'}`);
  return { transport: hop.transport, socketId: socket.id, remote: { addr: hop.addr, port: hop.port } };
}
