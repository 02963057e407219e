// One ipsec-3gpp sec-mechanism read as an offer (TS 33.203 Annex H):
//   alg    integrity algorithm, mandatory
//   ealg   encryption algorithm; absent means null (no encryption)
//   prot   ah / esp, absent means esp; IMS uses esp only (TS 33.203 §6.1)
//   mod    trans / tun / UDP-enc-tun, absent means trans; without NAT only trans (Annex M is out of scope)
//   spi-c, spi-s   SPIs of the sender's inbound SAs at its protected client / server port (0..2^32-1)
//   port-c, port-s its protected client / server port
// Kamailio instead treats an absent ealg as aes-cbc and an absent alg as hmac-md5-96
// (spec/kamailio-behaviour.md §4); here the first means null and the second makes the offer unusable.

import { isValidAlgPair } from '../ipsec/algorithms.js';
import { authAlgOf, encAlgOf } from './algorithms.js';
import type { AuthAlg, EncAlg } from '../ipsec/algorithms.js';
import type { SecMechanism } from './grammar.js';
import { equalsIgnoreCase, parseDecimal, regionEqualsIgnoreCase } from './lexical.js';

export interface IpsecOffer {
  alg: AuthAlg;
  ealg: EncAlg;
  prot: 'esp';
  mod: 'trans';
  spiC: number;
  spiS: number;
  portC: number;
  portS: number;
  q?: number;
  /** alg as the UE wrote it. */
  algText: string;
  /** ealg as the UE wrote it; "null" when the UE left it out. */
  ealgText: string;
  /** Position of the mechanism in the parsed list. */
  index: number;
}

export type OfferRejectCode =
  | 'NOT_IPSEC_3GPP'
  | 'DUPLICATE_PARAM'
  | 'ALG_MISSING'
  | 'ALG_UNKNOWN'
  | 'EALG_UNKNOWN'
  | 'ALG_COMBINATION'
  | 'PROT_UNSUPPORTED'
  | 'MOD_UNSUPPORTED'
  | 'SPI_MISSING'
  | 'BAD_SPI'
  | 'PORT_MISSING'
  | 'BAD_PORT'
  // set by selection, from the configured policy
  | 'ALG_NOT_ALLOWED'
  | 'EALG_NOT_ALLOWED'
  | 'ALG_DEPRECATED'
  | 'EALG_DEPRECATED';

/** Why one mechanism cannot be used. A plain value (no stack), so rejecting offers costs little. */
export class OfferRejection {
  constructor(
    readonly code: OfferRejectCode,
    /** Position of the mechanism in the parsed list. */
    readonly index: number,
    readonly param: string | null = null,
    readonly value: string | null = null,
  ) {}

  get message(): string {
    const what = this.param === null ? '' : ` (${this.param}=${this.value ?? ''})`;
    return `offer ${this.index}: ${this.code}${what}`;
  }
}

// Annex H spivalue is 10DIGIT (0..4294967295); leading zeros are accepted, so is a shorter number.
const MAX_SPI_DIGITS = 10;
const MAX_PORT_DIGITS = 10;

// Slots of the Annex H parameters while one mechanism is read.
const ALG = 0, EALG = 1, PROT = 2, MOD = 3, SPI_C = 4, SPI_S = 5, PORT_C = 6, PORT_S = 7;
const PARAM_NAMES = ['alg', 'ealg', 'prot', 'mod', 'spi-c', 'spi-s', 'port-c', 'port-s'];

/** The slot of the parameter named s[start, end), or -1: the length and one octet pick the one candidate. */
function paramSlot(s: string, start: number, end: number): number {
  let slot: number;
  switch (end - start) {
    case 3: slot = (s.charCodeAt(start) | 0x20) === 0x61 /* a */ ? ALG : MOD; break;
    case 4: slot = (s.charCodeAt(start) | 0x20) === 0x65 /* e */ ? EALG : PROT; break;
    case 5: slot = (s.charCodeAt(end - 1) | 0x20) === 0x63 /* c */ ? SPI_C : SPI_S; break;
    case 6: slot = (s.charCodeAt(end - 1) | 0x20) === 0x63 /* c */ ? PORT_C : PORT_S; break;
    default: return -1;
  }
  return regionEqualsIgnoreCase(s, start, end, PARAM_NAMES[slot]!) ? slot : -1;
}

/** Reads mechanism `m` (at position `index` of its list) as an ipsec-3gpp offer. */
export function toIpsecOffer(m: SecMechanism, index = 0): IpsecOffer | OfferRejection {
  if (!equalsIgnoreCase(m.name, 'ipsec-3gpp')) return new OfferRejection('NOT_IPSEC_3GPP', index, null, m.name);
  const s = m.source;
  const x = m.spans;
  // Per slot, the position in x of the parameter's four offsets; -1 while absent.
  const at = [-1, -1, -1, -1, -1, -1, -1, -1];
  for (let k = 0; k < x.length; k += 4) {
    const slot = paramSlot(s, x[k]!, x[k + 1]!);
    if (slot < 0) continue;
    // A repeated parameter makes the offer ambiguous: never pick one of its values.
    if (at[slot] !== -1) return new OfferRejection('DUPLICATE_PARAM', index, s.slice(x[k]!, x[k + 1]!), valueAt(m, k));
    at[slot] = k;
  }

  const alg = at[ALG]!;
  if (alg < 0) return new OfferRejection('ALG_MISSING', index, 'alg');
  const authAlg = x[alg + 2]! < 0 ? null : authAlgOf(s, x[alg + 2]!, x[alg + 3]!);
  if (authAlg === null) return new OfferRejection('ALG_UNKNOWN', index, 'alg', valueAt(m, alg));
  const ealg = at[EALG]!;
  const encAlg = ealg < 0 ? 'null' : x[ealg + 2]! < 0 ? null : encAlgOf(s, x[ealg + 2]!, x[ealg + 3]!);
  if (encAlg === null) return new OfferRejection('EALG_UNKNOWN', index, 'ealg', valueAt(m, ealg));
  const algText = valueAt(m, alg)!;
  const ealgText = ealg < 0 ? 'null' : valueAt(m, ealg)!;
  if (!isValidAlgPair(authAlg, encAlg)) return new OfferRejection('ALG_COMBINATION', index, 'alg', `${algText};ealg=${ealgText}`);
  if (!isAbsentOr(m, at[PROT]!, 'esp')) return new OfferRejection('PROT_UNSUPPORTED', index, 'prot', valueAt(m, at[PROT]!));
  if (!isAbsentOr(m, at[MOD]!, 'trans')) return new OfferRejection('MOD_UNSUPPORTED', index, 'mod', valueAt(m, at[MOD]!));

  const spiC = spiAt(m, at[SPI_C]!);
  if (spiC < 0) return numberRejection('SPI', index, 'spi-c', m, at[SPI_C]!);
  const spiS = spiAt(m, at[SPI_S]!);
  if (spiS < 0) return numberRejection('SPI', index, 'spi-s', m, at[SPI_S]!);
  const portC = portAt(m, at[PORT_C]!);
  if (portC < 0) return numberRejection('PORT', index, 'port-c', m, at[PORT_C]!);
  const portS = portAt(m, at[PORT_S]!);
  if (portS < 0) return numberRejection('PORT', index, 'port-s', m, at[PORT_S]!);

  const offer: IpsecOffer = { alg: authAlg, ealg: encAlg, prot: 'esp', mod: 'trans', spiC, spiS, portC, portS, algText, ealgText, index };
  if (m.q !== undefined) offer.q = m.q;
  return offer;
}

/** Is the parameter at x[k] absent (k -1), or its value `lower` in any case? */
function isAbsentOr(m: SecMechanism, k: number, lower: string): boolean {
  return k < 0 || (m.spans[k + 2]! >= 0 && regionEqualsIgnoreCase(m.source, m.spans[k + 2]!, m.spans[k + 3]!, lower));
}

/** The decimal value of the parameter at x[k] when it is one of min..max, else -1 (also when absent). */
function decimalAt(m: SecMechanism, k: number, maxDigits: number, min: number, max: number): number {
  if (k < 0 || m.spans[k + 2]! < 0) return -1;
  const n = parseDecimal(m.source, maxDigits, m.spans[k + 2]!, m.spans[k + 3]!);
  return n >= min && n <= max ? n : -1;
}

// RFC 4303 §2.1: SPI 0 is reserved for local use and never sent, so a UE cannot offer it.
function spiAt(m: SecMechanism, k: number): number {
  return decimalAt(m, k, MAX_SPI_DIGITS, 1, 0xffffffff);
}

function portAt(m: SecMechanism, k: number): number {
  return decimalAt(m, k, MAX_PORT_DIGITS, 1, 65535);
}

/** The value of the parameter whose offsets start at spans[k]: null when it has no "=". */
function valueAt(m: SecMechanism, k: number): string | null {
  const x = m.spans;
  return x[k + 2]! < 0 ? null : m.source.slice(x[k + 2]!, x[k + 3]!);
}

function numberRejection(kind: 'SPI' | 'PORT', index: number, param: string, m: SecMechanism, k: number): OfferRejection {
  if (k < 0) return new OfferRejection(kind === 'SPI' ? 'SPI_MISSING' : 'PORT_MISSING', index, param);
  return new OfferRejection(kind === 'SPI' ? 'BAD_SPI' : 'BAD_PORT', index, param, valueAt(m, k));
}
