// Contact values (RFC 3261 §20.10) with the parameters a registrar and a P-CSCF read: expires,
// q (§20.10), +sip.instance and reg-id (RFC 5626 §4.1, TS 24.229 §5.1.1.2).

import { DIGIT, decimal, equalsLower, isAll, unquote } from './chars.js';
import { badHeader } from './errors.js';
import { type NameAddr, parseNameAddr } from './name-addr.js';
import { parseDeltaSeconds } from './scalar.js';

export interface Contact extends NameAddr {
  expires?: number;
  q?: number;
  /** The +sip.instance value without its quotes and angle brackets: "urn:gsma:imei:...". */
  instance?: string;
  regId?: number;
}

const HEADER = 'Contact';
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/** Parses one contact-param s[start, end) (the "*" form is handled by the caller). */
export function parseContact(s: string, start: number, end: number): Contact {
  const { displayName, uri, params, tag, raw } = parseNameAddr(s, start, end, HEADER);
  let expires: number | undefined;
  let q: number | undefined;
  let instance: string | undefined;
  let regId: number | undefined;
  for (const { name, value } of params) {
    if (equalsLower(name, 0, name.length, 'expires')) {
      if (value === null) throw badHeader(HEADER, 'Invalid Contact expires');
      expires = parseDeltaSeconds(value, 0, value.length, HEADER);
    } else if (equalsLower(name, 0, name.length, 'q')) {
      if (value === null || !QVALUE.test(value)) throw badHeader(HEADER, 'Invalid Contact q');
      q = Number(value);
    } else if (equalsLower(name, 0, name.length, '+sip.instance')) {
      if (value === null) throw badHeader(HEADER, 'Invalid Contact +sip.instance');
      const urn = unquote(value);
      instance = urn.startsWith('<') && urn.endsWith('>') ? urn.slice(1, -1) : urn;
    } else if (equalsLower(name, 0, name.length, 'reg-id')) {
      // reg-id = 1*DIGIT with a value from 1 to 2^31-1 (RFC 5626 §4.1)
      const n = value !== null && isAll(value, DIGIT) ? decimal(value, 0, value.length, 0x7fffffff) : -1;
      if (n < 1) throw badHeader(HEADER, 'Invalid Contact reg-id');
      regId = n;
    }
  }
  return { displayName, uri, params, tag, raw, expires, q, instance, regId };
}
