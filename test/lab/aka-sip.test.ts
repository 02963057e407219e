// The IMS AKA Digest headers of the lab: the S-CSCF's challenge as the P-CSCF reads it, the UE's
// credentials as the S-CSCF reads them, and the response they carry against digest.ts.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateVector, makeNonce, parseNonce } from '../../src/lab/aka.js';
import { challengeValue, credentialsValue, readChallenge, readCredentials } from '../../src/lab/aka-sip.js';
import { digestResponse } from '../../src/lab/digest.js';
import { extractAkaKeys, KeyError } from '../../src/secagree/index.js';
import { parseMessage } from '../../src/sip/index.js';
import { K, OPC } from './world.js';

const keys = { k: Buffer.from(K, 'hex'), opc: Buffer.from(OPC, 'hex') };
const vector = generateVector({ ...keys, sqn: 5, amf: Buffer.from('8000', 'hex') });
const nonce = makeNonce(vector.rand, vector.autn);

function message(startLine: string, headers: string[]): ReturnType<typeof parseMessage> {
  const head = [startLine, 'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx', 'From: <sip:a@x>;tag=1', 'To: <sip:a@x>', 'Call-ID: c', 'CSeq: 1 REGISTER', ...headers, 'Content-Length: 0', '', ''];
  return parseMessage(Buffer.from(head.join('\r\n'), 'latin1'));
}

test('the challenge has realm, nonce, algorithm=AKAv1-MD5, qop="auth" and ck / ik as 32 quoted hex digits (TS 24.229 §7.2A.1)', () => {
  const v = challengeValue({ realm: 'ims.example', nonce, ck: vector.ck, ik: vector.ik });
  assert.is(v, `Digest realm="ims.example", nonce="${nonce}", algorithm=AKAv1-MD5, qop="auth", ck="${vector.ck.toString('hex')}", ik="${vector.ik.toString('hex')}"`);
  assert.match(v, /ck="[0-9a-f]{32}", ik="[0-9a-f]{32}"$/);
});

test('the P-CSCF\'s reader finds the same CK and IK, and strips them leaving the UE\'s challenge', () => {
  const v = challengeValue({ realm: 'ims.example', nonce, ck: vector.ck, ik: vector.ik });
  const found = extractAkaKeys(v);
  if (found instanceof KeyError) throw new Error(found.message);
  assert.equal([found.ck, found.ik], [vector.ck, vector.ik]);
  const ue = readChallenge(message('SIP/2.0 401 Unauthorized', [`WWW-Authenticate: ${found.stripped}`]));
  assert.equal(ue, { realm: 'ims.example', nonce, qopAuth: true });
  const { rand, autn } = parseNonce(ue!.nonce);
  assert.equal([rand, autn], [vector.rand, vector.autn]);
});

test('readChallenge skips challenges that are not AKAv1-MD5 Digest with a nonce and realm', () => {
  assert.is(readChallenge(message('SIP/2.0 401 Unauthorized', ['WWW-Authenticate: Digest realm="r", nonce="n", algorithm=MD5'])), undefined);
  assert.is(readChallenge(message('SIP/2.0 401 Unauthorized', ['WWW-Authenticate: Digest realm="r", algorithm=AKAv1-MD5'])), undefined);
  assert.is(readChallenge(message('SIP/2.0 401 Unauthorized', [])), undefined);
  assert.equal(readChallenge(message('SIP/2.0 401 Unauthorized', ['WWW-Authenticate: Basic realm="x"', 'WWW-Authenticate: Digest realm="r", nonce="n", algorithm=akav1-md5'])), { realm: 'r', nonce: 'n', qopAuth: false });
});

test('credentials round-trip: what the UE writes the S-CSCF reads, and the response verifies with RES as the password', () => {
  const base = { username: 'alice@ims.example', realm: 'ims.example', uri: 'sip:ims.example', nonce, algorithm: 'AKAv1-MD5', qop: 'auth', nc: '00000001', cnonce: 'abcdef' } as const;
  const response = digestResponse({ ...base, password: vector.xres, method: 'REGISTER' });
  const v = credentialsValue({ ...base, response });
  const read = readCredentials(message('REGISTER sip:ims.example SIP/2.0', [`Authorization: ${v}, integrity-protected="yes"`]));
  assert.equal(read, { ...base, response, integrityProtected: 'yes' });
  assert.is(digestResponse({ ...base, password: vector.xres, method: 'REGISTER' }), read!.response);
  // The first REGISTER: empty nonce and response (TS 24.229 §5.1.1.2.1).
  const empty = credentialsValue({ username: 'alice@ims.example', realm: 'ims.example', uri: 'sip:ims.example', nonce: '', response: '' });
  assert.is(empty, 'Digest username="alice@ims.example", realm="ims.example", uri="sip:ims.example", nonce="", response=""');
  assert.equal(readCredentials(message('REGISTER sip:ims.example SIP/2.0', [`Authorization: ${empty}`])), { username: 'alice@ims.example', realm: 'ims.example', uri: 'sip:ims.example', nonce: '', response: '' });
  assert.is(readCredentials(message('REGISTER sip:ims.example SIP/2.0', [])), undefined);
});

test.run();
