// The IMS corpus (test/sip/corpus/*.sip): real-looking messages of a registration and of calls and
// messages to and from a UE, each edited the way the P-CSCF will edit it and compared byte for byte
// with the expected file (<name>.<edit>.sip). Also: what the accessors read from them.

import { readdirSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type MessageEditor, type SipMessage, authParam, parseMessage, parseUri } from '../../src/sip/index.js';
import { CORPUS_DIR, corpus, sameBytes } from './support.js';

const PCSCF_VIA = 'SIP/2.0/UDP pcscf.ims.example.net:5060;branch=';
const PATH = '<sip:term@pcscf.ims.example.net:5060;lr>';
const RR_MO = '<sip:mo@pcscf.ims.example.net:6100;lr>';
const RR_MT = '<sip:mt@pcscf.ims.example.net:6100;lr>';
const SECURITY_SERVER = 'ipsec-3gpp;q=0.1;prot=esp;mod=trans;spi-c=1001;spi-s=1002;port-c=5100;port-s=6100;alg=hmac-sha-1-96;ealg=aes-cbc';

const load = (name: string): SipMessage => parseMessage(corpus(name));

/** Removes the sec-agree option tag from Require and Proxy-Require (a header left empty disappears). */
function removeSecAgree(m: SipMessage, ed: MessageEditor): void {
  for (const v of [...m.values('require'), ...m.values('proxy-require')]) {
    if (v.text.toLowerCase() === 'sec-agree') ed.removeValue(v);
  }
}

/** Edit 1: REGISTER from the UE towards the registrar (RFC 3581, RFC 3327, TS 24.229 §5.2.2). */
function registerToRegistrar(name: string, received: string, branch: string, integrity: 'yes' | 'no'): Buffer {
  const m = load(name);
  const ed = m.edit();
  ed.addViaParams(received);
  ed.prependVia(PCSCF_VIA + branch);
  ed.decrementMaxForwards();
  ed.addHeader('Path', PATH);
  ed.addHeader('Require', 'path');
  removeSecAgree(m, ed);
  for (const f of [...m.fields('security-client'), ...m.fields('security-verify')]) ed.removeField(f);
  ed.appendToField(m.first('authorization')!, `,integrity-protected="${integrity}"`);
  return ed.serialize();
}

/** Edit 2: a 401 from the registrar towards the UE. */
function challengeToUe(name: string, securityServer: string): Buffer {
  const m = load(name);
  const ed = m.edit();
  ed.removeTopVia();
  ed.addHeader('Supported', 'sec-agree');
  ed.addHeader('Security-Server', securityServer);
  ed.removeAuthParams(m.first('www-authenticate')!, ['ck', 'ik']);
  return ed.serialize();
}

/** Edit 5: any response, the P-CSCF's Via removed. */
function responseOnward(name: string): Buffer {
  const ed = load(name).edit();
  ed.removeTopVia();
  return ed.serialize();
}

test('every corpus message parses and serializes unchanged without edits', () => {
  const files = readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.sip'));
  assert.ok(files.length >= 28, `${files.length} corpus files`);
  for (const f of files) {
    const bytes = corpus(f.slice(0, -4));
    assert.ok(bytes.includes('\r\n\r\n') && !/[^\r]\n/.test(bytes.toString('latin1').slice(0, bytes.indexOf('\r\n\r\n'))), `${f} has CRLF line ends`);
    sameBytes(parseMessage(bytes).edit().serialize(), bytes, f);
  }
});

test('initial REGISTER: what the P-CSCF reads', () => {
  const m = load('register-initial');
  assert.is(m.topVia().host, '[2001:db8:1::a]');
  assert.is(m.topVia().hostKind, 'ipv6');
  assert.is(m.topVia().port, 5060);
  assert.is(m.topVia().rport, null);
  assert.is(m.from().tag, '2493786103');
  assert.is(m.to().tag, undefined);
  assert.is(m.callId(), '3c26700e7b3c1d0a@2001:db8:1::a');
  assert.equal(m.cseq(), { seq: 1, method: 'REGISTER' });
  assert.is(m.expires(), 600000);
  const contacts = m.contacts();
  assert.ok(contacts !== '*');
  assert.is(contacts[0]!.expires, 600000);
  assert.is(contacts[0]!.instance, 'urn:gsma:imei:35693803-564889-0');
  const uri = parseUri(contacts[0]!.uri);
  assert.ok('host' in uri && uri.host === '[2001:db8:1::a]' && uri.port === 5060);
  const offers = m.values('security-client').map((v) => v.text);
  assert.equal(offers, [
    'ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=3929102;spi-s=3929103;port-c=43572;port-s=5103',
    'ipsec-3gpp;alg=hmac-md5-96;ealg=null;prot=esp;mod=trans;spi-c=3929102;spi-s=3929103;port-c=43572;port-s=5103',
  ]);
  assert.equal(m.optionTags('require'), ['sec-agree']);
  assert.equal(m.optionTags('supported'), ['path', 'gruu', 'sec-agree']);
  const [auth] = m.credentials('authorization');
  assert.is(auth!.scheme, 'Digest');
  assert.is(authParam(auth!, 'nonce')!.value, '');
  assert.is(authParam(auth!, 'USERNAME')!.value, '001010000123511@ims.example.net');
});

test('edit 1: initial REGISTER to the registrar', () => {
  sameBytes(registerToRegistrar('register-initial', ';received=2001:db8:1::a;rport=5060', 'z9hG4bKpc1a2b3c', 'no'),
    corpus('register-initial.to-registrar'));
});

test('edit 1: protected REGISTER to the registrar', () => {
  sameBytes(registerToRegistrar('register-protected', ';received=2001:db8:1::a;rport=43572', 'z9hG4bKpc1a2b3d', 'yes'),
    corpus('register-protected.to-registrar'));
});

test('edit 1: re-REGISTER in compact forms to the registrar', () => {
  sameBytes(registerToRegistrar('reregister', ';received=2001:db8:1::a;rport=43572', 'z9hG4bKpc1a2b3e', 'yes'),
    corpus('reregister.to-registrar'));
});

test('edit 1: de-REGISTER with a folded Security-Verify to the registrar', () => {
  const m = load('deregister');
  assert.is(m.expires(), 0);
  const contacts = m.contacts();
  assert.ok(contacts !== '*' && contacts[0]!.expires === 0);
  assert.is(m.first('security-verify')!.value,
    'ipsec-3gpp;q=0.1;prot=esp;mod=trans;spi-c=1003;spi-s=1004; port-c=5101;port-s=6100;alg=hmac-sha-1-96;ealg=aes-cbc');
  sameBytes(registerToRegistrar('deregister', ';received=2001:db8:1::a;rport=43572', 'z9hG4bKpc1a2b3f', 'yes'),
    corpus('deregister.to-registrar'));
});

test('401: ck and ik read from their offsets', () => {
  const m = load('register-401');
  const [challenge] = m.challenges('www-authenticate');
  assert.is(challenge!.scheme, 'Digest');
  assert.equal(challenge!.params.map((p) => p.name), ['realm', 'nonce', 'qop', 'algorithm', 'ck', 'ik']);
  const ck = authParam(challenge!, 'ck')!;
  assert.is(ck.value, '0a1b2c3d4e5f60718293a4b5c6d7e8f9');
  assert.ok(ck.quoted);
  assert.is(m.head.slice(ck.start, ck.end), 'ck="0a1b2c3d4e5f60718293a4b5c6d7e8f9"');
  assert.is(authParam(challenge!, 'algorithm')!.quoted, false);
});

test('edit 2: 401 to the UE (ck/ik last)', () => {
  sameBytes(challengeToUe('register-401', SECURITY_SERVER), corpus('register-401.to-ue'));
});

test('edit 2: 401 to the UE (folded WWW-Authenticate, ck/ik in the middle)', () => {
  const m = load('reregister-401');
  const ik = authParam(m.challenges('www-authenticate')[0]!, 'ik')!;
  assert.is(m.head.slice(ik.start, ik.end), 'ik="ffeeddccbbaa99887766554433221100"');
  sameBytes(challengeToUe('reregister-401',
    'ipsec-3gpp;q=0.1;prot=esp;mod=trans;spi-c=1003;spi-s=1004;port-c=5101;port-s=6100;alg=hmac-sha-1-96;ealg=aes-cbc'),
  corpus('reregister-401.to-ue'));
});

test('200 OK to REGISTER: Service-Route, P-Associated-URI, Path, Contact', () => {
  const m = load('register-200');
  assert.equal(m.serviceRoutes().map((r) => r.uri), ['sip:orig@scscf.ims.example.net:6060;lr']);
  assert.equal(m.paths().map((r) => r.uri), ['sip:term@pcscf.ims.example.net:5060;lr']);
  assert.equal(m.values('p-associated-uri').map((v) => v.text),
    ['<sip:001010000123511@ims.example.net>', '<tel:+15551234567>', '<sip:+15551234567@ims.example.net;user=phone>']);
  const contacts = m.contacts();
  assert.ok(contacts !== '*');
  assert.is(contacts[0]!.expires, 600000);
  assert.equal(m.vias().map((v) => v.host), ['pcscf.ims.example.net', '[2001:db8:1::a]']);
  assert.is(m.vias()[1]!.rport, 43572);
  assert.is(m.vias()[1]!.received, '2001:db8:1::a');
});

test('edit 5: 200 OK to REGISTER, P-CSCF Via first of two on one line', () => {
  sameBytes(responseOnward('register-200'), corpus('register-200.to-ue'));
});

test('edit 3: originating INVITE to the core', () => {
  const m = load('invite-mo');
  const sr = load('register-200').serviceRoutes();
  const ed = m.edit();
  const own = m.values('route')[0]!;
  assert.is(own.text, '<sip:pcscf.ims.example.net:6100;lr>');
  ed.removeValue(own);
  for (const r of sr) ed.addHeader('Route', r.raw, { before: own.field });
  ed.prependVia(`${PCSCF_VIA}z9hG4bKpcmo01`);
  ed.addHeader('Record-Route', RR_MO, { top: true });
  ed.decrementMaxForwards();
  ed.removeField(m.first('security-verify')!);
  removeSecAgree(m, ed);
  sameBytes(ed.serialize(), corpus('invite-mo.to-core'));
});

test('edit 3: originating MESSAGE (own Route first of two on a line, binary body)', () => {
  const m = load('message-mo');
  assert.is(m.body.length, 40);
  assert.is(m.body[m.body.length - 1], 0xc3);
  const ed = m.edit();
  ed.removeValue(m.values('route')[0]!);
  ed.prependVia(`${PCSCF_VIA}z9hG4bKpcmo02`);
  ed.addHeader('Record-Route', RR_MO, { top: true });
  ed.decrementMaxForwards();
  ed.removeField(m.first('security-verify')!);
  removeSecAgree(m, ed);
  sameBytes(ed.serialize(), corpus('message-mo.to-core'));
});

test('edit 4: terminating INVITE to the UE', () => {
  const m = load('invite-mt');
  assert.equal(m.routes().map((r) => r.uri), ['sip:term@pcscf.ims.example.net:5060;lr']);
  assert.is(m.values('p-asserted-identity').length, 2);
  const ed = m.edit();
  ed.removeValue(m.values('route')[0]!);
  ed.addHeader('Record-Route', RR_MT, { before: m.first('record-route')! });
  ed.prependVia('SIP/2.0/UDP pcscf.ims.example.net:6100;branch=z9hG4bKpcmt01');
  ed.decrementMaxForwards();
  sameBytes(ed.serialize(), corpus('invite-mt.to-ue'));
});

test('edit 4: terminating MESSAGE to the UE (no Record-Route yet)', () => {
  const m = load('message-mt');
  const ed = m.edit();
  ed.removeValue(m.values('route')[0]!);
  ed.addHeader('Record-Route', RR_MT);
  ed.prependVia('SIP/2.0/UDP pcscf.ims.example.net:6100;branch=z9hG4bKpcmt02');
  ed.decrementMaxForwards();
  sameBytes(ed.serialize(), corpus('message-mt.to-ue'));
});

test('edit 5: responses lose the top Via value', () => {
  sameBytes(responseOnward('invite-mo-180'), corpus('invite-mo-180.to-ue'));
  sameBytes(responseOnward('invite-mo-200'), corpus('invite-mo-200.to-ue'));
  sameBytes(responseOnward('message-mt-200'), corpus('message-mt-200.to-core'));
});

test.run();
