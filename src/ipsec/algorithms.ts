// The ipsec-3gpp algorithm names of TS 33.203 Annex H and the rules on combining them; shared by
// the Security-Client parser, the configuration and the kernel mapping (src/netlink/algorithms.ts).
//
// Annex H (Rel-17 onwards) lists alg = hmac-md5-96 / hmac-sha-1-96 / aes-gmac / null and
// ealg = des-ede3-cbc / aes-cbc / aes-gcm / null. hmac-md5-96 and des-ede3-cbc are the algorithms
// TS 33.203 deprecated from Rel-12 on (Annex I); Rel-17 calls hmac-sha-1-96 and aes-cbc "not
// recommended" but keeps them, so only the first two are switched off by the deprecated switch.

export const AUTH_ALGS = ['hmac-md5-96', 'hmac-sha-1-96', 'aes-gmac', 'null'] as const;
export const ENC_ALGS = ['des-ede3-cbc', 'aes-cbc', 'aes-gcm', 'null'] as const;

export type AuthAlg = (typeof AUTH_ALGS)[number];
export type EncAlg = (typeof ENC_ALGS)[number];

/**
 * Every (alg, ealg) pair one ESP SA can carry.
 * - aes-gcm (RFC 4106) is a combined mode that already protects integrity: TS 33.203 Rel-17 pairs
 *   it with alg=null, and alg=null is allowed only with it.
 * - aes-gmac (RFC 4543) is itself a combined-mode transform giving integrity without
 *   confidentiality, so it cannot be stacked with a cipher: ealg must be null. This rule is read
 *   from RFC 4543 and the kernel's model (xfrm_user refuses an AEAD beside a separate auth or
 *   crypt algorithm); the Annex H sentence stating it could not be retrieved verbatim.
 */
export const VALID_ALG_PAIRS: readonly (readonly [AuthAlg, EncAlg])[] = [
  ['hmac-md5-96', 'des-ede3-cbc'], ['hmac-md5-96', 'aes-cbc'], ['hmac-md5-96', 'null'],
  ['hmac-sha-1-96', 'des-ede3-cbc'], ['hmac-sha-1-96', 'aes-cbc'], ['hmac-sha-1-96', 'null'],
  ['null', 'aes-gcm'],
  ['aes-gmac', 'null'],
];

export function isValidAlgPair(alg: AuthAlg, ealg: EncAlg): boolean {
  if (alg === 'null' || ealg === 'aes-gcm') return alg === 'null' && ealg === 'aes-gcm';
  if (alg === 'aes-gmac') return ealg === 'null';
  return true;
}

export function isDeprecatedAuth(alg: AuthAlg): boolean {
  return alg === 'hmac-md5-96';
}

export function isDeprecatedEnc(ealg: EncAlg): boolean {
  return ealg === 'des-ede3-cbc';
}
