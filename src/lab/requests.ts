// Requests the lab's user agents write themselves (RFC 3261 §8.1.1: Request-URI, To, From, CSeq,
// Call-ID, Max-Forwards, Via; then Route, Contact and the rest), and the identifiers they need.

import { randomBytes } from 'node:crypto';
import type { Transport } from '../engine/plan.js';
import { isLineOfOctets } from '../sip/chars.js';
import { isSipUri, parseUri, SipError, uriParam } from '../sip/index.js';
import { LabInputError } from './errors.js';
import type { OutgoingRequest } from './sip-node.js';

// Identifiers are a random prefix drawn once per process and a counter: unique in time and space
// as RFC 3261 asks, without a call into the CSPRNG per message (a load generator makes millions).
const PREFIX = randomBytes(6).toString('hex');
let counter = 0;
const unique = (): string => `${PREFIX}${(counter++).toString(36)}`;

/** RFC 3261 §8.1.1.7: a branch starts with the magic cookie so that it is unique in time and space. */
export function newBranch(): string {
  return `z9hG4bK${unique()}`;
}

export function newTag(): string {
  return unique();
}

export function newCallId(host: string): string {
  return `${unique()}@${host}`;
}

/** An IP literal as a URI or Via host: IPv6 in brackets (RFC 3261 §25.1 IPv6reference). */
export function uriHost(addr: string): string {
  return addr.includes(':') && !addr.startsWith('[') ? `[${addr}]` : addr;
}

/** Where a request for a SIP URI goes (RFC 3263 reduced to the lab: IP literals only, UDP unless transport=tcp). */
export interface NextHop {
  readonly transport: Transport;
  readonly addr: string;
  readonly port: number;
}

/** The next hop of a SIP URI whose host is an IP literal; undefined for anything else. */
export function nextHopOf(uri: string): NextHop | undefined {
  let parsed;
  try {
    parsed = parseUri(uri);
  } catch (e) {
    if (e instanceof SipError) return undefined;
    throw e;
  }
  if (!isSipUri(parsed) || parsed.hostKind === 'domain') return undefined;
  const transport = uriParam(parsed, 'transport')?.toLowerCase() === 'tcp' ? 'tcp' : 'udp';
  const addr = parsed.hostKind === 'ipv6' ? parsed.host.slice(1, -1) : parsed.host;
  return { transport, addr, port: parsed.port ?? 5060 };
}

export interface RequestSpec {
  readonly method: string;
  readonly uri: string;
  /** The sent-by of the Via this UA adds; `rport` asks for symmetric responses (RFC 3581). */
  readonly via: { readonly transport: Transport; readonly addr: string; readonly port: number; readonly rport?: boolean };
  /** name-addr values, tags included. */
  readonly from: string;
  readonly to: string;
  readonly callId: string;
  readonly cseq: number;
  /** Route values, in order. */
  readonly route?: readonly string[];
  readonly contact?: string;
  /** Further header lines, in order. */
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: { readonly type: string; readonly bytes: Buffer };
}

/** Text a caller supplies (a URI from a command, a display name...) must stay inside its header line. */
function checkLine(field: string, value: string): void {
  if (!isLineOfOctets(value)) throw new LabInputError('ERR_LAB_CONFIG', field, 'must be one line of octets (no CR, LF or characters above U+00FF)');
}

/** Throws LabInputError ERR_LAB_CONFIG when a value would not make a well-formed request. */
export function buildRequest(spec: RequestSpec): OutgoingRequest {
  checkLine('uri', spec.uri);
  try {
    parseUri(spec.uri);
  } catch (e) {
    if (!(e instanceof SipError)) throw e;
    throw new LabInputError('ERR_LAB_CONFIG', 'uri', `${JSON.stringify(spec.uri)} is not a URI`);
  }
  for (const [field, value] of [['from', spec.from], ['to', spec.to], ['callId', spec.callId], ['contact', spec.contact ?? ''], ...(spec.route ?? []).map((r) => ['route', r] as const), ...(spec.headers ?? [])] as const) {
    checkLine(field, value);
  }
  const branch = newBranch();
  const via = `SIP/2.0/${spec.via.transport.toUpperCase()} ${uriHost(spec.via.addr)}:${spec.via.port};branch=${branch}${spec.via.rport === true ? ';rport' : ''}`;
  let text = `${spec.method} ${spec.uri} SIP/2.0\r\nVia: ${via}\r\nMax-Forwards: 70\r\n`;
  if (spec.route !== undefined && spec.route.length > 0) text += `Route: ${spec.route.join(', ')}\r\n`;
  text += `From: ${spec.from}\r\nTo: ${spec.to}\r\nCall-ID: ${spec.callId}\r\nCSeq: ${spec.cseq} ${spec.method}\r\n`;
  if (spec.contact !== undefined) text += `Contact: ${spec.contact}\r\n`;
  for (const [name, value] of spec.headers ?? []) text += `${name}: ${value}\r\n`;
  const body = spec.body?.bytes ?? Buffer.alloc(0);
  if (spec.body !== undefined) text += `Content-Type: ${spec.body.type}\r\n`;
  text += `Content-Length: ${body.length}\r\n\r\n`;
  return { bytes: Buffer.concat([Buffer.from(text, 'latin1'), body]), branch, method: spec.method };
}
