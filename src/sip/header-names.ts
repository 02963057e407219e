// Header field names: the ones this layer knows get a small integer id, found without allocating
// while the parser scans the name. Names compare case-insensitively and compact forms are
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

const SLOTS = 512;
const TABLE = new Int32Array(SLOTS);
const COMPACT_ID = new Int32Array(128);

export const HASH_SEED = 0x811c9dc5 | 0;

/** One step of the FNV-1a hash over the lower-cased name. */
export function hashStep(h: number, c: number): number {
  return Math.imul(h ^ (c >= 0x41 && c <= 0x5a ? c | 0x20 : c), 0x01000193);
}

function hashOf(name: string): number {
  let h = HASH_SEED;
  for (let i = 0; i < name.length; i++) h = hashStep(h, name.charCodeAt(i));
  return h;
}

for (let id = 1; id < NAMES.length; id++) {
  let slot = hashOf(NAMES[id]!) & (SLOTS - 1);
  while (TABLE[slot] !== 0) slot = (slot + 1) & (SLOTS - 1);
  TABLE[slot] = id;
}
for (const [letter, name] of COMPACT) {
  const id = NAMES.indexOf(name as (typeof NAMES)[number]);
  COMPACT_ID[letter.charCodeAt(0)] = id;
  COMPACT_ID[letter.toUpperCase().charCodeAt(0)] = id;
}

/** The id of the header name s[start, end) whose hash is h (0 when not known here). */
export function headerIdAt(s: string, start: number, end: number, h: number): number {
  if (end - start === 1) {
    const c = s.charCodeAt(start);
    return c < 128 ? COMPACT_ID[c]! : 0;
  }
  for (let slot = h & (SLOTS - 1); ; slot = (slot + 1) & (SLOTS - 1)) {
    const id = TABLE[slot]!;
    if (id === 0) return 0;
    if (equalsLower(s, start, end, NAMES[id]!)) return id;
  }
}

/** Lower-case long form of a header name given in any case, long or compact. */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return COMPACT.get(lower) ?? lower;
}

/** Hash of a canonical name, comparable with the hash the parser records for a field's long-form name. */
export function canonicalHash(canonical: string): number {
  return hashOf(canonical);
}

/** Id of a canonical name (0 when not known here). */
export function headerIdOf(canonical: string): number {
  return headerIdAt(canonical, 0, canonical.length, hashOf(canonical));
}

export function canonicalNameOf(id: number): string {
  return NAMES[id] ?? '';
}
