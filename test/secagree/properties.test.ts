import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { AUTH_ALGS, ENC_ALGS, isValidAlgPair } from '../../src/ipsec/algorithms.js';
import {
  KeyError, OfferRejection, SecAgreeError, buildSecurityServer, extractAkaKeys,
  parseSecurityHeader, selectOffer, toIpsecOffer, verifyMatchesServer,
} from '../../src/secagree/index.js';
import type { IpsecOffer } from '../../src/secagree/index.js';

// Strings biased towards the characters the readers care about, plus any byte (latin1).
const FRAGMENTS = ['ipsec-3gpp', 'Digest', 'ck', 'ik', 'alg', 'q', '=', ';', ',', '"', '\\', ' ', '\t', '\r\n', '[', ']', '0.5', 'x', '\u00ff', '\u0000'];
const messy = fc.array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ unit: 'binary', maxLength: 4 })), { maxLength: 30 }).map((a) => a.join(''));

const pairs = fc.constantFrom(...AUTH_ALGS.flatMap((a) => ENC_ALGS.filter((e) => isValidAlgPair(a, e)).map((e) => [a, e] as const)));
const caseOf = (s: string, flips: boolean[]): string => [...s].map((ch, i) => (flips[i % Math.max(1, flips.length)] ? ch.toUpperCase() : ch)).join('');

test('parseSecurityHeader throws nothing but SecAgreeError', () => {
  fc.assert(fc.property(fc.array(messy, { maxLength: 3 }), (values) => {
    try {
      const ms = parseSecurityHeader(values);
      for (let i = 0; i < ms.length; i++) toIpsecOffer(ms[i]!, i);
      selectOffer(ms, { allowedAuth: AUTH_ALGS, allowedEnc: ENC_ALGS, preferredAlg: 'null', disableDeprecated: true });
    } catch (e) {
      if (!(e instanceof SecAgreeError)) throw e;
    }
  }), { numRuns: 3000 });
});

test('extractAkaKeys never throws, on any string', () => {
  fc.assert(fc.property(fc.oneof(messy, fc.string({ unit: 'binary' })), (value) => {
    const r = extractAkaKeys(value);
    assert.ok(r instanceof KeyError || typeof r.stripped === 'string');
  }), { numRuns: 3000 });
});

test('Security-Server output parses back to the same offer', () => {
  const spi = fc.integer({ min: 1, max: 0xffffffff });
  const port = fc.integer({ min: 1, max: 65535 });
  fc.assert(fc.property(spi, spi, port, port, pairs, fc.array(fc.boolean(), { maxLength: 8 }), fc.boolean(),
    (spiPc, spiPs, portPc, portPs, [alg, ealg], flips, omitEalg) => {
      const algText = caseOf(alg, flips);
      const ealgText = omitEalg && ealg === 'null' ? '' : caseOf(ealg, flips);
      const header = buildSecurityServer({ spiPc, spiPs, portPc, portPs, alg: algText, ealg: ealgText });
      const ms = parseSecurityHeader([header]);
      assert.is(ms.length, 1);
      assert.is(ms[0]!.raw, header);
      const o = toIpsecOffer(ms[0]!, 0);
      assert.not.instance(o, OfferRejection);
      const back = o as IpsecOffer;
      assert.equal([back.spiC, back.spiS, back.portC, back.portS, back.alg, back.ealg, back.algText, back.q],
        [spiPc, spiPs, portPc, portPs, alg, ealg, algText, 0.1]);
      assert.is(verifyMatchesServer([header], header), true);
    }), { numRuns: 1000 });
});

test('a Security-Verify that only reorders, re-spaces and re-cases the parameters matches', () => {
  const params = ['q=0.1', 'prot=esp', 'mod=trans', 'spi-c=11', 'spi-s=12', 'port-c=5062', 'port-s=5064', 'alg=hmac-sha-1-96', 'ealg=aes-cbc'];
  const sent = `ipsec-3gpp;${params.join(';')}`;
  fc.assert(fc.property(fc.shuffledSubarray(params, { minLength: params.length }), fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
    fc.constantFrom(';', ' ; ', ';\t'), (order, flips, sep) => {
      assert.is(verifyMatchesServer([caseOf(`ipsec-3gpp${sep}${order.join(sep)}`, flips)], sent), true);
    }), { numRuns: 500 });
});

test('stripping ck and ik gives the challenge as if they had never been there', () => {
  const name = fc.constantFrom('realm', 'nonce', 'algorithm', 'qop', 'opaque', 'stale', 'cknonce');
  const val = fc.oneof(fc.constantFrom('AKAv1-MD5', 'true'), fc.string({ maxLength: 10 }).map((s) => JSON.stringify(s.replace(/["\\]/g, ''))));
  const param = fc.tuple(name, val).map(([n, v]) => `${n}=${v}`);
  const key = '00112233445566778899aabbccddeeff';
  fc.assert(fc.property(fc.array(param, { minLength: 1, maxLength: 6 }), fc.nat(), fc.nat(), fc.constantFrom(', ', ',', ' , ', ',\r\n '),
    (others, ckAt, ikAt, sep) => {
      const all = [...others];
      all.splice(ckAt % (all.length + 1), 0, `ck="${key}"`);
      all.splice(ikAt % (all.length + 1), 0, `ik=${key}`);
      const r = extractAkaKeys(`Digest ${all.join(sep)}`);
      assert.not.instance(r, KeyError);
      assert.is((r as { stripped: string }).stripped, `Digest ${others.join(sep)}`);
    }), { numRuns: 1000 });
});

test.run();
