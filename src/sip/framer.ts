// StreamFramer: cuts a TCP/TLS byte stream into SIP messages by Content-Length (RFC 3261 §18.3).
// It runs on the main I/O thread, so it only finds the end of the header section and the
// Content-Length value; parseMessage (in a worker) validates the rest. CRLFs between messages are
// skipped (RFC 3261 §7.5); a CRLFCRLF there is the RFC 5626 §3.5.1 keep-alive ping.

import { SipError } from './errors.js';
import { type SipLimits, DEFAULT_SIP_LIMITS } from './limits.js';

/**
 * What a push completed. An `error` frame is always the last one: the stream cannot be framed past
 * it, but the messages completed before it in the same read are still delivered.
 */
export type Framed = { kind: 'message'; bytes: Buffer } | { kind: 'keepalive' } | { kind: 'error'; error: SipError };

const CR = 0x0d;
const LF = 0x0a;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const KEEPALIVE: Framed = Object.freeze({ kind: 'keepalive' });
const CONTENT_LENGTH = 'content-length';

function tooLarge(): SipError {
  return new SipError('SIP_TOO_LARGE', 513, 'Message Too Large');
}

export class StreamFramer {
  private readonly max: number;
  /** Unconsumed octets are buf[0, length). */
  private buf: Buffer = Buffer.alloc(0);
  private length = 0;
  /** Offset from which the search for the end of the header section resumes. */
  private scanFrom = 0;
  /** Size of the message whose header section was read, 0 while it is not known. */
  private needed = 0;
  /** CRLFs seen between messages since the last message or keep-alive. */
  private crlfs = 0;
  private failure: Framed | undefined;

  constructor(limits: SipLimits = DEFAULT_SIP_LIMITS) {
    this.max = limits.maxStreamMessageBytes;
  }

  /**
   * Feeds octets read from the connection; returns the messages and keep-alives completed, then an
   * error frame when the stream cannot be framed (no or bad Content-Length, message too large): the
   * connection is then unusable, and every later call returns the same error frame alone.
   */
  push(chunk: Buffer): Framed[] {
    if (this.failure !== undefined) return [this.failure];
    const out: Framed[] = [];
    try {
      if (this.length === 0) {
        // Nothing buffered: frame straight from the chunk and keep only what remains.
        const used = this.frame(chunk, chunk.length, out);
        this.keep(chunk, used, chunk.length);
      } else {
        this.append(chunk);
        const used = this.frame(this.buf, this.length, out);
        this.keep(this.buf, used, this.length);
      }
    } catch (e) {
      this.failure = { kind: 'error', error: e instanceof SipError ? e : new SipError('SIP_BAD_HEADER', 400, 'Unframeable Stream') };
      out.push(this.failure);
    }
    return out;
  }

  private append(chunk: Buffer): void {
    if (this.length + chunk.length > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + chunk.length, 4096));
      this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    }
    chunk.copy(this.buf, this.length);
    this.length += chunk.length;
  }

  /** Keeps data[from, end) as the unconsumed octets (offsets of the pending search shift with it). */
  private keep(data: Buffer, from: number, end: number): void {
    const rest = end - from;
    if (rest === 0) {
      this.length = 0;
      this.scanFrom = 0;
      if (this.buf.length > 65536) this.buf = Buffer.alloc(0);
      return;
    }
    if (data === this.buf) {
      if (from > 0) this.buf.copy(this.buf, 0, from, end);
    } else {
      if (this.buf.length < rest) this.buf = Buffer.allocUnsafe(Math.max(rest * 2, 4096));
      data.copy(this.buf, 0, from, end);
    }
    this.length = rest;
    this.scanFrom = Math.max(0, this.scanFrom - from);
  }

  /** Frames the messages of data[0, end); returns how many octets were consumed. */
  private frame(data: Buffer, end: number, out: Framed[]): number {
    let off = 0;
    for (;;) {
      if (this.needed === 0) {
        // Between messages: skip CRLFs, two in a row are a keep-alive ping.
        while (off < end && data[off] === CR) {
          if (off + 1 >= end) return off;
          if (data[off + 1] !== LF) break;
          off += 2;
          if (++this.crlfs === 2) {
            out.push(KEEPALIVE);
            this.crlfs = 0;
          }
        }
        if (off === end) return off;
        this.crlfs = 0;
        const view = data.subarray(0, end);
        const blank = view.indexOf(CRLFCRLF, Math.max(off, this.scanFrom));
        if (blank < 0) {
          if (end - off > this.max) throw tooLarge();
          this.scanFrom = Math.max(off, end - 3);
          return off;
        }
        const headerEnd = blank + 4;
        if (headerEnd - off > this.max) throw tooLarge();
        const length = contentLength(data, off, blank + 2, this.max);
        if (headerEnd - off + length > this.max) throw tooLarge();
        this.needed = headerEnd - off + length;
        this.scanFrom = 0;
      }
      if (end - off < this.needed) return off;
      out.push({ kind: 'message', bytes: Buffer.from(data.subarray(off, off + this.needed)) });
      off += this.needed;
      this.needed = 0;
    }
  }
}

/**
 * The Content-Length of the header section data[start, end) (its last CRLF included): the value of
 * the one "Content-Length" or "l" field, which may be folded. A stream message must have one.
 */
function contentLength(data: Buffer, start: number, end: number, max: number): number {
  let value = -1;
  // The section ends with CRLF, so every LF searched from inside it is found inside it.
  for (let pos = data.indexOf(LF, start) + 1; pos < end;) {
    let fieldEnd = data.indexOf(LF, pos);
    while (fieldEnd + 1 < end && isSpace(data[fieldEnd + 1])) fieldEnd = data.indexOf(LF, fieldEnd + 1);
    let i = pos;
    while (i < fieldEnd && isNameOctet(data[i]!)) i++;
    const nameEnd = i;
    while (data[i] === 0x20 || data[i] === 0x09) i++;
    if (data[i] === 0x3a && isContentLengthName(data, pos, nameEnd)) {
      if (value >= 0) throw new SipError('SIP_BAD_CONTENT_LENGTH', 400, 'Duplicate Content-Length', 'Content-Length');
      value = digits(data, i + 1, fieldEnd, max);
    }
    pos = fieldEnd + 1;
  }
  if (value < 0) throw new SipError('SIP_MISSING_HEADER', 400, 'Missing Content-Length', 'Content-Length');
  return value;
}

/** The number written in data[i, end), whitespace (folds included) around it. */
function digits(data: Buffer, i: number, end: number, max: number): number {
  while (i < end && isWhite(data[i])) i++;
  const first = i;
  let n = 0;
  for (let c = data[i]!; i < end && c >= 0x30 && c <= 0x39; c = data[++i]!) {
    n = n * 10 + (c - 0x30);
    if (n > max) throw tooLarge();
  }
  const last = i;
  while (i < end && isWhite(data[i])) i++;
  if (last === first || i !== end) throw new SipError('SIP_BAD_CONTENT_LENGTH', 400, 'Invalid Content-Length', 'Content-Length');
  return n;
}

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09;
}

function isWhite(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === CR || c === LF;
}

function isNameOctet(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== 0x3a;
}

function isContentLengthName(data: Buffer, start: number, end: number): boolean {
  if (end - start === 1) return (data[start]! | 0x20) === 0x6c; // "l", RFC 3261 §7.3.3
  if (end - start !== CONTENT_LENGTH.length) return false;
  for (let i = 0; i < CONTENT_LENGTH.length; i++) {
    if ((data[start + i]! | 0x20) !== CONTENT_LENGTH.charCodeAt(i)) return false;
  }
  return true;
}
