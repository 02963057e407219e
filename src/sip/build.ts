// Messages the proxy writes itself: responses (RFC 3261 §8.2.6, §16.7), best-effort error
// responses to requests that did not parse, CANCEL (§9.1) and the ACK of a non-2xx final response
// (§17.1.1.3). Header lines taken from the request are copied octet for octet, so the Via, From,
// To, Call-ID and CSeq of the answer match the request exactly.

import { randomBytes } from 'node:crypto';
import { TOKEN, isAll, isLineOfOctets, scan } from './chars.js';
import { type SipError, badArgument } from './errors.js';
import { HEADER_ID, headerIdAt } from './header-names.js';
import type { HeaderField, SipMessage } from './message.js';

export interface ResponseOptions {
  /** Tag added to To when the request has none (a fresh random tag otherwise; none on a 100). */
  toTag?: string;
  /** Extra header lines, in order. */
  headers?: readonly (readonly [string, string])[];
  body?: Buffer;
}

function checkLine(text: string, what: string): void {
  if (!isLineOfOctets(text)) throw badArgument(`${what} must be one line of octets`);
}

function newTag(): string {
  return randomBytes(6).toString('hex');
}

function lines(msg: SipMessage, fields: readonly HeaderField[]): string {
  let out = '';
  for (const f of fields) out += msg.head.slice(f.start, f.end);
  return out;
}

/** The To field of msg as a line, with ";tag=" added after its value. */
function toLineWithTag(msg: SipMessage, tag: string): string {
  const f = msg.first('to')!;
  return `${msg.head.slice(f.start, f.valueEnd)};tag=${tag}${msg.head.slice(f.valueEnd, f.end)}`;
}

function extraHeaders(headers: ResponseOptions['headers']): string {
  let out = '';
  for (const [name, value] of headers ?? []) {
    if (!isAll(name, TOKEN)) throw badArgument('Header name must be a token');
    checkLine(value, 'Header value');
    out += `${name}: ${value}\r\n`;
  }
  return out;
}

function finish(text: string, body?: Buffer): Buffer {
  const length = body?.length ?? 0;
  const headLength = text.length;
  const tail = `Content-Length: ${length}\r\n\r\n`;
  const out = Buffer.allocUnsafe(headLength + tail.length + length);
  out.write(text, 0, 'latin1');
  out.write(tail, headLength, 'latin1');
  body?.copy(out, headLength + tail.length);
  return out;
}

/**
 * A response to `req` (RFC 3261 §8.2.6.2): every Via value in order, From, To (with a tag unless
 * the request's To has one or the status is 100), Call-ID and CSeq copied from the request, then
 * `opts.headers`, Content-Length and the body.
 */
export function buildResponse(req: SipMessage, status: number, reason: string, opts?: ResponseOptions): Buffer {
  if (!req.isRequest) throw badArgument('Only a request can be answered');
  if (!Number.isInteger(status) || status < 100 || status > 699) throw badArgument('Status must be 100 to 699');
  checkLine(reason, 'Reason phrase');
  if (opts?.toTag !== undefined && !isAll(opts.toTag, TOKEN)) throw badArgument('To tag must be a token');
  const to = req.to().tag !== undefined || status === 100
    ? lines(req, req.fields('to'))
    : toLineWithTag(req, opts?.toTag ?? newTag());
  const text = `SIP/2.0 ${status} ${reason}\r\n${lines(req, req.fields('via'))}${lines(req, req.fields('from'))}${to}`
    + `${lines(req, req.fields('call-id'))}${lines(req, req.fields('cseq'))}${extraHeaders(opts?.headers)}`;
  return finish(text, opts?.body);
}

/** The header lines of a message that did not parse, found leniently: [start, end) of each field. */
interface RawFields {
  via: number[];
  from: number[];
  to: number[];
  callId: number[];
  cseq: number[];
}

/** Lines that hold a CR or LF other than a CRLF followed by a continuation are unsafe to copy. */
function safeToCopy(head: string, start: number, end: number): boolean {
  for (let i = head.indexOf('\r', start); i >= 0 && i < end; i = head.indexOf('\r', i + 1)) {
    if (head.charCodeAt(i + 1) !== 0x0a) return false;
    if (i + 2 < end && head.charCodeAt(i + 2) !== 0x20 && head.charCodeAt(i + 2) !== 0x09) return false;
  }
  for (let i = head.indexOf('\n', start); i >= 0 && i < end; i = head.indexOf('\n', i + 1)) {
    if (head.charCodeAt(i - 1) !== 0x0d) return false;
  }
  return true;
}

function findRawFields(head: string, from: number): RawFields {
  const found: RawFields = { via: [], from: [], to: [], callId: [], cseq: [] };
  let pos = from;
  while (pos < head.length) {
    let end = head.indexOf('\r\n', pos);
    if (end < 0 || end === pos) break;
    while (head.charCodeAt(end + 2) === 0x20 || head.charCodeAt(end + 2) === 0x09) {
      const next = head.indexOf('\r\n', end + 2);
      if (next < 0) break;
      end = next;
    }
    const nameEnd = scan(head, pos, end, TOKEN);
    const list = nameEnd > pos ? listFor(found, headerIdAt(head, pos, nameEnd)) : undefined;
    if (list !== undefined && safeToCopy(head, pos, end + 2)) list.push(pos, end + 2);
    pos = end + 2;
  }
  return found;
}

function listFor(found: RawFields, id: number): number[] | undefined {
  switch (id) {
    case HEADER_ID.via: return found.via;
    case HEADER_ID.from: return found.from;
    case HEADER_ID.to: return found.to;
    case HEADER_ID.callId: return found.callId;
    case HEADER_ID.cseq: return found.cseq;
    default: return undefined;
  }
}

const SCAN_LIMIT = 65536;

/**
 * A best-effort answer to a request that failed to parse: status and reason from the error, Via,
 * From, To (with a tag added when it has none), Call-ID and CSeq copied from the raw octets. Returns
 * undefined (drop) when the octets are a response or an ACK (never answered, RFC 3261 §17.2.1), or
 * lack a request line or one of those headers (RFC 4475 insuf: a 400 cannot be routed without them).
 */
export function buildErrorFromRaw(bytes: Buffer, err: SipError): Buffer | undefined {
  const head = bytes.toString('latin1', 0, Math.min(bytes.length, SCAN_LIMIT));
  const lineEnd = head.indexOf('\r\n');
  const sp = head.indexOf(' ');
  // Trailing whitespace after the version is the fault of RFC 4475 trws, not a sign of a response.
  if (lineEnd <= 0 || sp <= 0 || sp > lineEnd || !/ SIP\/\d+\.\d+[ \t]*$/i.test(head.slice(0, lineEnd))) return undefined;
  const method = head.slice(0, sp);
  if (!isAll(method, TOKEN) || method === 'ACK') return undefined;
  const f = findRawFields(head, lineEnd + 2);
  if (f.via.length === 0 || f.from.length === 0 || f.to.length === 0 || f.callId.length === 0 || f.cseq.length === 0) return undefined;
  let via = '';
  for (let k = 0; k < f.via.length; k += 2) via += head.slice(f.via[k], f.via[k + 1]);
  const one = (list: number[]): string => head.slice(list[0], list[1]);
  let to = one(f.to);
  if (!/;\s*tag\s*=/i.test(to)) to = `${to.slice(0, to.length - 2).trimEnd()};tag=${newTag()}\r\n`;
  const status = err.status >= 300 && err.status <= 699 ? err.status : 400;
  const reason = isLineOfOctets(err.reason) ? err.reason : 'Bad Request';
  return finish(`SIP/2.0 ${status} ${reason}\r\n${via}${one(f.from)}${to}${one(f.callId)}${one(f.cseq)}`);
}

/** The top Via value of msg (which may share its line with others) as a line of its own. */
function topViaLine(msg: SipMessage): string {
  return `Via: ${msg.values('via')[0]!.text}\r\n`;
}

function checkInvite(invite: SipMessage): void {
  if (!invite.isRequest || invite.method !== 'INVITE') throw badArgument('Not an INVITE request');
}

/**
 * CANCEL for a pending INVITE (RFC 3261 §9.1): same Request-URI, Call-ID, From, To and CSeq
 * number, CSeq method CANCEL, a single Via equal to the INVITE's top Via, the INVITE's Route lines.
 */
export function buildCancel(invite: SipMessage): Buffer {
  checkInvite(invite);
  const text = `CANCEL ${invite.requestUri} SIP/2.0\r\n${topViaLine(invite)}Max-Forwards: 70\r\n${lines(invite, invite.fields('route'))}`
    + `${lines(invite, invite.fields('from'))}${lines(invite, invite.fields('to'))}${lines(invite, invite.fields('call-id'))}`
    + `CSeq: ${invite.cseq().seq} CANCEL\r\n`;
  return finish(text);
}

/**
 * ACK for a non-2xx final response to an INVITE (RFC 3261 §17.1.1.3): Request-URI, Call-ID, From and
 * Route as in the INVITE, To as in the response (with its tag), a single Via equal to the INVITE's
 * top Via, CSeq number of the INVITE with method ACK.
 */
export function buildAckForNon2xx(invite: SipMessage, response: SipMessage): Buffer {
  checkInvite(invite);
  if (response.isRequest || response.status < 300) throw badArgument('Not a non-2xx final response');
  const text = `ACK ${invite.requestUri} SIP/2.0\r\n${topViaLine(invite)}Max-Forwards: 70\r\n${lines(invite, invite.fields('route'))}`
    + `${lines(invite, invite.fields('from'))}${lines(response, response.fields('to'))}${lines(invite, invite.fields('call-id'))}`
    + `CSeq: ${invite.cseq().seq} ACK\r\n`;
  return finish(text);
}
