// Requests other than REGISTER, byte for byte: originating (Service-Route, P-Asserted-Identity,
// Record-Route, security headers), terminating (Path route, binding lookup incl. alias), in-dialog
// requests both ways, the ACK for a 2xx, and the answers the P-CSCF gives instead of forwarding.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { decide } from '../../src/pcscf/index.js';
import type { Endpoint } from '../../src/engine/plan.js';
import {
  CORE, UE, bindingOf, count, expectForward, expectReply, harness, registerAlice, request, sip, text,
} from './fixtures.js';

const ORIGINATING = { flow: 'originating' };
const TERMINATING = { flow: 'terminating' };
const IPSEC = { PCSCF_IPSEC_LISTEN_ADDR: '10.0.0.1', PCSCF_IPSEC_CLIENT_PORT: '5100', PCSCF_IPSEC_SERVER_PORT: '6100' };

const MESSAGE_MO = sip([
  'MESSAGE sip:bob@ims.example.net SIP/2.0',
  'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKmo1;rport',
  'Max-Forwards: 70',
  'Route: <sip:pcscf.ims.example.net:5060;lr>, <sip:orig@scscf.ims.example.net:6060;lr>',
  'From: <sip:alice@ims.example.net>;tag=m1',
  'To: <sip:bob@ims.example.net>',
  'Call-ID: msg1@10.45.0.7',
  'CSeq: 1 MESSAGE',
  'P-Preferred-Identity: "Alice" <tel:+15551234567>',
  'Content-Type: text/plain',
  'Content-Length: 5',
], 'hello');

test('originating MESSAGE: our Route off, the Service-Route kept, P-Preferred-Identity becomes P-Asserted-Identity', () => {
  const h = harness();
  registerAlice(h);
  const plan = decide(request(MESSAGE_MO, UE, 7), h.ctx);
  assert.is(expectForward(plan, CORE, ORIGINATING), sip([
    'MESSAGE sip:bob@ims.example.net SIP/2.0',
    'Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=z9hG4bKpc2',
    'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKmo1;rport=5060;received=10.45.0.7',
    'Max-Forwards: 69',
    'Route: <sip:orig@scscf.ims.example.net:6060;lr>',
    'From: <sip:alice@ims.example.net>;tag=m1',
    'To: <sip:bob@ims.example.net>',
    'Call-ID: msg1@10.45.0.7',
    'CSeq: 1 MESSAGE',
    'P-Asserted-Identity: "Alice" <tel:+15551234567>',
    'Content-Type: text/plain',
    'Content-Length: 5',
  ], 'hello'));
  assert.is(plan.kind === 'forward' && plan.branch, 'z9hG4bKpc2');
  assert.is(count(h, 'pcscf_requests_routed_total', { direction: 'originating', method: 'MESSAGE' }), 1);
});

test('originating MESSAGE: a P-Preferred-Identity that is not registered gives the first P-Associated-URI', () => {
  const h = harness();
  registerAlice(h);
  const plan = decide(request(MESSAGE_MO.replace('"Alice" <tel:+15551234567>', '<sip:boss@ims.example.net>'), UE), h.ctx);
  const out = expectForward(plan, CORE, ORIGINATING);
  assert.match(out, '\r\nCSeq: 1 MESSAGE\r\nP-Asserted-Identity: <sip:alice@ims.example.net>\r\nContent-Type: text/plain\r\n');
  assert.not.match(out, 'P-Preferred-Identity');
});

const INVITE_BODY = 'v=0\r\no=- 1 1 IN IP4 10.45.0.7\r\ns=-\r\nc=IN IP4 10.45.0.7\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n';
const INVITE_MO = sip([
  'INVITE sip:bob@ims.example.net SIP/2.0',
  'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKmo2;rport',
  'Max-Forwards: 70',
  'Route: <sip:pcscf.ims.example.net:5060;lr>',
  'From: <sip:alice@ims.example.net>;tag=i1',
  'To: <sip:bob@ims.example.net>',
  'Call-ID: call1@10.45.0.7',
  'CSeq: 1 INVITE',
  'Contact: <sip:alice@10.45.0.7:5060>',
  'Require: sec-agree',
  'Proxy-Require: sec-agree',
  'Security-Verify: ipsec-3gpp;q=0.1;prot=esp;mod=trans;spi-c=1001;spi-s=1002;port-c=5100;port-s=6100;alg=hmac-sha-1-96;ealg=aes-cbc',
  'P-Asserted-Identity: <sip:mallory@ims.example.net>',
  'Content-Type: application/sdp',
  `Content-Length: ${INVITE_BODY.length}`,
], INVITE_BODY);

test('originating INVITE: preloaded route replaced by the Service-Route, Record-Route, the UE\'s own P-Asserted-Identity replaced, security headers off', () => {
  const h = harness(IPSEC);
  registerAlice(h);
  const plan = decide(request(INVITE_MO, UE, 8), h.ctx);
  assert.is(expectForward(plan, CORE, ORIGINATING), sip([
    'INVITE sip:bob@ims.example.net SIP/2.0',
    'Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=z9hG4bKpc2',
    'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKmo2;rport=5060;received=10.45.0.7',
    'Record-Route: <sip:mo@pcscf.ims.example.net:5060;lr>',
    'Max-Forwards: 69',
    'Route: <sip:orig@scscf.ims.example.net:6060;lr>',
    'From: <sip:alice@ims.example.net>;tag=i1',
    'To: <sip:bob@ims.example.net>',
    'Call-ID: call1@10.45.0.7',
    'CSeq: 1 INVITE',
    'Contact: <sip:alice@10.45.0.7:5060>',
    'Content-Type: application/sdp',
    `Content-Length: ${INVITE_BODY.length}`,
    'P-Asserted-Identity: <sip:alice@ims.example.net>',
  ], INVITE_BODY));
});

test('originating request without any Route: the Service-Route is added', () => {
  const h = harness();
  registerAlice(h);
  const plan = decide(request(MESSAGE_MO.replace(/Route: .*\r\n/, ''), UE), h.ctx);
  assert.match(expectForward(plan, CORE, ORIGINATING), '\r\nContent-Length: 5\r\nRoute: <sip:orig@scscf.ims.example.net:6060;lr>\r\n\r\nhello');
});

test('originating request of a UE registered without Service-Route goes to sip.next_hop, its preloaded route dropped', () => {
  const h = harness();
  registerAlice(h);
  const [id] = h.contacts.findByAor('sip:alice@ims.example.net');
  h.contacts.update(id!, { serviceRoute: [] });
  const preloaded = MESSAGE_MO.replace('<sip:orig@scscf.ims.example.net:6060;lr>', '<sip:192.0.2.66:5060;lr>');
  const out = expectForward(decide(request(preloaded, UE), h.ctx), CORE, ORIGINATING);
  assert.not.match(out, 'Route:');
});

const BYE_MO = sip([
  'BYE sip:bob@10.0.2.9:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKmo3;rport',
  'Max-Forwards: 70',
  'Route: <sip:mo@pcscf.ims.example.net:5060;lr>, <sip:mo@scscf.ims.example.net:6060;lr>',
  'From: <sip:alice@ims.example.net>;tag=i1',
  'To: <sip:bob@ims.example.net>;tag=b2',
  'Call-ID: call1@10.45.0.7',
  'CSeq: 2 BYE',
  'Content-Length: 0',
]);

test('in-dialog BYE from the UE: loose routing to the next Route value (a name: sip.next_hop)', () => {
  const h = harness();
  registerAlice(h);
  assert.is(expectForward(decide(request(BYE_MO, UE, 9), h.ctx), CORE, ORIGINATING), sip([
    'BYE sip:bob@10.0.2.9:5060 SIP/2.0',
    'Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=z9hG4bKpc2',
    'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKmo3;rport=5060;received=10.45.0.7',
    'Max-Forwards: 69',
    'Route: <sip:mo@scscf.ims.example.net:6060;lr>',
    'From: <sip:alice@ims.example.net>;tag=i1',
    'To: <sip:bob@ims.example.net>;tag=b2',
    'Call-ID: call1@10.45.0.7',
    'CSeq: 2 BYE',
    'Content-Length: 0',
  ]));
});

test('in-dialog request from the UE: an IP-literal next hop is used as it is, a Route with another scheme is a 400', () => {
  const h = harness();
  registerAlice(h);
  const direct = BYE_MO.replace('<sip:mo@scscf.ims.example.net:6060;lr>', '<sip:10.0.1.9:5070;transport=tcp;lr>');
  expectForward(decide(request(direct, UE), h.ctx), { addr: '10.0.1.9', port: 5070 }, ORIGINATING, 'tcp');
  const noRoute = BYE_MO.replace(/Route: .*\r\n/, '');
  expectForward(decide(request(noRoute, UE), h.ctx), { addr: '10.0.2.9', port: 5060 }, ORIGINATING);
  const tel = BYE_MO.replace('<sip:mo@scscf.ims.example.net:6060;lr>', '<tel:+15557654321>');
  assert.match(expectReply(decide(request(tel, UE), h.ctx), 400), /^SIP\/2.0 400 Bad Request \(Route URI scheme tel is not routable\)\r\n/);
});

test('in-dialog request after a strict router: the last Route value becomes the Request-URI (RFC 3261 §16.4)', () => {
  const h = harness();
  registerAlice(h);
  const strict = BYE_MO
    .replace('BYE sip:bob@10.0.2.9:5060 SIP/2.0', 'BYE sip:mo@pcscf.ims.example.net:5060;lr SIP/2.0')
    .replace(/Route: .*\r\n/, 'Route: <sip:mo@scscf.ims.example.net:6060;lr>, <sip:bob@10.0.2.9:5060>\r\n');
  const out = expectForward(decide(request(strict, UE), h.ctx), CORE, ORIGINATING);
  assert.ok(out.startsWith('BYE sip:bob@10.0.2.9:5060 SIP/2.0\r\n'), out);
  assert.match(out, '\r\nRoute: <sip:mo@scscf.ims.example.net:6060;lr>\r\n');
});

test('ACK for a 2xx (no server transaction): sent statelessly along the route', () => {
  const h = harness();
  registerAlice(h);
  const ack = BYE_MO.replace('BYE sip:', 'ACK sip:').replace('CSeq: 2 BYE', 'CSeq: 1 ACK').replace('z9hG4bKmo3', 'z9hG4bKack1');
  const plan = decide(request(ack, UE, 0), h.ctx);
  assert.is(plan.kind, 'send');
  if (plan.kind !== 'send') return;
  assert.equal(plan.target, { transport: 'udp', socketId: 0, remote: CORE });
  assert.ok(text(plan.bytes).startsWith('ACK sip:bob@10.0.2.9:5060 SIP/2.0\r\nVia: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=z9hG4bKpc2\r\n'));
  // An ACK that cannot be routed is never answered.
  const lost = decide(request(ack, { addr: '10.45.0.99', port: 5060 }, 0), h.ctx);
  assert.equal(lost, { kind: 'drop', reason: 'unroutable_ack' });
});

test('a request without server transaction other than ACK, and any CANCEL, is dropped', () => {
  const h = harness();
  registerAlice(h);
  assert.equal(decide(request(BYE_MO, UE, 0), h.ctx), { kind: 'drop', reason: 'no_transaction' });
  const cancel = INVITE_MO.replace('INVITE sip:', 'CANCEL sip:').replace('CSeq: 1 INVITE', 'CSeq: 1 CANCEL');
  assert.equal(decide(request(cancel, UE, 0), h.ctx), { kind: 'drop', reason: 'no_transaction' });
  assert.is(count(h, 'pcscf_messages_dropped_total', { reason: 'no_transaction' }), 2);
});

test('originating request from an unregistered, pending or expired UE: sip.unregistered_status', () => {
  const h = harness({ PCSCF_SIP__UNREGISTERED_STATUS: '403' });
  const stranger: Endpoint = { addr: '10.45.0.99', port: 5060 };
  assert.is(expectReply(decide(request(MESSAGE_MO.replace(/10\.45\.0\.7/g, '10.45.0.99'), stranger), h.ctx), 403), sip([
    'SIP/2.0 403 Forbidden (Not registered)',
    'Via: SIP/2.0/UDP 10.45.0.99:5060;branch=z9hG4bKmo1;rport=5060;received=10.45.0.99',
    'From: <sip:alice@ims.example.net>;tag=m1',
    'To: <sip:bob@ims.example.net>;tag=pctag1',
    'Call-ID: msg1@10.45.0.99',
    'CSeq: 1 MESSAGE',
    'Content-Length: 0',
  ]));
  decide(request(sip([
    'REGISTER sip:ims.example.net SIP/2.0',
    'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKr;rport',
    'From: <sip:alice@ims.example.net>;tag=r', 'To: <sip:alice@ims.example.net>', 'Call-ID: r', 'CSeq: 1 REGISTER',
    'Contact: <sip:alice@10.45.0.7:5060>', 'Content-Length: 0',
  ]), UE), h.ctx);
  assert.is(bindingOf(h)?.state, 'pending');
  expectReply(decide(request(MESSAGE_MO, UE), h.ctx), 403);
  const h2 = harness({ PCSCF_SIP__UNREGISTERED_STATUS: '480' });
  registerAlice(h2, 60);
  h2.advance(61);
  assert.match(expectReply(decide(request(MESSAGE_MO, UE), h2.ctx), 480), /^SIP\/2.0 480 Temporarily Unavailable \(Not registered\)\r\n/);
  assert.is(count(h, 'pcscf_requests_rejected_total', { reason: 'unregistered' }), 2);
});

test('Max-Forwards 0: 483; Proxy-Require with an unknown tag: 420 with Unsupported', () => {
  const h = harness();
  registerAlice(h);
  assert.match(expectReply(decide(request(MESSAGE_MO.replace('Max-Forwards: 70', 'Max-Forwards: 0'), UE), h.ctx), 483), /^SIP\/2.0 483 Too Many Hops\r\n/);
  const ext = MESSAGE_MO.replace('CSeq: 1 MESSAGE', 'CSeq: 1 MESSAGE\r\nProxy-Require: foo, sec-agree');
  assert.match(expectReply(decide(request(ext, UE), h.ctx), 420), /\r\nUnsupported: foo, sec-agree\r\nContent-Length: 0\r\n\r\n$/);
  const h2 = harness(IPSEC);
  registerAlice(h2);
  assert.match(expectReply(decide(request(ext, UE), h2.ctx), 420), /\r\nUnsupported: foo\r\nContent-Length: 0\r\n\r\n$/, 'sec-agree is supported with IPsec');
});

const INVITE_MT = sip([
  'INVITE sip:alice@10.45.0.7:5060 SIP/2.0',
  'Via: SIP/2.0/UDP scscf.ims.example.net:6060;branch=z9hG4bKsc1',
  'Max-Forwards: 68',
  'Route: <sip:term@pcscf.ims.example.net:5060;lr>',
  'Record-Route: <sip:mt@scscf.ims.example.net:6060;lr>',
  'From: <sip:bob@ims.example.net>;tag=b1',
  'To: <sip:alice@ims.example.net>',
  'Call-ID: call2@scscf',
  'CSeq: 1 INVITE',
  'Contact: <sip:bob@10.0.2.9:5060>',
  'P-Asserted-Identity: <sip:bob@ims.example.net>',
  'Content-Length: 0',
]);

test('terminating INVITE: our Path route off, Record-Route on top of the others, sent to where the UE registered from', () => {
  const h = harness();
  registerAlice(h);
  const plan = decide(request(INVITE_MT, CORE, 11), h.ctx);
  assert.is(expectForward(plan, UE, TERMINATING), sip([
    'INVITE sip:alice@10.45.0.7:5060 SIP/2.0',
    'Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=z9hG4bKpc2',
    'Via: SIP/2.0/UDP scscf.ims.example.net:6060;branch=z9hG4bKsc1',
    'Max-Forwards: 67',
    'Record-Route: <sip:mt@pcscf.ims.example.net:5060;lr>',
    'Record-Route: <sip:mt@scscf.ims.example.net:6060;lr>',
    'From: <sip:bob@ims.example.net>;tag=b1',
    'To: <sip:alice@ims.example.net>',
    'Call-ID: call2@scscf',
    'CSeq: 1 INVITE',
    'Contact: <sip:bob@10.0.2.9:5060>',
    'P-Asserted-Identity: <sip:bob@ims.example.net>',
    'Content-Length: 0',
  ]));
  assert.is(count(h, 'pcscf_requests_routed_total', { direction: 'terminating', method: 'INVITE' }), 1);
});

test('terminating MESSAGE with alias=host~port~proto: found by the received address, alias removed from the Request-URI', () => {
  const h = harness();
  registerAlice(h);
  const aliased = sip([
    'MESSAGE sip:alice@192.0.2.77:5099;alias=10.45.0.7~5060~1;user=phone SIP/2.0',
    'Via: SIP/2.0/UDP 10.0.1.5:6060;branch=z9hG4bKsc3',
    'Max-Forwards: 69',
    'Route: <sip:term@pcscf.ims.example.net:5060;lr>',
    'From: <sip:bob@ims.example.net>;tag=b3',
    'To: <sip:alice@ims.example.net>',
    'Call-ID: msg3@scscf',
    'CSeq: 1 MESSAGE',
    'Content-Length: 0',
  ]);
  assert.is(expectForward(decide(request(aliased, { addr: '10.0.1.5', port: 6060 }), h.ctx), UE, TERMINATING), sip([
    'MESSAGE sip:alice@192.0.2.77:5099;user=phone SIP/2.0',
    'Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=z9hG4bKpc2',
    'Via: SIP/2.0/UDP 10.0.1.5:6060;branch=z9hG4bKsc3',
    'Max-Forwards: 68',
    'From: <sip:bob@ims.example.net>;tag=b3',
    'To: <sip:alice@ims.example.net>',
    'Call-ID: msg3@scscf',
    'CSeq: 1 MESSAGE',
    'Content-Length: 0',
  ]));
  const wrong = aliased.replace('alias=10.45.0.7~5060~1', 'alias=10.45.0.7~5061~1');
  expectReply(decide(request(wrong, CORE), h.ctx), 480);
  const tcp = aliased.replace('alias=10.45.0.7~5060~1', 'alias=10.45.0.7~5060~2');
  expectReply(decide(request(tcp, CORE), h.ctx), 480);
  const broken = aliased.replace('alias=10.45.0.7~5060~1', 'alias=10.45.0.7-5060');
  assert.match(expectReply(decide(request(broken, CORE), h.ctx), 400), /^SIP\/2.0 400 Bad Request \(Invalid alias parameter\)\r\n/);
});

test('terminating request for no registered binding: 480, without received on the core\'s Via', () => {
  const h = harness();
  registerAlice(h);
  const unknown = INVITE_MT.replace('INVITE sip:alice@10.45.0.7:5060', 'INVITE sip:carol@10.45.0.50:5060');
  assert.is(expectReply(decide(request(unknown, CORE), h.ctx), 480), sip([
    'SIP/2.0 480 Temporarily Unavailable (Not registered)',
    'Via: SIP/2.0/UDP scscf.ims.example.net:6060;branch=z9hG4bKsc1',
    'From: <sip:bob@ims.example.net>;tag=b1',
    'To: <sip:alice@ims.example.net>;tag=pctag1',
    'Call-ID: call2@scscf',
    'CSeq: 1 INVITE',
    'Content-Length: 0',
  ]));
  const tel = INVITE_MT.replace('INVITE sip:alice@10.45.0.7:5060', 'INVITE tel:+15551234567');
  expectReply(decide(request(tel, CORE), h.ctx), 480);
  assert.is(count(h, 'pcscf_requests_rejected_total', { reason: 'unknown_target' }), 2);
});

test('in-dialog BYE from the core: to the UE of the Request-URI; without binding, to its IP literal', () => {
  const h = harness();
  registerAlice(h);
  const bye = sip([
    'BYE sip:alice@10.45.0.7:5060 SIP/2.0',
    'Via: SIP/2.0/UDP scscf.ims.example.net:6060;branch=z9hG4bKsc2',
    'Max-Forwards: 69',
    'Route: <sip:mt@pcscf.ims.example.net:5060;lr>',
    'From: <sip:bob@ims.example.net>;tag=b1',
    'To: <sip:alice@ims.example.net>;tag=a1',
    'Call-ID: call2@scscf',
    'CSeq: 2 BYE',
    'Content-Length: 0',
  ]);
  assert.is(expectForward(decide(request(bye, CORE, 12), h.ctx), UE, TERMINATING), sip([
    'BYE sip:alice@10.45.0.7:5060 SIP/2.0',
    'Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=z9hG4bKpc2',
    'Via: SIP/2.0/UDP scscf.ims.example.net:6060;branch=z9hG4bKsc2',
    'Max-Forwards: 68',
    'From: <sip:bob@ims.example.net>;tag=b1',
    'To: <sip:alice@ims.example.net>;tag=a1',
    'Call-ID: call2@scscf',
    'CSeq: 2 BYE',
    'Content-Length: 0',
  ]));
  const gone = bye.replace('BYE sip:alice@10.45.0.7:5060', 'BYE sip:alice@10.45.0.8:5070');
  expectForward(decide(request(gone, CORE), h.ctx), { addr: '10.45.0.8', port: 5070 }, TERMINATING);
  const named = bye.replace('BYE sip:alice@10.45.0.7:5060', 'BYE sip:alice@ue.example.net');
  expectReply(decide(request(named, CORE), h.ctx), 480);
});

test('a UE registered over TCP is reached over TCP; the INVITE from the core over UDP is double record-routed', () => {
  const h = harness();
  const reg = request(sip([
    'REGISTER sip:ims.example.net SIP/2.0',
    'Via: SIP/2.0/TCP 10.45.0.7:5060;branch=z9hG4bKt1',
    'Max-Forwards: 70',
    'From: <sip:alice@ims.example.net>;tag=t', 'To: <sip:alice@ims.example.net>', 'Call-ID: t@10.45.0.7', 'CSeq: 1 REGISTER',
    'Contact: <sip:alice@10.45.0.7:5060;transport=tcp>;expires=600', 'Content-Length: 0',
  ]), { addr: '10.45.0.7', port: 40123 }, 1, 'tcp');
  const sent = decide(reg, h.ctx);
  assert.ok(sent.kind === 'forward');
  // Sent-by is the source address and no rport was asked for: the UE's Via stays as it is (RFC 3261 §18.2.1).
  assert.match(text(sent.bytes), '\r\nVia: SIP/2.0/TCP 10.45.0.7:5060;branch=z9hG4bKt1\r\nMax-Forwards: 69\r\n');
  assert.is(bindingOf(h)?.transport, 'tcp');
  assert.is(bindingOf(h)?.receivedPort, 40123);
  const invite = INVITE_MT.replace('INVITE sip:alice@10.45.0.7:5060', 'INVITE sip:alice@10.45.0.7:5060;transport=tcp');
  h.contacts.update(h.contacts.findByAor('sip:alice@ims.example.net')[0]!, { state: 'registered' });
  const out = expectForward(decide(request(invite, CORE), h.ctx), { addr: '10.45.0.7', port: 40123 }, TERMINATING, 'tcp');
  assert.match(out, '\r\nVia: SIP/2.0/TCP pcscf.ims.example.net:5060;branch=z9hG4bKpc2\r\n');
  assert.match(out, '\r\nRecord-Route: <sip:mt@pcscf.ims.example.net:5060;transport=tcp;lr>, <sip:mt@pcscf.ims.example.net:5060;lr>\r\nRecord-Route: <sip:mt@scscf');
});

test.run();
