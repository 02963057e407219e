// parseMessage: finds the start line, indexes the header fields (offsets only), checks the framing
// and validates what every proxy step reads (Request-URI, Via, From, To, Call-ID, CSeq,
// Max-Forwards, Content-Length). Everything else is parsed on first access (see SipMessage).

import { TOKEN, cc, equalsLower, skipWs, trimEnd } from './chars.js';
import { SipError, badHeader } from './errors.js';
import { HASH_SEED, HEADER_ID, hashStep, headerIdAt } from './header-names.js';
import { type SipLimits, DEFAULT_SIP_LIMITS } from './limits.js';
import { splitList } from './list.js';
import {
  F_END, F_HASH, F_ID, F_NAME_END, F_START, F_STRIDE, F_VALUE_END, F_VALUE_START, SipMessage,
} from './message.js';
import { type NameAddr, parseNameAddr } from './name-addr.js';
import { isCallId, parseCSeq, parseContentLength, parseMaxForwards } from './scalar.js';
import { type Uri, isSipUri, parseUri } from './uri.js';
import { type Via, parseVia } from './via.js';

export interface ParseOptions {
  limits?: SipLimits;
  /**
   * 'datagram' (default): Content-Length may be absent (the body is the rest of the datagram,
   * RFC 3261 §18.3); octets after Content-Length are ignored (RFC 4475 dblreq); a Content-Length
   * larger than the datagram is an error. 'stream': the bytes are exactly one message as cut by
   * StreamFramer, so Content-Length is mandatory and must match.
   */
  framing?: 'datagram' | 'stream';
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

// Request-URI schemes a P-CSCF routes: SIP and SIPS (RFC 3261), TEL (RFC 3966, TS 24.229 §5.1.2A.1.1
// lets a UE address a request to a tel URI) and URN (the emergency service URNs of RFC 5031,
// TS 24.229 §5.1.6). Any other is answered 416 (RFC 3261 §16.3 item 2; RFC 4475 unkscm, novelsc).
const ROUTABLE_SCHEMES = new Set(['sip', 'sips', 'tel', 'urn']);

// The field index is built in a scratch array shared by every parse (parsing is synchronous), then
// copied out at its exact size: one allocation per message.
let scratch = new Int32Array(64 * F_STRIDE);

function startLineError(reason = 'Bad Request Line'): SipError {
  return new SipError('SIP_BAD_START_LINE', 400, reason);
}

/** Does head[start, end) read SIP/<digits>.<digits>? Then a version other than 2.0 is a 505, not a 400. */
function looksLikeVersion(head: string, start: number, end: number): boolean {
  return /^SIP\/\d+\.\d+$/i.test(head.slice(start, end));
}

function checkVersion(head: string, start: number, end: number): void {
  if (equalsLower(head, start, end, 'sip/2.0')) return;
  if (looksLikeVersion(head, start, end)) throw new SipError('SIP_BAD_VERSION', 505, 'Version Not Supported');
  throw startLineError();
}

function duplicate(header: string): SipError {
  return new SipError('SIP_DUPLICATE_HEADER', 400, `Duplicate ${header}`, header);
}

function missing(header: string): SipError {
  return new SipError('SIP_MISSING_HEADER', 400, `Missing ${header}`, header);
}

/** Parses one SIP message. Throws a SipError, and nothing else, on any input it cannot accept. */
export function parseMessage(bytes: Buffer, opts?: ParseOptions): SipMessage {
  const limits = opts?.limits ?? DEFAULT_SIP_LIMITS;
  const stream = opts?.framing === 'stream';
  if (bytes.length > (stream ? limits.maxStreamMessageBytes : limits.maxDatagramBytes)) {
    throw new SipError('SIP_TOO_LARGE', 513, 'Message Too Large');
  }
  const blank = bytes.indexOf(CRLFCRLF);
  if (blank < 0) throw new SipError('SIP_INCOMPLETE', 400, 'Incomplete Header Section');
  const head = bytes.toString('latin1', 0, blank + 4);

  // Start line (RFC 3261 §7.1, §7.2): single SPs between the elements, no LWS anywhere else
  // (RFC 4475 lwsstart, trws, lwsruri).
  const lineEnd = head.indexOf('\r\n');
  if (lineEnd + 2 > limits.maxLineBytes) throw new SipError('SIP_LINE_TOO_LONG', 513, 'Start Line Too Long');
  if (head.indexOf('\n') !== lineEnd + 1 || head.indexOf('\r') !== lineEnd) throw startLineError();
  const isRequest = !equalsLower(head, 0, Math.min(4, lineEnd), 'sip/');
  let method = '';
  let requestUri = '';
  let requestUriParsed: Uri | undefined;
  let status = 0;
  let reasonPhrase = '';
  if (isRequest) {
    const sp1 = head.indexOf(' ');
    const sp2 = head.lastIndexOf(' ', lineEnd);
    if (sp1 <= 0 || sp2 <= sp1 + 1 || sp1 > lineEnd) throw startLineError();
    for (let i = 0; i < sp1; i++) if ((cc(head.charCodeAt(i)) & TOKEN) === 0) throw startLineError('Bad Method');
    checkVersion(head, sp2 + 1, lineEnd);
    method = head.slice(0, sp1);
    requestUri = head.slice(sp1 + 1, sp2);
    requestUriParsed = parseRequestUri(requestUri);
  } else {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase; an empty reason is legal (RFC 4475
    // noreason) and so, leniently, is a missing SP before it.
    const sp = head.indexOf(' ');
    if (sp < 0 || sp > lineEnd) throw startLineError('Bad Status Line');
    checkVersion(head, 0, sp);
    const codeEnd = sp + 4;
    if (codeEnd > lineEnd || (codeEnd < lineEnd && head.charCodeAt(codeEnd) !== 0x20)) throw startLineError('Bad Status Code');
    for (let i = sp + 1; i < codeEnd; i++) {
      const d = head.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) throw startLineError('Bad Status Code');
      status = status * 10 + d;
    }
    if (status < 100 || status > 699) throw startLineError('Bad Status Code');
    reasonPhrase = codeEnd < lineEnd ? head.slice(codeEnd + 1, lineEnd) : '';
  }

  // Header fields: one row per field in the scratch index. A line that starts with SP or HTAB
  // continues the previous field (RFC 3261 §7.3.1). CR and LF appear only as CRLF line ends.
  const headerEnd = blank + 2;
  let n = 0;
  let viaFirst = -1;
  let from = -1;
  let to = -1;
  let callId = -1;
  let cseq = -1;
  let maxForwards = -1;
  let contentLength = -1;
  for (let pos = lineEnd + 2; pos < headerEnd;) {
    const nl = head.indexOf('\n', pos);
    if (head.charCodeAt(nl - 1) !== 0x0d || head.indexOf('\r', pos) !== nl - 1) {
      throw new SipError('SIP_BAD_HEADER', 400, 'Bare CR or LF in Header Section');
    }
    const c = head.charCodeAt(pos);
    if (c === 0x20 || c === 0x09) {
      if (n === 0) throw new SipError('SIP_BAD_HEADER', 400, 'Continuation Line Without Header');
      scratch[(n - 1) * F_STRIDE + F_END] = nl + 1;
      pos = nl + 1;
      continue;
    }
    if (n > 0) finishField(head, n - 1, limits);
    if (n === limits.maxHeaders) throw new SipError('SIP_TOO_MANY_HEADERS', 513, 'Too Many Header Fields');
    let h = HASH_SEED;
    let i = pos;
    for (let ch = c; (cc(ch) & TOKEN) !== 0; ch = head.charCodeAt(++i)) h = hashStep(h, ch);
    const nameEnd = i;
    while (head.charCodeAt(i) === 0x20 || head.charCodeAt(i) === 0x09) i++;
    if (nameEnd === pos || head.charCodeAt(i) !== 0x3a) throw new SipError('SIP_BAD_HEADER', 400, 'Malformed Header Line');
    if ((n + 1) * F_STRIDE > scratch.length) {
      const grown = new Int32Array(scratch.length * 2);
      grown.set(scratch);
      scratch = grown;
    }
    const row = n * F_STRIDE;
    const id = headerIdAt(head, pos, nameEnd, h);
    scratch[row + F_START] = pos;
    scratch[row + F_NAME_END] = nameEnd;
    scratch[row + F_VALUE_START] = i + 1;
    scratch[row + F_END] = nl + 1;
    scratch[row + F_ID] = id;
    scratch[row + F_HASH] = h;
    switch (id) {
      case HEADER_ID.via: if (viaFirst < 0) viaFirst = n; break;
      case HEADER_ID.from: if (from >= 0) throw duplicate('From'); from = n; break;
      case HEADER_ID.to: if (to >= 0) throw duplicate('To'); to = n; break;
      case HEADER_ID.callId: if (callId >= 0) throw duplicate('Call-ID'); callId = n; break;
      case HEADER_ID.cseq: if (cseq >= 0) throw duplicate('CSeq'); cseq = n; break;
      case HEADER_ID.maxForwards: if (maxForwards >= 0) throw duplicate('Max-Forwards'); maxForwards = n; break;
      case HEADER_ID.contentLength:
        // Two lengths leave no way to find the end of the message (RFC 4475 mcl01).
        if (contentLength >= 0) throw new SipError('SIP_BAD_CONTENT_LENGTH', 400, 'Duplicate Content-Length', 'Content-Length');
        contentLength = n;
        break;
    }
    n++;
    pos = nl + 1;
  }
  if (n > 0) finishField(head, n - 1, limits);
  const index = scratch.slice(0, n * F_STRIDE);

  // Mandatory fields of RFC 3261 §8.1.1 (Max-Forwards excepted: RFC 2543 requests lack it and a
  // proxy adds it, §16.6 step 3; RFC 4475 inv2543) and the same minus Max-Forwards for responses.
  if (viaFirst < 0) throw missing('Via');
  if (from < 0) throw missing('From');
  if (to < 0) throw missing('To');
  if (callId < 0) throw missing('Call-ID');
  if (cseq < 0) throw missing('CSeq');

  // Body (RFC 3261 §18.3, §20.14).
  const bodyStart = head.length;
  const available = bytes.length - bodyStart;
  let length = available;
  if (contentLength >= 0) {
    length = parseContentLength(head, index[contentLength * F_STRIDE + F_VALUE_START]!, index[contentLength * F_STRIDE + F_VALUE_END]!);
    if (length < 0) throw new SipError('SIP_BAD_CONTENT_LENGTH', 400, 'Invalid Content-Length', 'Content-Length');
    if (length > available) throw new SipError('SIP_BAD_CONTENT_LENGTH', 400, 'Content-Length Larger Than Message', 'Content-Length');
    if (stream && length !== available) throw new SipError('SIP_BAD_CONTENT_LENGTH', 400, 'Content-Length Mismatch', 'Content-Length');
  } else if (stream) {
    throw missing('Content-Length');
  }
  const raw = length === available ? bytes : bytes.subarray(0, bodyStart + length);

  const vias = parseVias(head, index, n);
  const fromValue = nameAddrAt(head, index, from, 'From');
  const toValue = nameAddrAt(head, index, to, 'To');
  const callIdStart = index[callId * F_STRIDE + F_VALUE_START]!;
  const callIdEnd = index[callId * F_STRIDE + F_VALUE_END]!;
  if (!isCallId(head, callIdStart, callIdEnd)) throw badHeader('Call-ID');
  const cseqValue = parseCSeq(head, index[cseq * F_STRIDE + F_VALUE_START]!, index[cseq * F_STRIDE + F_VALUE_END]!);
  if (isRequest) {
    // Methods are case-sensitive (RFC 3261 §7.1); RFC 4475 mismatch01, mismatch02.
    if (cseqValue.method !== method) throw new SipError('SIP_CSEQ_MISMATCH', 400, 'CSeq Method Does Not Match', 'CSeq');
  } else {
    method = cseqValue.method;
  }
  const mf = maxForwards < 0 ? undefined
    : parseMaxForwards(head, index[maxForwards * F_STRIDE + F_VALUE_START]!, index[maxForwards * F_STRIDE + F_VALUE_END]!);

  return new SipMessage({
    raw,
    head,
    index,
    fieldCount: n,
    isRequest,
    method,
    requestUri,
    requestUriParsed,
    status,
    reasonPhrase,
    body: raw.subarray(bodyStart),
    vias,
    from: fromValue,
    to: toValue,
    callId: head.slice(callIdStart, callIdEnd),
    cseq: cseqValue,
    maxForwards: mf,
    contentLength: length,
    contentLengthField: contentLength,
  });
}

/** Sets the value bounds of field k once all its lines are known, and checks its length. */
function finishField(head: string, k: number, limits: SipLimits): void {
  const row = k * F_STRIDE;
  const start = scratch[row + F_START]!;
  const end = scratch[row + F_END]!;
  if (end - start > limits.maxLineBytes) throw new SipError('SIP_LINE_TOO_LONG', 513, 'Header Field Too Long');
  const valueStart = skipWs(head, scratch[row + F_VALUE_START]!, end - 2);
  scratch[row + F_VALUE_START] = valueStart;
  scratch[row + F_VALUE_END] = trimEnd(head, valueStart, end - 2);
}

function parseRequestUri(text: string): Uri {
  const uri = parseUri(text);
  if (!ROUTABLE_SCHEMES.has(uri.scheme)) {
    throw new SipError('SIP_UNSUPPORTED_URI_SCHEME', 416, 'Unsupported URI Scheme');
  }
  // A Request-URI has no headers component (RFC 3261 §19.1.1 table; RFC 4475 escruri).
  if (isSipUri(uri) && uri.headers !== '') throw new SipError('SIP_BAD_URI', 400, 'Headers Not Allowed In Request-URI');
  return uri;
}

function parseVias(head: string, index: Int32Array, n: number): Via[] {
  const vias: Via[] = [];
  const spans: number[] = [];
  for (let row = 0; row < n * F_STRIDE; row += F_STRIDE) {
    if (index[row + F_ID] !== HEADER_ID.via) continue;
    const before = spans.length;
    splitList(head, index[row + F_VALUE_START]!, index[row + F_VALUE_END]!, spans);
    if (spans.length === before) throw badHeader('Via', 'Empty Via');
  }
  for (let k = 0; k < spans.length; k += 2) vias.push(parseVia(head, spans[k]!, spans[k + 1]!));
  return vias;
}

function nameAddrAt(head: string, index: Int32Array, field: number, header: string): NameAddr {
  return parseNameAddr(head, index[field * F_STRIDE + F_VALUE_START]!, index[field * F_STRIDE + F_VALUE_END]!, header);
}
