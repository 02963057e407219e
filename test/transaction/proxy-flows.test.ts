// The proxy core end to end on a fake clock, with real SIP bytes: a recording transport, the
// P-CSCF logic played by the test (forward with a Via prepended, relay without it).

import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Target } from '../../src/engine/plan.js';
import {
  CORE_ADDR, CORE_TARGET, Harness, UE_ADDR, ackFor, methodOf, parse, request, respond, rxFrom, statusOf,
} from './support.js';

const UE = rxFrom(UE_ADDR, 5060);
const CORE = rxFrom(CORE_ADDR, 5060);

test('REGISTER over UDP: decided, forwarded, 401 relayed upstream; Timers J and K empty the table', () => {
  const h = new Harness();
  const reg = request({ method: 'REGISTER', branch: 'z9hG4bKr1', uri: 'sip:ims.example.net' });
  h.receive(reg, UE);
  assert.equal(h.sent, [], 'no 100 Trying for a non-INVITE (§16.2)');
  const req = h.take();
  assert.is(req.kind, 'request');
  assert.ok(req.id > 0);
  assert.ok(Buffer.from(req.bytes).equals(reg), 'the request as received');
  const fwd = h.forward(req, CORE_TARGET, { flow: 'register' });
  assert.is(h.sentTo(CORE_ADDR).length, 1);
  assert.ok(Buffer.from(h.sentTo(CORE_ADDR)[0]!.bytes).equals(fwd));
  h.advance(200);
  h.receive(respond(fwd, 401), CORE);
  const res = h.take();
  assert.is(res.kind, 'response');
  if (res.kind !== 'response') return;
  assert.is(res.id, req.id);
  assert.equal(res.context, { flow: 'register' });
  assert.ok(Buffer.from(res.request.bytes).equals(reg));
  assert.equal(res.request.rx, UE);
  const up = h.relay(res);
  const toUe = h.sentTo(UE_ADDR);
  assert.is(toUe.length, 1);
  assert.ok(Buffer.from(toUe[0]!.bytes).equals(up));
  assert.equal(toUe[0]!.target, { transport: 'udp', socketId: 0, remote: { addr: UE_ADDR, port: 5060 } });
  assert.equal(h.sentTo(CORE_ADDR).map((s) => methodOf(s.text)), ['REGISTER'], 'no retransmission after the response');
  h.advance(5000);
  assert.is(h.core.stats().clientTx, 0, 'Timer K');
  h.advance(27_000);
  assert.ok(h.empty(), 'Timer J');
});

test('a method of any length is forwarded (RFC 4475 §3.1.1.2: a 43-octet token)', () => {
  const h = new Harness();
  const method = "!interesting-Method0123456789_*+`.%indeed'~";
  h.receive(request({ method, branch: 'z9hG4bKlong' }), UE);
  const fwd = h.forward(h.take());
  assert.is(h.count('plan-invalid'), 0);
  assert.equal(h.sentTo(CORE_ADDR).map((s) => s.text.slice(0, method.length)), [method]);
  h.receive(respond(fwd, 200), CORE);
  h.relay(h.take());
  assert.equal(h.sentTo(UE_ADDR).map((s) => statusOf(s.text)), [200]);
});

test('non-INVITE retransmissions: absorbed while Trying, answered with the final once Completed', () => {
  const h = new Harness();
  const msg = request({ method: 'MESSAGE', branch: 'z9hG4bKm1' });
  h.receive(msg, UE);
  const req = h.take();
  h.receive(msg, UE);
  assert.equal(h.inbound, [], 'a retransmission is not a new request');
  const fwd = h.forward(req);
  h.receive(msg, UE);
  assert.is(h.sentTo(UE_ADDR).length, 0);
  h.receive(respond(fwd, 200), CORE);
  h.relay(h.take());
  h.receive(msg, UE);
  h.receive(msg, UE);
  assert.equal(h.sentTo(UE_ADDR).map((s) => statusOf(s.text)), [200, 200, 200]);
  assert.is(h.count('absorbed', (e) => e.type === 'absorbed' && e.what === 'request'), 4);
});

test('the response target follows §18.2.2 / RFC 3581: rport asks for the source port', () => {
  const h = new Harness();
  h.receive(request({ method: 'MESSAGE', branch: 'z9hG4bKrp', viaParams: ';rport' }), rxFrom(UE_ADDR, 40123, 'udp', 3));
  const req = h.take();
  h.core.apply(req.id, { kind: 'reply', bytes: respond(req.bytes, 403), status: 403 });
  assert.equal(h.sent[0]!.target, { transport: 'udp', socketId: 3, remote: { addr: UE_ADDR, port: 40123 } });
  h.receive(request({ method: 'MESSAGE', branch: 'z9hG4bKsb', sentBy: 'ue.example.net:5088' }), rxFrom(UE_ADDR, 40123, 'udp', 3));
  const r2 = h.take();
  h.core.apply(r2.id, { kind: 'reply', bytes: respond(r2.bytes, 403), status: 403 });
  assert.equal(h.sent[1]!.target.remote, { addr: UE_ADDR, port: 5088 }, 'the sent-by port at the source address');
});

test('a reply plan may name its target (IPsec); retransmissions of the response use it too', () => {
  const h = new Harness();
  const msg = request({ method: 'MESSAGE', branch: 'z9hG4bKt1' });
  h.receive(msg, UE);
  const req = h.take();
  const target: Target = { transport: 'udp', socketId: 9, remote: { addr: UE_ADDR, port: 6100 } };
  h.core.apply(req.id, { kind: 'reply', bytes: respond(msg, 200), status: 200, target });
  h.receive(msg, UE);
  assert.equal(h.sent.map((s) => s.target), [target, target]);
});

test('INVITE: 100 Trying at once (no To tag, Timestamp copied); retransmissions get the latest provisional', () => {
  const h = new Harness();
  const inv = request({ method: 'INVITE', branch: 'z9hG4bKi1', extra: ['Timestamp: 54.2'] });
  h.receive(inv, UE);
  const trying = h.sentTo(UE_ADDR);
  assert.is(trying.length, 1);
  const t = parse(trying[0]!.bytes);
  assert.is(t.status, 100);
  assert.is(t.to().tag, undefined);
  assert.is(t.first('timestamp')?.value, '54.2');
  const req = h.take();
  h.receive(inv, UE);
  assert.equal(h.inbound, []);
  assert.equal(h.sentTo(UE_ADDR).map((s) => statusOf(s.text)), [100, 100]);
  const fwd = h.forward(req);
  h.receive(respond(fwd, 100), CORE);
  assert.equal(h.inbound, [], 'a 100 is never relayed (§16.7 item 5)');
  h.receive(respond(fwd, 180), CORE);
  h.relay(h.take());
  h.receive(inv, UE);
  assert.equal(h.sentTo(UE_ADDR).map((s) => statusOf(s.text)), [100, 100, 180, 180]);
  assert.equal(h.sentTo(CORE_ADDR).map((s) => methodOf(s.text)), ['INVITE'], 'Timer A stopped by the 100');
  h.advance(10_000);
  assert.equal(h.sentTo(CORE_ADDR).map((s) => methodOf(s.text)), ['INVITE']);
});

test('INVITE 2xx: relayed, 2xx retransmissions relayed again (RFC 6026), INVITE retransmissions absorbed, ACK routed statelessly', () => {
  const h = new Harness();
  const inv = request({ method: 'INVITE', branch: 'z9hG4bKi2' });
  h.receive(inv, UE);
  const req = h.take();
  const fwd = h.forward(req);
  h.receive(respond(fwd, 200, 'callee'), CORE);
  h.relay(h.take());
  h.advance(500);
  h.receive(respond(fwd, 200, 'callee'), CORE);
  const again = h.take();
  assert.is(again.kind, 'response');
  assert.is(again.id, req.id);
  h.relay(again);
  h.receive(inv, UE);
  assert.equal(h.inbound, []);
  assert.equal(h.sentTo(UE_ADDR).map((s) => statusOf(s.text)), [100, 200, 200]);
  const ack = request({ method: 'ACK', branch: 'z9hG4bKack2', toTag: 'callee' });
  h.receive(ack, UE);
  const a = h.take();
  assert.is(a.kind, 'request');
  assert.is(a.id, 0, 'the ACK of a 2xx has no server transaction');
  // A UA that (wrongly) reuses the INVITE's branch for the ACK of a 2xx: matched in Accepted and
  // passed up (RFC 6026 §8.7).
  h.receive(request({ method: 'ACK', branch: 'z9hG4bKi2', toTag: 'callee' }), UE);
  assert.is(h.take().id, 0);
  h.advance(32_000);
  assert.ok(h.empty(), 'Timers L and M');
});

test('INVITE non-2xx: the client ACKs downstream, retransmissions re-ACK; the UE ACK is absorbed; Timers I and D empty the table', () => {
  const h = new Harness();
  const inv = request({ method: 'INVITE', branch: 'z9hG4bKi3' });
  h.receive(inv, UE);
  const fwd = h.forward(h.take());
  h.receive(respond(fwd, 180), CORE);
  h.relay(h.take());
  const busy = respond(fwd, 486, 'busy');
  h.receive(busy, CORE);
  const acks = h.sentTo(CORE_ADDR).filter((s) => methodOf(s.text) === 'ACK');
  assert.is(acks.length, 1);
  assert.is(parse(acks[0]!.bytes).topVia().branch, parse(fwd).topVia().branch);
  assert.equal(acks[0]!.target, CORE_TARGET, 'the ACK goes where the INVITE went');
  const up = h.relay(h.take());
  h.receive(busy, CORE);
  assert.equal(h.inbound, [], 'a retransmitted final is not passed up');
  assert.is(h.sentTo(CORE_ADDR).filter((s) => methodOf(s.text) === 'ACK').length, 2);
  h.advance(500);
  assert.equal(h.sentTo(UE_ADDR).map((s) => statusOf(s.text)), [100, 180, 486, 486], 'Timer G');
  h.receive(ackFor(inv, up), UE);
  assert.equal(h.inbound, [], 'the ACK of a non-2xx is absorbed (§17.2.1)');
  h.advance(10_000);
  assert.equal(h.sentTo(UE_ADDR).map((s) => statusOf(s.text)), [100, 180, 486, 486], 'Timer G stopped');
  assert.is(h.core.stats().serverTx, 0, 'Timer I');
  h.advance(22_000);
  assert.ok(h.empty(), 'Timer D');
});

test('Timer F (non-INVITE) and Timer B (INVITE): a 408 upstream, nothing to the logic', () => {
  for (const method of ['OPTIONS', 'INVITE']) {
    const h = new Harness();
    const req = request({ method, branch: `z9hG4bK-${method}` });
    h.receive(req, UE);
    h.forward(h.take());
    h.advance(32_000);
    const up = h.sentTo(UE_ADDR).map((s) => parse(s.bytes)).filter((m) => m.status !== 100);
    assert.is(up.length, 1, method);
    assert.is(up[0]!.status, 408);
    assert.ok(up[0]!.to().tag !== undefined, 'a To tag on a response the proxy writes (§8.2.6.2)');
    assert.equal(h.inbound, []);
    assert.is(h.count('generated', (e) => e.type === 'generated' && e.status === 408), 1);
    h.advance(40_000);
    if (method === 'INVITE') h.receive(ackFor(req, h.sentTo(UE_ADDR).at(-1)!.bytes), UE);
    h.advance(40_000);
    assert.ok(h.empty(), method);
  }
});

test('over TCP: responses on the connection, no retransmission timers, zero wait timers', () => {
  const h = new Harness();
  const tcpUe = rxFrom(UE_ADDR, 49000, 'tcp', 2);
  const tcpCore: Target = { transport: 'tcp', socketId: 2, remote: { addr: CORE_ADDR, port: 5060 } };
  const reg = request({ method: 'REGISTER', branch: 'z9hG4bKtcp', transport: 'TCP', uri: 'sip:ims.example.net' });
  h.receive(reg, tcpUe);
  const fwd = h.forward(h.take(), tcpCore);
  h.advance(10_000);
  assert.is(h.sentTo(CORE_ADDR).length, 1, 'no Timer E over TCP');
  h.receive(respond(fwd, 200), rxFrom(CORE_ADDR, 5060, 'tcp', 2));
  h.relay(h.take());
  assert.equal(h.sentTo(UE_ADDR)[0]!.target, { transport: 'tcp', socketId: 2, remote: { addr: UE_ADDR, port: 5060 }, connId: 7 });
  assert.ok(h.empty(), 'Timers J and K are zero');
  const inv = request({ method: 'INVITE', branch: 'z9hG4bKtcpi', transport: 'TCP' });
  h.receive(inv, tcpUe);
  const f2 = h.forward(h.take(), tcpCore);
  h.receive(respond(f2, 486), rxFrom(CORE_ADDR, 5060, 'tcp', 2));
  assert.is(h.core.stats().clientTx, 0, 'Timer D is zero');
  const up = h.relay(h.take());
  h.advance(10_000);
  assert.equal(h.sentTo(UE_ADDR).map((s) => statusOf(s.text)), [200, 100, 486], 'no Timer G');
  h.receive(ackFor(inv, up), tcpUe);
  assert.ok(h.empty(), 'Timer I is zero');
});

test('the corpus INVITE of an IPv6 UE: 100 Trying to its source port (rport), the corpus 180 relayed as edited', () => {
  const corpus = (name: string): Buffer => readFileSync(new URL(`../sip/corpus/${name}.sip`, import.meta.url));
  const h = new Harness();
  const invite = corpus('invite-mo');
  h.receive(invite, rxFrom('2001:db8:1::a', 43572, 'udp', 4));
  assert.equal(h.sent[0]!.target, { transport: 'udp', socketId: 4, remote: { addr: '2001:db8:1::a', port: 43572 } });
  assert.is(statusOf(h.sent[0]!.text), 100);
  const req = h.take();
  assert.ok(Buffer.from(req.bytes).equals(invite));
  h.core.apply(req.id, { kind: 'forward', bytes: corpus('invite-mo.to-core'), target: CORE_TARGET, branch: 'z9hG4bKpcmo01', context: {} });
  h.receive(corpus('invite-mo-180'), CORE);
  const res = h.take();
  assert.is(res.id, req.id);
  h.core.apply(res.id, { kind: 'reply', bytes: corpus('invite-mo-180.to-ue'), status: 180 });
  assert.ok(Buffer.from(h.sent.at(-1)!.bytes).equals(corpus('invite-mo-180.to-ue')));
  assert.equal(h.sent.at(-1)!.target, h.sent[0]!.target);
});

test('a stray response is dropped and counted (RFC 6026 §8.10)', () => {
  const h = new Harness();
  const inv = request({ method: 'INVITE', branch: 'z9hG4bKnone', sentBy: '192.0.2.10:5060' });
  h.receive(respond(inv, 200), CORE);
  assert.equal(h.sent, []);
  assert.equal(h.inbound, []);
  assert.is(h.count('stray'), 1);
});

test('RFC 2543 client: retransmissions and the ACK of a non-2xx matched without a branch', () => {
  const h = new Harness();
  const inv = request({ method: 'INVITE', branch: '', callId: 'old-ua' });
  h.receive(inv, UE);
  const req = h.take();
  h.receive(inv, UE);
  assert.equal(h.inbound, []);
  h.core.apply(req.id, { kind: 'reply', bytes: respond(inv, 404, 'nf'), status: 404 });
  h.receive(inv, UE);
  assert.equal(h.sentTo(UE_ADDR).map((s) => statusOf(s.text)), [100, 100, 404, 404]);
  h.receive(request({ method: 'ACK', branch: '', callId: 'old-ua', toTag: 'other' }), UE);
  assert.is(h.take().id, 0, 'an ACK with another To tag is not ours');
  h.receive(request({ method: 'ACK', branch: '', callId: 'old-ua', toTag: 'nf' }), UE);
  assert.equal(h.inbound, [], 'absorbed');
  h.advance(5000);
  assert.ok(h.empty());
});

test.run();
