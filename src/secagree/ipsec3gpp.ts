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
import { equalsIgnoreCase, parseDecimal } from './lexical.js';

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

// UEs write the names in lower case, so comparing exactly (natively, once the length has picked at
// most two candidates) settles nearly every parameter; only a name matching neither is compared
// ignoring case.
function paramSlot(name: string): number {
  let slot: number;
  switch (name.length) {
    case 3: slot = name === 'alg' ? ALG : name === 'mod' ? MOD : -1; break;
    case 4: slot = name === 'ealg' ? EALG : name === 'prot' ? PROT : -1; break;
    case 5: slot = name === 'spi-c' ? SPI_C : name === 'spi-s' ? SPI_S : -1; break;
    case 6: slot = name === 'port-c' ? PORT_C : name === 'port-s' ? PORT_S : -1; break;
    default: return -1;
  }
  return slot >= 0 ? slot : PARAM_NAMES.findIndex((p) => equalsIgnoreCase(name, p));
}

/** Reads mechanism `m` (at position `index` of its list) as an ipsec-3gpp offer. */
export function toIpsecOffer(m: SecMechanism, index = 0): IpsecOffer | OfferRejection {
  if (!equalsIgnoreCase(m.name, 'ipsec-3gpp')) return new OfferRejection('NOT_IPSEC_3GPP', index, null, m.name);
  // undefined: absent; null: present without a value.
  const seen: (string | null | undefined)[] = [undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined];
  for (const p of m.params) {
    const slot = paramSlot(p.name);
    if (slot < 0) continue;
    // A repeated parameter makes the offer ambiguous: never pick one of its values.
    if (seen[slot] !== undefined) return new OfferRejection('DUPLICATE_PARAM', index, p.name, p.value);
    seen[slot] = p.value;
  }

  const alg = seen[ALG];
  if (alg === undefined) return new OfferRejection('ALG_MISSING', index, 'alg');
  const authAlg = alg === null ? null : authAlgOf(alg);
  if (alg === null || authAlg === null) return new OfferRejection('ALG_UNKNOWN', index, 'alg', alg);
  const ealg = seen[EALG];
  const ealgText = ealg === undefined ? 'null' : ealg;
  const encAlg = ealgText === null ? null : encAlgOf(ealgText);
  if (ealgText === null || encAlg === null) return new OfferRejection('EALG_UNKNOWN', index, 'ealg', ealgText);
  if (!isValidAlgPair(authAlg, encAlg)) return new OfferRejection('ALG_COMBINATION', index, 'alg', `${alg};ealg=${ealgText}`);
  const prot = seen[PROT];
  if (prot !== undefined && (prot === null || !equalsIgnoreCase(prot, 'esp'))) return new OfferRejection('PROT_UNSUPPORTED', index, 'prot', prot);
  const mod = seen[MOD];
  if (mod !== undefined && (mod === null || !equalsIgnoreCase(mod, 'trans'))) return new OfferRejection('MOD_UNSUPPORTED', index, 'mod', mod);

  const spiC = spiOf(seen[SPI_C]);
  if (spiC < 0) return numberRejection('SPI', index, 'spi-c', seen[SPI_C]);
  const spiS = spiOf(seen[SPI_S]);
  if (spiS < 0) return numberRejection('SPI', index, 'spi-s', seen[SPI_S]);
  const portC = portOf(seen[PORT_C]);
  if (portC < 0) return numberRejection('PORT', index, 'port-c', seen[PORT_C]);
  const portS = portOf(seen[PORT_S]);
  if (portS < 0) return numberRejection('PORT', index, 'port-s', seen[PORT_S]);

  const offer: IpsecOffer = { alg: authAlg, ealg: encAlg, prot: 'esp', mod: 'trans', spiC, spiS, portC, portS, algText: alg, ealgText, index };
  if (m.q !== undefined) offer.q = m.q;
  return offer;
}

function numberRejection(kind: 'SPI' | 'PORT', index: number, param: string, text: string | null | undefined): OfferRejection {
  if (text === undefined) return new OfferRejection(kind === 'SPI' ? 'SPI_MISSING' : 'PORT_MISSING', index, param);
  return new OfferRejection(kind === 'SPI' ? 'BAD_SPI' : 'BAD_PORT', index, param, text);
}

// RFC 4303 §2.1: SPI 0 is reserved for local use and never sent, so a UE cannot offer it.
function spiOf(text: string | null | undefined): number {
  if (text == null) return -1;
  const n = parseDecimal(text, MAX_SPI_DIGITS);
  return n >= 1 && n <= 0xffffffff ? n : -1;
}

function portOf(text: string | null | undefined): number {
  if (text == null) return -1;
  const n = parseDecimal(text, MAX_PORT_DIGITS);
  return n >= 1 && n <= 65535 ? n : -1;
}
