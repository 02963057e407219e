// The local sockets the configuration asks for, numbered once at start-up. The same list is given
// to the pool workers (it is plain data), so a Plan names the socket to send from by its id.
//
// Protected ports (TS 33.203 §7.1): the UE sends requests to the P-CSCF's server port (port_ps)
// and answers the P-CSCF's requests on the client port (port_pc); over TCP the P-CSCF accepts on
// port_ps and connects from port_pc to the UE's server port. So UDP is opened on both ranges, TCP
// listens on the server range only, and each client-range TCP endpoint is a local address that new
// connections bind to. On Linux a socket cannot bind a port that has a listener (Node 20 has no
// SO_REUSEPORT: EADDRINUSE), while several outbound connections may share one non-listening port;
// listening on port_pc too would force connections to UEs onto another port, outside the SAs
// (Kamailio's issue #4138).

import { isIPv6 } from 'node:net';
import type { Config, ListenerSide } from '../config/index.js';
import type { Endpoint, Transport } from '../engine/plan.js';

export type SocketRole = 'unprotected' | 'protected-client' | 'protected-server';
export type IpFamily = 4 | 6;

export interface LocalSocket {
  readonly id: number;
  readonly transport: Transport;
  readonly family: IpFamily;
  readonly local: Endpoint;
  readonly role: SocketRole;
  /** Which network it faces (protected sockets face UEs). */
  readonly side: ListenerSide;
  /** Host written in Via, Path and Record-Route for messages through it (IPv6 in brackets). */
  readonly advertised: string;
  /** UDP sockets and TCP listeners receive; a non-listening TCP endpoint only binds outbound connections. */
  readonly listening: boolean;
}

/** Which local sockets `config` asks for; ids are 0..n-1 in this order. */
export function planSockets(config: Config): LocalSocket[] {
  const list: LocalSocket[] = [];
  const add = (transport: Transport, addr: string, port: number, role: SocketRole, side: ListenerSide, advertised: string, listening: boolean): void => {
    list.push({ id: list.length, transport, family: isIPv6(addr) ? 6 : 4, local: { addr, port }, role, side, advertised, listening });
  };
  for (const l of config.sip.listen) add(l.transport, l.address, l.port, 'unprotected', l.side, l.advertise, true);
  for (const addr of [config.ipsec_listen_addr, config.ipsec_listen_addr6]) {
    if (addr === '') continue;
    // The UE reaches the protected ports at this address, so that is what they announce.
    const host = isIPv6(addr) ? `[${addr}]` : addr;
    for (let i = 0; i < config.ipsec_max_connections; i++) {
      add('udp', addr, config.ipsec_client_port + i, 'protected-client', 'access', host, true);
      add('tcp', addr, config.ipsec_client_port + i, 'protected-client', 'access', host, false);
    }
    for (let i = 0; i < config.ipsec_max_connections; i++) {
      add('udp', addr, config.ipsec_server_port + i, 'protected-server', 'access', host, true);
      add('tcp', addr, config.ipsec_server_port + i, 'protected-server', 'access', host, true);
    }
  }
  return list;
}

const key = (transport: Transport, addr: string, port: number): string => `${transport} ${addr} ${port}`;

/** Lookups over the planned sockets; immutable, cheap to rebuild in each worker. */
export class SocketTable {
  readonly list: readonly LocalSocket[];
  readonly #byKey = new Map<string, LocalSocket>();
  readonly #protectedAddr = new Map<IpFamily, string>();
  /** The first unprotected socket of each transport, family and side it faces, by `${transport}${family}${side}`. */
  readonly #unprotected = new Map<string, LocalSocket>();

  constructor(list: readonly LocalSocket[]) {
    this.list = list;
    for (const s of list) {
      this.#byKey.set(key(s.transport, s.local.addr, s.local.port), s);
      if (s.role !== 'unprotected') {
        this.#protectedAddr.set(s.family, s.local.addr);
        continue;
      }
      for (const side of ['access', 'core'] as const) {
        const k = `${s.transport}${s.family}${side}`;
        if ((s.side === side || s.side === 'both') && !this.#unprotected.has(k)) this.#unprotected.set(k, s);
      }
    }
  }

  byId(id: number): LocalSocket | undefined {
    return this.list[id];
  }

  find(transport: Transport, addr: string, port: number): LocalSocket | undefined {
    return this.#byKey.get(key(transport, addr, port));
  }

  /** The protected address of a family (ipsec_listen_addr / ipsec_listen_addr6), if configured. */
  protectedAddress(family: IpFamily): string | undefined {
    return this.#protectedAddr.get(family);
  }

  /** The protected socket on `port` of a family, e.g. to send from port_pc over UDP. */
  protectedSocket(family: IpFamily, transport: Transport, port: number): LocalSocket | undefined {
    const addr = this.#protectedAddr.get(family);
    return addr === undefined ? undefined : this.find(transport, addr, port);
  }

  /** The first unprotected socket of a transport and family facing `side`: where unprotected traffic to the core or to UEs leaves from. */
  unprotected(transport: Transport, family: IpFamily, side: 'access' | 'core'): LocalSocket | undefined {
    return this.#unprotected.get(`${transport}${family}${side}`);
  }
}
