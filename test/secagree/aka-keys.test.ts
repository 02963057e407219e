import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { KeyError, extractAkaKeys } from '../../src/secagree/index.js';
import type { AkaKeys } from '../../src/secagree/index.js';

const CK = '0123456789abcdef0123456789ABCDEF';
const IK = 'fedcba9876543210fedcba9876543210';

function keys(value: string): AkaKeys {
  const r = extractAkaKeys(value);
  if (r instanceof KeyError) assert.unreachable(r.message);
  return r as AkaKeys;
}

function error(value: string, code: string): KeyError {
  const r = extractAkaKeys(value);
  assert.instance(r, KeyError, value);
  assert.is((r as KeyError).code, code, value);
  return r as KeyError;
}

test('the brief\'s example: keys decoded, params and separators removed, other bytes kept', () => {
  const k = keys(`Digest realm="a", ck="${CK}", nonce="b", ik="${IK}"`);
  assert.is(k.stripped, 'Digest realm="a", nonce="b"');
  assert.is(k.ck.toString('hex'), CK.toLowerCase());
  assert.is(k.ik.toString('hex'), IK);
  assert.is(k.challenge, 0);
});

test('a real S-CSCF challenge keeps its spacing, quoting and parameter order', () => {
  const value = `Digest realm="ims.mnc001.mcc001.3gppnetwork.org",nonce="Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MDEyMzQ1Ng==",algorithm=AKAv1-MD5,qop="auth,auth-int",ck="${CK}",ik="${IK}"`;
  assert.is(keys(value).stripped,
    'Digest realm="ims.mnc001.mcc001.3gppnetwork.org",nonce="Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MDEyMzQ1Ng==",algorithm=AKAv1-MD5,qop="auth,auth-int"');
});

test('keys in first, middle or last place and next to each other', () => {
  const cases: [string, string][] = [
    [`Digest ck="${CK}", ik="${IK}", realm="a"`, 'Digest realm="a"'],
    [`Digest realm="a", ck="${CK}", ik="${IK}"`, 'Digest realm="a"'],
    [`Digest realm="a",  ik="${IK}" ,ck="${CK}" , nonce="n"`, 'Digest realm="a",  nonce="n"'],
    [`Digest ck="${CK}", ik="${IK}"`, 'Digest'],
    [`Digest realm="a",\r\n ck="${CK}",\r\n ik="${IK}",\r\n nonce="n"`, 'Digest realm="a",\r\n nonce="n"'],
  ];
  for (const [value, stripped] of cases) assert.is(keys(value).stripped, stripped, value);
});

test('names compare case-insensitively; unquoted keys are accepted (auth-param allows a token)', () => {
  const k = keys(`Digest CK=${CK}, Ik = ${IK}, realm=r`);
  assert.is(k.stripped, 'Digest realm=r');
  assert.is(k.ik.length, 16);
});

test('ck= inside another parameter\'s quoted value is not a key and is not touched', () => {
  const value = `Digest realm="x, ck=\\"${IK}\\", y", ck="${CK}", opaque="ik=${CK}", ik="${IK}"`;
  const k = keys(value);
  assert.is(k.ck.toString('hex'), CK.toLowerCase());
  assert.is(k.ik.toString('hex'), IK);
  assert.is(k.stripped, `Digest realm="x, ck=\\"${IK}\\", y", opaque="ik=${CK}"`);
});

test('parameters that only start with ck / ik are not keys', () => {
  const k = keys(`Digest ckx="1", ick="2", ck="${CK}", ik="${IK}"`);
  assert.is(k.stripped, 'Digest ckx="1", ick="2"');
});

test('several challenges: keys found in the one that has them; the other challenges keep every byte', () => {
  const value = `Digest realm="a", nonce="1", algorithm=MD5, Digest realm="b", ck="${CK}", ik="${IK}", nonce="2", Basic realm="c"`;
  const k = keys(value);
  assert.is(k.challenge, 1);
  assert.is(k.stripped, 'Digest realm="a", nonce="1", algorithm=MD5, Digest realm="b", nonce="2", Basic realm="c"');
  const last = keys(`Digest realm="a", ck="${CK}", ik="${IK}", Digest realm="b"`);
  assert.is(last.stripped, 'Digest realm="a", Digest realm="b"');
  const onlyKeys = keys(`Digest ck="${CK}", ik="${IK}", Digest realm="b"`);
  assert.is(onlyKeys.stripped, 'Digest, Digest realm="b"');
  assert.is(keys(`Basic dGVzdA==, Digest ck="${CK}", ik="${IK}"`).stripped, 'Basic dGVzdA==, Digest');
});

test('missing keys', () => {
  const noKeys = error('Digest realm="a", nonce="b"', 'AKA_CK_MISSING');
  assert.is(noKeys.stripped, 'Digest realm="a", nonce="b"');
  assert.is(error(`Digest realm="a", ik="${IK}"`, 'AKA_CK_MISSING').challenge, 0);
  const noIk = error(`Digest realm="a", nonce="b", Digest ck="${CK}"`, 'AKA_IK_MISSING');
  assert.is(noIk.challenge, 1);
  assert.is(noIk.param, 'ik');
});

test('duplicate and split keys, with the challenge they are in', () => {
  let e = error(`Digest ck="${CK}", ik="${IK}", ck="${CK}"`, 'AKA_KEY_DUPLICATE');
  assert.equal([e.param, e.challenge], ['ck', 0]);
  e = error(`Digest ck="${CK}", ik="${IK}", Digest ik="${IK}"`, 'AKA_KEY_DUPLICATE');
  assert.equal([e.param, e.challenge], ['ik', 1]);
  e = error(`Digest ck="${CK}", Digest ik="${IK}"`, 'AKA_KEYS_SPLIT');
  assert.is(e.challenge, 1);
});

test('keys that are not 32 hex digits', () => {
  let e = error(`Digest ck="${CK.slice(0, 31)}g", ik="${IK}"`, 'AKA_KEY_NOT_HEX');
  assert.is(e.param, 'ck');
  e = error(`Digest ck="${CK}", ik="${IK} "`, 'AKA_KEY_NOT_HEX');
  assert.is(e.param, 'ik');
  error(`Digest ck="${CK}0", ik="${IK}"`, 'AKA_KEY_LENGTH');
  error(`Digest ck="${CK}", ik="${IK.slice(2)}"`, 'AKA_KEY_LENGTH');
  e = error(`Digest ck="", ik="${IK}"`, 'AKA_KEY_LENGTH');
  // the error text never carries key material, and the keys are gone from what is kept
  assert.not.match(e.message, IK);
  assert.is(e.stripped, 'Digest');
});

test('unreadable values are AKA_BAD_SYNTAX without a stripped value', () => {
  for (const value of ['', '   ', 'realm="a"', 'Digest realm="a', 'Digest realm="a", =x', 'Digest realm="a" nonce="b"', 'Digest"x"', 'Digest realm=@', 'Digest foo bar=1', 'Digest realm="a" Basic']) {
    const e = error(value, 'AKA_BAD_SYNTAX');
    assert.is(e.stripped, null, value);
  }
});

test('empty list elements are skipped (RFC 7230 §7)', () => {
  assert.is(keys(`Digest realm="a",, ck="${CK}", ik="${IK}"`).stripped, 'Digest realm="a"');
});

test.run();
