// MessageEditor: collects edits to a parsed message and writes the result once. Every octet no
// edit touches is copied as it was, so what a proxy forwards differs from what it received only
// where it meant to change it. Content-Length always matches the body written.

import { parseAuth } from './auth.js';
import { TOKEN, isAll, trimEnd } from './chars.js';
import { SipError, badArgument } from './errors.js';
import { removalRanges, splitList } from './list.js';
import type { HeaderField, HeaderValue, SipMessage } from './message.js';
import { type Param, parseParams } from './params.js';
import { parseUri } from './uri.js';
import { parseVia } from './via.js';

/** Replace raw[start, end) of the header section with `text` (start === end: insert). */
interface Splice {
  start: number;
  end: number;
  text: string;
  /** Tie-break between inserts at the same offset: lower first. */
  order: number;
}

interface FieldEdit {
  removed: boolean;
  replacement: string | undefined;
  /** Value index -> new text, or null to remove the value. */
  values: Map<number, string | null> | undefined;
  /** Edits inside the value (parameters added, auth-params removed...). */
  splices: Splice[];
}

export interface HeaderPosition {
  before?: HeaderField;
  after?: HeaderField;
  /** Above every other header; of several top insertions, the last one made ends up first. */
  top?: boolean;
}

function conflict(what: string): SipError {
  return new SipError('SIP_EDIT_CONFLICT', 500, what);
}

/** Text going into the header section: one line, octets only (a string of this layer holds one octet per code unit). */
function checkText(text: string, what: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c > 0xff) throw badArgument(`${what} must be one line of octets`);
  }
}

export class MessageEditor {
  private readonly msg: SipMessage;
  private readonly edits = new Map<number, FieldEdit>();
  private readonly inserts: Splice[] = [];
  private sequence = 0;
  private requestUri: string | undefined;
  private body: Buffer | undefined;
  /** undefined: leave Content-Type alone; null: remove it; a string: set it. */
  private contentType: string | null | undefined;

  constructor(msg: SipMessage) {
    this.msg = msg;
  }

  /** The edit record of a field of this message (checks the field belongs to it). */
  private fieldEdit(f: HeaderField): FieldEdit {
    const own = this.msg.fieldAt(f.index);
    if (own.start !== f.start || own.end !== f.end) throw badArgument('Header field of another message');
    let edit = this.edits.get(f.index);
    if (edit === undefined) {
      edit = { removed: false, replacement: undefined, values: undefined, splices: [] };
      this.edits.set(f.index, edit);
    }
    return edit;
  }

  private valueEdit(v: HeaderValue, text: string | null): void {
    const edit = this.fieldEdit(v.field);
    const spans = splitList(this.msg.head, v.field.valueStart, v.field.valueEnd, []);
    if (spans[2 * v.index] !== v.start || spans[2 * v.index + 1] !== v.end) throw badArgument('Header value of another message');
    edit.values ??= new Map();
    if (edit.values.has(v.index)) throw conflict('Header value edited twice');
    edit.values.set(v.index, text);
  }

  removeField(f: HeaderField): void {
    this.fieldEdit(f).removed = true;
  }

  replaceField(f: HeaderField, value: string): void {
    checkText(value, 'Header value');
    const edit = this.fieldEdit(f);
    if (edit.replacement !== undefined) throw conflict('Header field replaced twice');
    edit.replacement = value;
  }

  /** Removes one value of a list header; a field left with no value loses its line. */
  removeValue(v: HeaderValue): void {
    this.valueEdit(v, null);
  }

  replaceValue(v: HeaderValue, text: string): void {
    checkText(text, 'Header value');
    this.valueEdit(v, text);
  }

  /** Adds the text at the end of a field's value, e.g. ', integrity-protected="yes"' to Authorization. */
  appendToField(f: HeaderField, text: string): void {
    checkText(text, 'Header value');
    this.fieldEdit(f).splices.push({ start: f.valueEnd, end: f.valueEnd, text, order: ++this.sequence });
  }

  /** Adds a header line; by default after the last header. */
  addHeader(name: string, value: string, where?: HeaderPosition): void {
    if (!isAll(name, TOKEN)) throw badArgument('Header name must be a token');
    checkText(value, 'Header value');
    const text = `${name}: ${value}\r\n`;
    if (where?.before !== undefined) {
      this.fieldEdit(where.before);
      this.inserts.push({ start: where.before.start, end: where.before.start, text, order: ++this.sequence });
    } else if (where?.after !== undefined) {
      this.fieldEdit(where.after);
      this.inserts.push({ start: where.after.end, end: where.after.end, text, order: ++this.sequence });
    } else if (where?.top === true) {
      const first = this.msg.head.indexOf('\r\n') + 2;
      this.inserts.push({ start: first, end: first, text, order: -++this.sequence });
    } else {
      const last = this.msg.head.length - 2;
      this.inserts.push({ start: last, end: last, text, order: ++this.sequence });
    }
  }

  /** Adds a Via line above the existing ones (RFC 3261 §16.6 step 8); of several, the last one added ends up on top. */
  prependVia(value: string): void {
    checkText(value, 'Via');
    try {
      parseVia(value, 0, value.length);
    } catch {
      throw badArgument('Invalid Via value');
    }
    const top = this.msg.first('via')!;
    this.inserts.push({ start: top.start, end: top.start, text: `Via: ${value}\r\n`, order: -++this.sequence });
  }

  /** Removes the top Via value of the message as received, also when other values share its line (RFC 3261 §16.7 step 3). */
  removeTopVia(): void {
    this.removeValue(this.msg.values('via')[0]!);
  }

  /**
   * Adds parameters to the top Via value of the message as received, e.g. ';received=192.0.2.1;rport=5060'
   * (RFC 3261 §18.2.1, RFC 3581 §4). A parameter the Via already has (such as a valueless rport)
   * is replaced where it stands; the others are appended.
   */
  addViaParams(params: string): void {
    checkText(params, 'Via parameters');
    const added: Param[] = [];
    const addedSpans: number[] = [];
    try {
      if (parseParams(params, 0, params.length, added, 'Via', addedSpans) !== params.length) throw badArgument('Invalid Via parameters');
    } catch {
      throw badArgument('Invalid Via parameters');
    }
    const top = this.msg.values('via')[0]!;
    const existingSpans: number[] = [];
    const existing = parseVia(this.msg.head, top.start, top.end, existingSpans).params;
    const edit = this.fieldEdit(top.field);
    let appended = '';
    for (let k = 0; k < added.length; k++) {
      const text = params.slice(addedSpans[2 * k], addedSpans[2 * k + 1]);
      const name = added[k]!.name.toLowerCase();
      const at = existing.findIndex((p) => p.name.toLowerCase() === name);
      if (at < 0) appended += `;${text}`;
      else edit.splices.push({ start: existingSpans[2 * at]!, end: existingSpans[2 * at + 1]!, text, order: ++this.sequence });
    }
    if (appended !== '') edit.splices.push({ start: top.end, end: top.end, text: appended, order: ++this.sequence });
  }

  /**
   * Removes the auth-params named (case-insensitive) from a WWW-Authenticate, Proxy-Authenticate,
   * Authorization or Proxy-Authorization field, with the comma that separated each, keeping every
   * other octet (used to strip ck and ik from a 401, TS 33.203 §7.1).
   */
  removeAuthParams(f: HeaderField, names: readonly string[]): void {
    const edit = this.fieldEdit(f);
    const auth = parseAuth(this.msg.head, f.valueStart, f.valueEnd, f.name);
    const drop = new Set(names.map((n) => n.toLowerCase()));
    const items: number[] = [];
    const keep: boolean[] = [];
    for (const p of auth.params) {
      items.push(p.start, p.end);
      keep.push(!drop.has(p.name.toLowerCase()));
    }
    if (!keep.includes(false)) return;
    const ranges = keep.includes(true)
      ? removalRanges(items, keep)
      : [trimEnd(this.msg.head, f.valueStart, items[0]!), items[items.length - 1]!];
    for (let k = 0; k < ranges.length; k += 2) {
      edit.splices.push({ start: ranges[k]!, end: ranges[k + 1]!, text: '', order: ++this.sequence });
    }
  }

  /** Max-Forwards minus one, or "Max-Forwards: 70" when absent (RFC 3261 §16.6 step 3). */
  decrementMaxForwards(): void {
    const mf = this.msg.maxForwards();
    if (mf === undefined) this.addHeader('Max-Forwards', '70');
    else if (mf === 0) throw badArgument('Max-Forwards is 0: answer 483 instead of forwarding (RFC 3261 §16.3)');
    else this.replaceField(this.msg.first('max-forwards')!, String(mf - 1));
  }

  setRequestUri(uri: string): void {
    if (!this.msg.isRequest) throw badArgument('A response has no Request-URI');
    checkText(uri, 'Request-URI');
    parseUri(uri);
    this.requestUri = uri;
  }

  /**
   * Replaces the body. With `contentType`, Content-Type is set to it; with an empty body and no
   * type, Content-Type is removed (RFC 3261 §20.15 ties it to a body).
   */
  setBody(body: Buffer, contentType?: string): void {
    if (contentType !== undefined) checkText(contentType, 'Content-Type');
    this.body = body;
    this.contentType = contentType ?? (body.length === 0 ? null : undefined);
  }

  /** Writes the edited message. The editor can be serialized again (after further edits). */
  serialize(): Buffer {
    const msg = this.msg;
    const head = msg.head;
    const splices: Splice[] = [...this.inserts];
    if (this.requestUri !== undefined) {
      const start = msg.method.length + 1;
      splices.push({ start, end: start + msg.requestUri.length, text: this.requestUri, order: 0 });
    }
    this.contentTypeSplices(splices);
    for (const [i, edit] of this.edits) this.fieldSplices(msg.fieldAt(i), edit, splices);

    const body = this.body ?? msg.body;
    const cl = msg.contentLengthField;
    if (cl >= 0 && this.edits.get(cl)?.removed !== true) {
      const edit = this.edits.get(cl);
      if (edit !== undefined && (edit.replacement !== undefined || edit.values !== undefined || edit.splices.length > 0)) {
        throw conflict('Content-Length is kept by the editor');
      }
      if (body.length !== msg.contentLength()) {
        const f = msg.fieldAt(cl);
        splices.push({ start: f.valueStart, end: f.valueEnd, text: String(body.length), order: 0 });
      }
    } else {
      // Absent (a datagram without it) or removed: written last, as a stream transport needs it (RFC 3261 §18.3).
      const last = head.length - 2;
      splices.push({ start: last, end: last, text: `Content-Length: ${body.length}\r\n`, order: Number.MAX_SAFE_INTEGER });
    }

    splices.sort((a, b) => a.start - b.start || (a.end - a.start) - (b.end - b.start) || a.order - b.order);
    let size = head.length + body.length;
    let cursor = 0;
    for (const s of splices) {
      if (s.start < cursor) throw conflict('Edits overlap');
      cursor = Math.max(cursor, s.end);
      size += s.text.length - (s.end - s.start);
    }
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    cursor = 0;
    for (const s of splices) {
      if (s.start > cursor) at += msg.raw.copy(out, at, cursor, s.start);
      if (s.text.length > 0) at += out.write(s.text, at, 'latin1');
      cursor = Math.max(cursor, s.end);
    }
    at += msg.raw.copy(out, at, cursor, head.length);
    body.copy(out, at);
    return out;
  }

  private contentTypeSplices(out: Splice[]): void {
    if (this.contentType === undefined) return;
    const fields = this.msg.fields('content-type');
    const keepFirst = this.contentType !== null;
    for (let k = keepFirst ? 1 : 0; k < fields.length; k++) out.push({ start: fields[k]!.start, end: fields[k]!.end, text: '', order: 0 });
    if (this.contentType === null) return;
    const first = fields[0];
    if (first === undefined) {
      const last = this.msg.head.length - 2;
      out.push({ start: last, end: last, text: `Content-Type: ${this.contentType}\r\n`, order: Number.MAX_SAFE_INTEGER - 1 });
    } else {
      out.push({ start: first.valueStart, end: first.valueEnd, text: this.contentType, order: 0 });
    }
  }

  private fieldSplices(f: HeaderField, edit: FieldEdit, out: Splice[]): void {
    if (edit.removed) {
      out.push({ start: f.start, end: f.end, text: '', order: 0 });
      return;
    }
    if (edit.replacement !== undefined) {
      if (edit.values !== undefined || edit.splices.length > 0) throw conflict('Header field replaced and edited');
      // An empty value gets a separating SP ("Subject:" -> "Subject: text").
      const text = f.valueStart === f.valueEnd && this.msg.head.charCodeAt(f.valueStart - 1) === 0x3a ? ` ${edit.replacement}` : edit.replacement;
      out.push({ start: f.valueStart, end: f.valueEnd, text, order: 0 });
      return;
    }
    if (edit.values !== undefined) {
      const spans = splitList(this.msg.head, f.valueStart, f.valueEnd, []);
      const keep: boolean[] = [];
      for (let k = 0; k < spans.length / 2; k++) {
        const op = edit.values.get(k);
        keep.push(op !== null);
        if (typeof op === 'string') out.push({ start: spans[2 * k]!, end: spans[2 * k + 1]!, text: op, order: 0 });
      }
      if (!keep.includes(true)) {
        if (edit.splices.length > 0) throw conflict('Header value removed and edited');
        out.push({ start: f.start, end: f.end, text: '', order: 0 });
        return;
      }
      const ranges = removalRanges(spans, keep);
      for (let k = 0; k < ranges.length; k += 2) out.push({ start: ranges[k]!, end: ranges[k + 1]!, text: '', order: 0 });
    }
    out.push(...edit.splices);
  }
}
