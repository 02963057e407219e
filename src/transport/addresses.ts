// Remote addresses of send targets: checked to be IP literals (a host name would make Node start a
// DNS lookup from the hot path) and IPv6 put in the canonical form of RFC 5952, the form Node
// reports for a connection's peer, so a target written "2001:DB8:0::1" finds the connection from
// "2001:db8::1". Parsing costs microseconds, so results are cached; the cache is bounded.

import { isIPv4, isIPv6, SocketAddress } from 'node:net';

const CACHE_MAX = 65536;

export class RemoteAddresses {
  /** address as written -> canonical form, or '' when it is not an IP literal. */
  readonly #cache = new Map<string, string>();

  /** The canonical form of an IP literal, '' for anything else. */
  canonical(addr: string): string {
    let c = this.#cache.get(addr);
    if (c === undefined) {
      c = canonicalIp(addr);
      if (this.#cache.size >= CACHE_MAX) this.#cache.clear();
      this.#cache.set(addr, c);
    }
    return c;
  }
}

export function canonicalIp(addr: string): string {
  if (isIPv4(addr)) return addr;
  if (!isIPv6(addr)) return '';
  // A zone index (fe80::1%eth0) is kept as written: SocketAddress would drop it.
  return addr.includes('%') ? addr : new SocketAddress({ address: addr, family: 'ipv6' }).address;
}

export const familyOf = (canonical: string): 4 | 6 => (canonical.includes(':') ? 6 : 4);

export function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}
