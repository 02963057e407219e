// URIs: SIP and SIPS (RFC 3261 §19.1, §25.1), TEL (RFC 3966), and any other absoluteURI, carried
// as written. Escapes (%HH) are validated but never decoded implicitly: user parts, parameters and
// headers stay as written (RFC 4475 esc01, escnull); unescapeUri decodes on request.

import { ALPHA, DIGIT, HEX, HNV, PARAMCHAR, PASSWORD, SCHEME, URIC, USER, cc, decimal, equalsLower, scan } from './chars.js';
import { SipError } from './errors.js';
import { type HostKind, hostKindAt, scanHost } from './host.js';
import type { Param } from './params.js';

export interface SipUri {
  scheme: 'sip' | 'sips';
  user?: string;
  password?: string;
  /** As written; an IPv6 reference keeps its brackets. */
  host: string;
  hostKind: HostKind;
  port?: number;
  params: Param[];
  /** The headers component after "?", as written ('' when absent). */
  headers: string;
  raw: string;
}

export interface TelUri {
  scheme: 'tel';
  number: string;
  params: Param[];
  raw: string;
}

/** Any other scheme (urn:, http:, ...): the scheme in lower case and the URI as written. */
export interface OtherUri {
  scheme: string;
  raw: string;
}

export type Uri = SipUri | TelUri | OtherUri;

export function isSipUri(uri: Uri): uri is SipUri {
  return uri.scheme === 'sip' || uri.scheme === 'sips';
}

export function isTelUri(uri: Uri): uri is TelUri {
  return uri.scheme === 'tel';
}

function badUri(what = 'Invalid URI'): SipError {
  return new SipError('SIP_BAD_URI', 400, what);
}

/** Parses text[start, end) as a URI; throws a SipError (SIP_BAD_URI, 400) when it is not one. */
export function parseUri(text: string, start = 0, end = text.length): Uri {
  const colon = scan(text, start, end, SCHEME);
  if (colon === start || colon >= end || text.charCodeAt(colon) !== 0x3a || (cc(text.charCodeAt(start)) & ALPHA) === 0) {
    throw badUri();
  }
  const raw = start === 0 && end === text.length ? text : text.slice(start, end);
  if (equalsLower(text, start, colon, 'sip')) return parseSip(text, colon + 1, end, 'sip', raw);
  if (equalsLower(text, start, colon, 'sips')) return parseSip(text, colon + 1, end, 'sips', raw);
  if (equalsLower(text, start, colon, 'tel')) return parseTel(text, colon + 1, end, raw);
  if (!isAbsoluteUri(text, start, end)) throw badUri();
  return { scheme: text.slice(start, colon).toLowerCase(), raw };
}

/**
 * The shape every URI has: scheme ":" 1*uric with well-formed escapes (RFC 3261 §25.1 absoluteURI).
 * Enough to carry a URI of any scheme; parseUri checks SIP, SIPS and TEL URIs in full.
 */
export function isAbsoluteUri(s: string, start: number, end: number): boolean {
  const colon = scan(s, start, end, SCHEME);
  return colon > start && colon + 1 < end && s.charCodeAt(colon) === 0x3a && (cc(s.charCodeAt(start)) & ALPHA) !== 0
    && scan(s, colon + 1, end, URIC) === end && escapesValid(s, colon + 1, end);
}

/** End of a run of octets of class `mask` or valid %HH escapes; -1 on a malformed escape. */
function scanEscaped(s: string, i: number, end: number, mask: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      if ((cc(s.charCodeAt(i + 1)) & HEX) === 0 || (cc(s.charCodeAt(i + 2)) & HEX) === 0 || i + 2 >= end) return -1;
      i += 3;
    } else if ((cc(c) & mask) !== 0) {
      i++;
    } else {
      break;
    }
  }
  return i;
}

function escapesValid(s: string, start: number, end: number): boolean {
  for (let i = s.indexOf('%', start); i >= 0 && i < end; i = s.indexOf('%', i + 1)) {
    if (i + 2 >= end || (cc(s.charCodeAt(i + 1)) & HEX) === 0 || (cc(s.charCodeAt(i + 2)) & HEX) === 0) return false;
  }
  return true;
}

function parseSip(s: string, i: number, end: number, scheme: 'sip' | 'sips', raw: string): SipUri {
  let user: string | undefined;
  let password: string | undefined;
  // "@" can appear neither in a host, a parameter nor a header, so the first one ends the userinfo.
  const at = s.indexOf('@', i);
  if (at >= 0 && at < end) {
    const userEnd = scanEscaped(s, i, at, USER);
    if (userEnd <= i) throw badUri();
    user = s.slice(i, userEnd);
    if (userEnd < at) {
      if (s.charCodeAt(userEnd) !== 0x3a || scanEscaped(s, userEnd + 1, at, PASSWORD) !== at) throw badUri();
      password = s.slice(userEnd + 1, at);
    }
    i = at + 1;
  }
  const hostEnd = scanHost(s, i, end);
  if (hostEnd < 0) throw badUri();
  const host = s.slice(i, hostEnd);
  const hostKind = hostKindAt(s, i, hostEnd);
  i = hostEnd;
  let port: number | undefined;
  if (i < end && s.charCodeAt(i) === 0x3a) {
    const portEnd = scan(s, i + 1, end, DIGIT);
    port = decimal(s, i + 1, portEnd, 65535);
    if (portEnd === i + 1 || port < 0) throw badUri('Invalid URI port');
    i = portEnd;
  }
  const params: Param[] = [];
  i = parseUriParams(s, i, end, params);
  let headers = '';
  if (i < end && s.charCodeAt(i) === 0x3f) {
    headers = s.slice(i + 1, end);
    if (!headersValid(s, i + 1, end)) throw badUri();
    i = end;
  }
  if (i !== end) throw badUri();
  const uri: SipUri = { scheme, host, hostKind, params, headers, raw };
  if (user !== undefined) uri.user = user;
  if (password !== undefined) uri.password = password;
  if (port !== undefined) uri.port = port;
  return uri;
}

/** uri-parameters = *( ";" pname [ "=" pvalue ] ), pname and pvalue = 1*paramchar (RFC 3261 §25.1, RFC 3966 §3). */
function parseUriParams(s: string, i: number, end: number, out: Param[]): number {
  while (i < end && s.charCodeAt(i) === 0x3b) {
    const nameEnd = scanEscaped(s, i + 1, end, PARAMCHAR);
    if (nameEnd <= i + 1) throw badUri('Invalid URI parameter');
    let value: string | null = null;
    let next = nameEnd;
    if (nameEnd < end && s.charCodeAt(nameEnd) === 0x3d) {
      next = scanEscaped(s, nameEnd + 1, end, PARAMCHAR);
      if (next <= nameEnd + 1) throw badUri('Invalid URI parameter');
      value = s.slice(nameEnd + 1, next);
    }
    out.push({ name: s.slice(i + 1, nameEnd), value });
    i = next;
  }
  return i;
}

/** headers = header *( "&" header ), header = hname "=" hvalue. */
function headersValid(s: string, i: number, end: number): boolean {
  for (;;) {
    const nameEnd = scanEscaped(s, i, end, HNV);
    if (nameEnd <= i || s.charCodeAt(nameEnd) !== 0x3d) return false;
    const valueEnd = scanEscaped(s, nameEnd + 1, end, HNV);
    if (valueEnd < 0) return false;
    if (valueEnd === end) return true;
    if (s.charCodeAt(valueEnd) !== 0x26) return false;
    i = valueEnd + 1;
  }
}

const PHONEDIGIT = '-.()';

/** telephone-uri = "tel:" telephone-subscriber (RFC 3966 §3); phone-context is not enforced on local numbers. */
function parseTel(s: string, i: number, end: number, raw: string): TelUri {
  let numberEnd = i;
  let digits = 0;
  const global = s.charCodeAt(i) === 0x2b;
  for (numberEnd = global ? i + 1 : i; numberEnd < end; numberEnd++) {
    const c = s.charCodeAt(numberEnd);
    if ((cc(c) & (global ? DIGIT : HEX)) !== 0 || (!global && (c === 0x2a || c === 0x23))) digits++;
    else if (!PHONEDIGIT.includes(s[numberEnd]!)) break;
  }
  if (digits === 0) throw badUri('Invalid telephone number');
  const params: Param[] = [];
  if (parseUriParams(s, numberEnd, end, params) !== end) throw badUri();
  return { scheme: 'tel', number: s.slice(i, numberEnd), params, raw };
}

/** The value of URI parameter `name` (case-insensitive): undefined when absent, null for a flag such as `lr`. */
export function uriParam(uri: Uri, name: string): string | null | undefined {
  if (!('params' in uri)) return undefined;
  const lower = name.toLowerCase();
  for (const p of uri.params) if (equalsLower(p.name, 0, p.name.length, lower)) return p.value;
  return undefined;
}

function formatParams(params: readonly Param[]): string {
  let out = '';
  for (const p of params) out += p.value === null ? `;${p.name}` : `;${p.name}=${p.value}`;
  return out;
}

/** Writes a URI from its components (an OtherUri is written as it came). */
export function formatUri(uri: Uri): string {
  if (isSipUri(uri)) {
    let out = `${uri.scheme}:`;
    if (uri.user !== undefined) out += uri.password === undefined ? `${uri.user}@` : `${uri.user}:${uri.password}@`;
    out += uri.host;
    if (uri.port !== undefined) out += `:${uri.port}`;
    out += formatParams(uri.params);
    return uri.headers === '' ? out : `${out}?${uri.headers}`;
  }
  if (isTelUri(uri)) return `tel:${uri.number}${formatParams(uri.params)}`;
  return uri.raw;
}

/** Decodes every valid %HH escape into the octet it stands for (as a latin1 code unit); other text is kept. */
export function unescapeUri(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
