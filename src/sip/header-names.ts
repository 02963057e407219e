// Header field names: the ones this layer knows get a small integer id, found without allocating
// while the parser indexes the message. Names compare case-insensitively and compact forms are
// equivalent to their long forms (RFC 3261 §7.3.1, §7.3.3).

import { equalsLower } from './chars.js';

/** Canonical (lower-case) names; the index is the id, 0 is "not known here". */
const NAMES = [
  '',
  'via', 'from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length', 'content-type',
  'contact', 'expires', 'route', 'record-route', 'path', 'service-route', 'require', 'proxy-require',
  'supported', 'unsupported', 'www-authenticate', 'proxy-authenticate', 'authorization',
  'proxy-authorization', 'security-client', 'security-server', 'security-verify',
  'content-encoding', 'subject', 'accept-contact', 'referred-by', 'request-disposition',
  'reject-contact', 'identity-info', 'event', 'refer-to', 'allow-events', 'session-expires',
  'identity', 'p-associated-uri', 'p-asserted-identity', 'p-preferred-identity',
  'p-access-network-info', 'p-visited-network-id', 'p-charging-vector', 'p-called-party-id',
  'allow', 'accept', 'warning', 'user-agent', 'server', 'min-expires', 'retry-after', 'timestamp',
] as const;

export const HEADER_ID = {
  via: 1, from: 2, to: 3, callId: 4, cseq: 5, maxForwards: 6, contentLength: 7, contentType: 8,
  contact: 9, expires: 10, route: 11, recordRoute: 12, path: 13, serviceRoute: 14, require: 15,
  proxyRequire: 16, supported: 17, unsupported: 18, wwwAuthenticate: 19, proxyAuthenticate: 20,
  authorization: 21, proxyAuthorization: 22,
} as const;

// Compact forms: RFC 3261 §7.3.3 and the IANA "Header Fields" registry (RFC 3841 a/d/j, RFC 3892 b,
// RFC 4474 n/y, RFC 6665 o/u, RFC 3515 r, RFC 4028 x).
const COMPACT: ReadonlyMap<string, string> = new Map(Object.entries({
  a: 'accept-contact', b: 'referred-by', c: 'content-type', d: 'request-disposition',
  e: 'content-encoding', f: 'from', i: 'call-id', j: 'reject-contact', k: 'supported',
  l: 'content-length', m: 'contact', n: 'identity-info', o: 'event', r: 'refer-to', s: 'subject',
  t: 'to', u: 'allow-events', v: 'via', x: 'session-expires', y: 'identity',
}));

// Known long names are found by length, first and last octet, then confirmed by comparing the
// whole name, so indexing a message costs no hashing pass over each name.
const SLOTS = 256;
const TABLE = new Int32Array(SLOTS);
const COMPACT_ID = new Int32Array(128);

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

function slotOf(length: number, first: number, last: number): number {
  return (length * 31 + lower(first) * 7 + lower(last)) & (SLOTS - 1);
}

for (let id = 1; id < NAMES.length; id++) {
  const name = NAMES[id]!;
  let slot = slotOf(name.length, name.charCodeAt(0), name.charCodeAt(name.length - 1));
  while (TABLE[slot] !== 0) slot = (slot + 1) & (SLOTS - 1);
  TABLE[slot] = id;
}
for (const [letter, name] of COMPACT) {
  const id = NAMES.indexOf(name as (typeof NAMES)[number]);
  COMPACT_ID[letter.charCodeAt(0)] = id;
  COMPACT_ID[letter.toUpperCase().charCodeAt(0)] = id;
}

/** The id of the header name s[start, end), in any case, long or compact (0 when not known here). */
export function headerIdAt(s: string, start: number, end: number): number {
  const first = s.charCodeAt(start);
  if (end - start === 1) return first < 128 ? COMPACT_ID[first]! : 0;
  for (let slot = slotOf(end - start, first, s.charCodeAt(end - 1)); ; slot = (slot + 1) & (SLOTS - 1)) {
    const id = TABLE[slot]!;
    if (id === 0) return 0;
    if (equalsLower(s, start, end, NAMES[id]!)) return id;
  }
}

/**
 * Identifies the names of a few headers quickly: no two of them may share a length and a first
 * letter, so those two octets give the one candidate, which a single comparison confirms. The
 * parser identifies the headers it validates this way and leaves the other names for later
 * (comparing names costs more than the rest of a line).
 */
export class NameSet {
  /** Per name length (long forms), per first letter a-z: the id of the one candidate. */
  private readonly candidates = new Int32Array(32 * 26);

  constructor(canonicalNames: readonly string[]) {
    for (const name of canonicalNames) {
      const slot = name.length * 26 + name.charCodeAt(0) - 0x61;
      if (name.length >= 32 || this.candidates[slot] !== 0) throw new Error(`NameSet cannot hold ${name}`);
      this.candidates[slot] = headerIdOf(name);
    }
  }

  /** The id of s[start, end) if it is one of the names, in any case, long or compact; otherwise 0. */
  idAt(s: string, start: number, end: number): number {
    const length = end - start;
    const first = s.charCodeAt(start);
    if (length === 1) return first < 128 ? COMPACT_ID[first]! : 0;
    const letter = (first | 0x20) - 0x61;
    if (length >= 32 || letter < 0 || letter >= 26) return 0;
    const id = this.candidates[length * 26 + letter]!;
    return id !== 0 && equalsLower(s, start, end, NAMES[id]!) ? id : 0;
  }
}

/** Lower-case long form of a header name given in any case, long or compact. */
export function canonicalHeaderName(name: string): string {
  const lowered = name.toLowerCase();
  return COMPACT.get(lowered) ?? lowered;
}

/** Id of a canonical name (0 when not known here). */
export function headerIdOf(canonical: string): number {
  return canonical === '' ? 0 : headerIdAt(canonical, 0, canonical.length);
}

export function canonicalNameOf(id: number): string {
  return NAMES[id] ?? '';
}
