// Every failure of the SIP layer is a SipError: a stable code for programs, the status a UAS or a
// stateless proxy answers with when the faulty message is a request, and a short reason usable as
// the reason phrase. Responses that fail are dropped (RFC 3261 §16.7 / §18.1.2), so their status
// is only informative.

export type SipErrorCode =
  | 'SIP_BAD_START_LINE' // request or status line does not follow RFC 3261 §7.1 / §7.2
  | 'SIP_BAD_VERSION' // SIP-Version other than SIP/2.0 (505, RFC 3261 §21.5.7)
  | 'SIP_BAD_HEADER' // a header field or one of its values does not follow its grammar
  | 'SIP_MISSING_HEADER' // a mandatory header field is absent (RFC 3261 §8.1.1)
  | 'SIP_DUPLICATE_HEADER' // a single-valued header field appears more than once (RFC 4475 multi01)
  | 'SIP_BAD_CONTENT_LENGTH' // Content-Length unreadable or disagreeing with the octets (RFC 3261 §18.3)
  | 'SIP_INCOMPLETE' // no empty line ends the header section
  | 'SIP_TOO_LARGE' // message larger than the configured limit
  | 'SIP_TOO_MANY_HEADERS' // more header fields than the configured limit
  | 'SIP_LINE_TOO_LONG' // start line or header field longer than the configured limit
  | 'SIP_CSEQ_MISMATCH' // CSeq method differs from the request method (RFC 3261 §8.1.1.5)
  | 'SIP_BAD_URI' // a URI does not follow RFC 3261 §25.1 / RFC 3966
  | 'SIP_UNSUPPORTED_URI_SCHEME' // Request-URI scheme the proxy cannot route (416, RFC 3261 §16.3 item 2)
  | 'SIP_BAD_ARGUMENT' // an edit or builder was given a value that would corrupt the message
  | 'SIP_EDIT_CONFLICT'; // two edits touch the same octets

export class SipError extends Error {
  override readonly name = 'SipError';
  readonly code: SipErrorCode;
  /** What to answer if the faulty message is a request: 400, 416, 505, 513, ... (500 for misuse of the API). */
  readonly status: number;
  /** Short text without CR/LF, usable as the reason phrase or in a Warning. */
  readonly reason: string;
  /** Canonical name of the header at fault, when there is one. */
  readonly header?: string;

  constructor(code: SipErrorCode, status: number, reason: string, header?: string) {
    super(header === undefined ? `${code}: ${reason}` : `${code}: ${reason} (${header})`);
    this.code = code;
    this.status = status;
    this.reason = reason;
    if (header !== undefined) this.header = header;
  }
}

/** A 400 for a header value that does not follow its grammar. */
export function badHeader(header: string, what = `Invalid ${header}`): SipError {
  return new SipError('SIP_BAD_HEADER', 400, what, header);
}

/** A 400 for a header line that is not name HCOLON value (RFC 3261 §7.3.1). */
export function malformedLine(): SipError {
  return new SipError('SIP_BAD_HEADER', 400, 'Malformed Header Line');
}

/** A 400 for a CR or LF in the header section that is not part of a CRLF (RFC 3261 §7.3.1). */
export function bareCrLf(): SipError {
  return new SipError('SIP_BAD_HEADER', 400, 'Bare CR or LF in Header Section');
}

/** A 500 for a value handed to an editor or builder that would corrupt the message. */
export function badArgument(what: string): SipError {
  return new SipError('SIP_BAD_ARGUMENT', 500, what);
}
