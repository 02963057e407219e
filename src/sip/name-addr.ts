// ( name-addr / addr-spec ) *( SEMI param ) as in From, To, Contact, Route, Record-Route, Path,
// Service-Route, P-Associated-URI (RFC 3261 §20.10, §25.1):
//   name-addr    = [ display-name ] LAQUOT addr-spec RAQUOT
//   display-name = *(token LWS) / quoted-string
// LAQUOT = SWS "<" and RAQUOT = ">" SWS: no whitespace inside the brackets (RFC 4475 badaspec).

import { TOKEN, URIC, cc, isWs, scan, scanQuoted, skipWs, unfold, unquote } from './chars.js';
import { badHeader } from './errors.js';
import { type Param, getParam, parseParams } from './params.js';
import { isAbsoluteUri } from './uri.js';

export interface NameAddr {
  /** Without its quotes, quoted-pairs resolved; a display name of tokens as written. */
  displayName?: string;
  /** The addr-spec as written, without the angle brackets; parse it with parseUri. */
  uri: string;
  params: Param[];
  tag?: string;
  /** The whole value as written, folds made one SP. */
  raw: string;
}

/**
 * Parses s[start, end) as one name-addr or addr-spec with its parameters. Where the grammar wants a
 * name-addr only (Route, Record-Route, Path, Service-Route), pass `bracketsRequired`. Without
 * brackets the URI ends at the first ";" (which starts a header parameter), and a "?" or ","
 * in it is an error (RFC 3261 §20: such URIs MUST be enclosed in "<" and ">"; RFC 4475 regbadct).
 */
export function parseNameAddr(s: string, start: number, end: number, header: string, bracketsRequired = false): NameAddr {
  let i = skipWs(s, start, end);
  let displayName: string | undefined;
  const c = s.charCodeAt(i);
  if (c === 0x22) {
    const q = scanQuoted(s, i, end);
    if (q < 0) throw badHeader(header, `Unterminated quoted string in ${header}`);
    displayName = unquote(s.slice(i, q));
    i = skipWs(s, q, end);
    if (s.charCodeAt(i) !== 0x3c) throw badHeader(header);
  } else if (c !== 0x3c) {
    let j = i;
    let tokensEnd = -1;
    for (;;) {
      const t = scan(s, j, end, TOKEN);
      if (t === j) break;
      tokensEnd = t;
      j = skipWs(s, t, end);
      if (j === t) break;
    }
    if (tokensEnd >= 0 && s.charCodeAt(j) === 0x3c) {
      displayName = unfold(s.slice(i, tokensEnd));
      i = j;
    }
  }

  let uriStart: number;
  let uriEnd: number;
  let after: number;
  if (s.charCodeAt(i) === 0x3c) {
    uriStart = i + 1;
    uriEnd = scan(s, uriStart, end, URIC);
    if (s.charCodeAt(uriEnd) !== 0x3e || uriEnd >= end) throw badHeader(header, `Invalid URI in ${header}`);
    after = uriEnd + 1;
  } else {
    if (bracketsRequired) throw badHeader(header, `${header} URI must be enclosed in <>`);
    uriStart = i;
    uriEnd = i;
    while (uriEnd < end) {
      const d = s.charCodeAt(uriEnd);
      if ((cc(d) & URIC) === 0 || d === 0x3b || d === 0x3f || d === 0x2c) break;
      uriEnd++;
    }
    if (uriEnd < end && s.charCodeAt(uriEnd) !== 0x3b && !isWs(s.charCodeAt(uriEnd))) {
      throw badHeader(header, `${header} URI with "?" or "," must be enclosed in <>`);
    }
    after = uriEnd;
  }
  if (!isAbsoluteUri(s, uriStart, uriEnd)) throw badHeader(header, `Invalid URI in ${header}`);

  const params: Param[] = [];
  if (parseParams(s, after, end, params, header) !== end) throw badHeader(header);
  const na: NameAddr = { uri: s.slice(uriStart, uriEnd), params, raw: unfold(s.slice(start, end)) };
  if (displayName !== undefined) na.displayName = displayName;
  const tag = getParam(params, 'tag');
  if (tag === null) throw badHeader(header, `Invalid ${header} tag`);
  if (tag !== undefined) na.tag = tag;
  return na;
}
