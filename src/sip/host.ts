// host = hostname / IPv4address / IPv6reference (RFC 3261 §25.1, RFC 3986 §3.2.2 for IPv6).

import { DIGIT, HEX, HOST, cc, decimal, scan } from './chars.js';

export type HostKind = 'ipv4' | 'ipv6' | 'domain';

/**
 * The end of the host that starts at i, or -1 when s[i, ...) does not start with a valid host.
 * An IPv6 reference keeps its brackets.
 */
export function scanHost(s: string, i: number, end: number): number {
  if (s.charCodeAt(i) === 0x5b) {
    const close = s.indexOf(']', i);
    if (close < 0 || close >= end || !isIPv6(s, i + 1, close)) return -1;
    return close + 1;
  }
  const e = scan(s, i, end, HOST);
  if (e === i) return -1;
  return isIPv4(s, i, e) || isHostname(s, i, e) ? e : -1;
}

/** The kind of the valid host s[start, end): a host name never ends in a label of digits only. */
export function hostKindAt(s: string, start: number, end: number): HostKind {
  if (s.charCodeAt(start) === 0x5b) return 'ipv6';
  let i = end;
  while (i > start && (cc(s.charCodeAt(i - 1)) & DIGIT) !== 0) i--;
  return i < end && (i === start || s.charCodeAt(i - 1) === 0x2e) ? 'ipv4' : 'domain';
}

/**
 * hostname = *( domainlabel "." ) toplabel [ "." ], labels of alphanum with inner hyphens. RFC 3261
 * wants the toplabel to start with a letter so that a name never looks like an IPv4 address; this
 * keeps the intent (a toplabel of digits only is refused, so 192.0.2.300 is no host) and accepts
 * the RFC 1123 names that start with a digit.
 */
function isHostname(s: string, start: number, end: number): boolean {
  if (s.charCodeAt(end - 1) === 0x2e) end--;
  let label = start;
  for (let i = start; i <= end; i++) {
    if (i < end && s.charCodeAt(i) !== 0x2e) continue;
    if (i === label || s.charCodeAt(label) === 0x2d || s.charCodeAt(i - 1) === 0x2d) return false;
    if (i === end) return scan(s, label, end, DIGIT) !== end;
    label = i + 1;
  }
  return false;
}

export function isIPv4(s: string, start: number, end: number): boolean {
  for (let part = 0, p = start; ; part++) {
    const e = scan(s, p, end, DIGIT);
    if (e === p || e - p > 3 || decimal(s, p, e, 255) < 0) return false;
    if (part === 3) return e === end;
    if (e === end || s.charCodeAt(e) !== 0x2e) return false;
    p = e + 1;
  }
}

/** RFC 3986 IPv6address: up to 8 groups of 1-4 hex digits, one "::", an IPv4 address as the last 32 bits. */
export function isIPv6(s: string, start: number, end: number): boolean {
  let groups = 0;
  let elided = false;
  let i = start;
  if (s.startsWith('::', i)) {
    elided = true;
    i += 2;
    if (i === end) return true;
  }
  for (;;) {
    const g = scan(s, i, end, HEX);
    if (g === i) return false;
    if (g < end && s.charCodeAt(g) === 0x2e) {
      if (!isIPv4(s, i, end)) return false;
      groups += 2;
      break;
    }
    if (g - i > 4) return false;
    groups++;
    if (g === end) break;
    if (s.charCodeAt(g) !== 0x3a) return false;
    if (s.charCodeAt(g + 1) === 0x3a) {
      if (elided) return false;
      elided = true;
      i = g + 2;
      if (i === end) break;
    } else {
      i = g + 1;
      if (i === end) return false;
    }
  }
  return elided ? groups < 8 : groups === 8;
}
