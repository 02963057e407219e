// WWW-Authenticate / Proxy-Authenticate challenges and Authorization / Proxy-Authorization
// credentials (RFC 3261 §20.7, §20.27, §20.28, §20.44, §25.1):
//   challenge   = auth-scheme LWS auth-param *(COMMA auth-param)
//   credentials = auth-scheme LWS auth-param *(COMMA auth-param)   (digest-response is of that shape)
//   auth-param  = auth-param-name EQUAL ( token / quoted-string )
// Each parameter keeps the offsets of its text, so that one can be removed (ck and ik from a 401,
// TS 33.203 §7.1 / TS 24.229 §5.2.2) while every other octet of the field stays as it was.

import { TOKEN, equalsLower, scan, scanQuoted, skipWs, unfold, unquote } from './chars.js';
import { badHeader } from './errors.js';

export interface AuthParam {
  name: string;
  /** The value; a quoted-string loses its quotes and has its quoted-pairs resolved. */
  value: string;
  quoted: boolean;
  /** [start, end) of "name=value" in the text that was parsed (the message, for a message's header). */
  start: number;
  end: number;
}

export interface AuthHeader {
  scheme: string;
  params: AuthParam[];
  /** The whole value as written, folds made one SP. */
  raw: string;
}

/** Parses one challenge or credentials value s[start, end). */
export function parseAuth(s: string, start: number, end: number, header: string): AuthHeader {
  const schemeStart = skipWs(s, start, end);
  const schemeEnd = scan(s, schemeStart, end, TOKEN);
  if (schemeEnd === schemeStart) throw badHeader(header, `Invalid ${header} scheme`);
  const auth: AuthHeader = { scheme: s.slice(schemeStart, schemeEnd), params: [], raw: unfold(s.slice(start, end)) };
  let i = skipWs(s, schemeEnd, end);
  if (i === end) return auth;
  if (i === schemeEnd) throw badHeader(header);
  for (;;) {
    const nameEnd = scan(s, i, end, TOKEN);
    const eq = skipWs(s, nameEnd, end);
    if (nameEnd === i || s.charCodeAt(eq) !== 0x3d || eq >= end) throw badHeader(header, `Invalid ${header} parameter`);
    const valueStart = skipWs(s, eq + 1, end);
    const quoted = s.charCodeAt(valueStart) === 0x22;
    const valueEnd = quoted ? scanQuoted(s, valueStart, end) : scan(s, valueStart, end, TOKEN);
    if (valueEnd <= valueStart) throw badHeader(header, `Invalid ${header} parameter`);
    const raw = s.slice(valueStart, valueEnd);
    auth.params.push({ name: s.slice(i, nameEnd), value: quoted ? unquote(raw) : raw, quoted, start: i, end: valueEnd });
    i = skipWs(s, valueEnd, end);
    if (i === end) return auth;
    if (s.charCodeAt(i) !== 0x2c) throw badHeader(header, `Invalid ${header} parameter`);
    i = skipWs(s, i + 1, end);
  }
}

/** The parameter `name` (case-insensitive) of an auth header, if present. */
export function authParam(auth: AuthHeader, name: string): AuthParam | undefined {
  const lower = name.toLowerCase();
  return auth.params.find((p) => equalsLower(p.name, 0, p.name.length, lower));
}
