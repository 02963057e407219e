import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeAuts, generateVector, makeNonce, parseAuts, parseNonce, respond, resync } from '../../src/lab/aka.js';
import { digestResponse, type DigestInput } from '../../src/lab/digest.js';
import { throwsLabInput } from './input-error.js';
import { ALL_SETS, hex } from './milenage-vectors.js';

// RFC 2617 §3.5, the example with qop=auth.
test('RFC 2617 §3.5 example (MD5, qop=auth)', () => {
  assert.is(digestResponse({
    username: 'Mufasa', realm: 'testrealm@host.com', password: Buffer.from('Circle Of Life'),
    method: 'GET', uri: '/dir/index.html', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
    qop: 'auth', nc: '00000001', cnonce: '0a4f113b',
  }), '6629fae49393a05397450978507c4ef1');
});

// RFC 2069 §2.4, the example without qop, with the response its erratum corrects it to
// (RFC Editor errata for RFC 2069; the value several public digest test suites check).
test('RFC 2069 §2.4 example as corrected by its erratum (MD5, no qop)', () => {
  assert.is(digestResponse({
    username: 'Mufasa', realm: 'testrealm@host.com', password: Buffer.from('CircleOfLife'),
    method: 'GET', uri: '/dir/index.html', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
  }), '1949323746fe6a43ef61f9606e7febea');
});

// frankurcrazy/helloworld, ims/akav1-md5/test_vector_1.h: an AKAv1-MD5 REGISTER with
// response="c76c2c281a21c0d6131e667d61a6bdf5". That vector runs the test algorithm of
// TS 34.108 §8.1.2 (XDOUT = K xor RAND) rather than MILENAGE, with K = 000102..0f and RAND, SQN,
// AMF all zero; so RES = XDOUT = K (16 octets), AK = XDOUT octets 3..8 and MAC-A = XDOUT octets
// 0..7 xor (SQN || AMF), which gives the AUTN below. The published response checks both RFC 3310
// rules at once: nonce = base64(RAND || AUTN), and the password is the raw octets of RES.
test('AKAv1-MD5: published REGISTER response, RES as raw octets and nonce = base64(RAND || AUTN)', () => {
  const rand = Buffer.alloc(16);
  const autn = hex('030405060708' + '0000' + '0001020304050607');
  const res = hex('000102030405060708090a0b0c0d0e0f');
  assert.is(digestResponse({
    username: '466058041131504@ims.mnc005.mcc466.3gppnetwork.org',
    realm: 'ims.mnc005.mcc466.3gppnetwork.org',
    password: res,
    method: 'REGISTER',
    uri: 'sip:ims.mnc005.mcc466.3gppnetwork.org',
    nonce: makeNonce(rand, autn),
    qop: 'auth', nc: '00000001', cnonce: 'YD05duxy',
  }), 'c76c2c281a21c0d6131e667d61a6bdf5');
});

const SET = ALL_SETS[0]!;
const KEYS = { k: hex(SET.k), opc: hex(SET.opc) };
const REQUEST = {
  username: 'user@ims.example.net', realm: 'ims.example.net', method: 'REGISTER', uri: 'sip:ims.example.net',
  qop: 'auth', nc: '00000001', cnonce: '3f9a1c0d',
} as const;

test('IMS AKA registration: the UE response from RES equals what the S-CSCF expects from XRES', () => {
  const vector = generateVector({ ...KEYS, sqn: 5, amf: hex('8000') });
  const nonce = makeNonce(vector.rand, vector.autn);

  const challenge = parseNonce(nonce);
  const answer = respond({ ...KEYS, rand: challenge.rand, autn: challenge.autn, sqnMs: 4 });
  if (!answer.ok) throw new Error(`the UE refused the challenge: ${answer.reason}`);
  const ue = digestResponse({ ...REQUEST, nonce, password: answer.res });

  assert.is(ue, digestResponse({ ...REQUEST, nonce, password: vector.xres }));
  assert.is.not(ue, digestResponse({ ...REQUEST, nonce, password: Buffer.from(vector.xres.toString('hex')) }));
});

test('IMS AKA resynchronisation: AUTS travels as the auts parameter, then a vector above SQN_MS is accepted', () => {
  const stale = generateVector({ ...KEYS, sqn: 7, amf: hex('8000') });
  const staleNonce = makeNonce(stale.rand, stale.autn);
  const answer = respond({ ...KEYS, ...parseNonce(staleNonce), sqnMs: 40 });
  if (answer.ok || answer.reason !== 'sync-failure') throw new Error('expected a synchronisation failure');
  const autsParam = encodeAuts(answer.auts);

  const recovered = resync({ ...KEYS, rand: stale.rand, auts: parseAuts(autsParam) });
  assert.equal(recovered, { ok: true, sqnMs: 40 });

  const fresh = generateVector({ ...KEYS, sqn: 41, amf: hex('8000') });
  const retry = respond({ ...KEYS, rand: fresh.rand, autn: fresh.autn, sqnMs: 40 });
  assert.ok(retry.ok);
});

test('parameters RFC 2617 does not allow together are refused with typed errors', () => {
  const base = { ...REQUEST, nonce: 'abc', password: Buffer.from('x') };
  throwsLabInput(() => digestResponse({ ...base, qop: 'auth-int' } as unknown as DigestInput), 'ERR_LAB_DIGEST_PARAMS', 'qop');
  throwsLabInput(() => digestResponse({ ...base, nc: '1' }), 'ERR_LAB_DIGEST_PARAMS', 'nc');
  throwsLabInput(() => digestResponse({ ...base, nc: '0000000g' }), 'ERR_LAB_DIGEST_PARAMS', 'nc');
  throwsLabInput(() => digestResponse({ ...base, cnonce: '' }), 'ERR_LAB_DIGEST_PARAMS', 'cnonce');
  throwsLabInput(() => digestResponse({ ...base, nc: undefined } as unknown as DigestInput), 'ERR_LAB_DIGEST_PARAMS', 'nc');
  throwsLabInput(() => digestResponse({ ...base, qop: undefined } as unknown as DigestInput), 'ERR_LAB_DIGEST_PARAMS', 'qop');
  throwsLabInput(() => digestResponse({ ...base, password: 'x' } as unknown as DigestInput), 'ERR_LAB_LENGTH', 'password');
  throwsLabInput(() => digestResponse({ ...base, uri: undefined } as unknown as DigestInput), 'ERR_LAB_DIGEST_PARAMS', 'uri');
});

test.run();
