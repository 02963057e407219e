// Contact values (RFC 3261 §20.10) with the parameters a registrar and a P-CSCF read: expires,
// q (§20.10), +sip.instance and reg-id (RFC 5626 §4.1, TS 24.229 §5.1.1.2).

import { DIGIT, decimal, isAll, unquote } from './chars.js';
import { badHeader } from './errors.js';
import { type NameAddr, parseNameAddr } from './name-addr.js';
import { getParam } from './params.js';
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
  const contact: Contact = parseNameAddr(s, start, end, HEADER);
  if (contact.params.length === 0) return contact;

  const expires = getParam(contact.params, 'expires');
  if (expires === null) throw badHeader(HEADER, 'Invalid Contact expires');
  if (expires !== undefined) contact.expires = parseDeltaSeconds(expires, 0, expires.length, HEADER);

  const q = getParam(contact.params, 'q');
  if (q === null || (q !== undefined && !QVALUE.test(q))) throw badHeader(HEADER, 'Invalid Contact q');
  if (q !== undefined) contact.q = Number(q);

  const instance = getParam(contact.params, '+sip.instance');
  if (instance === null) throw badHeader(HEADER, 'Invalid Contact +sip.instance');
  if (instance !== undefined) {
    const urn = unquote(instance);
    contact.instance = urn.startsWith('<') && urn.endsWith('>') ? urn.slice(1, -1) : urn;
  }

  // reg-id = 1*DIGIT with a value from 1 to 2^31-1 (RFC 5626 §4.1)
  const regId = getParam(contact.params, 'reg-id');
  if (regId !== undefined) {
    const n = regId !== null && isAll(regId, DIGIT) ? decimal(regId, 0, regId.length, 0x7fffffff) : -1;
    if (n < 1) throw badHeader(HEADER, 'Invalid Contact reg-id');
    contact.regId = n;
  }
  return contact;
}
