// The P-CSCF's own SIP values and the test "is this us?".
//
// What the P-CSCF writes:
// - Via (RFC 3261 §16.6 item 8): the transport and port of the socket the request leaves from,
//   with that socket's advertised host as sent-by (its listener's `advertise`, its address, or
//   sip.advertised_host for a wildcard; a protected socket announces its own address);
// - Path (RFC 3327 §5.2) on REGISTER: sip:term@<host>:<port>;lr, where the core reaches the P-CSCF,
//   as Kamailio's example configuration writes it (user "term": the terminating entry point);
// - Record-Route (RFC 3261 §16.6 item 4): sip:mo@... on originating, sip:mt@... on terminating
//   dialog-creating requests (the users only tell a reader the direction; routing does not read
//   them), with ;transport=tcp when the socket is TCP.
//
// "Is this us?" (RFC 3261 §16.4: a Route value that indicates this proxy is removed): the host is
// sip.advertised_host, the advertised host or the address of one of our sockets, and the port (5060 when absent, 5061
// for sips) is the port of one of our sockets.

import type { Config } from '../config/index.js';
import type { Via } from '../sip/index.js';
import type { SipUri } from '../sip/index.js';
import type { LocalSocket, SocketTable } from '../transport/sockets.js';

/** A host compared as the contact table compares it: lower case, IPv6 without brackets. */
export function hostKey(host: string): string {
  const h = host.length > 1 && host.charCodeAt(0) === 0x5b && host.charCodeAt(host.length - 1) === 0x5d ? host.slice(1, -1) : host;
  return h.toLowerCase();
}

export function defaultPort(scheme: string): number {
  return scheme === 'sips' ? 5061 : 5060;
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

export class OurUris {
  private readonly hosts = new Set<string>();
  private readonly ports = new Set<number>();

  constructor(config: Config, sockets: SocketTable) {
    this.hosts.add(hostKey(config.sip.advertised_host));
    for (const s of sockets.list) {
      this.hosts.add(hostKey(s.advertised));
      if (!WILDCARDS.has(s.local.addr)) this.hosts.add(hostKey(s.local.addr));
      this.ports.add(s.local.port);
    }
  }

  /** host:port of a socket as the P-CSCF announces it. */
  hostPort(socket: LocalSocket): string {
    return `${socket.advertised}:${socket.local.port}`;
  }

  via(socket: LocalSocket, branch: string): string {
    return `SIP/2.0/${socket.transport === 'tcp' ? 'TCP' : 'UDP'} ${this.hostPort(socket)};branch=${branch}`;
  }

  /** A name-addr with `user` at the socket, loose-routing, e.g. <sip:term@pcscf.example.net:5060;lr>. */
  routeValue(user: 'term' | 'mo' | 'mt', socket: LocalSocket): string {
    return `<sip:${user}@${this.hostPort(socket)}${socket.transport === 'tcp' ? ';transport=tcp' : ''};lr>`;
  }

  isOurHost(host: string): boolean {
    return this.hosts.has(hostKey(host));
  }

  isOurs(uri: SipUri): boolean {
    return this.isOurHost(uri.host) && this.ports.has(uri.port ?? defaultPort(uri.scheme));
  }

  /** Whether a response's top Via is one the P-CSCF wrote (RFC 3261 §16.7 item 3, §18.1.2). */
  isOurVia(via: Via): boolean {
    return this.isOurHost(via.host) && this.ports.has(via.port ?? (via.transport === 'TLS' ? 5061 : 5060));
  }
}
