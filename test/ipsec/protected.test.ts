// DESIGN.md invariant 3 through the P-CSCF logic: a protected REGISTER whose Security-Verify differs
// from the Security-Server sent (in any parameter) or whose Security-Client changed gets 494 with
// the Security-Server; a message on a protected port from anywhere but its SA tuple is refused
// (requests) or dropped (responses); a UE registered with IPsec cannot send outside its SAs;
// traffic over the SAs both ways, with the Record-Route towards the UE on the protected server port.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { CORE, UE, bindingOf, count, expectReply, request, sip, text } from '../pcscf/fixtures.js';
import {
  CLIENT_1, SERVER_1, UE_AT, UE_PC, UE_PS, answerTo, challenge, ipsecHarness, protectedRegister, protectedRequest, registerAlice,
  registeredOver, type IpsecHarness,
} from './fixtures.js';

function mismatchCount(h: IpsecHarness, header: string, code: string): number {
  return count(h, 'pcscf_security_verify_mismatches_total', { header, code });
}

const VERIFY_CASES: [string, string, string][] = [
  ['spi-c', SERVER_1.replace('spi-c=100', 'spi-c=102'), 'param_value'],
  ['spi-s', SERVER_1.replace('spi-s=101', 'spi-s=7'), 'param_value'],
  ['port-c', SERVER_1.replace('port-c=5100', 'port-c=5101'), 'param_value'],
  ['port-s', SERVER_1.replace('port-s=6100', 'port-s=6101'), 'param_value'],
  ['alg', SERVER_1.replace('alg=hmac-sha-1-96', 'alg=hmac-md5-96'), 'param_value'],
  ['ealg', SERVER_1.replace('ealg=aes-cbc', 'ealg=null'), 'param_value'],
  ['ealg removed (means null)', SERVER_1.replace(';ealg=aes-cbc', ''), 'param_value'],
  ['a parameter added', `${SERVER_1};foo=1`, 'param_extra'],
  ['mechanism', SERVER_1.replace('ipsec-3gpp', 'ipsec-man'), 'mechanism_name'],
  ['a second mechanism', `${SERVER_1}, digest`, 'mechanism_count'],
];

test('Security-Verify that differs from the Security-Server in any parameter: 494 with the Security-Server, counted, set not confirmed', async () => {
  for (const [what, verify, code] of VERIFY_CASES) {
    const h = ipsecHarness();
    await challenge(h);
    const plan = h.decide(protectedRequest(h, protectedRegister(2, CLIENT_1, verify), UE_AT(UE_PC), 6100, 2));
    assert.is(expectReplyOver(h, plan, 494), sip([
      'SIP/2.0 494 Security Agreement Required (Security-Verify does not match Security-Server)',
      'Via: SIP/2.0/UDP 10.45.0.7:5062;branch=z9hG4bKue2;rport=5062;received=10.45.0.7',
      'From: <sip:alice@ims.example.net>;tag=reg1',
      'To: <sip:alice@ims.example.net>;tag=pctag2',
      'Call-ID: reg@10.45.0.7',
      'CSeq: 2 REGISTER',
      'Require: sec-agree',
      `Security-Server: ${SERVER_1}`,
      'Content-Length: 0',
    ]), what);
    assert.is(mismatchCount(h, 'verify', code), 1, what);
    assert.is(bindingOf(h)?.sa?.confirmedAt, 0, what);
    assert.is(count(h, 'pcscf_registrations_rejected_total', { reason: 'security_verify' }), 1, what);
  }
  const h = ipsecHarness();
  await challenge(h);
  expectReplyOver(h, h.decide(protectedRequest(h, protectedRegister(2, CLIENT_1, undefined), UE_AT(UE_PC), 6100, 2)), 494);
  assert.is(mismatchCount(h, 'verify', 'missing'), 1);
});

test('Security-Verify written differently but equal (case, order, leading zeros) is accepted', async () => {
  const h = ipsecHarness();
  await challenge(h);
  const verify = 'IPSEC-3GPP; ealg=AES-CBC ;alg=HMAC-SHA-1-96;port-s=06100;port-c=5100;spi-s=101;spi-c=0100;mod=trans;prot=esp;q=0.100';
  const plan = h.decide(protectedRequest(h, protectedRegister(2, CLIENT_1, verify), UE_AT(UE_PC), 6100, 2));
  assert.is(plan.kind, 'forward');
});

test('a Security-Client other than the first one over a new set: 494 (TS 33.203 Annex H); over an established set it starts a re-registration', async () => {
  const h = ipsecHarness();
  await challenge(h);
  const weaker = CLIENT_1.replace('ealg=aes-cbc', 'ealg=null');
  const plan = h.decide(protectedRequest(h, protectedRegister(2, weaker, SERVER_1), UE_AT(UE_PC), 6100, 2));
  assert.match(expectReplyOver(h, plan, 494), /^SIP\/2.0 494 Security Agreement Required \(Security-Client changed\)\r\n/);
  assert.is(mismatchCount(h, 'client', 'changed'), 1);
  const none = h.decide(protectedRequest(h, protectedRegister(3, CLIENT_1, SERVER_1).replace(/Security-Client: .*\r\n/, ''), UE_AT(UE_PC), 6100, 3));
  expectReplyOver(h, none, 494);
  assert.is(mismatchCount(h, 'client', 'missing'), 1);

  const r = ipsecHarness();
  await registerAlice(r);
  const rereg = r.decide(protectedRequest(r, protectedRegister(3, weaker, SERVER_1), UE_AT(UE_PC), 6100, 3));
  assert.is(rereg.kind, 'forward', 'a new offer over the set in use is the next agreement, checked when it is used');
});

test('a REGISTER of another identity over these SAs: 403', async () => {
  const h = ipsecHarness();
  await registerAlice(h);
  const other = protectedRegister(3, CLIENT_1, SERVER_1).replace('To: <sip:alice@', 'To: <sip:carol@');
  assert.match(expectReplyOver(h, h.decide(protectedRequest(h, other, UE_AT(UE_PC), 6100, 3)), 403), /\(REGISTER of another identity over these SAs\)/);
  assert.is(count(h, 'pcscf_registrations_rejected_total', { reason: 'other_identity' }), 1);
});

const MO = sip([
  'MESSAGE sip:bob@ims.example.net SIP/2.0',
  'Via: SIP/2.0/UDP 10.45.0.7:5062;branch=z9hG4bKmo1;rport',
  'Max-Forwards: 70',
  'Route: <sip:10.0.0.1:6100;lr>, <sip:orig@scscf.ims.example.net:6060;lr>',
  'From: <sip:alice@ims.example.net>;tag=m1',
  'To: <sip:bob@ims.example.net>',
  'Call-ID: mo1@10.45.0.7',
  'CSeq: 1 MESSAGE',
  'Security-Verify: ' + SERVER_1,
  'Proxy-Require: sec-agree',
  'Require: sec-agree',
  'Content-Length: 0',
]);

test('a request on a protected port from anything but its SA tuple: 403, counted', async () => {
  const h = ipsecHarness();
  await registerAlice(h);
  const cases: [string, ReturnType<typeof protectedRequest>][] = [
    ['another UE port to port_ps', protectedRequest(h, MO, UE_AT(5099), 6100, 10)],
    ['the UE client port to another server port', protectedRequest(h, MO, UE_AT(UE_PC), 6101, 11)],
    ['the UE client port to the client port', protectedRequest(h, MO, UE_AT(UE_PC), 5100, 12)],
    ['the UE server port to port_ps', protectedRequest(h, MO, UE_AT(UE_PS), 6100, 13)],
    ['another address', protectedRequest(h, MO, { addr: '10.45.0.8', port: UE_PC }, 6100, 14)],
    ['the core', protectedRequest(h, MO, CORE, 6100, 15)],
  ];
  for (const [what, req] of cases) {
    const plan = h.decide(req);
    assert.match(expectReplyOver(h, plan, 403, false), /^SIP\/2.0 403 Forbidden \(Not from the security association of this port\)\r\n/, what);
  }
  assert.is(count(h, 'pcscf_protected_port_rejects_total', { kind: 'request' }), cases.length);
  assert.is(count(h, 'pcscf_requests_rejected_total', { reason: 'protected_port' }), cases.length);
  const unknown = ipsecHarness();
  assert.is(expectReplyOver(unknown, unknown.decide(protectedRequest(unknown, MO, UE_AT(UE_PC), 6100, 1)), 403, false).split('\r\n')[0], 'SIP/2.0 403 Forbidden (Not from the security association of this port)');
});

test('a UE registered with IPsec that sends outside its SAs: refused (sip.unregistered_status)', async () => {
  const h = ipsecHarness();
  await registerAlice(h);
  const plain = request(MO.replace('10.45.0.7:5062;', '10.45.0.7:5064;'), UE_AT(UE_PS), 20);
  assert.match(expectReply(h.decide(plain), 403), /\(Not sent over the security association\)/);
  assert.is(count(h, 'pcscf_protected_port_rejects_total', { kind: 'unprotected' }), 1);
});

test('originating over the SAs: forwarded with Service-Route, security headers off; its response goes back over the SAs', async () => {
  const h = ipsecHarness();
  await registerAlice(h);
  const mo = protectedRequest(h, MO, UE_AT(UE_PC), 6100, 30);
  const sent = h.decide(mo);
  assert.is(sent.kind, 'forward');
  if (sent.kind !== 'forward') return;
  const out = text(sent.bytes);
  assert.not.match(out, /Security-Verify|sec-agree/);
  assert.match(out, '\r\nRoute: <sip:orig@scscf.ims.example.net:6060;lr>\r\n');
  const ok = h.decide(answerTo(sip([
    'SIP/2.0 202 Accepted',
    `Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=${sent.branch}`,
    'Via: SIP/2.0/UDP 10.45.0.7:5062;branch=z9hG4bKmo1;rport=5062;received=10.45.0.7',
    'From: <sip:alice@ims.example.net>;tag=m1',
    'To: <sip:bob@ims.example.net>;tag=b9',
    'Call-ID: mo1@10.45.0.7',
    'CSeq: 1 MESSAGE',
    'Content-Length: 0',
  ]), mo, sent.context));
  assert.equal(ok.kind === 'reply' && ok.target, { transport: 'udp', socketId: h.socket(6100), remote: UE_AT(UE_PC) });
});

test('terminating INVITE: to port_us from port_pc, our Via on port_pc, Record-Route towards the UE on port_ps; the UE\'s answer accepted only over the SA', async () => {
  const h = ipsecHarness();
  await registerAlice(h);
  const invite = request(sip([
    `INVITE sip:alice@10.45.0.7:${UE_PS} SIP/2.0`,
    'Via: SIP/2.0/UDP 10.0.0.20:5060;branch=z9hG4bKsc1',
    'Max-Forwards: 68',
    'Route: <sip:term@pcscf.ims.example.net:5060;lr>',
    'From: <sip:bob@ims.example.net>;tag=b1',
    'To: <sip:alice@ims.example.net>',
    'Call-ID: call9@scscf',
    'CSeq: 1 INVITE',
    'Content-Length: 0',
  ]), CORE, 50);
  const sent = h.decide(invite);
  assert.is(sent.kind, 'forward');
  if (sent.kind !== 'forward') return;
  assert.equal(sent.target, { transport: 'udp', socketId: h.socket(5100), remote: UE_AT(UE_PS) });
  assert.is(text(sent.bytes), sip([
    `INVITE sip:alice@10.45.0.7:${UE_PS} SIP/2.0`,
    `Via: SIP/2.0/UDP 10.0.0.1:5100;branch=${sent.branch}`,
    'Via: SIP/2.0/UDP 10.0.0.20:5060;branch=z9hG4bKsc1',
    'Record-Route: <sip:mt@10.0.0.1:6100;lr>, <sip:mt@pcscf.ims.example.net:5060;lr>',
    'Max-Forwards: 67',
    'From: <sip:bob@ims.example.net>;tag=b1',
    'To: <sip:alice@ims.example.net>',
    'Call-ID: call9@scscf',
    'CSeq: 1 INVITE',
    'Content-Length: 0',
  ]));
  const ringing = (from: number, local: number) => answerTo(sip([
    'SIP/2.0 180 Ringing',
    `Via: SIP/2.0/UDP 10.0.0.1:5100;branch=${sent.branch}`,
    'Via: SIP/2.0/UDP 10.0.0.20:5060;branch=z9hG4bKsc1',
    'Record-Route: <sip:mt@10.0.0.1:6100;lr>, <sip:mt@pcscf.ims.example.net:5060;lr>',
    'From: <sip:bob@ims.example.net>;tag=b1',
    'To: <sip:alice@ims.example.net>;tag=a1',
    'Call-ID: call9@scscf',
    'CSeq: 1 INVITE',
    'Content-Length: 0',
  ]), invite, sent.context, UE, h.protectedRx(UE_AT(from), local));
  assert.is(h.decide(ringing(UE_PS, 5100)).kind, 'reply', 'port_us -> port_pc: relayed');
  const stray = h.decide(ringing(5099, 5100));
  assert.equal(stray, { kind: 'drop', reason: 'protected_port' });
  assert.is(count(h, 'pcscf_protected_port_rejects_total', { kind: 'response' }), 1);
});

test('a reply to a UE request whose set is gone meanwhile is dropped, never sent outside the SAs', async () => {
  const h = ipsecHarness();
  await registerAlice(h);
  const mo = protectedRequest(h, MO, UE_AT(UE_PC), 6100, 60);
  const sent = h.decide(mo);
  if (sent.kind !== 'forward') return assert.unreachable();
  h.contacts.update(h.contacts.findByAor('sip:alice@ims.example.net')[0]!, { sa: undefined });
  const relayed = h.decide(answerTo(sip([
    'SIP/2.0 200 OK',
    `Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=${sent.branch}`,
    'Via: SIP/2.0/UDP 10.45.0.7:5062;branch=z9hG4bKmo1;rport=5062;received=10.45.0.7',
    'From: <sip:alice@ims.example.net>;tag=m1',
    'To: <sip:bob@ims.example.net>;tag=b9',
    'Call-ID: mo1@10.45.0.7',
    'CSeq: 1 MESSAGE',
    'Content-Length: 0',
  ]), mo, sent.context));
  assert.equal(relayed, { kind: 'drop', reason: 'no_security_association' });
});

test('over TCP: the protected REGISTER\'s 200 goes back on the UE\'s connection; requests to the UE leave from port_pc over TCP', async () => {
  const h = ipsecHarness();
  await challenge(h);
  const over = protectedRequest(h, protectedRegister(2, CLIENT_1, SERVER_1).replace('SIP/2.0/UDP 10.45.0.7', 'SIP/2.0/TCP 10.45.0.7'), UE_AT(UE_PC), 6100, 2, 'tcp');
  const tcpReg = { ...over, rx: { ...over.rx, connId: 42 } };
  const sent = h.decide(tcpReg);
  if (sent.kind !== 'forward') return assert.unreachable(`got ${sent.kind}`);
  const ok = await h.run(answerTo(registeredOverTcp(sent.branch), tcpReg, sent.context));
  assert.equal(ok?.kind === 'reply' && ok.target, { transport: 'tcp', socketId: h.socket(6100, 'tcp'), remote: UE_AT(UE_PC), connId: 42, reuseOnly: true });
  assert.is(bindingOf(h)?.transport, 'tcp');
  const mt = h.decide(request(sip([
    `MESSAGE sip:alice@10.45.0.7:${UE_PS} SIP/2.0`,
    'Via: SIP/2.0/UDP 10.0.0.20:5060;branch=z9hG4bKmt9',
    'Max-Forwards: 68',
    'From: <sip:bob@ims.example.net>;tag=b1',
    'To: <sip:alice@ims.example.net>',
    'Call-ID: mt9@scscf',
    'CSeq: 1 MESSAGE',
    'Content-Length: 0',
  ]), CORE, 70));
  assert.is(mt.kind, 'forward');
  if (mt.kind !== 'forward') return;
  assert.equal(mt.target, { transport: 'tcp', socketId: h.socket(5100, 'tcp'), remote: UE_AT(UE_PS) });
  assert.match(text(mt.bytes), '\r\nVia: SIP/2.0/TCP 10.0.0.1:5100;branch=');
  assert.is(h.ctx.sockets.byId(mt.target.socketId)!.listening, false, 'a connection bound to port_pc, not a listener');
});

function registeredOverTcp(pcBranch: string): string {
  return registeredOver(2, pcBranch, 600000).replace('SIP/2.0/UDP 10.45.0.7', 'SIP/2.0/TCP 10.45.0.7');
}

/** A reply plan to a protected request: over the set (port_ps -> port_uc) unless `overSa` is false. */
function expectReplyOver(h: IpsecHarness, plan: ReturnType<IpsecHarness['decide']>, status: number, overSa = true): string {
  assert.is(plan.kind, 'reply');
  if (plan.kind !== 'reply') throw new Error('unreachable');
  assert.is(plan.status, status);
  if (overSa) assert.equal(plan.target, { transport: 'udp', socketId: h.socket(6100), remote: UE_AT(UE_PC) });
  else assert.is(plan.target, undefined);
  return text(plan.bytes);
}

test.run();
