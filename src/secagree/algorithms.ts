// The ipsec-3gpp algorithm names of TS 33.203 Annex H and the rules on combining them.
//
// Annex H (Rel-17 onwards) lists alg = hmac-md5-96 / hmac-sha-1-96 / aes-gmac / null and
// ealg = des-ede3-cbc / aes-cbc / aes-gcm / null. hmac-md5-96 and des-ede3-cbc are the algorithms
// TS 33.203 deprecated from Rel-12 on (Annex I); Rel-17 calls hmac-sha-1-96 and aes-cbc "not
// recommended" but keeps them, so only the first two are switched off by the deprecated switch.

import { equalsIgnoreCase } from './lexical.js';

export const AUTH_ALGS = ['hmac-md5-96', 'hmac-sha-1-96', 'aes-gmac', 'null'] as const;
export const ENC_ALGS = ['des-ede3-cbc', 'aes-cbc', 'aes-gcm', 'null'] as const;

export type AuthAlg = (typeof AUTH_ALGS)[number];
export type EncAlg = (typeof ENC_ALGS)[number];

export function isDeprecatedAuth(alg: AuthAlg): boolean {
  return alg === 'hmac-md5-96';
}

export function isDeprecatedEnc(ealg: EncAlg): boolean {
  return ealg === 'des-ede3-cbc';
}

/** The canonical name for `text` compared case-insensitively, or null when unknown. */
export function authAlgOf(text: string): AuthAlg | null {
  return lookup(AUTH_ALGS, text);
}

export function encAlgOf(text: string): EncAlg | null {
  return lookup(ENC_ALGS, text);
}

function lookup<T extends string>(names: readonly T[], text: string): T | null {
  for (const name of names) if (equalsIgnoreCase(text, name)) return name;
  return null;
}

/**
 * Whether one SA may carry this pair.
 * - aes-gcm (RFC 4106) is a combined mode that already protects integrity: TS 33.203 Rel-17 pairs
 *   it with alg=null, and alg=null is allowed only with it.
 * - aes-gmac (RFC 4543, ENCR_NULL_AUTH_AES_GMAC) is itself a combined-mode transform giving
 *   integrity without confidentiality, so it cannot be stacked with a cipher: ealg must be null.
 *   This rule is read from RFC 4543 and the Linux XFRM model (one AEAD per SA); the Annex H
 *   sentence stating it could not be retrieved verbatim.
 */
export function isAllowedCombination(alg: AuthAlg, ealg: EncAlg): boolean {
  if (alg === 'null' || ealg === 'aes-gcm') return alg === 'null' && ealg === 'aes-gcm';
  if (alg === 'aes-gmac') return ealg === 'null';
  return true;
}
