// Character classes of the RFC 3261 §25.1 grammar, and the lexical scanners every header parser
// shares. Everything works on strings decoded as latin1, where one code unit is one octet, so an
// index into the string is an offset into the message bytes.
//
// Inside a header field a CR or LF can only be part of a fold (the parser rejects any other), so
// the scanners treat CR and LF as whitespace: LWS = [*WSP CRLF] 1*WSP (RFC 3261 §25.1).

export const TOKEN = 1 << 0; // token: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"
export const WS = 1 << 1; // SP / HTAB / CR / LF
export const DIGIT = 1 << 2;
export const ALPHA = 1 << 3;
export const HEX = 1 << 4;
export const SCHEME = 1 << 5; // ALPHA / DIGIT / "+" / "-" / "."
export const UNRESERVED = 1 << 6; // alphanum / mark
export const USER = 1 << 7; // unreserved / user-unreserved ("&" / "=" / "+" / "$" / "," / ";" / "?" / "/")
export const PASSWORD = 1 << 8; // unreserved / "&" / "=" / "+" / "$" / ","
export const PARAMCHAR = 1 << 9; // unreserved / param-unreserved ("[" / "]" / "/" / ":" / "&" / "+" / "$")
export const HNV = 1 << 10; // unreserved / hnv-unreserved ("[" / "]" / "/" / "?" / ":" / "+" / "$")
export const URIC = 1 << 11; // reserved / unreserved / "%" / "[" / "]": any octet of an absoluteURI or SIP-URI
export const HOST = 1 << 12; // alphanum / "-" / "." : hostname octets
export const GENVALUE = 1 << 13; // token / ":" / "[" / "]" : gen-value that is a token or a host
export const VISIBLE = 1 << 14; // %x21-7E and every octet >= 0x80 (UTF8-NONASCII arrives as latin1)

const TABLE = new Uint32Array(256);

function add(chars: string, mask: number): void {
  for (let i = 0; i < chars.length; i++) TABLE[chars.charCodeAt(i)]! |= mask;
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGITS = '0123456789';
const ALNUM = LOWER + UPPER + DIGITS;
const MARK = "-_.!~*'()";

add(ALNUM + "-.!%*_+`'~", TOKEN);
add(' \t\r\n', WS);
add(DIGITS, DIGIT);
add(LOWER + UPPER, ALPHA);
add(DIGITS + 'abcdefABCDEF', HEX);
add(ALNUM + '+-.', SCHEME);
add(ALNUM + MARK, UNRESERVED);
add(ALNUM + MARK + '&=+$,;?/', USER);
add(ALNUM + MARK + '&=+$,', PASSWORD);
add(ALNUM + MARK + '[]/:&+$', PARAMCHAR);
add(ALNUM + MARK + '[]/?:+$', HNV);
add(ALNUM + MARK + ';/?:@&=+$,%[]', URIC);
add(ALNUM + '-.', HOST);
add(ALNUM + "-.!%*_+`'~:[]", GENVALUE);
for (let c = 0x21; c < 0x100; c++) if (c !== 0x7f) TABLE[c]! |= VISIBLE;

/** The classes of code unit c (0 for anything outside latin1, and for NaN past the end of a string). */
export function cc(c: number): number {
  return c < 256 ? TABLE[c]! : 0;
}

export function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

export function skipWs(s: string, i: number, end: number): number {
  while (i < end && isWs(s.charCodeAt(i))) i++;
  return i;
}

/** The index just past the last non-whitespace code unit of [start, end). */
export function trimEnd(s: string, start: number, end: number): number {
  while (end > start && isWs(s.charCodeAt(end - 1))) end--;
  return end;
}

/** The end of the run of code units of class `mask` starting at i. */
export function scan(s: string, i: number, end: number, mask: number): number {
  while (i < end && (cc(s.charCodeAt(i)) & mask) !== 0) i++;
  return i;
}

/**
 * The index just past the closing quote of the quoted-string that opens at i, or -1 when it is not
 * terminated within [i, end) or holds a control octet outside a quoted-pair (RFC 3261 §25.1:
 * qdtext = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII; quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)).
 */
export function scanQuoted(s: string, i: number, end: number): number {
  for (i++; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c === 0x5c) {
      const n = s.charCodeAt(++i);
      if (i >= end || n === 0x0a || n === 0x0d || n > 0x7f) return -1;
    } else if (c < 0x20 ? c !== 0x09 && c !== 0x0d && c !== 0x0a : c === 0x7f) {
      return -1;
    }
  }
  return -1;
}

/** The content of a quoted-string (with or without its quotes) with quoted-pairs resolved and folds made one SP. */
export function unquote(q: string): string {
  let s = q.length >= 2 && q.charCodeAt(0) === 0x22 && q.charCodeAt(q.length - 1) === 0x22 ? q.slice(1, -1) : q;
  s = unfold(s);
  return s.includes('\\') ? s.replace(/\\([\s\S])/g, '$1') : s;
}

/** Replaces each fold (CRLF and the whitespace around it) by one SP, as RFC 3261 §7.3.1 allows. */
export function unfold(s: string): string {
  return s.includes('\r') ? s.replace(/[ \t]*\r\n[ \t]*/g, ' ') : s;
}

/** Case-insensitive equality of s[start, end) with `lower`, which must be lower-case ASCII. */
export function equalsLower(s: string, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = s.charCodeAt(start + i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Decimal value of the digits s[start, end), or -1 if it exceeds `max` (the caller checked they are digits). */
export function decimal(s: string, start: number, end: number, max: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    n = n * 10 + (s.charCodeAt(i) - 0x30);
    if (n > max) return -1;
  }
  return n;
}

/** True when every code unit of s is of class `mask` (and s is not empty). */
export function isAll(s: string, mask: number): boolean {
  return s.length > 0 && scan(s, 0, s.length, mask) === s.length;
}
