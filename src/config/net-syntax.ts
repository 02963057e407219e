// Syntax checks for the network values of the configuration: IP literals, CIDRs, hosts, the
// next-hop SIP URI and the HTTP listen address. Configuration is read once, so clarity wins here.

import { isIPv4, isIPv6 } from 'node:net';

export function isIpLiteral(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

/** An IPv4 or IPv6 address, optionally followed by /prefix of that family's length. */
export function isIpOrCidr(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return isIpLiteral(s);
  const addr = s.slice(0, slash);
  const prefix = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix)) return false;
  const bits = Number(prefix);
  if (isIPv4(addr)) return bits <= 32;
  return isIPv6(addr) && bits <= 128;
}

// RFC 3261 §25.1 hostname: labels of alphanum and "-", not starting or ending with "-".
const HOSTNAME = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$/;

/**
 * A SIP host: hostname, IPv4 literal or bracketed IPv6 reference. A bare IPv6 literal is accepted
 * and returned bracketed, as it must appear in Via, Path and Record-Route. Null when not a host.
 */
export function sipHost(s: string): string | null {
  if (isIPv4(s)) return s;
  if (isIPv6(s)) return `[${s}]`;
  if (s.startsWith('[') && s.endsWith(']') && isIPv6(s.slice(1, -1))) return s;
  return s.length <= 253 && HOSTNAME.test(s) ? s : null;
}

export interface SipTarget {
  host: string;
  port: number;
  transport: 'udp' | 'tcp' | null;
}

/** `sip:<IPv4 or [IPv6]>:<port>[;transport=udp|tcp]`, or null. */
export function parseNextHop(s: string): SipTarget | null {
  const m = /^sip:(\[[0-9A-Fa-f:.]+\]|[0-9.]+):(\d{1,5})(?:;transport=(udp|tcp))?$/i.exec(s);
  if (m === null) return null;
  const host = m[1]!;
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  if (host.startsWith('[') ? !isIPv6(bare) : !isIPv4(bare)) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  const transport = m[3] === undefined ? null : (m[3].toLowerCase() as 'udp' | 'tcp');
  return { host, port, transport };
}

/** `host:port` with an IPv4 literal, a bracketed IPv6 literal or a hostname; null when not. */
export function parseHostPort(s: string): { host: string; port: number } | null {
  const colon = s.lastIndexOf(':');
  if (colon <= 0) return null;
  const host = s.slice(0, colon);
  const portText = s.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  if (port < 1 || port > 65535) return null;
  if (isIPv6(host)) return null; // an IPv6 literal needs brackets here
  const normalized = sipHost(host);
  return normalized === null ? null : { host: normalized, port };
}

export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}
