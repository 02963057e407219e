// Registration over IPsec through the P-CSCF logic and the main thread's executor (a fake kernel):
// the 401 only after the kernel has the SAs, byte for byte; the protected REGISTER; the 200 over
// the SAs; re-registration per TS 33.203 §7.4; de-registration; and what is left in the kernel,
// the SPI pool and the contact table after each.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { Plan, SipPlan } from '../../src/engine/plan.js';
import { buildPcscfSaSet, createOps } from '../../src/ipsec/sa-set.js';
import { AOR, CORE, INITIAL_REGISTER, T0, UE, bindingOf, count, request, sip, text } from '../pcscf/fixtures.js';
import { keyOf } from './fake-kernel.js';
import {
  CLIENT_1, CLIENT_2, P, SERVER_1, SERVER_2, UE_AT, UE_PC, UE_PC2, UE_PS, answerTo, challenge, challengeFor, ipsecHarness, protectedRegister,
  protectedRequest, registerAlice, registeredOver, replyText, targetOf,
} from './fixtures.js';

const IPSEC_CONTEXT = { flow: 'register', ipsec: true };

function kernelPlan(plan: Plan): Extract<Plan, { kind: 'kernel' }> {
  assert.is(plan.kind, 'kernel', `expected a kernel plan, got ${plan.kind}`);
  if (plan.kind !== 'kernel') throw new Error('unreachable');
  return plan;
}

test('the 401: a kernel plan with the 4 SAs and 4 policies, the 401 byte for byte, the 503 instead; nothing stored yet', () => {
  const h = ipsecHarness();
  const reg = request(INITIAL_REGISTER, UE, 1);
  const sent = h.decide(reg);
  assert.is(sent.kind, 'forward');
  if (sent.kind !== 'forward') return;
  assert.equal(sent.context, IPSEC_CONTEXT);
  const plan = kernelPlan(h.decide(answerTo(challengeFor(1, sent.branch, 5060), reg, sent.context)));
  assert.is(text(plan.then.kind === 'reply' ? plan.then.bytes : new Uint8Array()), sip([
    'SIP/2.0 401 Unauthorized',
    'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKue1;rport=5060;received=10.45.0.7',
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>;tag=scscf401',
    'Call-ID: reg@10.45.0.7',
    'CSeq: 1 REGISTER',
    'WWW-Authenticate: Digest realm="ims.example.net", nonce="bm9uY2U1", algorithm=AKAv1-MD5',
    'Content-Length: 0',
    'Supported: sec-agree',
    `Security-Server: ${SERVER_1}`,
  ]));
  assert.equal(plan.then.kind === 'reply' && plan.then.target, undefined, 'unprotected, from the socket the REGISTER came to');
  assert.is(text(plan.otherwise.kind === 'reply' ? plan.otherwise.bytes : new Uint8Array()), sip([
    'SIP/2.0 503 Service Unavailable (IPsec SAs could not be created)',
    'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKue1;rport=5060;received=10.45.0.7',
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>;tag=pctag1',
    'Call-ID: reg@10.45.0.7',
    'CSeq: 1 REGISTER',
    'Content-Length: 0',
  ]));
  const expected = createOps(buildPcscfSaSet({
    family: 4, pcscfAddr: P, ueAddr: UE.addr, marker: 143956232,
    spiUc: 1111, spiUs: 2222, spiPc: 100, spiPs: 101, portUc: 5062, portUs: 5064, portPc: 5100, portPs: 6100,
    alg: 'hmac-sha-1-96', ealg: 'aes-cbc',
    ck: Buffer.from('0a1b2c3d4e5f60718293a4b5c6d7e8f9', 'hex'), ik: Buffer.from('f9e8d7c6b5a4938271605f4e3d2c1b0a', 'hex'),
  }));
  assert.equal(plan.work, { ops: expected, release: [100], what: 'register' });
  assert.equal(plan.undo.map(keyOf).sort(), expected.map(keyOf).sort(), 'undo deletes exactly what the work creates');
  assert.is(plan.commit.ueAddr, UE.addr);
  assert.equal({ ...plan.commit.set, clientDigest: undefined }, {
    spiUc: 1111, spiUs: 2222, spiPc: 100, spiPs: 101, portUc: 5062, portUs: 5064, portPc: 5100, portPs: 6100,
    alg: 'hmac-sha-1-96', ealg: 'aes-cbc', clientDigest: undefined, createdAt: T0, confirmedAt: 0,
  });
  assert.is(plan.commit.set.clientDigest.length, 32);
  assert.is(bindingOf(h)?.sa, undefined, 'the binding gets the set only once the kernel has it');
  assert.is(h.ctx.ipsec!.spis.inUse, 1);
  assert.not.match(text(plan.then.kind === 'reply' ? plan.then.bytes : new Uint8Array()), /ck=|ik=/);
});

test('the executor: kernel first, then the set in the binding, then the 401; 4 SAs and 4 policies in the kernel', async () => {
  const h = ipsecHarness();
  const delivered = await challenge(h);
  assert.match(replyText(delivered, 401), `\r\nSecurity-Server: ${SERVER_1}\r\n`);
  assert.equal([h.kernel.sas, h.kernel.policies], [4, 4]);
  assert.is(h.kernel.groups.length, 1, 'one group');
  const b = bindingOf(h)!;
  assert.is(b.state, 'pending');
  assert.equal([b.sa?.spiPc, b.sa?.confirmedAt, b.previousSa], [100, 0, undefined]);
  assert.is(count(h, 'pcscf_ipsec_sets_created_total'), 1);
  assert.is(count(h, 'pcscf_responses_relayed_total', { class: '4xx' }), 1);
});

test('protected REGISTER: Verify and Client checked, set confirmed, integrity-protected="yes", security headers off', async () => {
  const h = ipsecHarness();
  await challenge(h);
  h.advance(2);
  const reg = protectedRequest(h, protectedRegister(2, CLIENT_1, SERVER_1), UE_AT(UE_PC), 6100, 2);
  const sent = h.decide(reg);
  assert.is(sent.kind, 'forward');
  if (sent.kind !== 'forward') return;
  assert.equal(sent.context, { flow: 'register', ipsec: true, sa: 100 });
  assert.equal(sent.target, { transport: 'udp', socketId: 0, remote: CORE });
  assert.is(text(sent.bytes), sip([
    'REGISTER sip:ims.example.net SIP/2.0',
    `Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=${sent.branch}`,
    'Via: SIP/2.0/UDP 10.45.0.7:5062;branch=z9hG4bKue2;rport=5062;received=10.45.0.7',
    'Max-Forwards: 69',
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>',
    'Contact: <sip:alice@10.45.0.7:5064>;+sip.instance="<urn:gsma:imei:35693803-564889-0>";expires=600000',
    'Call-ID: reg@10.45.0.7',
    'CSeq: 2 REGISTER',
    'Expires: 600000',
    'Authorization: Digest username="alice@ims.example.net",realm="ims.example.net",nonce="bm9uY2U=",uri="sip:ims.example.net",response="6629fae49393a05397450978507c4ef1",algorithm=AKAv1-MD5, integrity-protected="yes"',
    'Supported: path, sec-agree',
    'Content-Length: 0',
    'Path: <sip:term@pcscf.ims.example.net:5060;lr>',
    'Require: path',
  ]));
  const b = bindingOf(h)!;
  assert.is(b.sa?.confirmedAt, T0 + 2, 'arrival over the set confirms it');
  assert.is(b.contactUri, '<sip:alice@10.45.0.7:5064>;+sip.instance="<urn:gsma:imei:35693803-564889-0>";expires=600000',
    'the pending binding of the set follows the protected REGISTER\'s Contact');
});

test('the 200 leaves over the SAs (port_ps -> port_uc) with Supported / Require: sec-agree; the binding is registered with its set', async () => {
  const h = ipsecHarness();
  await challenge(h);
  const reg = protectedRequest(h, protectedRegister(2, CLIENT_1, SERVER_1), UE_AT(UE_PC), 6100, 2);
  const sent = h.decide(reg);
  if (sent.kind !== 'forward') return assert.unreachable();
  const ok = await h.run(answerTo(registeredOver(2, sent.branch, 600000), reg, sent.context));
  assert.is(replyText(ok, 200), sip([
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 10.45.0.7:5062;branch=z9hG4bKue2;rport=5062;received=10.45.0.7',
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>;tag=scscf200',
    'Call-ID: reg@10.45.0.7',
    'CSeq: 2 REGISTER',
    'Path: <sip:term@pcscf.ims.example.net:5060;lr>',
    'Service-Route: <sip:orig@scscf.ims.example.net:6060;lr>',
    'P-Associated-URI: <sip:alice@ims.example.net>',
    'Contact: <sip:alice@10.45.0.7:5064>;expires=600000',
    'Content-Length: 0',
    'Supported: sec-agree',
    'Require: sec-agree',
  ]));
  assert.equal(targetOf(ok), { transport: 'udp', socketId: h.socket(6100), remote: UE_AT(UE_PC) });
  const b = bindingOf(h)!;
  assert.equal([b.state, b.sa?.spiPc, b.previousSa, b.receivedPort, b.contactPort], ['registered', 100, undefined, UE_PC, UE_PS]);
  assert.is(count(h, 'pcscf_registrations_total', { outcome: 'initial' }), 1);
  assert.equal([h.kernel.sas, h.ctx.ipsec!.spis.inUse], [4, 1]);
});

test('re-registration (TS 33.203 §7.4): new SPIs and client port, server port kept; old set in use until the new one is accepted, then removed', async () => {
  const h = ipsecHarness();
  await registerAlice(h);
  h.advance(100);
  // Over the old set, with the new Security-Client: Verify is the old Security-Server.
  const rereg = protectedRequest(h, protectedRegister(3, CLIENT_2, SERVER_1), UE_AT(UE_PC), 6100, 3);
  const sent = h.decide(rereg);
  if (sent.kind !== 'forward') return assert.unreachable(`got ${sent.kind}`);
  assert.equal(sent.context, { flow: 'register', ipsec: true, sa: 100 });
  const challenged = await h.run(answerTo(challengeFor(3, sent.branch, UE_PC, 2), rereg, sent.context));
  assert.match(replyText(challenged, 401), `\r\nSecurity-Server: ${SERVER_2}\r\n`);
  assert.equal(targetOf(challenged), { transport: 'udp', socketId: h.socket(6100), remote: UE_AT(UE_PC) }, 'over the old SAs');
  let b = bindingOf(h)!;
  assert.equal([b.sa?.spiPc, b.sa?.portPc, b.sa?.portPs, b.sa?.portUc, b.previousSa?.spiPc], [102, 5101, 6100, UE_PC2, 100]);
  assert.equal([h.kernel.sas, h.ctx.ipsec!.spis.inUse], [8, 2]);

  // Until the new set is accepted, requests to the UE use the old one.
  const mt = request(sip([
    'MESSAGE sip:alice@10.45.0.7:5064 SIP/2.0',
    'Via: SIP/2.0/UDP 10.0.0.20:5060;branch=z9hG4bKmt1',
    'Max-Forwards: 68',
    'Route: <sip:term@pcscf.ims.example.net:5060;lr>',
    'From: <sip:bob@ims.example.net>;tag=b1',
    'To: <sip:alice@ims.example.net>',
    'Call-ID: mt1@scscf',
    'CSeq: 1 MESSAGE',
    'Content-Length: 0',
  ]), CORE, 40);
  const during = h.decide(mt);
  assert.equal(during.kind === 'forward' && during.target, { transport: 'udp', socketId: h.socket(5100), remote: UE_AT(UE_PS) });

  // The REGISTER over the new set: Verify is the new Security-Server, Client the one that asked for it.
  const reg = protectedRequest(h, protectedRegister(4, CLIENT_2, SERVER_2, UE_PC2), UE_AT(UE_PC2), 6100, 4);
  const sent2 = h.decide(reg);
  if (sent2.kind !== 'forward') return assert.unreachable(`got ${sent2.kind}`);
  const ok = await h.run(answerTo(registeredOver(4, sent2.branch, 600000, UE_PC2), reg, sent2.context));
  assert.equal(targetOf(ok), { transport: 'udp', socketId: h.socket(6100), remote: UE_AT(UE_PC2) });
  b = bindingOf(h)!;
  assert.equal([b.sa?.spiPc, b.sa?.confirmedAt, b.previousSa], [102, T0 + 100, undefined]);
  assert.equal([h.kernel.sas, h.kernel.policies, h.ctx.ipsec!.spis.inUse], [4, 4, 1], 'the old set is gone from the kernel and its pair released');
  assert.not.ok(h.ctx.ipsec!.spis.isAllocated(100));
  assert.is(count(h, 'pcscf_ipsec_sets_removed_total', { why: 'replaced' }), 1);
  assert.is(count(h, 'pcscf_registrations_total', { outcome: 're' }), 1);
  const after = h.decide({ ...mt, id: 41 });
  assert.equal(after.kind === 'forward' && after.target, { transport: 'udp', socketId: h.socket(5101), remote: UE_AT(UE_PS) }, 'now the new set');
});

test('de-registration: the 200 leaves over the SAs, then they are removed; nothing is left', async () => {
  const h = ipsecHarness();
  await registerAlice(h);
  const dereg = protectedRequest(h, protectedRegister(5, CLIENT_1, SERVER_1, UE_PC, 0), UE_AT(UE_PC), 6100, 5);
  const sent = h.decide(dereg);
  if (sent.kind !== 'forward') return assert.unreachable(`got ${sent.kind}`);
  const relayed = h.decide(answerTo(registeredOver(5, sent.branch, 0), dereg, sent.context));
  assert.is(relayed.kind, 'reply');
  if (relayed.kind !== 'reply') return;
  assert.equal(relayed.target, { transport: 'udp', socketId: h.socket(6100), remote: UE_AT(UE_PC) }, 'over the SAs');
  assert.is(relayed.after?.length, 1);
  assert.equal(relayed.after![0]!.release, [100]);
  assert.is(relayed.after![0]!.what, 'deregistered');
  assert.is(h.kernel.sas, 4, 'still there while the 200 is on its way');
  h.executor.apply(dereg.id, relayed);
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.is(h.delivered.at(-1)?.plan, relayed, 'the 200 was handed over first');
  assert.is(h.kernel.sas, 4, 'the SAs outlive the 200 by security.teardown_delay_ms');
  await h.executor.idle();
  assert.equal([h.kernel.sas, h.kernel.policies, h.ctx.ipsec!.spis.inUse, h.contacts.size], [0, 0, 0, 0]);
  assert.is(count(h, 'pcscf_registrations_total', { outcome: 'de' }), 1);
  assert.is(bindingOf(h), undefined);
  assert.is(AOR, 'sip:alice@ims.example.net');
});

test('expiry removes the binding and its SAs; a set never confirmed goes after temporary_sa_timeout_s', async () => {
  const h = ipsecHarness();
  await registerAlice(h, 3600);
  h.advance(3600);
  assert.is(await h.sweep(), 1);
  assert.equal([h.kernel.sas, h.kernel.policies, h.ctx.ipsec!.spis.inUse, h.contacts.size], [0, 0, 0, 0]);
  assert.is(count(h, 'pcscf_ipsec_sets_removed_total', { why: 'expired' }), 1);

  const t = ipsecHarness();
  await challenge(t);
  t.advance(9);
  await t.sweep();
  assert.is(t.kernel.sas, 4, 'not yet');
  t.advance(1);
  await t.sweep();
  assert.equal([t.kernel.sas, t.ctx.ipsec!.spis.inUse], [0, 0]);
  assert.is(bindingOf(t)?.sa, undefined, 'the pending binding stays (its own life is 30 s) without the set');
  assert.is(count(t, 'pcscf_ipsec_sets_removed_total', { why: 'temporary' }), 1);
});

test('a re-registration whose new set is never used: after the timeout it goes and the old one is the current set again', async () => {
  const h = ipsecHarness();
  await registerAlice(h);
  const rereg = protectedRequest(h, protectedRegister(3, CLIENT_2, SERVER_1), UE_AT(UE_PC), 6100, 3);
  const sent = h.decide(rereg);
  if (sent.kind !== 'forward') return assert.unreachable();
  await h.run(answerTo(challengeFor(3, sent.branch, UE_PC, 2), rereg, sent.context));
  assert.is(h.kernel.sas, 8);
  h.advance(10);
  await h.sweep();
  const b = bindingOf(h)!;
  assert.equal([b.sa?.spiPc, b.previousSa, h.kernel.sas, h.ctx.ipsec!.spis.inUse], [100, undefined, 4, 1]);
});

test('a refused REGISTER over a new set gives that set up; a refused initial registration leaves nothing', async () => {
  const h = ipsecHarness();
  await challenge(h);
  const reg = protectedRequest(h, protectedRegister(2, CLIENT_1, SERVER_1), UE_AT(UE_PC), 6100, 2);
  const sent = h.decide(reg);
  if (sent.kind !== 'forward') return assert.unreachable();
  const refused = await h.run(answerTo(sip([
    'SIP/2.0 403 Forbidden',
    `Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=${sent.branch}`,
    'Via: SIP/2.0/UDP 10.45.0.7:5062;branch=z9hG4bKue2;rport=5062;received=10.45.0.7',
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>;tag=x',
    'Call-ID: reg@10.45.0.7',
    'CSeq: 2 REGISTER',
    'Content-Length: 0',
  ]), reg, sent.context));
  assert.equal(targetOf(refused), { transport: 'udp', socketId: h.socket(6100), remote: UE_AT(UE_PC) }, 'the 403 still leaves over the set');
  assert.equal([h.kernel.sas, h.ctx.ipsec!.spis.inUse, h.contacts.size], [0, 0, 0]);
  assert.is(count(h, 'pcscf_ipsec_sets_removed_total', { why: 'refused' }), 1);
});

test('a second challenge (SQN resynchronisation) supersedes the unconfirmed set at once (ipsec_create flag 0x01)', async () => {
  const h = ipsecHarness();
  await challenge(h);
  const again = request(INITIAL_REGISTER.replace('branch=z9hG4bKue1', 'branch=z9hG4bKue7').replace('CSeq: 1', 'CSeq: 7'), UE, 7);
  const sent = h.decide(again);
  if (sent.kind !== 'forward') return assert.unreachable();
  await h.run(answerTo(challengeFor(7, sent.branch, 5060, 2), again, sent.context));
  const b = bindingOf(h)!;
  assert.equal([b.sa?.spiPc, b.previousSa, h.kernel.sas, h.ctx.ipsec!.spis.inUse], [102, undefined, 4, 1]);
  assert.is(count(h, 'pcscf_ipsec_sets_removed_total', { why: 'superseded' }), 1);
});

test('a REGISTER without IPsec from a UE that had SAs: the registrar\'s 200 takes them away', async () => {
  const h = ipsecHarness();
  await registerAlice(h);
  const plain = request(sip([
    'REGISTER sip:ims.example.net SIP/2.0',
    'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKue9;rport',
    'Max-Forwards: 70',
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>',
    `Contact: <sip:alice@10.45.0.7:${UE_PS}>;expires=600`,
    'Call-ID: reg@10.45.0.7',
    'CSeq: 9 REGISTER',
    'Content-Length: 0',
  ]), UE, 9);
  const sent = h.decide(plain);
  if (sent.kind !== 'forward') return assert.unreachable();
  assert.equal(sent.context, { flow: 'register', ipsec: false });
  await h.run(answerTo(sip([
    'SIP/2.0 200 OK',
    `Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=${sent.branch}`,
    'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKue9;rport=5060;received=10.45.0.7',
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>;tag=y',
    'Call-ID: reg@10.45.0.7',
    'CSeq: 9 REGISTER',
    `Contact: <sip:alice@10.45.0.7:${UE_PS}>;expires=600`,
    'Content-Length: 0',
  ]), plain, sent.context));
  const b = bindingOf(h)!;
  assert.equal([b.state, b.sa, h.kernel.sas, h.ctx.ipsec!.spis.inUse], ['registered', undefined, 0, 0]);
  assert.is(count(h, 'pcscf_ipsec_sets_removed_total', { why: 'unprotected' }), 1);
});

test.run();
