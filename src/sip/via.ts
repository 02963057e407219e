// Via (RFC 3261 §20.42, §25.1; rport from RFC 3581 §3):
//   via-parm      = sent-protocol LWS sent-by *( SEMI via-params )
//   sent-protocol = protocol-name SLASH protocol-version SLASH transport
//   sent-by       = host [ COLON port ]

import { DIGIT, TOKEN, decimal, isAll, scan, skipWs, unfold } from './chars.js';
import { badHeader } from './errors.js';
import { type HostKind, hostKindAt, isIPv4, isIPv6, scanHost } from './host.js';
import { type Param, getParam, parseParams } from './params.js';

export interface Via {
  /** protocol-name "/" protocol-version, whitespace removed: "SIP/2.0". */
  protocol: string;
  /** Upper case: "UDP", "TCP", "TLS", "SCTP", "WS", ... */
  transport: string;
  /** sent-by host as written; an IPv6 reference keeps its brackets. */
  host: string;
  hostKind: HostKind;
  port?: number;
  branch?: string;
  received?: string;
  /** undefined: absent; null: present without a value (RFC 3581 request); a number: the port filled in. */
  rport: number | null | undefined;
  params: Param[];
  /** The via-parm as written, folds made one SP. */
  raw: string;
}

const HEADER = 'Via';

function bad(what = 'Invalid Via'): never {
  throw badHeader(HEADER, what);
}

/** Index after SWS "/" SWS at i, or -1. */
function slash(s: string, i: number, end: number): number {
  const j = skipWs(s, i, end);
  return j < end && s.charCodeAt(j) === 0x2f ? skipWs(s, j + 1, end) : -1;
}

/**
 * Parses one via-parm s[start, end) (one comma-separated value of a Via header field). `spans`, when
 * given, receives the [start, end) of each parameter (see parseParams).
 */
export function parseVia(s: string, start: number, end: number, spans?: number[]): Via {
  const nameStart = skipWs(s, start, end);
  const nameEnd = scan(s, nameStart, end, TOKEN);
  const versionStart = slash(s, nameEnd, end);
  if (nameEnd === nameStart || versionStart < 0) bad();
  const versionEnd = scan(s, versionStart, end, TOKEN);
  const transportStart = slash(s, versionEnd, end);
  if (versionEnd === versionStart || transportStart < 0) bad();
  const transportEnd = scan(s, transportStart, end, TOKEN);
  const hostStart = skipWs(s, transportEnd, end);
  if (transportEnd === transportStart || hostStart === transportEnd) bad();
  const hostEnd = scanHost(s, hostStart, end);
  if (hostEnd < 0) bad('Invalid Via sent-by');

  let i = skipWs(s, hostEnd, end);
  let port: number | undefined;
  if (i < end && s.charCodeAt(i) === 0x3a) {
    const portStart = skipWs(s, i + 1, end);
    const portEnd = scan(s, portStart, end, DIGIT);
    port = decimal(s, portStart, portEnd, 65535);
    if (portEnd === portStart || port < 0) bad('Invalid Via port');
    i = portEnd;
  }
  const params: Param[] = [];
  if (parseParams(s, i, end, params, HEADER, spans) !== end) bad();

  const via: Via = {
    protocol: `${s.slice(nameStart, nameEnd)}/${s.slice(versionStart, versionEnd)}`,
    transport: s.slice(transportStart, transportEnd).toUpperCase(),
    host: s.slice(hostStart, hostEnd),
    hostKind: hostKindAt(s, hostStart, hostEnd),
    rport: undefined,
    params,
    raw: unfold(s.slice(start, end)),
  };
  if (port !== undefined) via.port = port;
  if (params.length > 0) readKnownParams(via, params);
  return via;
}

function readKnownParams(via: Via, params: readonly Param[]): void {
  const branch = getParam(params, 'branch');
  if (branch === null) bad('Invalid Via branch');
  if (branch !== undefined) via.branch = branch;

  // via-received = "received" EQUAL ( IPv4address / IPv6address ) (RFC 3261 §25.1); an IPv6
  // reference in brackets, which implementations also write (RFC 5118 §4.5), is accepted too.
  const received = getParam(params, 'received');
  if (received === null || (received !== undefined && !isAddress(received))) bad('Invalid Via received');
  if (received !== undefined) via.received = received;

  const rport = getParam(params, 'rport');
  if (rport === undefined || rport === null) {
    via.rport = rport;
  } else {
    const n = isAll(rport, DIGIT) ? decimal(rport, 0, rport.length, 65535) : -1;
    if (n < 0) bad('Invalid Via rport');
    via.rport = n;
  }

  const ttl = getParam(params, 'ttl');
  if (ttl !== undefined && (ttl === null || !isAll(ttl, DIGIT) || decimal(ttl, 0, ttl.length, 255) < 0)) bad('Invalid Via ttl');
}

function isAddress(s: string): boolean {
  if (s.charCodeAt(0) === 0x5b) return s.charCodeAt(s.length - 1) === 0x5d && isIPv6(s, 1, s.length - 1);
  return isIPv4(s, 0, s.length) || isIPv6(s, 0, s.length);
}
