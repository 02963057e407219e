// ipsecForward's choice of ports (kamailio-behaviour.md §7.1, §7.3): which protected socket a
// message to a UE with SAs leaves from and which UE port it goes to. The flags are the whole
// integer (Kamailio passes only their lowest byte, §1.1).
//
// Only four flows are covered by a set (sa-set.ts, rows 1-4); towards the UE:
//   row 2  P:port_pc -> U:port_us   requests of the P-CSCF (TS 33.203 §7.1), UDP replies of old UEs
//   row 3  P:port_ps -> U:port_uc   replies to the UE's requests (the way they came)
// Kamailio's port choices that fall outside them (its rows 5-8, whose SAs never existed) are
// clamped to the covered flow towards the same UE port, so a protected UE's message never leaves
// outside its SAs:
//   reply, 0x100, UDP, Via port = port_uc: Kamailio port_pc -> port_uc; here port_ps -> port_uc.
//
// Flags (requests = towards a UE; replies = to a UE's request that came over a set):
//   0x01  force socket: always so here (a Target names its socket); no effect.
//   0x02, 0x04, 0x08, 0x10, 0x20  how Kamailio finds the contact from $du / $ru / alias: the
//         caller passes the binding (the built-in routing looks the Request-URI up, alias first);
//         and the destination is always the UE's protected port (0x20 cannot keep another one).
//   0x40  requests over TCP: port_ps -> port_uc on the UE's own connection (never a new one:
//         port_ps listens, so no connection can be opened from it).
//   0x80  ;transport= in $du: there is no $du here; no effect.
//   0x100 replies over UDP: to the UE's server port if its Via names that port, else the way the
//         request came (see above); requests: the transport of the next hop (the Request-URI's
//         transport parameter) instead of the one the UE registered over.
//   0x200 requests: TCP when no UDP socket exists on the chosen port (there always is one here).
//   0x400 (not in Kamailio) replies leave the way the request came, P:port_ps -> U:port_uc,
//         whatever the Via says: TS 33.203 §7.1 (the UE receives the responses to its requests on
//         its protected client port). The default of security.forward_flags.
// Replies over TCP always go back on the connection the request came on (port_ps -> port_uc).

import type { Target, Transport } from '../engine/plan.js';
import type { RxInfo } from '../engine/plan.js';
import type { Binding, SaSet } from '../shared/binding.js';
import type { Via } from '../sip/index.js';
import { sentByPort } from '../transaction/response-target.js';
import { familyOf } from '../transport/addresses.js';
import type { LocalSocket } from '../transport/sockets.js';
import type { IpsecContext } from './context.js';
import { sendingSet } from './sets.js';

export const FORWARD_FLAGS = {
  FORCE_SOCKET: 0x01,
  REVERSE_SEARCH: 0x02,
  DSTADDR_SEARCH: 0x04,
  RURIADDR_SEARCH: 0x08,
  NOALIAS_SEARCH: 0x10,
  NODSTURI_RESET: 0x20,
  TCPPORT_UEC: 0x40,
  SETDSTURI_FULL: 0x80,
  USE_VIA: 0x100,
  TRY_TCP: 0x200,
  REPLY_SAME_WAY: 0x400,
} as const;

export interface ProtectedTarget {
  readonly target: Target;
  /** The set's protected server socket of that transport: the Record-Route towards the UE names it (TS 24.229 §5.2.6.4.1 / §5.2.7). */
  readonly recordRoute: LocalSocket;
}

/** A request to the UE of `b` over its established set; undefined when it has no set (or no socket fits). */
export function requestTarget(ctx: IpsecContext, b: Binding, flags: number, nextHopTransport: Transport): ProtectedTarget | undefined {
  const set = sendingSet(b);
  if (set === undefined) return undefined;
  const family = familyOf(b.receivedAddr);
  let transport = (flags & FORWARD_FLAGS.USE_VIA) !== 0 ? nextHopTransport : b.transport;
  if (transport === 'tcp' && (flags & FORWARD_FLAGS.TCPPORT_UEC) !== 0) {
    const server = ctx.sockets.protectedSocket(family, 'tcp', set.portPs);
    if (server === undefined) return undefined;
    return { target: { transport, socketId: server.id, remote: { addr: b.receivedAddr, port: set.portUc }, reuseOnly: true }, recordRoute: server };
  }
  let client = ctx.sockets.protectedSocket(family, transport, set.portPc);
  if (client === undefined && transport === 'udp' && (flags & FORWARD_FLAGS.TRY_TCP) !== 0) {
    transport = 'tcp';
    client = ctx.sockets.protectedSocket(family, transport, set.portPc);
  }
  const server = ctx.sockets.protectedSocket(family, transport, set.portPs);
  if (client === undefined || server === undefined) return undefined;
  return { target: { transport, socketId: client.id, remote: { addr: b.receivedAddr, port: set.portUs } }, recordRoute: server };
}

/**
 * Back the way a request came (TS 33.203 §7.1: the UE receives the responses to its requests on its
 * protected client port; over TCP, on the connection it opened, never a new one from port_ps).
 */
export function sameWay(rx: RxInfo): Target {
  if (rx.transport === 'udp') return { transport: 'udp', socketId: rx.socketId, remote: rx.remote };
  return { transport: 'tcp', socketId: rx.socketId, remote: rx.remote, ...(rx.connId === undefined ? {} : { connId: rx.connId }), reuseOnly: true };
}

/**
 * A reply to the request that arrived as `rx` over `set` (U:port_uc -> P:port_ps), whose top Via
 * was `via`; undefined when no socket fits.
 */
export function replyTarget(ctx: IpsecContext, rx: RxInfo, via: Via, set: SaSet, flags: number): Target | undefined {
  const toServerPort = rx.transport === 'udp' && (flags & FORWARD_FLAGS.REPLY_SAME_WAY) === 0
    && ((flags & FORWARD_FLAGS.USE_VIA) === 0 || sentByPort(via) !== set.portUc);
  if (!toServerPort) return sameWay(rx);
  const client = ctx.sockets.protectedSocket(familyOf(rx.remote.addr), 'udp', set.portPc);
  return client === undefined ? undefined : { transport: 'udp', socketId: client.id, remote: { addr: rx.remote.addr, port: set.portUs } };
}
