// TS 33.203 algorithm names (Security-Client `alg` / `ealg`) to kernel algorithms and keys
// (TS 33.203 Annex I: how IK_ESP and CK_ESP come from the IMS AKA keys IK_IM and CK_IM).
//
// Integrity:
//   hmac-md5-96    hmac(md5), ICV 96 bits, key = IK (128 bits)
//   hmac-sha-1-96  hmac(sha1), ICV 96 bits, key = IK || 32 zero bits (160 bits)
//   aes-gmac       rfc4543(gcm(aes)), ICV 128 bits, key = IK || salt (RFC 4543 §3.2)
//   null           no integrity algorithm of its own: only with ealg aes-gcm, whose AEAD carries it
// Encryption:
//   des-ede3-cbc   cbc(des3_ede), key = CK || CK[0..8] (CK1 || CK2 || CK1, 192 bits)
//   aes-cbc        cbc(aes), key = CK (128 bits)
//   aes-gcm        rfc4106(gcm(aes)), ICV 128 bits, key = CK || salt (RFC 4106 §4)
//   null           ecb(cipher_null), no key
//
// The salts (Annex I, Rel-17 onwards): KDF of TS 33.220 Annex B = HMAC-SHA-256(Key, S) with
// Key = CK || IK and S = FC || P0 || L0, FC 0x59 / P0 "AES_GCM_SALT" for aes-gcm and FC 0x58 /
// P0 "AES_GMAC_SALT" for aes-gmac, L0 the length of P0 in two bytes; the salt is the 32 least
// significant bits of the 256-bit output. Confirmed from the Annex I text as quoted in OpenSIPS
// proto_ipsec (ipsec_algo.c); the 33.203 text itself was not available here, and no test vector
// from the spec was found, so the derivation is checked only against this reading of it.
//
// Which pairs are valid is decided in src/ipsec/algorithms.ts.

import { createHmac } from 'node:crypto';
import { isValidAlgPair, type AuthAlg, type EncAlg } from '../ipsec/algorithms.js';
import type { AeadAlgorithm, AuthAlgorithm, CryptAlgorithm } from './xfrm-types.js';

/** The kernel algorithm names the pair needs, as /proc/crypto and `ip xfrm` know them. */
export function kernelAlgorithmNames(alg: AuthAlg, ealg: EncAlg): string[] {
  const names: string[] = [];
  if (alg === 'hmac-md5-96') names.push('hmac(md5)');
  if (alg === 'hmac-sha-1-96') names.push('hmac(sha1)');
  if (alg === 'aes-gmac') names.push('rfc4543(gcm(aes))');
  if (ealg === 'des-ede3-cbc') names.push('cbc(des3_ede)');
  if (ealg === 'aes-cbc') names.push('cbc(aes)');
  if (ealg === 'aes-gcm') names.push('rfc4106(gcm(aes))');
  if (ealg === 'null') names.push('ecb(cipher_null)');
  return names;
}

export class AlgorithmError extends Error {
  readonly code = 'IPSEC_BAD_ALGORITHM';

  constructor(message: string) {
    super(message);
    this.name = 'AlgorithmError';
  }
}

/** The algorithm attributes of one ESP SA. */
export interface EspAlgorithms {
  auth?: AuthAlgorithm;
  crypt?: CryptAlgorithm;
  aead?: AeadAlgorithm;
}

const KEY_BYTES = 16; // CK and IK of IMS AKA are 128 bits (TS 33.102)

/** TS 33.220 Annex B KDF: HMAC-SHA-256(key, FC || P0 || L0). */
function kdf(key: Buffer, fc: number, p0: string): Buffer {
  const p = Buffer.from(p0, 'latin1');
  const s = Buffer.alloc(1 + p.length + 2);
  s[0] = fc;
  p.copy(s, 1);
  s.writeUInt16BE(p.length, 1 + p.length);
  return createHmac('sha256', key).update(s).digest();
}

/** The 4-byte salt of TS 33.203 Annex I for aes-gcm (FC 0x59) or aes-gmac (FC 0x58). */
export function espSalt(which: 'aes-gcm' | 'aes-gmac', ck: Uint8Array, ik: Uint8Array): Buffer {
  const out = which === 'aes-gcm' ? kdf(Buffer.concat([ck, ik]), 0x59, 'AES_GCM_SALT') : kdf(Buffer.concat([ck, ik]), 0x58, 'AES_GMAC_SALT');
  return out.subarray(28, 32);
}

/**
 * The kernel algorithms and keys for a negotiated pair. Throws AlgorithmError for a pair that is
 * not valid (isValidAlgPair) or keys that are not 128 bits.
 */
export function espAlgorithms(alg: AuthAlg, ealg: EncAlg, ck: Uint8Array, ik: Uint8Array): EspAlgorithms {
  if (!isValidAlgPair(alg, ealg)) throw new AlgorithmError(`alg=${alg} with ealg=${ealg} is not a usable ESP combination`);
  if (ck.length !== KEY_BYTES || ik.length !== KEY_BYTES) {
    throw new AlgorithmError(`CK and IK must be ${KEY_BYTES} bytes, got ${ck.length} and ${ik.length}`);
  }
  const ckB = Buffer.from(ck);
  const ikB = Buffer.from(ik);
  if (ealg === 'aes-gcm') return { aead: { name: 'rfc4106(gcm(aes))', key: Buffer.concat([ckB, espSalt('aes-gcm', ck, ik)]), icvBits: 128 } };
  if (alg === 'aes-gmac') return { aead: { name: 'rfc4543(gcm(aes))', key: Buffer.concat([ikB, espSalt('aes-gmac', ck, ik)]), icvBits: 128 } };
  const auth: AuthAlgorithm = alg === 'hmac-md5-96'
    ? { name: 'hmac(md5)', key: ikB, truncBits: 96 }
    : { name: 'hmac(sha1)', key: Buffer.concat([ikB, Buffer.alloc(4)]), truncBits: 96 };
  const crypt: CryptAlgorithm = ealg === 'aes-cbc'
    ? { name: 'cbc(aes)', key: ckB }
    : ealg === 'des-ede3-cbc'
      ? { name: 'cbc(des3_ede)', key: Buffer.concat([ckB, ckB.subarray(0, 8)]) }
      : { name: 'ecb(cipher_null)', key: Buffer.alloc(0) };
  return { auth, crypt };
}
