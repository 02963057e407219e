// indexMessage: finds the start line, indexes the header fields (offsets only), checks the framing
// and the presence of the mandatory headers, and reads Call-ID, CSeq and Content-Length. The
// Request-URI, Via, From, To, Max-Forwards and every other header are parsed on first access (see
// SipMessage). parseMessage is indexMessage plus SipMessage.validate(), which also checks what
// indexing takes on trust (header names are tokens, no CR outside a CRLF): what a message coming
// off the wire goes through once, in the main thread; a worker handed the same bytes only indexes them.

import { TOKEN, equalsLower, scan } from './chars.js';
import { SipError, badHeader, bareCrLf, malformedLine } from './errors.js';
import { HEADER_ID, NameSet } from './header-names.js';
import { type SipLimits, DEFAULT_SIP_LIMITS } from './limits.js';
import { F_END, F_ID, F_NAME_END, F_START, F_STRIDE, F_VALUE_END, F_VALUE_START, SipMessage, UNRESOLVED } from './message.js';
import { isCallId, parseCSeq, parseContentLength } from './scalar.js';

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

// The headers identified while indexing (the mandatory ones, and those read for framing); the names
// of the others are compared on first lookup.
const IDENTIFIED = new NameSet(['via', 'from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length']);

// Module-local copies of imported constants used per header line: TurboFan folds these into the
// code, whereas it reloads an imported binding (with its initialization check) at every use.
const STRIDE = F_STRIDE, START = F_START, NAME_END = F_NAME_END, VALUE_START = F_VALUE_START, VALUE_END = F_VALUE_END;
const END = F_END, ID = F_ID, NOT_IDENTIFIED = UNRESOLVED;
const { via: VIA, from: FROM, to: TO, callId: CALL_ID, cseq: CSEQ, maxForwards: MAX_FORWARDS, contentLength: CONTENT_LENGTH } = HEADER_ID;

// The header index is built in scratch space shared by every parse (parsing is synchronous), a
// plain array of small integers: the message takes its own copy with one native slice, which costs
// less than allocating a typed array or copying element by element.
let scratch: number[] = new Array<number>(F_STRIDE * 64).fill(0);

function growScratch(): number[] {
  scratch = scratch.concat(new Array<number>(scratch.length).fill(0));
  return scratch;
}

// Up to this size the whole message is decoded at once and the header section read up to its empty
// line; above it, the empty line is found in the bytes first so that a large body is not decoded.
const DECODE_WHOLE_MAX = 4096;

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

function isSpTab(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

function skipSpTab(s: string, i: number): number {
  while (isSpTab(s.charCodeAt(i))) i++;
  return i;
}

/** The end of s[start, end) less its trailing SP and HTAB. */
function trimSpTab(s: string, start: number, end: number): number {
  while (end > start && isSpTab(s.charCodeAt(end - 1))) end--;
  return end;
}

function lineTooLong(): SipError {
  return new SipError('SIP_LINE_TOO_LONG', 513, 'Header Field Too Long');
}

function incomplete(): SipError {
  return new SipError('SIP_INCOMPLETE', 400, 'Incomplete Header Section');
}

/** The start line and header section of a large message (its body is not decoded). */
function decodeHead(bytes: Buffer): string {
  const blank = bytes.indexOf(CRLFCRLF);
  if (blank < 0) throw incomplete();
  return bytes.toString('latin1', 0, blank + 4);
}

function duplicate(header: string): SipError {
  return new SipError('SIP_DUPLICATE_HEADER', 400, `Duplicate ${header}`, header);
}

function missing(header: string): SipError {
  return new SipError('SIP_MISSING_HEADER', 400, `Missing ${header}`, header);
}

/** Parses one SIP message, every header a proxy step reads included. Throws a SipError, and nothing else, on any input it cannot accept. */
export function parseMessage(bytes: Buffer, opts?: ParseOptions): SipMessage {
  return indexMessage(bytes, opts).validate();
}

/**
 * Indexes one SIP message: throws a SipError, and nothing else, when its framing, start line or
 * header section is unusable, a mandatory header is missing or repeated, or Call-ID, CSeq or
 * Content-Length is malformed. The other typed accessors parse on first use and may throw a SipError.
 */
export function indexMessage(bytes: Buffer, opts?: ParseOptions): SipMessage {
  const limits = opts?.limits ?? DEFAULT_SIP_LIMITS;
  const stream = opts?.framing === 'stream';
  if (bytes.length > (stream ? limits.maxStreamMessageBytes : limits.maxDatagramBytes)) {
    throw new SipError('SIP_TOO_LARGE', 513, 'Message Too Large');
  }
  const text = bytes.length <= DECODE_WHOLE_MAX ? bytes.toString('latin1') : decodeHead(bytes);

  // Start line (RFC 3261 §7.1, §7.2): single SPs between the elements, no LWS anywhere else
  // (RFC 4475 lwsstart, trws, lwsruri).
  const lineEnd = text.indexOf('\n') - 1;
  if (lineEnd < 0) throw incomplete();
  if (lineEnd + 2 > limits.maxLineBytes) throw new SipError('SIP_LINE_TOO_LONG', 513, 'Start Line Too Long');
  if (text.indexOf('\r') !== lineEnd) throw startLineError();
  const isRequest = !equalsLower(text, 0, Math.min(4, lineEnd), 'sip/');
  let method = '';
  let requestUri = '';
  let status = 0;
  let reasonPhrase = '';
  if (isRequest) {
    const sp1 = text.indexOf(' ');
    if (sp1 <= 0 || sp1 > lineEnd) throw startLineError();
    // The last SP of the line (lastIndexOf would say the same, through a slower runtime call).
    let sp2 = sp1;
    for (let next = text.indexOf(' ', sp1 + 1); next >= 0 && next < lineEnd; next = text.indexOf(' ', next + 1)) sp2 = next;
    if (sp2 <= sp1 + 1) throw startLineError();
    if (scan(text, 0, sp1, TOKEN) !== sp1) throw startLineError('Bad Method');
    checkVersion(text, sp2 + 1, lineEnd);
    method = text.slice(0, sp1);
    requestUri = text.slice(sp1 + 1, sp2);
  } else {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase; an empty reason is legal (RFC 4475
    // noreason) and so, leniently, is a missing SP before it.
    const sp = text.indexOf(' ');
    if (sp < 0 || sp > lineEnd) throw startLineError('Bad Status Line');
    checkVersion(text, 0, sp);
    const codeEnd = sp + 4;
    if (codeEnd > lineEnd || (codeEnd < lineEnd && text.charCodeAt(codeEnd) !== 0x20)) throw startLineError('Bad Status Code');
    for (let i = sp + 1; i < codeEnd; i++) {
      const d = text.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) throw startLineError('Bad Status Code');
      status = status * 10 + d;
    }
    if (status < 100 || status > 699) throw startLineError('Bad Status Code');
    reasonPhrase = codeEnd < lineEnd ? text.slice(codeEnd + 1, lineEnd) : '';
  }

  // Header fields, up to the empty line: one row per field in the index. A line that starts with
  // SP or HTAB continues the previous field (RFC 3261 §7.3.1). CR and LF appear only as CRLF.
  let index = scratch;
  let n = 0;
  let viaFirst = -1;
  let from = -1;
  let to = -1;
  let callId = -1;
  let cseq = -1;
  let maxForwards = -1;
  let contentLength = -1;
  const maxHeaders = limits.maxHeaders;
  const maxLineBytes = limits.maxLineBytes;
  let pos = lineEnd + 2;
  for (;;) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) throw incomplete();
    // Every LF ends a line here, so none is bare; a CR elsewhere than before it is left to validate().
    if (text.charCodeAt(nl - 1) !== 0x0d) throw bareCrLf();
    if (nl === pos + 1) break;
    const cr = nl - 1;
    if (isSpTab(text.charCodeAt(pos))) {
      if (n === 0) throw new SipError('SIP_BAD_HEADER', 400, 'Continuation Line Without Header');
      const row = (n - 1) * STRIDE;
      if (nl + 1 - index[row + START]! > maxLineBytes) throw lineTooLong();
      index[row + END] = nl + 1;
      const last = trimSpTab(text, pos, cr);
      if (last > pos) {
        if (index[row + VALUE_START] === index[row + VALUE_END]) index[row + VALUE_START] = skipSpTab(text, pos);
        index[row + VALUE_END] = last;
      }
      pos = nl + 1;
      continue;
    }
    if (n === maxHeaders) throw new SipError('SIP_TOO_MANY_HEADERS', 513, 'Too Many Header Fields');
    if (nl + 1 - pos > maxLineBytes) throw lineTooLong();
    if ((n + 1) * STRIDE > index.length) index = growScratch();
    // name HCOLON = token *( SP / HTAB ) ":" (RFC 3261 §7.3.1): the first colon ends the name,
    // whose octets validate() checks (a native search costs less than classifying each octet).
    const colon = text.indexOf(':', pos);
    if (colon < 0 || colon > cr) throw malformedLine();
    const nameEnd = trimSpTab(text, pos, colon);
    if (nameEnd === pos) throw malformedLine();
    const valueStart = skipSpTab(text, colon + 1);
    // A compact form is identified whatever it is; a long name only if it is one validated here.
    const found = IDENTIFIED.idAt(text, pos, nameEnd);
    const id = found !== 0 || nameEnd - pos === 1 ? found : NOT_IDENTIFIED;
    const row = n * STRIDE;
    index[row + START] = pos;
    index[row + NAME_END] = nameEnd;
    index[row + VALUE_START] = valueStart;
    index[row + VALUE_END] = trimSpTab(text, valueStart, cr);
    index[row + END] = nl + 1;
    index[row + ID] = id;
    switch (id) {
      case VIA: if (viaFirst < 0) viaFirst = n; break;
      case FROM: if (from >= 0) throw duplicate('From'); from = n; break;
      case TO: if (to >= 0) throw duplicate('To'); to = n; break;
      case CALL_ID: if (callId >= 0) throw duplicate('Call-ID'); callId = n; break;
      case CSEQ: if (cseq >= 0) throw duplicate('CSeq'); cseq = n; break;
      case MAX_FORWARDS: if (maxForwards >= 0) throw duplicate('Max-Forwards'); maxForwards = n; break;
      case CONTENT_LENGTH:
        // Two lengths leave no way to find the end of the message (RFC 4475 mcl01).
        if (contentLength >= 0) throw new SipError('SIP_BAD_CONTENT_LENGTH', 400, 'Duplicate Content-Length', 'Content-Length');
        contentLength = n;
        break;
    }
    n++;
    pos = nl + 1;
  }
  const bodyStart = pos + 2;
  const rows = index.slice(0, n * STRIDE);

  // Mandatory fields of RFC 3261 §8.1.1 (Max-Forwards excepted: RFC 2543 requests lack it and a
  // proxy adds it, §16.6 step 3; RFC 4475 inv2543) and the same minus Max-Forwards for responses.
  if (viaFirst < 0) throw missing('Via');
  if (from < 0) throw missing('From');
  if (to < 0) throw missing('To');
  if (callId < 0) throw missing('Call-ID');
  if (cseq < 0) throw missing('CSeq');

  // Body (RFC 3261 §18.3, §20.14).
  const available = bytes.length - bodyStart;
  let length = available;
  if (contentLength >= 0) {
    length = parseContentLength(text, rows[contentLength * STRIDE + VALUE_START]!, rows[contentLength * STRIDE + VALUE_END]!);
    if (length < 0) throw new SipError('SIP_BAD_CONTENT_LENGTH', 400, 'Invalid Content-Length', 'Content-Length');
    if (length > available) throw new SipError('SIP_BAD_CONTENT_LENGTH', 400, 'Content-Length Larger Than Message', 'Content-Length');
    if (stream && length !== available) throw new SipError('SIP_BAD_CONTENT_LENGTH', 400, 'Content-Length Mismatch', 'Content-Length');
  } else if (stream) {
    throw missing('Content-Length');
  }
  const raw = length === available ? bytes : bytes.subarray(0, bodyStart + length);

  const callIdStart = rows[callId * STRIDE + VALUE_START]!;
  const callIdEnd = rows[callId * STRIDE + VALUE_END]!;
  if (!isCallId(text, callIdStart, callIdEnd)) throw badHeader('Call-ID');
  const cseqValue = parseCSeq(text, rows[cseq * STRIDE + VALUE_START]!, rows[cseq * STRIDE + VALUE_END]!);
  if (isRequest) {
    // Methods are case-sensitive (RFC 3261 §7.1); RFC 4475 mismatch01, mismatch02.
    if (cseqValue.method !== method) throw new SipError('SIP_CSEQ_MISMATCH', 400, 'CSeq Method Does Not Match', 'CSeq');
  } else {
    method = cseqValue.method;
  }

  return new SipMessage({
    raw,
    text,
    bodyStart,
    index: rows,
    fieldCount: n,
    isRequest,
    method,
    requestUri,
    status,
    reasonPhrase,
    fromField: from,
    toField: to,
    callId: text.slice(callIdStart, callIdEnd),
    cseq: cseqValue,
    maxForwardsField: maxForwards,
    contentLength: length,
    contentLengthField: contentLength,
  });
}
