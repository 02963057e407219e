// TS 33.203 Annex I key use and the alg/ealg pairs (the kernel's acceptance of each pair and key
// is checked with real traffic in test/esp/traffic.test.ts).

import { createHmac } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AUTH_ALGS, ENC_ALGS, isValidAlgPair, VALID_ALG_PAIRS } from '../../src/ipsec/algorithms.js';
import { espAlgorithms, espSalt, kernelAlgorithmNames } from '../../src/netlink/algorithms.js';

const ck = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const ik = Buffer.from('ffeeddccbbaa99887766554433221100', 'hex');

test('hmac-md5-96 uses IK as is; hmac-sha-1-96 uses IK followed by 32 zero bits', () => {
  assert.equal(espAlgorithms('hmac-md5-96', 'null', ck, ik).auth, { name: 'hmac(md5)', key: ik, truncBits: 96 });
  const sha = espAlgorithms('hmac-sha-1-96', 'null', ck, ik).auth!;
  assert.is(sha.name, 'hmac(sha1)');
  assert.is(sha.truncBits, 96);
  assert.is(sha.key.length, 20);
  assert.equal(Buffer.from(sha.key.subarray(0, 16)), ik);
  assert.equal(Buffer.from(sha.key.subarray(16)), Buffer.alloc(4));
});

test('aes-cbc uses CK; des-ede3-cbc uses CK1 || CK2 || CK1 (CK then its first 8 bytes); null has no key', () => {
  assert.equal(espAlgorithms('hmac-sha-1-96', 'aes-cbc', ck, ik).crypt, { name: 'cbc(aes)', key: ck });
  const des = espAlgorithms('hmac-sha-1-96', 'des-ede3-cbc', ck, ik).crypt!;
  assert.is(des.name, 'cbc(des3_ede)');
  assert.equal(Buffer.from(des.key), Buffer.concat([ck.subarray(0, 8), ck.subarray(8, 16), ck.subarray(0, 8)]));
  assert.equal(espAlgorithms('hmac-md5-96', 'null', ck, ik).crypt, { name: 'ecb(cipher_null)', key: Buffer.alloc(0) });
});

test('aes-gcm / aes-gmac: one AEAD with ICV 128 and key || TS 33.220 KDF salt, no separate auth or crypt', () => {
  // The KDF of TS 33.220 Annex B, written out here from the spec text: S = FC || P0 || L0.
  const salt = (fc: number, p0: string): Buffer => {
    const s = Buffer.concat([Buffer.from([fc]), Buffer.from(p0), Buffer.from([0, p0.length])]);
    return createHmac('sha256', Buffer.concat([ck, ik])).update(s).digest().subarray(28);
  };
  const gcm = espAlgorithms('null', 'aes-gcm', ck, ik);
  assert.equal(Object.keys(gcm), ['aead']);
  assert.is(gcm.aead!.name, 'rfc4106(gcm(aes))');
  assert.is(gcm.aead!.icvBits, 128);
  assert.equal(Buffer.from(gcm.aead!.key), Buffer.concat([ck, salt(0x59, 'AES_GCM_SALT')]));
  const gmac = espAlgorithms('aes-gmac', 'null', ck, ik);
  assert.equal(Object.keys(gmac), ['aead']);
  assert.is(gmac.aead!.name, 'rfc4543(gcm(aes))');
  assert.equal(Buffer.from(gmac.aead!.key), Buffer.concat([ik, salt(0x58, 'AES_GMAC_SALT')]));
  // The two salts differ, and depend on both keys.
  assert.not.equal(espSalt('aes-gcm', ck, ik), espSalt('aes-gmac', ck, ik));
  assert.not.equal(espSalt('aes-gcm', ck, ik), espSalt('aes-gcm', ck, ck));
});

test('exactly the 8 usable pairs are valid; the others are refused with a typed error', () => {
  let valid = 0;
  for (const alg of AUTH_ALGS) {
    for (const ealg of ENC_ALGS) {
      if (isValidAlgPair(alg, ealg)) {
        valid++;
        const a = espAlgorithms(alg, ealg, ck, ik);
        assert.ok(a.aead ? !a.auth && !a.crypt : a.auth && a.crypt, `${alg}/${ealg}`);
        assert.ok(kernelAlgorithmNames(alg, ealg).length > 0);
      } else {
        assert.throws(() => espAlgorithms(alg, ealg, ck, ik), (e: Error & { code?: string }) => e.code === 'IPSEC_BAD_ALGORITHM', `${alg}/${ealg}`);
      }
    }
  }
  assert.is(valid, VALID_ALG_PAIRS.length);
  assert.is(valid, 8);
  assert.not.ok(isValidAlgPair('null', 'null'));
  assert.not.ok(isValidAlgPair('hmac-sha-1-96', 'aes-gcm'));
  assert.not.ok(isValidAlgPair('aes-gmac', 'aes-cbc'));
});

test('CK and IK must be 128 bits', () => {
  assert.throws(() => espAlgorithms('hmac-sha-1-96', 'aes-cbc', ck.subarray(1), ik), (e: Error & { code?: string }) => e.code === 'IPSEC_BAD_ALGORITHM');
  assert.throws(() => espAlgorithms('hmac-sha-1-96', 'aes-cbc', ck, Buffer.alloc(32)), (e: Error & { code?: string }) => e.code === 'IPSEC_BAD_ALGORITHM');
});

test.run();
