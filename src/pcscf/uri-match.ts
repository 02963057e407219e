// URI equality (RFC 3261 §19.1.4) for finding a UE's Contact in the registrar's answer and an
// identity among the P-Associated-URIs, and the address-of-record key of the contact table.

import { type Param, type Uri, isSipUri, isTelUri, parseNameAddr, parseUri, unescapeUri } from '../sip/index.js';
import { hostKey } from './our-uris.js';

/** Parameters that make two SIP URIs differ when only one of them has it (RFC 3261 §19.1.4). */
const MUST_BE_IN_BOTH = new Set(['user', 'ttl', 'method', 'maddr']);

function paramValue(params: readonly Param[], lowerName: string): string | null | undefined {
  for (const p of params) if (p.name.toLowerCase() === lowerName) return p.value;
  return undefined;
}

function sameText(a: string | null | undefined, b: string | null | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  return unescapeUri(a).toLowerCase() === unescapeUri(b).toLowerCase();
}

function paramsMatch(a: readonly Param[], b: readonly Param[]): boolean {
  for (const p of a) {
    const name = p.name.toLowerCase();
    const other = paramValue(b, name);
    if (other === undefined ? MUST_BE_IN_BOTH.has(name) : !sameText(p.value, other)) return false;
  }
  for (const p of b) {
    const name = p.name.toLowerCase();
    if (MUST_BE_IN_BOTH.has(name) && paramValue(a, name) === undefined) return false;
  }
  return true;
}

/** A telephone number without its visual separators (RFC 3966 §5.1.1), for comparison. */
function telNumberKey(n: string): string {
  return n.replace(/[-.()]/g, '').toLowerCase();
}

/**
 * RFC 3261 §19.1.4: userinfo compared case-sensitively after unescaping, host case-insensitively,
 * ports equal (an absent port never equals an explicit one, even 5060), parameters present in
 * both equal, user/ttl/method/maddr present in both or neither, headers equal. TEL URIs compare
 * their numbers without visual separators and their parameters; other schemes compare as text.
 */
export function sameUri(a: Uri, b: Uri): boolean {
  if (isSipUri(a) && isSipUri(b)) {
    return a.scheme === b.scheme
      && (a.user === b.user || (a.user !== undefined && b.user !== undefined && unescapeUri(a.user) === unescapeUri(b.user)))
      && (a.password === b.password || (a.password !== undefined && b.password !== undefined && unescapeUri(a.password) === unescapeUri(b.password)))
      && hostKey(a.host) === hostKey(b.host)
      && a.port === b.port
      && paramsMatch(a.params, b.params)
      && sameText(a.headers, b.headers);
  }
  if (isTelUri(a) && isTelUri(b)) {
    return telNumberKey(a.number) === telNumberKey(b.number) && a.params.length === b.params.length && paramsMatch(a.params, b.params);
  }
  return a.scheme === b.scheme && a.raw.toLowerCase() === b.raw.toLowerCase();
}

/**
 * The address-of-record as the contact table stores it (it compares AORs byte for byte): scheme,
 * user, lower-case host and port of a SIP URI, without parameters or headers (RFC 3261 §10.3 item 5
 * takes the To URI as the AOR); a TEL URI as tel:<number>.
 */
export function aorOf(uri: Uri): string {
  if (isSipUri(uri)) {
    const user = uri.user === undefined ? '' : `${uri.user}@`;
    const port = uri.port === undefined ? '' : `:${uri.port}`;
    return `${uri.scheme}:${user}${uri.host.toLowerCase()}${port}`;
  }
  if (isTelUri(uri)) return `tel:${uri.number}`;
  return uri.raw;
}

/** The URI of a name-addr or addr-spec value as stored or written (a Contact, a Service-Route entry, an identity). Throws SipError. */
export function uriOfNameAddr(value: string, header: string): Uri {
  return parseUri(parseNameAddr(value, 0, value.length, header).uri);
}
