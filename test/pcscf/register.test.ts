// REGISTER through the P-CSCF, byte for byte: the initial REGISTER, the challenge, the REGISTER
// that answers it, the 200 that stores the binding, re- and de-registration, and every way the
// P-CSCF or the registrar refuses one. The contact table is checked after each step.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { decide, removeExpired } from '../../src/pcscf/index.js';
import {
  AOR, CHALLENGE, CORE, INITIAL_REGISTER, T0, UE, authRegister, bindingOf, count, expectForward, expectReply, harness,
  registerAlice, registered, request, response, sip,
} from './fixtures.js';

const UE_VIA = 'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKue1;rport=5060;received=10.45.0.7';
const REGISTER_FLOW = { flow: 'register', ipsec: false };

test('initial REGISTER: Path, Require: path, received/rport, our Via, Max-Forwards, security headers off, integrity-protected="no"; pending binding', () => {
  const h = harness();
  const plan = decide(request(INITIAL_REGISTER, UE), h.ctx);
  assert.is(expectForward(plan, CORE, REGISTER_FLOW), sip([
    'REGISTER sip:ims.example.net SIP/2.0',
    'Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=z9hG4bKpc1',
    UE_VIA,
    'Max-Forwards: 69',
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>',
    'Contact: <sip:alice@10.45.0.7:5060>;+sip.instance="<urn:gsma:imei:35693803-564889-0>";+g.3gpp.smsip;expires=600000',
    'Call-ID: reg@10.45.0.7',
    'CSeq: 1 REGISTER',
    'Expires: 600000',
    'Authorization: Digest username="alice@ims.example.net",realm="ims.example.net",nonce="",uri="sip:ims.example.net",response="", integrity-protected="no"',
    'Supported: path,sec-agree',
    'Content-Length: 0',
    'Path: <sip:term@pcscf.ims.example.net:5060;lr>',
    'Require: path',
  ]));
  assert.is(plan.kind === 'forward' && plan.branch, 'z9hG4bKpc1');
  assert.equal(bindingOf(h), {
    state: 'pending',
    aor: AOR,
    contactUri: '<sip:alice@10.45.0.7:5060>;+sip.instance="<urn:gsma:imei:35693803-564889-0>";+g.3gpp.smsip;expires=600000',
    contactHost: '10.45.0.7',
    contactPort: 5060,
    receivedAddr: '10.45.0.7',
    receivedPort: 5060,
    transport: 'udp',
    viaHost: '10.45.0.7',
    viaPort: 5060,
    expiresAt: T0 + 30,
    path: '<sip:term@pcscf.ims.example.net:5060;lr>',
    serviceRoute: [],
    associatedUris: [],
    createdAt: T0,
    updatedAt: T0,
  });
  assert.is(count(h, 'pcscf_requests_routed_total', { direction: 'register', method: 'REGISTER' }), 1);
});

test('401 relayed with our Via and the AKA keys removed; the binding stays pending; the answering REGISTER refreshes it', () => {
  const h = harness();
  const reg = request(INITIAL_REGISTER, UE);
  decide(reg, h.ctx);
  const challenge = decide(response(CHALLENGE, reg, REGISTER_FLOW), h.ctx);
  assert.is(expectReply(challenge, 401), sip([
    'SIP/2.0 401 Unauthorized',
    UE_VIA,
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>;tag=scscf401',
    'Call-ID: reg@10.45.0.7',
    'CSeq: 1 REGISTER',
    'WWW-Authenticate: Digest realm="ims.example.net", nonce="bm9uY2U=", algorithm=AKAv1-MD5',
    'Content-Length: 0',
  ]));
  assert.is(bindingOf(h)?.state, 'pending');
  assert.is(count(h, 'pcscf_responses_relayed_total', { class: '4xx' }), 1);
  assert.is(count(h, 'pcscf_registrations_rejected_total', { reason: 'registrar' }), 0, 'a challenge is no refusal');

  h.advance(5);
  const second = decide(request(authRegister(2), UE, 2), h.ctx);
  assert.is(expectForward(second, CORE, REGISTER_FLOW), sip([
    'REGISTER sip:ims.example.net SIP/2.0',
    'Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=z9hG4bKpc2',
    'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKue2;rport=5060;received=10.45.0.7',
    'Max-Forwards: 69',
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>',
    'Contact: <sip:alice@10.45.0.7:5060>;+sip.instance="<urn:gsma:imei:35693803-564889-0>";+g.3gpp.smsip;expires=600000',
    'Call-ID: reg@10.45.0.7',
    'CSeq: 2 REGISTER',
    'Expires: 600000',
    'Authorization: Digest username="alice@ims.example.net",realm="ims.example.net",nonce="bm9uY2U=",uri="sip:ims.example.net",response="6629fae49393a05397450978507c4ef1",algorithm=AKAv1-MD5, integrity-protected="no"',
    'Supported: path',
    'Content-Length: 0',
    'Path: <sip:term@pcscf.ims.example.net:5060;lr>',
    'Require: path',
  ]));
  const b = bindingOf(h)!;
  assert.is(b.state, 'pending');
  assert.is(b.expiresAt, T0 + 5 + 30);
  assert.is(b.createdAt, T0);
  assert.is(b.updatedAt, T0 + 5);
});

test('200 to REGISTER: relayed, binding registered with expiry, Path, Service-Route and P-Associated-URI of the answer', () => {
  const h = harness();
  const reg = request(authRegister(2), UE);
  decide(reg, h.ctx);
  h.advance(1);
  const ok = decide(response(registered(2, 'z9hG4bKpc1', 600000), reg, REGISTER_FLOW), h.ctx);
  assert.is(expectReply(ok, 200), sip([
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKue2;rport=5060;received=10.45.0.7',
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>;tag=scscf200',
    'Call-ID: reg@10.45.0.7',
    'CSeq: 2 REGISTER',
    'Path: <sip:term@pcscf.ims.example.net:5060;lr>',
    'Service-Route: <sip:orig@scscf.ims.example.net:6060;lr>',
    'P-Associated-URI: <sip:alice@ims.example.net>, <tel:+15551234567>',
    'Contact: <sip:alice@10.45.0.7:5060>;expires=600000;+sip.instance="<urn:gsma:imei:35693803-564889-0>";+g.3gpp.smsip',
    'Content-Length: 0',
  ]));
  assert.equal(bindingOf(h), {
    state: 'registered',
    aor: AOR,
    contactUri: '<sip:alice@10.45.0.7:5060>;expires=600000;+sip.instance="<urn:gsma:imei:35693803-564889-0>";+g.3gpp.smsip',
    contactHost: '10.45.0.7',
    contactPort: 5060,
    receivedAddr: '10.45.0.7',
    receivedPort: 5060,
    transport: 'udp',
    viaHost: '10.45.0.7',
    viaPort: 5060,
    expiresAt: T0 + 1 + 600000,
    path: '<sip:term@pcscf.ims.example.net:5060;lr>',
    serviceRoute: ['<sip:orig@scscf.ims.example.net:6060;lr>'],
    associatedUris: ['sip:alice@ims.example.net', 'tel:+15551234567'],
    createdAt: T0,
    updatedAt: T0 + 1,
  });
  assert.is(count(h, 'pcscf_registrations_total', { outcome: 'initial' }), 1);
  assert.is(count(h, 'pcscf_responses_relayed_total', { class: '2xx' }), 1);
});

test('re-REGISTER: the registered binding is untouched by the request and renewed by the 200', () => {
  const h = harness();
  registerAlice(h, 3600);
  const before = bindingOf(h)!;
  h.advance(1800);
  const rereg = request(authRegister(3, 3600), UE, 3);
  const sent = decide(rereg, h.ctx);
  assert.equal(bindingOf(h), before, 'the request alone changes nothing');
  assert.ok(sent.kind === 'forward');
  decide(response(registered(3, sent.branch, 3600), rereg, REGISTER_FLOW), h.ctx);
  const after = bindingOf(h)!;
  assert.is(after.state, 'registered');
  assert.is(after.expiresAt, T0 + 1800 + 3600);
  assert.is(after.createdAt, before.createdAt);
  assert.is(count(h, 'pcscf_registrations_total', { outcome: 'initial' }), 1);
  assert.is(count(h, 'pcscf_registrations_total', { outcome: 're' }), 1);
});

test('de-REGISTER (expires=0): no pending binding; the 200 without the Contact removes the binding', () => {
  const h = harness();
  registerAlice(h);
  const dereg = request(authRegister(4, 0), UE, 4);
  const sent = decide(dereg, h.ctx);
  assert.ok(sent.kind === 'forward');
  assert.is(bindingOf(h)?.state, 'registered', 'kept until the registrar answers');
  const ok = decide(response(sip([
    'SIP/2.0 200 OK',
    `Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=${sent.branch}`,
    'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKue4;rport=5060;received=10.45.0.7',
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>;tag=scscf200',
    'Call-ID: reg@10.45.0.7',
    'CSeq: 4 REGISTER',
    'Content-Length: 0',
  ]), dereg, REGISTER_FLOW), h.ctx);
  expectReply(ok, 200);
  assert.is(bindingOf(h), undefined);
  assert.is(h.contacts.size, 0);
  assert.is(count(h, 'pcscf_registrations_total', { outcome: 'de' }), 1);
});

test('a 200 listing the Contact with expires=0 removes it too', () => {
  const h = harness();
  registerAlice(h);
  const dereg = request(authRegister(4, 0), UE, 4);
  const sent = decide(dereg, h.ctx);
  assert.ok(sent.kind === 'forward');
  decide(response(registered(4, sent.branch, 0), dereg, REGISTER_FLOW), h.ctx);
  assert.is(h.contacts.size, 0);
});

test('Contact: * with Expires: 0 removes every binding of the AOR registered from that UE, and only those', () => {
  const h = harness();
  registerAlice(h);
  const alice = bindingOf(h)!;
  const other = (contactPort: number, addr: string): void => {
    h.contacts.insert({
      ...alice, contactUri: `<sip:alice@${addr}:${contactPort}>`, contactHost: addr, contactPort, receivedAddr: addr, receivedPort: contactPort,
    });
  };
  // One more Contact from the same UE (another port), one from another UE of the same subscriber.
  const [first] = h.contacts.findByAor(AOR);
  other(5070, '10.45.0.7');
  other(5060, '10.45.0.8');
  assert.is(h.contacts.findByAor(AOR).length, 3);
  const star = request(sip([
    'REGISTER sip:ims.example.net SIP/2.0',
    'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKue9;rport',
    'Max-Forwards: 70',
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>',
    'Contact: *',
    'Call-ID: reg@10.45.0.7',
    'CSeq: 9 REGISTER',
    'Expires: 0',
    'Content-Length: 0',
  ]), UE, 9);
  const sent = decide(star, h.ctx);
  assert.ok(sent.kind === 'forward');
  assert.is(h.contacts.findByAor(AOR).length, 3, 'the request changes nothing');
  decide(response(sip([
    'SIP/2.0 200 OK',
    `Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=${sent.branch}`,
    'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKue9;rport=5060;received=10.45.0.7',
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>;tag=scscf200',
    'Call-ID: reg@10.45.0.7',
    'CSeq: 9 REGISTER',
    'Contact: <sip:alice@10.45.0.8:5060>;expires=3000',
    'Content-Length: 0',
  ]), star, REGISTER_FLOW), h.ctx);
  const left = h.contacts.findByAor(AOR).map((id) => h.contacts.get(id)!.receivedAddr);
  assert.equal(left, ['10.45.0.8']);
  assert.is(h.contacts.get(first!), undefined);
  assert.is(count(h, 'pcscf_registrations_total', { outcome: 'de' }), 1);
});

test('a REGISTER the registrar refuses removes only what it left pending; a registered binding stays as it was', () => {
  const h = harness();
  const reg = request(INITIAL_REGISTER, UE);
  const sent = decide(reg, h.ctx);
  assert.ok(sent.kind === 'forward');
  const forbidden = (branch: string, cseq: number): string => sip([
    'SIP/2.0 403 Forbidden',
    `Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=${branch}`,
    `Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKue${cseq};rport=5060;received=10.45.0.7`,
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>;tag=scscf403',
    'Call-ID: reg@10.45.0.7',
    `CSeq: ${cseq} REGISTER`,
    'Content-Length: 0',
  ]);
  const refused = decide(response(forbidden(sent.branch, 1), reg, REGISTER_FLOW), h.ctx);
  assert.ok(expectReply(refused, 403).startsWith(`SIP/2.0 403 Forbidden\r\n${UE_VIA}\r\n`));
  assert.is(h.contacts.size, 0);
  assert.is(count(h, 'pcscf_registrations_rejected_total', { reason: 'registrar' }), 1);

  registerAlice(h);
  const before = bindingOf(h)!;
  const rereg = request(authRegister(5), UE, 5);
  const again = decide(rereg, h.ctx);
  assert.ok(again.kind === 'forward');
  decide(response(forbidden(again.branch, 5), rereg, REGISTER_FLOW), h.ctx);
  assert.equal(bindingOf(h), before);
});

test('REGISTER with sec-agree in Proxy-Require and IPsec disabled: 420 Unsupported: sec-agree, nothing recorded', () => {
  const h = harness();
  const withProxyRequire = INITIAL_REGISTER.replace('Require: sec-agree\r\n', 'Require: sec-agree\r\nProxy-Require: sec-agree\r\n');
  const plan = decide(request(withProxyRequire, UE), h.ctx);
  assert.is(expectReply(plan, 420), sip([
    'SIP/2.0 420 Bad Extension',
    UE_VIA,
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>;tag=pctag1',
    'Call-ID: reg@10.45.0.7',
    'CSeq: 1 REGISTER',
    'Unsupported: sec-agree',
    'Content-Length: 0',
  ]));
  assert.is(h.contacts.size, 0);
  assert.is(count(h, 'pcscf_registrations_rejected_total', { reason: 'unsupported_extension' }), 1);
});

const IPSEC = { PCSCF_IPSEC_LISTEN_ADDR: '10.0.0.1', PCSCF_IPSEC_CLIENT_PORT: '5100', PCSCF_IPSEC_SERVER_PORT: '6100' };

test('IPsec enabled, REGISTER with Security-Client: forwarded for IPsec without the security headers; the 401 becomes a kernel plan', () => {
  const h = harness(IPSEC);
  const withProxyRequire = INITIAL_REGISTER.replace('Require: sec-agree\r\n', 'Require: sec-agree\r\nProxy-Require: sec-agree\r\n');
  const reg = request(withProxyRequire, UE);
  const sent = decide(reg, h.ctx);
  const forwarded = expectForward(sent, CORE, { flow: 'register', ipsec: true });
  assert.not.match(forwarded, /Security-Client|Require: sec-agree|Proxy-Require/);
  assert.match(forwarded, '\r\nSupported: path,sec-agree\r\n');
  assert.is(bindingOf(h)?.state, 'pending');
  const plan = decide(response(CHALLENGE, reg, { flow: 'register', ipsec: true }), h.ctx);
  assert.is(plan.kind, 'kernel', 'the 401 waits for the kernel (test/ipsec/registration.test.ts)');
  assert.is(bindingOf(h)?.state, 'pending', 'the pending binding stays for the set');
  assert.is(count(h, 'pcscf_responses_relayed_total', { class: '4xx' }), 0, 'not relayed before the kernel has the SAs');
});

test('IPsec enabled: a REGISTER with Security-Client and two Contacts is refused (an SA set belongs to one binding)', () => {
  const h = harness(IPSEC);
  const two = INITIAL_REGISTER.replace(/(Contact: .*\r\n)/, '$1Contact: <sip:alice@10.45.0.7:5070>\r\n');
  assert.match(expectReply(decide(request(two, UE), h.ctx), 400), /^SIP\/2.0 400 Bad Request \(One Contact per protected registration\)\r\n/);
  assert.is(h.contacts.size, 0);
});

test('IPsec enabled for IPv4 only: an IPv6 UE asking for sec-agree gets create_failure_status at once', () => {
  const h = harness({ ...IPSEC, PCSCF_SIP__LISTEN: '[{transport: udp, address: 10.0.0.1, port: 5060}, {transport: udp, address: "2001:db8::1", port: 5060}]' });
  const v6 = { addr: '2001:db8::7', port: 5060 };
  const reg = INITIAL_REGISTER.replace('Via: SIP/2.0/UDP 10.45.0.7:5060', 'Via: SIP/2.0/UDP [2001:db8::7]:5060');
  assert.match(expectReply(decide(request(reg, v6), h.ctx), 503), /^SIP\/2.0 503 Service Unavailable \(no IPsec address for IPv6 \(ipsec_listen_addr6\)\)\r\n/);
  assert.is(count(h, 'pcscf_registrations_rejected_total', { reason: 'ipsec_unavailable' }), 1);
});

test('IPsec enabled without require_sec_agree: a REGISTER without Security-Client registers unprotected', () => {
  const h = harness(IPSEC);
  const plan = decide(request(authRegister(2), UE), h.ctx);
  expectForward(plan, CORE, { flow: 'register', ipsec: false });
});

test('require_sec_agree: 421 when the UE does not announce sec-agree, 494 with Security-Server when it does (RFC 3329 §2.3)', () => {
  const h = harness({ ...IPSEC, PCSCF_SECURITY__REQUIRE_SEC_AGREE: 'true' });
  const plain = authRegister(2);
  assert.is(expectReply(decide(request(plain, UE), h.ctx), 421), sip([
    'SIP/2.0 421 Extension Required',
    'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKue2;rport=5060;received=10.45.0.7',
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>;tag=pctag1',
    'Call-ID: reg@10.45.0.7',
    'CSeq: 2 REGISTER',
    'Require: sec-agree',
    'Content-Length: 0',
  ]));
  const announcing = plain.replace('Supported: path', 'Supported: path, sec-agree');
  assert.is(expectReply(decide(request(announcing, UE), h.ctx), 494), sip([
    'SIP/2.0 494 Security Agreement Required',
    'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKue2;rport=5060;received=10.45.0.7',
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>;tag=pctag2',
    'Call-ID: reg@10.45.0.7',
    'CSeq: 2 REGISTER',
    'Require: sec-agree',
    'Security-Server: ipsec-3gpp;q=0.1;prot=esp;mod=trans;alg=hmac-md5-96;ealg=des-ede3-cbc, ' +
      'ipsec-3gpp;q=0.1;prot=esp;mod=trans;alg=hmac-md5-96;ealg=aes-cbc, ipsec-3gpp;q=0.1;prot=esp;mod=trans;alg=hmac-md5-96;ealg=null, ' +
      'ipsec-3gpp;q=0.1;prot=esp;mod=trans;alg=hmac-sha-1-96;ealg=des-ede3-cbc, ipsec-3gpp;q=0.1;prot=esp;mod=trans;alg=hmac-sha-1-96;ealg=aes-cbc, ' +
      'ipsec-3gpp;q=0.1;prot=esp;mod=trans;alg=hmac-sha-1-96;ealg=null, ipsec-3gpp;q=0.1;prot=esp;mod=trans;alg=null;ealg=aes-gcm, ' +
      'ipsec-3gpp;q=0.1;prot=esp;mod=trans;alg=aes-gmac;ealg=null',
    'Content-Length: 0',
  ]));
  assert.is(h.contacts.size, 0);
  assert.is(count(h, 'pcscf_registrations_rejected_total', { reason: 'sec_agree_required' }), 2);
});

test('the 494 lists only what the configuration allows', () => {
  const h = harness({ ...IPSEC, PCSCF_SECURITY__REQUIRE_SEC_AGREE: 'true', PCSCF_SECURITY__DISABLE_DEPRECATED_ALGORITHMS: 'true', PCSCF_SECURITY__ALLOWED_ENCRYPTION: '[aes-cbc, "null"]' });
  const reply = expectReply(decide(request(INITIAL_REGISTER.replace(/Security-Client: .*\r\n/, ''), UE), h.ctx), 494);
  assert.match(reply, '\r\nSecurity-Server: ipsec-3gpp;q=0.1;prot=esp;mod=trans;alg=hmac-sha-1-96;ealg=aes-cbc, ipsec-3gpp;q=0.1;prot=esp;mod=trans;alg=hmac-sha-1-96;ealg=null, ipsec-3gpp;q=0.1;prot=esp;mod=trans;alg=aes-gmac;ealg=null\r\n');
});

test('IPsec enabled: a Security-Client without a usable ipsec-3gpp offer gets 494, a malformed one 400', () => {
  const h = harness(IPSEC);
  const tlsOnly = INITIAL_REGISTER.replace(/Security-Client: .*\r\n/, 'Security-Client: tls;q=0.2\r\n');
  assert.match(expectReply(decide(request(tlsOnly, UE), h.ctx), 494), /^SIP\/2.0 494 Security Agreement Required \(No acceptable ipsec-3gpp offer\)\r\n/);
  const broken = INITIAL_REGISTER.replace(/Security-Client: .*\r\n/, 'Security-Client: ipsec-3gpp;;alg\r\n');
  assert.match(expectReply(decide(request(broken, UE), h.ctx), 400), /^SIP\/2.0 400 Bad Request \(Invalid Security-Client\)\r\n/);
  assert.is(h.contacts.size, 0);
  assert.is(count(h, 'pcscf_registrations_rejected_total', { reason: 'sec_agree_no_offer' }), 1);
  assert.is(count(h, 'pcscf_registrations_rejected_total', { reason: 'malformed' }), 1);
});

test('REGISTER without Contact, Contact * without Expires: 0, or a non-SIP Contact: 400', () => {
  const h = harness();
  const noContact = INITIAL_REGISTER.replace(/Contact: .*\r\n/, '');
  assert.match(expectReply(decide(request(noContact, UE), h.ctx), 400), /^SIP\/2.0 400 Bad Request \(REGISTER without Contact\)\r\n/);
  const star = INITIAL_REGISTER.replace(/Contact: .*\r\n/, 'Contact: *\r\n');
  assert.match(expectReply(decide(request(star, UE), h.ctx), 400), /^SIP\/2.0 400 Bad Request \(Contact \* without Expires: 0\)\r\n/);
  const tel = INITIAL_REGISTER.replace(/Contact: .*\r\n/, 'Contact: <tel:+15551234567>\r\n');
  assert.match(expectReply(decide(request(tel, UE), h.ctx), 400), /^SIP\/2.0 400 Bad Request \(Contact is not a SIP URI\)\r\n/);
  const badContact = INITIAL_REGISTER.replace(/Contact: .*\r\n/, 'Contact: <sip:alice@10.45.0.7:5060>;expires=soon\r\n');
  assert.match(expectReply(decide(request(badContact, UE), h.ctx), 400), /^SIP\/2.0 400 Bad Request \(Invalid Contact value\)\r\n/);
  assert.is(h.contacts.size, 0);
  assert.is(count(h, 'pcscf_registrations_rejected_total', { reason: 'malformed' }), 4);
});

test('REGISTER from the core: 403; Max-Forwards 0: 483', () => {
  const h = harness();
  assert.match(expectReply(decide(request(INITIAL_REGISTER, CORE), h.ctx), 403), /^SIP\/2.0 403 Forbidden \(REGISTER from the core\)\r\n/);
  const exhausted = INITIAL_REGISTER.replace('Max-Forwards: 70', 'Max-Forwards: 0');
  assert.match(expectReply(decide(request(exhausted, UE), h.ctx), 483), /^SIP\/2.0 483 Too Many Hops\r\n/);
  assert.is(h.contacts.size, 0);
  assert.is(count(h, 'pcscf_registrations_rejected_total', { reason: 'from_core' }), 1);
  assert.is(count(h, 'pcscf_registrations_rejected_total', { reason: 'too_many_hops' }), 1);
});

test('a full contact table refuses the REGISTER with 503 and keeps nothing', () => {
  const h = harness();
  for (let i = 0; i < h.contacts.capacity; i++) {
    h.contacts.insert({
      state: 'registered', aor: `sip:u${i}@ims.example.net`, contactUri: `<sip:u${i}@10.46.0.1:5060>`, contactHost: '10.46.0.1', contactPort: 5060,
      receivedAddr: '10.46.0.1', receivedPort: 5060, transport: 'udp', viaHost: '10.46.0.1', viaPort: 5060, expiresAt: T0 + 100, path: '',
      serviceRoute: [], associatedUris: [], createdAt: T0, updatedAt: T0,
    });
  }
  assert.match(expectReply(decide(request(INITIAL_REGISTER, UE), h.ctx), 503), /^SIP\/2.0 503 Service Unavailable \(Registration capacity exhausted\)\r\n/);
  assert.is(count(h, 'pcscf_registrations_rejected_total', { reason: 'capacity' }), 1);
});

test('removeExpired: a pending binding after 30 s, a registered one at its expiry, not before', () => {
  const h = harness();
  registerAlice(h, 3600);
  decide(request(INITIAL_REGISTER.replace(/10\.45\.0\.7/g, '10.45.0.8').replace(/alice/g, 'bob'), { addr: '10.45.0.8', port: 5060 }), h.ctx);
  assert.is(h.contacts.size, 2);
  h.advance(30);
  assert.is(removeExpired(h.ctx), 1, 'the pending binding of bob');
  assert.equal(h.contacts.findByAor('sip:bob@ims.example.net'), []);
  h.advance(3600 - 30 - 1);
  assert.is(removeExpired(h.ctx), 0);
  h.advance(1);
  assert.is(removeExpired(h.ctx), 1);
  assert.is(h.contacts.size, 0);
});

test.run();
