// The UE's half of the security agreement (RFC 3329 §2.3.1, TS 33.203 §7.2 and Annex H): the
// Security-Client it offers, the choice among the mechanisms of the P-CSCF's Security-Server, the
// Security-Verify that echoes that Security-Server, and the SA set both lead to.
//
// spi-c / spi-s / port-c / port-s always name the sender's own protected client and server side:
// in the UE's Security-Client they are spi_uc, spi_us, port_uc, port_us; in the P-CSCF's
// Security-Server spi_pc, spi_ps, port_pc, port_ps (TS 33.203 Annex H).

import type { AuthAlg, EncAlg } from '../ipsec/algorithms.js';
import type { TunnelParams } from '../ipsec/sa-set.js';
import { OfferRejection, parseSecurityHeader, SecAgreeError, toIpsecOffer, type IpsecOffer } from '../secagree/index.js';

/** One ipsec-3gpp mechanism the UE offers: an integrity and an encryption algorithm. */
export type AlgPair = readonly [AuthAlg, EncAlg];

/** The UE's side of one SA set. */
export interface UeSecurityParams {
  readonly spiUc: number;
  readonly spiUs: number;
  readonly portUc: number;
  readonly portUs: number;
}

/** Security-Client: one ipsec-3gpp mechanism per offered pair, all with the same SPIs and ports. */
export function securityClientValue(offers: readonly AlgPair[], p: UeSecurityParams): string {
  return offers
    .map(([alg, ealg]) => `ipsec-3gpp;alg=${alg};ealg=${ealg};prot=esp;mod=trans;spi-c=${p.spiUc};spi-s=${p.spiUs};port-c=${p.portUc};port-s=${p.portUs}`)
    .join(', ');
}

/**
 * TS 33.203 §7.2: the protected REGISTER's Security-Verify carries the Security-Server the UE
 * received, mechanism for mechanism (RFC 3329 §2.3.1: "a copy of the server's security list").
 */
export function securityVerifyValue(serverValues: readonly string[]): string {
  return serverValues.join(', ');
}

/**
 * A Security-Verify that is not the copy of the Security-Server it claims to be: the first
 * mechanism's spi-c is changed, as by a tampering intermediary. For tests of the P-CSCF's check
 * (RFC 3329 §2.3.1: the lists must be equal, else 494).
 */
export function forgedSecurityVerifyValue(serverValues: readonly string[]): string {
  return securityVerifyValue(serverValues).replace(/spi-c=(\d+)/i, (_, spi: string) => `spi-c=${(Number(spi) + 1) % 2 ** 32}`);
}

/** The mechanism chosen from a Security-Server: the P-CSCF's SPIs and ports, and the algorithms. */
export interface ChosenServer {
  readonly alg: AuthAlg;
  readonly ealg: EncAlg;
  readonly spiPc: number;
  readonly spiPs: number;
  readonly portPc: number;
  readonly portPs: number;
  /** The Security-Server values as received, for Security-Verify. */
  readonly values: readonly string[];
}

/** Why no Security-Server mechanism can be used. */
export class ServerProblem {
  constructor(
    readonly code: 'UE_NO_SECURITY_SERVER' | 'UE_SECURITY_SERVER_UNUSABLE',
    readonly message: string,
  ) {}
}

/**
 * RFC 3329 §2.3.1: the client takes the mechanism with the highest q (absent q ranks lowest; ties
 * go to the first) among those it supports, here the ipsec-3gpp mechanisms whose alg and ealg are
 * a pair it offered.
 */
export function chooseSecurityServer(values: readonly string[], offers: readonly AlgPair[]): ChosenServer | ServerProblem {
  if (values.length === 0) return new ServerProblem('UE_NO_SECURITY_SERVER', 'the 401 carries no Security-Server');
  let mechanisms;
  try {
    mechanisms = parseSecurityHeader(values);
  } catch (e) {
    if (!(e instanceof SecAgreeError)) throw e;
    return new ServerProblem('UE_SECURITY_SERVER_UNUSABLE', `Security-Server does not parse: ${e.message}`);
  }
  let best: IpsecOffer | undefined;
  const refused: string[] = [];
  for (const [i, m] of mechanisms.entries()) {
    const o = toIpsecOffer(m, i);
    if (o instanceof OfferRejection) {
      refused.push(o.message);
      continue;
    }
    if (!offers.some(([alg, ealg]) => alg === o.alg && ealg === o.ealg)) {
      refused.push(`offer ${i}: alg=${o.algText};ealg=${o.ealgText} was not offered`);
      continue;
    }
    if (best === undefined || (o.q ?? -1) > (best.q ?? -1)) best = o;
  }
  if (best === undefined) return new ServerProblem('UE_SECURITY_SERVER_UNUSABLE', `no usable mechanism in Security-Server: ${refused.join('; ')}`);
  return { alg: best.alg, ealg: best.ealg, spiPc: best.spiC, spiPs: best.spiS, portPc: best.portC, portPs: best.portS, values };
}

/** The SA set both ends derive from the agreement (src/ipsec/sa-set.ts builds it for either side). */
export function agreedTunnel(
  ue: UeSecurityParams,
  server: ChosenServer,
  where: { readonly ueAddr: string; readonly pcscfAddr: string },
  keys: { readonly ck: Uint8Array; readonly ik: Uint8Array },
  marker: number,
): TunnelParams {
  return {
    family: where.ueAddr.includes(':') ? 6 : 4, ueAddr: where.ueAddr, pcscfAddr: where.pcscfAddr,
    spiUc: ue.spiUc, spiUs: ue.spiUs, portUc: ue.portUc, portUs: ue.portUs,
    spiPc: server.spiPc, spiPs: server.spiPs, portPc: server.portPc, portPs: server.portPs,
    alg: server.alg, ealg: server.ealg, ck: keys.ck, ik: keys.ik, marker,
  };
}
