// Responses relayed upstream (RFC 3261 §16.7), the ones the P-CSCF keeps, and what happens when the
// logic itself fails: a 500 or a drop, an error event and a counter, never an exception.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { decide } from '../../src/pcscf/index.js';
import type { Inbound } from '../../src/engine/plan.js';
import {
  AOR, CORE, INITIAL_REGISTER, UE, authRegister, count, expectReply, harness, registerAlice, registered, request, response, sip,
} from './fixtures.js';

const INVITE = sip([
  'INVITE sip:bob@ims.example.net SIP/2.0',
  'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKmo2;rport',
  'Max-Forwards: 70',
  'From: <sip:alice@ims.example.net>;tag=i1',
  'To: <sip:bob@ims.example.net>',
  'Call-ID: call1@10.45.0.7',
  'CSeq: 1 INVITE',
  'Contact: <sip:alice@10.45.0.7:5060>',
  'Content-Length: 0',
]);

function ringing(status: number, phrase: string, topVia: string): string {
  return sip([
    `SIP/2.0 ${status} ${phrase}`,
    `${topVia}, SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKmo2;rport=5060;received=10.45.0.7`,
    'Record-Route: <sip:mo@scscf.ims.example.net:6060;lr>, <sip:mo@pcscf.ims.example.net:5060;lr>',
    'From: <sip:alice@ims.example.net>;tag=i1',
    'To: <sip:bob@ims.example.net>;tag=b9',
    'Call-ID: call1@10.45.0.7',
    'CSeq: 1 INVITE',
    'Contact: <sip:bob@10.0.2.9:5060>',
    'Content-Length: 0',
  ]);
}

const OURS = 'Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=z9hG4bKpc2';

test('a provisional and a final response relayed with our Via removed, also when it shares its line with the next one', () => {
  const h = harness();
  registerAlice(h);
  const invite = request(INVITE, UE, 20);
  decide(invite, h.ctx);
  for (const [status, phrase] of [[180, 'Ringing'], [486, 'Busy Here']] as const) {
    const plan = decide(response(ringing(status, phrase, OURS), invite, { flow: 'originating' }), h.ctx);
    assert.is(expectReply(plan, status), sip([
      `SIP/2.0 ${status} ${phrase}`,
      'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKmo2;rport=5060;received=10.45.0.7',
      'Record-Route: <sip:mo@scscf.ims.example.net:6060;lr>, <sip:mo@pcscf.ims.example.net:5060;lr>',
      'From: <sip:alice@ims.example.net>;tag=i1',
      'To: <sip:bob@ims.example.net>;tag=b9',
      'Call-ID: call1@10.45.0.7',
      'CSeq: 1 INVITE',
      'Contact: <sip:bob@10.0.2.9:5060>',
      'Content-Length: 0',
    ]));
  }
  assert.is(count(h, 'pcscf_responses_relayed_total', { class: '1xx' }), 1);
  assert.is(count(h, 'pcscf_responses_relayed_total', { class: '4xx' }), 1);
});

test('100 Trying is not forwarded; a response whose top Via is not ours is dropped; so is one without transaction', () => {
  const h = harness();
  registerAlice(h);
  const invite = request(INVITE, UE, 21);
  decide(invite, h.ctx);
  assert.equal(decide(response(ringing(100, 'Trying', OURS), invite, { flow: 'originating' }), h.ctx), { kind: 'drop', reason: 'trying' });
  const stray = ringing(180, 'Ringing', 'Via: SIP/2.0/UDP proxy.elsewhere.example.com:5060;branch=z9hG4bKx');
  assert.equal(decide(response(stray, invite, { flow: 'originating' }), h.ctx), { kind: 'drop', reason: 'stray_via' });
  const otherPort = ringing(180, 'Ringing', 'Via: SIP/2.0/UDP pcscf.ims.example.net:5099;branch=z9hG4bKpc2');
  assert.equal(decide(response(otherPort, invite, { flow: 'originating' }), h.ctx), { kind: 'drop', reason: 'stray_via' });
  assert.equal(decide(response(ringing(180, 'Ringing', OURS), invite, { flow: 'originating' }, CORE, 0), h.ctx), { kind: 'drop', reason: 'no_transaction' });
  assert.is(count(h, 'pcscf_messages_dropped_total', { reason: 'trying' }), 1);
  assert.is(count(h, 'pcscf_messages_dropped_total', { reason: 'stray_via' }), 2);
  assert.is(count(h, 'pcscf_responses_relayed_total', { class: '1xx' }), 0);
});

test('a response with no Via after ours was meant for the P-CSCF: dropped', () => {
  const h = harness();
  const invite = request(INVITE, UE, 23);
  const alone = ringing(180, 'Ringing', OURS).replace(/, SIP\/2.0\/UDP 10.45.0.7:5060;[^\r]*/, '');
  assert.equal(decide(response(alone, invite, { flow: 'originating' }), h.ctx), { kind: 'drop', reason: 'stray_via' });
});

test('AKA keys leave no challenge towards the UE, whatever the flow', () => {
  const h = harness();
  const invite = request(INVITE, UE, 24);
  const challenge = ringing(407, 'Proxy Authentication Required', OURS).replace('Contact: <sip:bob@10.0.2.9:5060>',
    'Proxy-Authenticate: Digest realm="x", nonce="n", ck="00112233445566778899aabbccddeeff", ik="ffeeddccbbaa99887766554433221100", qop="auth"');
  const out = expectReply(decide(response(challenge, invite, { flow: 'originating' }), h.ctx), 407);
  assert.match(out, '\r\nProxy-Authenticate: Digest realm="x", nonce="n", qop="auth"\r\n');
});

test('a response that does not parse is dropped', () => {
  const h = harness();
  const invite = request(INVITE, UE, 22);
  const broken = ringing(180, 'Ringing', OURS).replace('CSeq: 1 INVITE', 'CSeq: one INVITE');
  assert.equal(decide(response(broken, invite, { flow: 'originating' }), h.ctx), { kind: 'drop', reason: 'malformed_response' });
  assert.equal(decide(response(INVITE, invite, { flow: 'originating' }), h.ctx), { kind: 'drop', reason: 'malformed_response' });
  assert.is(count(h, 'pcscf_messages_dropped_total', { reason: 'malformed_response' }), 2);
});

test('a 2xx to REGISTER whose bindings cannot be stored is relayed all the same, with a warning and a counter', () => {
  const h = harness();
  const reg = request(authRegister(2), UE);
  const sent = decide(reg, h.ctx);
  assert.ok(sent.kind === 'forward');
  const tooMany = registered(2, sent.branch, 600).replace('Service-Route: <sip:orig@scscf.ims.example.net:6060;lr>',
    'Service-Route: <sip:a@s1.example.net;lr>, <sip:b@s2.example.net;lr>, <sip:c@s3.example.net;lr>, <sip:d@s4.example.net;lr>, <sip:e@s5.example.net;lr>');
  expectReply(decide(response(tooMany, reg, { flow: 'register', ipsec: false }), h.ctx), 200);
  assert.is(count(h, 'pcscf_binding_errors_total', { reason: 'invalid' }), 1);
  assert.is(count(h, 'pcscf_registrations_total', { outcome: 'initial' }), 0);
  assert.is(h.events.length, 1);
  assert.is(h.events[0]!.level, 'warn');
  assert.equal(h.events[0]!.fields?.aor, AOR);
});

test('a bug inside the logic: a request gets 500, a response is dropped; both logged and counted, nothing thrown', () => {
  let broken = false;
  const h = harness({}, { now: () => { if (broken) throw new Error('clock broken'); return 1_767_225_600; } });
  const reg = request(INITIAL_REGISTER, UE);
  const sent = decide(reg, h.ctx);
  assert.ok(sent.kind === 'forward');
  broken = true;
  assert.is(expectReply(decide(request(INITIAL_REGISTER, UE, 2), h.ctx), 500), sip([
    'SIP/2.0 500 Server Internal Error',
    'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKue1;rport',
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>;tag=pctag1',
    'Call-ID: reg@10.45.0.7',
    'CSeq: 1 REGISTER',
    'Content-Length: 0',
  ]));
  assert.equal(decide(response(registered(1, sent.branch, 600, 'z9hG4bKue1'), reg, sent.context), h.ctx), { kind: 'drop', reason: 'internal_error' });
  assert.is(count(h, 'pcscf_registrations_rejected_total', { reason: 'internal_error' }), 1);
  assert.is(count(h, 'pcscf_messages_dropped_total', { reason: 'internal_error' }), 1);
  assert.equal(h.events.map((e) => [e.level, e.fields?.kind, e.fields?.error]), [
    ['error', 'request', 'Error: clock broken'],
    ['error', 'response', 'Error: clock broken'],
  ]);
});

test('a failing log sink or tag generator still gives a plan', () => {
  const h = harness({}, { log: () => { throw new Error('sink down'); }, now: () => { throw new Error('clock broken'); } });
  assert.equal(decide(request(INITIAL_REGISTER, UE), h.ctx), { kind: 'drop', reason: 'internal_error' });
  const inbound: Inbound = { kind: 'request', id: 1, bytes: new Uint8Array([0x58]), rx: { transport: 'udp', socketId: 0, local: UE, remote: UE } };
  assert.equal(decide(inbound, h.ctx), { kind: 'drop', reason: 'malformed_request' });
});

test('a request the worker cannot parse is answered from its raw bytes when it can be', () => {
  const h = harness();
  const bad = INVITE.replace('CSeq: 1 INVITE', 'CSeq: 1 BYE');
  const plan = decide(request(bad, UE), h.ctx);
  assert.match(expectReply(plan, 400), /^SIP\/2.0 400 /);
  assert.is(count(h, 'pcscf_requests_rejected_total', { reason: 'malformed' }), 1);
});

test.run();
