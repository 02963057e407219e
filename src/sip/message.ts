// A parsed SIP message: the raw bytes, an index of its header fields (offsets into the bytes), the
// values indexMessage read, and typed accessors that parse the rest on first use and cache it.

import { type AuthHeader, parseAuth } from './auth.js';
import { TOKEN, equalsLower, isAll, scan, unfold } from './chars.js';
import { type Contact, parseContact } from './contact.js';
import { MessageEditor } from './edit.js';
import { SipError, badArgument, badHeader, bareCrLf, malformedLine } from './errors.js';
import { HEADER_ID, canonicalHeaderName, canonicalNameOf, headerIdAt, headerIdOf } from './header-names.js';
import { splitList } from './list.js';
import { type NameAddr, parseNameAddr } from './name-addr.js';
import { parseDeltaSeconds, parseMaxForwards } from './scalar.js';
import { type Uri, isSipUri, parseUri } from './uri.js';
import { type Via, parseVia } from './via.js';

export interface HeaderField {
  /** The name as spelled in the message ("v", "VIA", "Via"...). */
  name: string;
  /** Lower-case long form ("via"). */
  canonical: string;
  /** The value, each fold replaced by one SP, trimmed. */
  value: string;
  /** [start, end) of the whole field, continuation lines and the final CRLF included. */
  start: number;
  end: number;
  /** [valueStart, valueEnd) of the value as written (trimmed; may span folds). */
  valueStart: number;
  valueEnd: number;
  /** Position among all header fields of the message. */
  index: number;
}

export interface HeaderValue {
  field: HeaderField;
  /** Position of this value within its field. */
  index: number;
  /** The value, folds made one SP, trimmed. */
  text: string;
  /** [start, end) of the value as written in the message. */
  start: number;
  end: number;
}

// Layout of the header index: one row of F_STRIDE numbers per field.
export const F_START = 0;
export const F_NAME_END = 1;
export const F_VALUE_START = 2;
export const F_VALUE_END = 3;
export const F_END = 4;
export const F_ID = 5;
export const F_STRIDE = 6;

/** F_ID of a field whose name parseMessage did not need to identify: resolved on first lookup. */
export const UNRESOLVED = -1;

/** What indexMessage found and checked. */
export interface MessageParts {
  raw: Buffer;
  /** raw decoded as latin1, at least through the empty line (the whole message when it is small). */
  text: string;
  bodyStart: number;
  index: number[];
  fieldCount: number;
  isRequest: boolean;
  method: string;
  requestUri: string;
  status: number;
  reasonPhrase: string;
  /** Field indexes of From and To (present), of Max-Forwards (-1 when absent). */
  fromField: number;
  toField: number;
  maxForwardsField: number;
  callId: string;
  cseq: { seq: number; method: string };
  contentLength: number;
  contentLengthField: number;
}

interface NameKey {
  canonical: string;
  id: number;
}

// Request-URI schemes a P-CSCF routes: SIP and SIPS (RFC 3261), TEL (RFC 3966, TS 24.229 §5.1.2A.1.1
// lets a UE address a request to a tel URI) and URN (the emergency service URNs of RFC 5031,
// TS 24.229 §5.1.6). Any other is answered 416 (RFC 3261 §16.3 item 2; RFC 4475 unkscm, novelsc).
const ROUTABLE_SCHEMES = new Set(['sip', 'sips', 'tel', 'urn']);

const NAME_KEYS = new Map<string, NameKey>();
const NAME_KEYS_MAX = 1024;

function nameKey(name: string): NameKey {
  let key = NAME_KEYS.get(name);
  if (key === undefined) {
    const canonical = canonicalHeaderName(name);
    key = { canonical, id: headerIdOf(canonical) };
    if (NAME_KEYS.size < NAME_KEYS_MAX) NAME_KEYS.set(name, key);
  }
  return key;
}

export type OptionTagHeader = 'require' | 'proxy-require' | 'supported' | 'unsupported';
type AuthHeaderName = 'www-authenticate' | 'proxy-authenticate' | 'authorization' | 'proxy-authorization';

const DISPLAY_NAMES: Readonly<Record<OptionTagHeader | AuthHeaderName, string>> = {
  require: 'Require', 'proxy-require': 'Proxy-Require', supported: 'Supported', unsupported: 'Unsupported',
  'www-authenticate': 'WWW-Authenticate', 'proxy-authenticate': 'Proxy-Authenticate',
  authorization: 'Authorization', 'proxy-authorization': 'Proxy-Authorization',
};

export class SipMessage {
  /** The message octets: start line, header section, and exactly the body. */
  readonly raw: Buffer;
  readonly isRequest: boolean;
  /** The request method; for a response, the CSeq method. */
  readonly method: string;
  /** Requests only ('' for a response). */
  readonly requestUri: string;
  /** Responses only (0 for a request). */
  readonly status: number;
  readonly reasonPhrase: string;
  readonly fieldCount: number;

  /**
   * The message decoded as latin1 (one code unit per octet), at least through the empty line: the
   * string every header is read from. It is one flat string, never a slice of another, because V8
   * reads the characters of a slice (a SlicedString) markedly slower.
   */
  private readonly text: string;
  private readonly bodyStartValue: number;
  private headText: string | undefined;
  private readonly index: number[];
  private fieldObjects: (HeaderField | undefined)[] | undefined;
  private readonly fromField: number;
  private readonly toField: number;
  private readonly maxForwardsField: number;
  private ruri: Uri | undefined;
  private viaList: readonly Via[] | undefined;
  private fromValue: NameAddr | undefined;
  private toValue: NameAddr | undefined;
  private readonly callIdValue: string;
  private readonly cseqValue: { seq: number; method: string };
  private readonly contentLengthValue: number;
  /** Index of the Content-Length field, -1 when absent. */
  readonly contentLengthField: number;
  private bodyView: Buffer | undefined;
  private contactList: readonly Contact[] | '*' | undefined;
  private routeLists: Map<number, readonly NameAddr[]> | undefined;

  /** Built by parseMessage; use that. */
  constructor(parts: MessageParts) {
    this.raw = parts.raw;
    this.text = parts.text;
    this.bodyStartValue = parts.bodyStart;
    this.headText = undefined;
    this.isRequest = parts.isRequest;
    this.method = parts.method;
    this.requestUri = parts.requestUri;
    this.status = parts.status;
    this.reasonPhrase = parts.reasonPhrase;
    this.fieldCount = parts.fieldCount;
    this.index = parts.index;
    this.fieldObjects = undefined;
    this.fromField = parts.fromField;
    this.toField = parts.toField;
    this.maxForwardsField = parts.maxForwardsField;
    this.ruri = undefined;
    this.viaList = undefined;
    this.fromValue = undefined;
    this.toValue = undefined;
    this.callIdValue = parts.callId;
    this.cseqValue = parts.cseq;
    this.contentLengthValue = parts.contentLength;
    this.contentLengthField = parts.contentLengthField;
    this.bodyView = undefined;
    this.contactList = undefined;
    this.routeLists = undefined;
  }

  /** Start line and header section (through the empty line) decoded as latin1: an index here is an offset in raw. */
  get head(): string {
    return (this.headText ??= this.text.length === this.bodyStartValue ? this.text : this.text.slice(0, this.bodyStartValue));
  }

  /** A view into raw: exactly Content-Length octets (the rest of the datagram when Content-Length is absent). */
  get body(): Buffer {
    return (this.bodyView ??= this.raw.subarray(this.bodyStartValue));
  }

  /** Offset of the body in raw (just past the empty line). */
  get bodyStart(): number {
    return this.bodyStartValue;
  }

  /**
   * text[start, end) as a string of its own. V8 makes a substring of 13 characters or more a view
   * of its parent (a SlicedString); a value that a caller will scan, such as a Security-Client or
   * a WWW-Authenticate, is decoded from the octets instead, into a flat string.
   */
  private decode(start: number, end: number): string {
    return end - start < 13 ? this.text.slice(start, end) : this.raw.toString('latin1', start, end);
  }

  /** The value of the field whose row starts at `row`, folds made one SP. */
  private valueAt(row: number): string {
    return unfold(this.decode(this.index[row + F_VALUE_START]!, this.index[row + F_VALUE_END]!));
  }

  /** The header field at position i (0 <= i < fieldCount). */
  fieldAt(i: number): HeaderField {
    const cached = this.fieldObjects?.[i];
    if (cached !== undefined) return cached;
    if (!(i >= 0 && i < this.fieldCount)) throw badArgument(`No header field at index ${i}`);
    const x = this.index;
    const row = i * F_STRIDE;
    const start = x[row + F_START]!;
    const nameEnd = x[row + F_NAME_END]!;
    const valueStart = x[row + F_VALUE_START]!;
    const valueEnd = x[row + F_VALUE_END]!;
    const id = this.fieldId(row);
    const name = this.text.slice(start, nameEnd);
    const field: HeaderField = {
      name,
      canonical: id !== 0 ? canonicalNameOf(id) : name.toLowerCase(),
      value: this.valueAt(row),
      start,
      end: x[row + F_END]!,
      valueStart,
      valueEnd,
      index: i,
    };
    (this.fieldObjects ??= new Array<HeaderField | undefined>(this.fieldCount))[i] = field;
    return field;
  }

  /** Every header field, in order. */
  allFields(): HeaderField[] {
    const out: HeaderField[] = [];
    for (let i = 0; i < this.fieldCount; i++) out.push(this.fieldAt(i));
    return out;
  }

  /** The header id of the field whose row starts at `row`, identifying its name on first use. */
  private fieldId(row: number): number {
    let id = this.index[row + F_ID]!;
    if (id === UNRESOLVED) {
      id = headerIdAt(this.text, this.index[row + F_START]!, this.index[row + F_NAME_END]!);
      this.index[row + F_ID] = id;
    }
    return id;
  }

  /** Is the field at `row` a header of the known id `id`, whose long name has `length` octets? */
  private isHeader(row: number, id: number, length: number): boolean {
    const known = this.index[row + F_ID]!;
    if (known !== UNRESOLVED) return known === id;
    // Only a name of that length, or a compact form, can be it: others need no comparison.
    const nameLength = this.index[row + F_NAME_END]! - this.index[row + F_START]!;
    return (nameLength === length || nameLength === 1) && this.fieldId(row) === id;
  }

  private matches(i: number, key: NameKey): boolean {
    const row = i * F_STRIDE;
    if (key.id !== 0) return this.isHeader(row, key.id, key.canonical.length);
    // A name unknown here cannot be the spelling of a known one: compare the names.
    return equalsLower(this.text, this.index[row + F_START]!, this.index[row + F_NAME_END]!, key.canonical);
  }

  private firstIndex(key: NameKey): number {
    for (let i = 0; i < this.fieldCount; i++) if (this.matches(i, key)) return i;
    return -1;
  }

  /** Every field of this header, in order. The name is case-insensitive and a compact form equals its long form ('v' is 'Via'). */
  fields(name: string): HeaderField[] {
    const key = nameKey(name);
    const out: HeaderField[] = [];
    for (let i = 0; i < this.fieldCount; i++) if (this.matches(i, key)) out.push(this.fieldAt(i));
    return out;
  }

  /** The value of every field of this header, in order: fields(name) without building the field objects. */
  fieldValues(name: string): string[] {
    const key = nameKey(name);
    const out: string[] = [];
    for (let i = 0; i < this.fieldCount; i++) {
      if (this.matches(i, key)) out.push(this.fieldObjects?.[i]?.value ?? this.valueAt(i * F_STRIDE));
    }
    return out;
  }

  first(name: string): HeaderField | undefined {
    const i = this.firstIndex(nameKey(name));
    return i < 0 ? undefined : this.fieldAt(i);
  }

  has(name: string): boolean {
    return this.firstIndex(nameKey(name)) >= 0;
  }

  /** The comma-separated values of a list header over all its fields (commas inside quotes and <> do not split). */
  values(name: string): HeaderValue[] {
    const key = nameKey(name);
    const out: HeaderValue[] = [];
    const spans: number[] = [];
    for (let i = 0; i < this.fieldCount; i++) {
      if (!this.matches(i, key)) continue;
      const field = this.fieldAt(i);
      spans.length = 0;
      splitList(this.text, field.valueStart, field.valueEnd, spans);
      for (let k = 0; k < spans.length; k += 2) {
        const start = spans[k]!;
        const end = spans[k + 1]!;
        out.push({ field, index: k / 2, text: unfold(this.decode(start, end)), start, end });
      }
    }
    return out;
  }

  /**
   * [start, end) pairs of every value of the header with id `id`, over all its fields, in order;
   * with `emptyIsError` (the header's name), a field without a value is a 400.
   */
  private valueSpans(id: number, emptyIsError?: string): number[] {
    const spans: number[] = [];
    const x = this.index;
    const length = canonicalNameOf(id).length;
    for (let row = 0; row < this.fieldCount * F_STRIDE; row += F_STRIDE) {
      if (!this.isHeader(row, id, length)) continue;
      const before = spans.length;
      splitList(this.text, x[row + F_VALUE_START]!, x[row + F_VALUE_END]!, spans);
      if (spans.length === before && emptyIsError !== undefined) throw badHeader(emptyIsError, `Empty ${emptyIsError}`);
    }
    return spans;
  }

  private parseValues<T>(spans: readonly number[], parse: (s: string, start: number, end: number) => T): T[] {
    const out: T[] = [];
    for (let k = 0; k < spans.length; k += 2) out.push(parse(this.text, spans[k]!, spans[k + 1]!));
    return out;
  }

  /** The one field of a single-valued header, -1 when absent; a second one is an error. */
  private singleField(id: number, header: string): number {
    let found = -1;
    const length = canonicalNameOf(id).length;
    for (let i = 0; i < this.fieldCount; i++) {
      if (!this.isHeader(i * F_STRIDE, id, length)) continue;
      if (found >= 0) throw new SipError('SIP_DUPLICATE_HEADER', 400, `Duplicate ${header}`, header);
      found = i;
    }
    return found;
  }

  /**
   * Checks what indexing took on trust (every header name is a token, every CR of the header
   * section ends a line) and parses every header a proxy step reads (Request-URI, Via, From, To,
   * Max-Forwards), so that their accessors never throw afterwards; throws the SipError of the
   * first fault.
   */
  validate(): this {
    if (this.isRequest) this.requestUriParsed();
    const x = this.index;
    for (let row = 0; row < this.fieldCount * F_STRIDE; row += F_STRIDE) {
      if (scan(this.text, x[row + F_START]!, x[row + F_NAME_END]!, TOKEN) !== x[row + F_NAME_END]) throw malformedLine();
    }
    const headerEnd = this.bodyStartValue - 2;
    // indexMessage found the mandatory headers, so there is a first field to start from.
    for (let cr = this.text.indexOf('\r', x[F_START]!); cr >= 0 && cr < headerEnd; cr = this.text.indexOf('\r', cr + 2)) {
      if (this.text.charCodeAt(cr + 1) !== 0x0a) throw bareCrLf();
    }
    this.vias();
    this.from();
    this.to();
    this.maxForwards();
    return this;
  }

  // Read by indexMessage: these never throw.

  callId(): string {
    return this.callIdValue;
  }

  cseq(): { seq: number; method: string } {
    return this.cseqValue;
  }

  /** The Content-Length value; without the header (possible in a datagram only), the body length. */
  contentLength(): number {
    return this.contentLengthValue;
  }

  // Parsed on first use and cached; after validate() (parseMessage), these never throw.

  /** Every Via value, over all the Via fields, in order (at least one). */
  vias(): readonly Via[] {
    return (this.viaList ??= this.parseValues(this.valueSpans(HEADER_ID.via, 'Via'), parseVia));
  }

  topVia(): Via {
    return this.vias()[0]!;
  }

  from(): NameAddr {
    return (this.fromValue ??= this.nameAddrAt(this.fromField, 'From'));
  }

  to(): NameAddr {
    return (this.toValue ??= this.nameAddrAt(this.toField, 'To'));
  }

  private nameAddrAt(field: number, header: string): NameAddr {
    const row = field * F_STRIDE;
    return parseNameAddr(this.text, this.index[row + F_VALUE_START]!, this.index[row + F_VALUE_END]!, header);
  }

  maxForwards(): number | undefined {
    if (this.maxForwardsField < 0) return undefined;
    const row = this.maxForwardsField * F_STRIDE;
    return parseMaxForwards(this.text, this.index[row + F_VALUE_START]!, this.index[row + F_VALUE_END]!);
  }

  /**
   * Requests only (throws on a response): SIP, SIPS, TEL or URN, without a headers component
   * (RFC 3261 §19.1.1 table; RFC 4475 escruri); any other scheme is a 416.
   */
  requestUriParsed(): Uri {
    if (this.ruri !== undefined) return this.ruri;
    if (!this.isRequest) throw badArgument('A response has no Request-URI');
    const start = this.text.indexOf(' ') + 1;
    const uri = parseUri(this.text, start, start + this.requestUri.length);
    if (!ROUTABLE_SCHEMES.has(uri.scheme)) throw new SipError('SIP_UNSUPPORTED_URI_SCHEME', 416, 'Unsupported URI Scheme');
    if (isSipUri(uri) && uri.headers !== '') throw new SipError('SIP_BAD_URI', 400, 'Headers Not Allowed In Request-URI');
    this.ruri = uri;
    return uri;
  }

  // Parsed on first use; these throw a SipError (400) when the header is malformed.

  /** Contact values, or '*' for the "Contact: *" of a REGISTER removing every binding (RFC 3261 §10.2.2). */
  contacts(): readonly Contact[] | '*' {
    if (this.contactList !== undefined) return this.contactList;
    const spans = this.valueSpans(HEADER_ID.contact);
    let stars = 0;
    for (let k = 0; k < spans.length; k += 2) {
      if (spans[k + 1] === spans[k]! + 1 && this.text.charCodeAt(spans[k]!) === 0x2a) stars++;
    }
    if (stars > 0 && spans.length !== 2) throw badHeader('Contact', 'Contact "*" must be the only Contact value');
    this.contactList = stars > 0 ? '*' : this.parseValues(spans, parseContact);
    return this.contactList;
  }

  /** The Expires header (RFC 3261 §20.19), undefined when absent. */
  expires(): number | undefined {
    const i = this.singleField(HEADER_ID.expires, 'Expires');
    if (i < 0) return undefined;
    const row = i * F_STRIDE;
    return parseDeltaSeconds(this.text, this.index[row + F_VALUE_START]!, this.index[row + F_VALUE_END]!, 'Expires');
  }

  private nameAddrs(id: number, header: string): readonly NameAddr[] {
    this.routeLists ??= new Map();
    let list = this.routeLists.get(id);
    if (list === undefined) {
      list = this.parseValues(this.valueSpans(id), (s, start, end) => parseNameAddr(s, start, end, header, true));
      this.routeLists.set(id, list);
    }
    return list;
  }

  routes(): readonly NameAddr[] {
    return this.nameAddrs(HEADER_ID.route, 'Route');
  }

  recordRoutes(): readonly NameAddr[] {
    return this.nameAddrs(HEADER_ID.recordRoute, 'Record-Route');
  }

  /** Path (RFC 3327). */
  paths(): readonly NameAddr[] {
    return this.nameAddrs(HEADER_ID.path, 'Path');
  }

  /** Service-Route (RFC 3608). */
  serviceRoutes(): readonly NameAddr[] {
    return this.nameAddrs(HEADER_ID.serviceRoute, 'Service-Route');
  }

  /** The option tags of Require, Proxy-Require, Supported or Unsupported (RFC 3261 §19.2); empty list items are skipped. */
  optionTags(name: OptionTagHeader): string[] {
    const out: string[] = [];
    for (const v of this.values(name)) {
      if (v.text === '') continue;
      if (!isAll(v.text, TOKEN)) throw badHeader(DISPLAY_NAMES[name], `Invalid option tag in ${DISPLAY_NAMES[name]}`);
      out.push(v.text);
    }
    return out;
  }

  /** One challenge per WWW-Authenticate / Proxy-Authenticate field. */
  challenges(name: 'www-authenticate' | 'proxy-authenticate'): AuthHeader[] {
    return this.fields(name).map((f) => parseAuth(this.text, f.valueStart, f.valueEnd, DISPLAY_NAMES[name]));
  }

  /** One set of credentials per Authorization / Proxy-Authorization field. */
  credentials(name: 'authorization' | 'proxy-authorization'): AuthHeader[] {
    return this.fields(name).map((f) => parseAuth(this.text, f.valueStart, f.valueEnd, DISPLAY_NAMES[name]));
  }

  /** A new editor over this message; the message itself never changes. */
  edit(): MessageEditor {
    return new MessageEditor(this);
  }
}
