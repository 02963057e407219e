// Header fields holding one number or one word: CSeq, Max-Forwards, Content-Length, Expires
// (and the Contact expires parameter), Call-ID.

import { DIGIT, TOKEN, VISIBLE, decimal, scan, skipWs } from './chars.js';
import { badHeader } from './errors.js';

const U32_MAX = 0xffffffff;

/** CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16); the number must fit 32 bits unsigned (§8.1.1.5). */
export function parseCSeq(s: string, start: number, end: number): { seq: number; method: string } {
  const digitsEnd = scan(s, start, end, DIGIT);
  const methodStart = skipWs(s, digitsEnd, end);
  const methodEnd = scan(s, methodStart, end, TOKEN);
  if (digitsEnd === start || methodStart === digitsEnd || methodEnd === methodStart || methodEnd !== end) {
    throw badHeader('CSeq');
  }
  const seq = decimal(s, start, digitsEnd, U32_MAX);
  if (seq < 0) throw badHeader('CSeq', 'CSeq number too large');
  return { seq, method: s.slice(methodStart, methodEnd) };
}

/** Max-Forwards = 1*DIGIT, 0 to 255 (RFC 3261 §20.22). */
export function parseMaxForwards(s: string, start: number, end: number): number {
  const n = scan(s, start, end, DIGIT) === end && end > start ? decimal(s, start, end, 255) : -1;
  if (n < 0) throw badHeader('Max-Forwards');
  return n;
}

/** Content-Length = 1*DIGIT (RFC 3261 §20.14); -1 when it is not a number below 2^32. */
export function parseContentLength(s: string, start: number, end: number): number {
  return scan(s, start, end, DIGIT) === end && end > start ? decimal(s, start, end, U32_MAX) : -1;
}

/**
 * delta-seconds = 1*DIGIT (Expires, RFC 3261 §20.19, and the Contact expires parameter, §20.10).
 * A value above 2^32-1 is out of the range the RFC allows but not malformed: it is read as 2^32-1,
 * the longest time a SIP element can express.
 */
export function parseDeltaSeconds(s: string, start: number, end: number, header: string): number {
  if (end === start || scan(s, start, end, DIGIT) !== end) throw badHeader(header, `Invalid ${header} value`);
  const n = decimal(s, start, end, U32_MAX);
  return n < 0 ? U32_MAX : n;
}

/**
 * Call-ID = word [ "@" word ] (RFC 3261 §20.8). Checked only for being one run of visible octets:
 * UEs in the field put octets outside `word` (such as "=") in Call-IDs, and a proxy only ever
 * compares and copies the value.
 */
export function isCallId(s: string, start: number, end: number): boolean {
  return end > start && scan(s, start, end, VISIBLE) === end;
}
