// The Security-Server value the P-CSCF adds to the 401 (spec/kamailio-behaviour.md §5.3): one
// ipsec-3gpp mechanism with the P-CSCF's SPIs and protected ports, and the algorithms the UE
// offered, spelled as the UE spelled them. SPIs are printed unsigned (Kamailio prints them signed,
// which turns SPIs above 2^31 negative).

import { SecAgreeError } from './errors.js';
import { scanToken } from './lexical.js';

export interface SecurityServerParams {
  spiPc: number;
  spiPs: number;
  portPc: number;
  portPs: number;
  /** The chosen offer's algText. */
  alg: string;
  /** The chosen offer's ealgText; "" is written as null (an offer without ealg, TS 33.203 Annex H). */
  ealg: string;
}

/** Throws {@link SecAgreeError} SECAGREE_BAD_BUILD_INPUT when a field would not make a valid header. */
export function buildSecurityServer(p: SecurityServerParams): string {
  checkRange('spiPc', p.spiPc, 1, 0xffffffff);
  checkRange('spiPs', p.spiPs, 1, 0xffffffff);
  checkRange('portPc', p.portPc, 1, 65535);
  checkRange('portPs', p.portPs, 1, 65535);
  const ealg = p.ealg === '' ? 'null' : p.ealg;
  checkToken('alg', p.alg);
  checkToken('ealg', ealg);
  return `ipsec-3gpp;q=0.1;prot=esp;mod=trans;spi-c=${p.spiPc};spi-s=${p.spiPs};port-c=${p.portPc};port-s=${p.portPs};alg=${p.alg};ealg=${ealg}`;
}

function checkRange(field: string, n: number, min: number, max: number): void {
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new SecAgreeError('SECAGREE_BAD_BUILD_INPUT', `Security-Server ${field}=${String(n)} is not an integer in ${min}..${max}`, -1, -1, 500);
  }
}

// The algorithm names go into a header: anything but a token could inject text into the 401.
function checkToken(field: string, s: string): void {
  if (s.length === 0 || scanToken(s, 0) !== s.length) {
    throw new SecAgreeError('SECAGREE_BAD_BUILD_INPUT', `Security-Server ${field}=${JSON.stringify(s)} is not a token`, -1, -1, 500);
  }
}
