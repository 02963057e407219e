// Character classes and small scanners shared by the Sec-Agree and WWW-Authenticate readers.
// They work on latin1-decoded header values, so one char is one byte of the message.

// RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
const TOKEN_CHARS = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) TOKEN_CHARS[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN_CHARS[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN_CHARS[c] = 1;
for (const ch of "-.!%*_+`'~") TOKEN_CHARS[ch.charCodeAt(0)] = 1;

function isTokenChar(c: number): boolean {
  return c < 256 && TOKEN_CHARS[c] === 1;
}

// LWS in RFC 3261 is [*WSP CRLF] 1*WSP; a value handed over without unfolding may still hold the
// CRLF, so CR and LF count as whitespace here.
export function isWhitespace(c: number): boolean {
  return c <= 0x20 && (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a);
}

export function skipWhitespace(s: string, pos: number): number {
  while (pos < s.length && isWhitespace(s.charCodeAt(pos))) pos++;
  return pos;
}

export function scanToken(s: string, pos: number): number {
  while (pos < s.length && isTokenChar(s.charCodeAt(pos))) pos++;
  return pos;
}

/**
 * RFC 3261 §25.1 quoted-string starting at `pos` (which holds the opening DQUOTE): returns the
 * index just past the closing DQUOTE, or -1 when the string is not terminated. quoted-pair
 * escapes any byte except CR and LF.
 */
export function scanQuotedString(s: string, pos: number): number {
  for (let i = pos + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c === 0x5c) {
      const next = s.charCodeAt(i + 1);
      if (i + 1 >= s.length || next === 0x0d || next === 0x0a) return -1;
      i++;
    }
  }
  return -1;
}

/** Compares `s` with `lower` (already lower case) ignoring ASCII case, without allocating. */
export function equalsIgnoreCase(s: string, lower: string): boolean {
  // UEs write names in lower case: the native comparison settles most calls without a loop here.
  return s === lower || regionEqualsIgnoreCase(s, 0, s.length, lower);
}

/** Compares s[start, end) with `lower` (already lower case) ignoring ASCII case, without allocating. */
export function regionEqualsIgnoreCase(s: string, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = s.charCodeAt(start + i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Unsigned decimal written s[start, end) with 1 to `maxDigits` ASCII digits (leading zeros
 * allowed), or -1. `maxDigits` at most 15 keeps the result exact in a double.
 */
export function parseDecimal(s: string, maxDigits: number, start = 0, end = s.length): number {
  if (end <= start || end - start > maxDigits) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}
