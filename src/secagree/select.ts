// Choice of one ipsec-3gpp offer from a Security-Client (spec/decisions.md):
// every comma-separated mechanism is one whole offer, never a mix of fields of two offers. Among
// the usable offers the configured allow-lists permit, the last one matching every configured
// preference wins; without a preference, or when no offer matches it, the last usable offer wins
// (the admin guide: "the last algorithm in the Sec-Agree header will be used"). The q values are
// carried but not used to rank offers, as in Kamailio.

import { isDeprecatedAuth, isDeprecatedEnc } from '../ipsec/algorithms.js';
import type { AuthAlg, EncAlg } from '../ipsec/algorithms.js';
import type { SecMechanism } from './grammar.js';
import { OfferRejection, toIpsecOffer } from './ipsec3gpp.js';
import type { IpsecOffer, OfferRejectCode } from './ipsec3gpp.js';

export interface SelectionPolicy {
  preferredAlg?: AuthAlg;
  preferredEalg?: EncAlg;
  allowedAuth: readonly AuthAlg[];
  allowedEnc: readonly EncAlg[];
  /** Refuse the algorithms TS 33.203 deprecated (hmac-md5-96, des-ede3-cbc) even when allowed. */
  disableDeprecated?: boolean;
}

export interface Selected {
  offer: IpsecOffer;
  /** Whether the offer was chosen because it matched the configured preferences. */
  preferred: boolean;
}

export type NoOfferCode = 'NO_IPSEC_OFFER' | OfferRejectCode;

/**
 * No usable offer. `code` is NO_IPSEC_OFFER when no mechanism was ipsec-3gpp, otherwise the reason
 * the last ipsec-3gpp offer (the one that would have been chosen) was refused; `rejections` lists
 * every refused ipsec-3gpp offer in order.
 */
export class NoOffer {
  constructor(
    readonly code: NoOfferCode,
    readonly rejections: readonly OfferRejection[],
  ) {}

  get message(): string {
    if (this.rejections.length === 0) return 'no ipsec-3gpp mechanism offered';
    return `no usable ipsec-3gpp offer: ${this.rejections.map((r) => r.message).join('; ')}`;
  }
}

export function selectOffer(offers: readonly SecMechanism[], policy: SelectionPolicy): Selected | NoOffer {
  const wantAlg = policy.preferredAlg;
  const wantEalg = policy.preferredEalg;
  const hasPreference = wantAlg !== undefined || wantEalg !== undefined;
  let lastUsable: IpsecOffer | null = null;
  let rejections: OfferRejection[] | null = null;
  // From the last offer back, the first usable one is the last usable one (and the first matching
  // the preferences the last such): the offers before it need not be read.
  for (let i = offers.length - 1; i >= 0; i--) {
    const offer = toIpsecOffer(offers[i]!, i);
    const refused = offer instanceof OfferRejection ? offer : policyRejection(offer, policy);
    if (refused !== null) {
      if (refused.code !== 'NOT_IPSEC_3GPP') (rejections ??= []).push(refused);
      continue;
    }
    const usable = offer as IpsecOffer;
    if (!hasPreference || ((wantAlg === undefined || usable.alg === wantAlg) && (wantEalg === undefined || usable.ealg === wantEalg))) {
      return { offer: usable, preferred: hasPreference };
    }
    lastUsable ??= usable;
  }
  if (lastUsable !== null) return { offer: lastUsable, preferred: false };
  if (rejections === null) return new NoOffer('NO_IPSEC_OFFER', []);
  rejections.reverse();
  return new NoOffer(rejections[rejections.length - 1]!.code, rejections);
}

function policyRejection(o: IpsecOffer, policy: SelectionPolicy): OfferRejection | null {
  if (!policy.allowedAuth.includes(o.alg)) return new OfferRejection('ALG_NOT_ALLOWED', o.index, 'alg', o.algText);
  if (!policy.allowedEnc.includes(o.ealg)) return new OfferRejection('EALG_NOT_ALLOWED', o.index, 'ealg', o.ealgText);
  if (policy.disableDeprecated === true) {
    if (isDeprecatedAuth(o.alg)) return new OfferRejection('ALG_DEPRECATED', o.index, 'alg', o.algText);
    if (isDeprecatedEnc(o.ealg)) return new OfferRejection('EALG_DEPRECATED', o.index, 'ealg', o.ealgText);
  }
  return null;
}
