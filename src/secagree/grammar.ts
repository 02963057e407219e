// RFC 3329 §2.2 grammar of Security-Client, Security-Server and Security-Verify:
//
//   security-client  = "Security-Client" HCOLON sec-mechanism *(COMMA sec-mechanism)
//   sec-mechanism    = mechanism-name *(SEMI mech-parameters)
//   mechanism-name   = ( "digest" / "tls" / "ipsec-ike" / "ipsec-man" / token )
//   mech-parameters  = ( preference / digest-algorithm / digest-qop / digest-verify / extension )
//   preference       = "q" EQUAL qvalue
//   qvalue           = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
//   extension        = generic-param        ; RFC 3261: token [ EQUAL gen-value ]
//   gen-value        = token / host / quoted-string
//
// Every parameter is kept in order (TS 33.203 Annex H's ipsec-3gpp parameters are extensions
// here); only q is interpreted, because its syntax is fixed by RFC 3329 itself.

import { SecAgreeError } from './errors.js';
import { isWhitespace, scanQuotedString, scanToken, skipWhitespace } from './lexical.js';

export interface SecParam {
  /** As written. */
  name: string;
  /** As written (a quoted-string keeps its quotes); null for a parameter without "=". */
  value: string | null;
}

/**
 * One sec-mechanism. Its parameters are kept as offsets into the header value, four numbers each
 * (name start, name end, value start, value end; value start -1 without "="): reading an offer
 * (toIpsecOffer) then needs no string per parameter, and `params` builds them when asked.
 */
export class SecMechanism {
  #params: SecParam[] | undefined;

  constructor(
    /** As written; compare case-insensitively. */
    readonly name: string,
    /** The header value the mechanism was read from. */
    readonly source: string,
    /** [nameStart, nameEnd, valueStart, valueEnd] per parameter, in order, into `source`. */
    readonly spans: readonly number[],
    /** The q preference (0..1), when present. */
    readonly q: number | undefined,
    private readonly start: number,
    private readonly end: number,
  ) {}

  /** The parameters, in order. */
  get params(): readonly SecParam[] {
    if (this.#params !== undefined) return this.#params;
    const out: SecParam[] = [];
    const x = this.spans;
    for (let k = 0; k < x.length; k += 4) {
      out.push({ name: this.source.slice(x[k]!, x[k + 1]!), value: x[k + 2]! < 0 ? null : this.source.slice(x[k + 2]!, x[k + 3]!) });
    }
    this.#params = out;
    return out;
  }

  /** The mechanism's text in the header value, from its name to the end of its last parameter. */
  get raw(): string {
    return this.source.slice(this.start, this.end);
  }
}

/**
 * Parses the field values of every Security-Client (or -Server, -Verify) header line of one
 * message, in order, into one list of mechanisms. No header line at all gives an empty list.
 * Throws {@link SecAgreeError} (status 400) on anything the grammar does not allow.
 */
export function parseSecurityHeader(values: readonly string[]): SecMechanism[] {
  const out: SecMechanism[] = [];
  for (let line = 0; line < values.length; line++) parseLine(values[line]!, line, out);
  return out;
}

// The offsets of one mechanism are gathered in scratch space (parsing is synchronous) and copied
// once, with one native slice, instead of growing an array parameter by parameter.
const scratch: number[] = [];

function parseLine(v: string, line: number, out: SecMechanism[]): void {
  const length = v.length;
  let pos = skipWhitespace(v, 0);
  if (pos === length) throw syntax('empty header value: at least one sec-mechanism is required', line, pos);
  for (;;) {
    const start = pos;
    pos = scanToken(v, pos);
    if (pos === start) throw syntax(`expected a mechanism name, found ${describe(v, pos)}`, line, pos);
    const name = v.slice(start, pos);
    let end = pos;
    let n = 0;
    let q: number | undefined;
    // The character at pos is read once per step: most separators come without whitespace.
    let c = v.charCodeAt(pos);
    if (isWhitespace(c)) c = v.charCodeAt((pos = skipWhitespace(v, pos)));
    while (c === 0x3b /* ; */) {
      pos++;
      if (isWhitespace(v.charCodeAt(pos))) pos = skipWhitespace(v, pos);
      const nameStart = pos;
      pos = scanToken(v, pos);
      if (pos === nameStart) throw syntax(`expected a parameter name, found ${describe(v, pos)}`, line, pos);
      const nameEnd = pos;
      let valueStart = -1;
      end = pos;
      c = v.charCodeAt(pos);
      if (isWhitespace(c)) c = v.charCodeAt((pos = skipWhitespace(v, pos)));
      if (c === 0x3d /* = */) {
        valueStart = pos + 1;
        if (isWhitespace(v.charCodeAt(valueStart))) valueStart = skipWhitespace(v, valueStart);
        end = scanGenValue(v, valueStart, line);
        pos = end;
        c = v.charCodeAt(pos);
        if (isWhitespace(c)) c = v.charCodeAt((pos = skipWhitespace(v, pos)));
      }
      if (nameEnd - nameStart === 1 && (v.charCodeAt(nameStart) | 0x20) === 0x71 /* q */) {
        if (q !== undefined) throw new SecAgreeError('SECAGREE_BAD_QVALUE', `mechanism ${name} has more than one q parameter`, line, nameStart);
        q = parseQValue(valueStart < 0 ? null : v.slice(valueStart, end), line, nameStart);
      }
      scratch[n] = nameStart;
      scratch[n + 1] = nameEnd;
      scratch[n + 2] = valueStart;
      scratch[n + 3] = end;
      n += 4;
    }
    out.push(new SecMechanism(name, v, scratch.slice(0, n), q, start, end));
    if (pos === length) return;
    if (c !== 0x2c /* , */) throw syntax(`expected ";" or "," after ${name}, found ${describe(v, pos)}`, line, pos);
    pos = skipWhitespace(v, pos + 1);
    if (pos === length) throw syntax('a "," must be followed by another sec-mechanism', line, pos);
  }
}

// gen-value = token / host / quoted-string; a host is a token unless it is an IPv6reference.
function scanGenValue(v: string, pos: number, line: number): number {
  const c = v.charCodeAt(pos);
  if (c === 0x22 /* " */) {
    const end = scanQuotedString(v, pos);
    if (end < 0) throw syntax('unterminated quoted-string', line, pos);
    return end;
  }
  if (c === 0x5b /* [ */) {
    let i = pos + 1;
    while (i < v.length && isIpv6Char(v.charCodeAt(i))) i++;
    if (i === pos + 1 || v.charCodeAt(i) !== 0x5d /* ] */) throw syntax('malformed IPv6 reference', line, pos);
    return i + 1;
  }
  const end = scanToken(v, pos);
  if (end === pos) throw syntax(`expected a parameter value after "=", found ${describe(v, pos)}`, line, pos);
  return end;
}

function isIpv6Char(c: number): boolean {
  return (c >= 0x30 && c <= 0x3a) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66) || c === 0x2e;
}

/** RFC 3329 qvalue: "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")]. */
function parseQValue(value: string | null, line: number, offset: number): number {
  if (value !== null && isQValue(value)) return Number(value);
  throw new SecAgreeError('SECAGREE_BAD_QVALUE', `q=${value ?? ''} is not a qvalue (0 to 1, at most 3 decimals)`, line, offset);
}

export function isQValue(s: string): boolean {
  const lead = s.charCodeAt(0);
  if (s.length === 0 || (lead !== 0x30 && lead !== 0x31)) return false;
  if (s.length === 1) return true;
  if (s.charCodeAt(1) !== 0x2e || s.length > 5) return false;
  for (let i = 2; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (lead === 0x31 ? c !== 0x30 : c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function syntax(message: string, line: number, offset: number): SecAgreeError {
  return new SecAgreeError('SECAGREE_BAD_SYNTAX', message, line, offset);
}

function describe(v: string, pos: number): string {
  if (pos >= v.length) return 'the end of the value';
  const c = v.charCodeAt(pos);
  return c > 0x20 && c < 0x7f ? `"${v[pos]}"` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}
