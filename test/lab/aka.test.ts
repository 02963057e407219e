import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  encodeAuts, generateVector, makeNonce, parseAuts, parseNonce, respond, resync, SQN_MAX,
  type ChallengeResult,
} from '../../src/lab/aka.js';
import { throwsLabInput } from './input-error.js';
import { ALL_SETS, hex, type MilenageSet } from './milenage-vectors.js';

const sqnOf = (set: MilenageSet): number => hex(set.sqn).readUIntBE(0, 6);
const keysOf = (set: MilenageSet) => ({ k: hex(set.k), opc: hex(set.opc) });

function xorHex(a: string, b: string): string {
  const x = hex(a);
  const y = hex(b);
  return Buffer.from(x.map((v, i) => v ^ y[i]!)).toString('hex');
}

function expectOk(result: ChallengeResult): Extract<ChallengeResult, { ok: true }> {
  if (!result.ok) throw new Error(`expected the challenge to be accepted, got ${result.reason}`);
  return result;
}

for (const set of ALL_SETS) {
  test(`${set.name}: the vector carries AUTN = (SQN xor f5) || AMF || f1 and f2, f3, f4 (TS 33.102 §6.3.2)`, () => {
    const v = generateVector({ ...keysOf(set), sqn: sqnOf(set), amf: hex(set.amf), rand: hex(set.rand) });
    assert.is(v.rand.toString('hex'), set.rand);
    assert.is(v.autn.toString('hex'), xorHex(set.sqn, set.f5) + set.amf + set.f1);
    assert.is(v.xres.toString('hex'), set.f2);
    assert.is(v.ck.toString('hex'), set.f3);
    assert.is(v.ik.toString('hex'), set.f4);
    assert.is(v.ak.toString('hex'), set.f5);
  });

  test(`${set.name}: the UE accepts the vector and finds the same RES, CK, IK and SQN`, () => {
    const v = generateVector({ ...keysOf(set), sqn: sqnOf(set), amf: hex(set.amf), rand: hex(set.rand) });
    const r = expectOk(respond({ ...keysOf(set), rand: v.rand, autn: v.autn, sqnMs: sqnOf(set) - 1 }));
    assert.equal(r.res, v.xres);
    assert.equal(r.ck, v.ck);
    assert.equal(r.ik, v.ik);
    assert.is(r.sqn, sqnOf(set));
  });

  test(`${set.name}: a stale SQN gives AUTS = (SQN_MS xor f5*) || MAC-S, and resync recovers SQN_MS`, () => {
    const v = generateVector({ ...keysOf(set), sqn: sqnOf(set), amf: hex(set.amf), rand: hex(set.rand) });
    for (const sqnMs of [sqnOf(set), Math.min(sqnOf(set) + 1000, SQN_MAX)]) {
      const r = respond({ ...keysOf(set), rand: v.rand, autn: v.autn, sqnMs });
      if (r.ok || r.reason !== 'sync-failure') throw new Error(`expected a synchronisation failure for SQN_MS ${sqnMs}`);
      const sqnMsBytes = Buffer.alloc(6);
      sqnMsBytes.writeUIntBE(sqnMs, 0, 6);
      assert.is(r.auts.subarray(0, 6).toString('hex'), xorHex(sqnMsBytes.toString('hex'), set.f5star));
      assert.equal(resync({ ...keysOf(set), rand: v.rand, auts: r.auts }), { ok: true, sqnMs });
    }
  });
}

// wmnsk/milenage, milenage_test.go: K = OP = RAND = 00112233..ff, SQN = 1, AMF = 8000, with the
// AUTN it expects and the AUTS it expects for SQN_MS = 1.
const WMNSK = {
  k: hex('00112233445566778899aabbccddeeff'),
  op: hex('00112233445566778899aabbccddeeff'),
  rand: hex('00112233445566778899aabbccddeeff'),
  opc: hex('62e75b8d6fa5bf46ec87a9276f9df54d'),
  autn: 'de656c8b0bcf80004af30b82a8531115',
  res: '700eb2300b2c4799',
  ck: 'b379874b3d183d2a21291d439e7761e1',
  ik: 'f4706f66629cf7ddf881d80025bf1255',
  ak: 'de656c8b0bce',
  auts: 'b9ac50c48a82cdf74673bc86e7ab',
};

test('wmnsk/milenage vector: AUTN, RES, CK, IK and AK for SQN 1', () => {
  const v = generateVector({ k: WMNSK.k, opc: WMNSK.opc, sqn: 1, amf: hex('8000'), rand: WMNSK.rand });
  assert.is(v.autn.toString('hex'), WMNSK.autn);
  assert.is(v.xres.toString('hex'), WMNSK.res);
  assert.is(v.ck.toString('hex'), WMNSK.ck);
  assert.is(v.ik.toString('hex'), WMNSK.ik);
  assert.is(v.ak.toString('hex'), WMNSK.ak);
});

test('wmnsk/milenage vector: the AUTS for SQN_MS 1, and resync of it', () => {
  const r = respond({ k: WMNSK.k, opc: WMNSK.opc, rand: WMNSK.rand, autn: hex(WMNSK.autn), sqnMs: 1 });
  if (r.ok || r.reason !== 'sync-failure') throw new Error('expected a synchronisation failure');
  assert.is(r.auts.toString('hex'), WMNSK.auts);
  assert.equal(resync({ k: WMNSK.k, opc: WMNSK.opc, rand: WMNSK.rand, auts: hex(WMNSK.auts) }), { ok: true, sqnMs: 1 });
});

// free5gc/milenage, milenage_test.go (TestRAND) expects this AUTN from TS 35.208 test set 19.
test('free5gc/milenage vector: AUTN of test set 19', () => {
  const set = ALL_SETS.find((s) => s.name === 'TS 35.208 test set 19')!;
  const v = generateVector({ ...keysOf(set), sqn: sqnOf(set), amf: hex(set.amf), rand: hex(set.rand) });
  assert.is(v.autn.toString('hex'), 'bb52e91c747ac3ab2a5c23d15ee351d5');
});

const SET = ALL_SETS[0]!;
const VECTOR = generateVector({ ...keysOf(SET), sqn: 0x20, amf: hex('8000'), rand: hex(SET.rand) });

test('flipping any one of the 128 bits of AUTN is a MAC failure', () => {
  for (let bit = 0; bit < 128; bit++) {
    const autn = Buffer.from(VECTOR.autn);
    autn[bit >> 3]! ^= 0x80 >> (bit & 7);
    assert.equal(respond({ ...keysOf(SET), rand: VECTOR.rand, autn }), { ok: false, reason: 'mac-failure' }, `bit ${bit}`);
  }
});

test('a challenge for another subscriber, or with another RAND, is a MAC failure', () => {
  const other = ALL_SETS[1]!;
  assert.equal(respond({ ...keysOf(other), rand: VECTOR.rand, autn: VECTOR.autn }), { ok: false, reason: 'mac-failure' });
  assert.equal(respond({ k: hex(SET.k), opc: hex(other.opc), rand: VECTOR.rand, autn: VECTOR.autn }), { ok: false, reason: 'mac-failure' });
  assert.equal(respond({ ...keysOf(SET), rand: hex(other.rand), autn: VECTOR.autn }), { ok: false, reason: 'mac-failure' });
});

test('a MAC failure wins over a stale SQN: no AUTS is sent for a challenge that did not verify', () => {
  const autn = Buffer.from(VECTOR.autn);
  autn[15]! ^= 1;
  assert.equal(respond({ ...keysOf(SET), rand: VECTOR.rand, autn, sqnMs: SQN_MAX }), { ok: false, reason: 'mac-failure' });
});

test('without SQN_MS every SQN is accepted, including 0 and 2^48 - 1', () => {
  for (const sqn of [0, 1, SQN_MAX]) {
    const v = generateVector({ ...keysOf(SET), sqn, amf: hex('0000') });
    assert.is(expectOk(respond({ ...keysOf(SET), rand: v.rand, autn: v.autn })).sqn, sqn);
  }
});

test('resync refuses an AUTS with any bit flipped, or checked against another RAND', () => {
  const r = respond({ ...keysOf(SET), rand: VECTOR.rand, autn: VECTOR.autn, sqnMs: 0x40 });
  if (r.ok || r.reason !== 'sync-failure') throw new Error('expected a synchronisation failure');
  for (let bit = 0; bit < 112; bit++) {
    const auts = Buffer.from(r.auts);
    auts[bit >> 3]! ^= 0x80 >> (bit & 7);
    assert.equal(resync({ ...keysOf(SET), rand: VECTOR.rand, auts }), { ok: false, reason: 'mac-failure' }, `bit ${bit}`);
  }
  assert.equal(resync({ ...keysOf(SET), rand: hex(ALL_SETS[1]!.rand), auts: r.auts }), { ok: false, reason: 'mac-failure' });
});

test('generateVector draws a fresh 16-byte RAND when none is given', () => {
  const a = generateVector({ ...keysOf(SET), sqn: 1, amf: hex('8000') });
  const b = generateVector({ ...keysOf(SET), sqn: 1, amf: hex('8000') });
  assert.is(a.rand.length, 16);
  assert.not.equal(a.rand, b.rand);
  assert.not.equal(a.autn, b.autn);
});

test('bad SQN values and byte strings are refused with typed errors', () => {
  const base = { ...keysOf(SET), amf: hex('8000') };
  for (const sqn of [-1, SQN_MAX + 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    throwsLabInput(() => generateVector({ ...base, sqn }), 'ERR_LAB_SQN', 'SQN');
    throwsLabInput(() => respond({ ...keysOf(SET), rand: VECTOR.rand, autn: VECTOR.autn, sqnMs: sqn }), 'ERR_LAB_SQN', 'SQN_MS');
  }
  throwsLabInput(() => generateVector({ ...base, sqn: 1, amf: hex('80') }), 'ERR_LAB_LENGTH', 'AMF');
  throwsLabInput(() => generateVector({ ...base, sqn: 1, rand: hex('00') }), 'ERR_LAB_LENGTH', 'RAND');
  throwsLabInput(() => generateVector({ ...base, sqn: 1, k: hex('00') }), 'ERR_LAB_LENGTH', 'K');
  throwsLabInput(() => respond({ ...keysOf(SET), rand: VECTOR.rand, autn: VECTOR.autn.subarray(1) }), 'ERR_LAB_LENGTH', 'AUTN');
  throwsLabInput(() => resync({ ...keysOf(SET), rand: VECTOR.rand, auts: Buffer.alloc(16) }), 'ERR_LAB_LENGTH', 'AUTS');
});

// RFC 3310 §3.2: nonce = base64(RAND || AUTN || server data). The expected strings are the
// RFC 4648 base64 of octets 0x00..0x1f (and of 0xff 0xfe 0xfd after them).
const RAND_0_15 = Buffer.from(Array.from({ length: 16 }, (_, i) => i));
const AUTN_16_31 = Buffer.from(Array.from({ length: 16 }, (_, i) => 16 + i));

test('makeNonce is base64(RAND || AUTN), with server data appended when given', () => {
  assert.is(makeNonce(RAND_0_15, AUTN_16_31), 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=');
  assert.is(makeNonce(RAND_0_15, AUTN_16_31, hex('fffefd')), 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh///v0=');
});

test('parseNonce splits RAND, AUTN and server data, with or without padding', () => {
  for (const nonce of ['AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=', 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8']) {
    const parts = parseNonce(nonce);
    assert.equal(parts.rand, RAND_0_15);
    assert.equal(parts.autn, AUTN_16_31);
    assert.is(parts.serverData.length, 0);
  }
  assert.equal(parseNonce('AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh///v0=').serverData, hex('fffefd'));
});

test('a vector survives the nonce: the UE answers what the network put in it', () => {
  const parts = parseNonce(makeNonce(VECTOR.rand, VECTOR.autn, Buffer.from('srv')));
  const r = expectOk(respond({ ...keysOf(SET), rand: parts.rand, autn: parts.autn }));
  assert.equal(r.res, VECTOR.xres);
  assert.is(parts.serverData.toString(), 'srv');
});

test('parseNonce refuses what is not base64(RAND || AUTN ...)', () => {
  const good = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
  for (const bad of [good.slice(0, 40), '', good.replace('A', '*'), good.replace('A', ' '), `${good}=`, good.replace('h8=', 'h9=')]) {
    throwsLabInput(() => parseNonce(bad), 'ERR_LAB_ENCODING', 'nonce');
  }
  throwsLabInput(() => parseNonce(42 as unknown as string), 'ERR_LAB_ENCODING', 'nonce');
});

test('the auts parameter is base64(AUTS) and decodes back to its 14 octets (RFC 3310 §3.4)', () => {
  // base64 (RFC 4648) of the wmnsk/milenage AUTS above.
  assert.is(encodeAuts(hex(WMNSK.auts)), 'uaxQxIqCzfdGc7yG56s=');
  assert.is(parseAuts('uaxQxIqCzfdGc7yG56s=').toString('hex'), WMNSK.auts);
  assert.is(parseAuts('uaxQxIqCzfdGc7yG56s').toString('hex'), WMNSK.auts);
  throwsLabInput(() => parseAuts('uaxQxIqCzfdGc7yG'), 'ERR_LAB_ENCODING', 'auts');
  throwsLabInput(() => parseAuts('uaxQxIqCzfdGc7yG56s!'), 'ERR_LAB_ENCODING', 'auts');
  throwsLabInput(() => encodeAuts(Buffer.alloc(13)), 'ERR_LAB_LENGTH', 'AUTS');
});

test.run();
