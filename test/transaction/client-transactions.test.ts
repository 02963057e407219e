// The INVITE and non-INVITE client transactions alone (RFC 3261 §17.1, RFC 6026 §8.4, Timer C of
// §16.6 / §16.8, the CANCEL wait of §9.1), against a recording user on a fake clock.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Target } from '../../src/engine/plan.js';
import { InviteClientTransaction } from '../../src/transaction/invite-client.js';
import { NonInviteClientTransaction } from '../../src/transaction/non-invite-client.js';
import { FakeUser, parse, request, respond, rxFrom } from './support.js';

const UDP: Target = { transport: 'udp', socketId: 0, remote: { addr: '198.51.100.7', port: 5060 } };
const TCP: Target = { transport: 'tcp', socketId: 1, remote: { addr: '198.51.100.7', port: 5060 } };
const RX = rxFrom('198.51.100.7', 5060);

const INVITE = request({ method: 'INVITE', branch: 'z9hG4bKc1', sentBy: '192.0.2.10:5060', extra: ['Route: <sip:scscf.ims.example.net;lr>'] });
const MESSAGE = request({ method: 'MESSAGE', branch: 'z9hG4bKc2', sentBy: '192.0.2.10:5060' });

function invite(user: FakeUser, target = UDP): InviteClientTransaction {
  const tx = new InviteClientTransaction(user, 'z9hG4bKc1', 'INVITE', INVITE, target, 1, { leg: 'mo' });
  tx.start();
  return tx;
}

function nonInvite(user: FakeUser, target = UDP): NonInviteClientTransaction {
  const tx = new NonInviteClientTransaction(user, 'z9hG4bKc2', 'MESSAGE', MESSAGE, target, 1, {});
  tx.start();
  return tx;
}

const receive = (tx: InviteClientTransaction | NonInviteClientTransaction, req: Buffer, status: number, toTag = 'b1'): boolean =>
  tx.receive(parse(respond(req, status, toTag)), RX);

// ---- non-INVITE ----

test('non-INVITE over UDP: Timer E doubles from T1 to T2, Timer F times out at 64*T1', () => {
  const user = new FakeUser();
  const tx = nonInvite(user);
  assert.is(tx.state, 'Trying');
  user.time.advance(40_000);
  assert.equal(user.sendTimes('MESSAGE'), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.equal(user.log, ['failed timer-f', 'terminated']);
  assert.is(tx.state, 'Terminated');
  assert.is(user.timers.size, 0);
});

test('non-INVITE: a provisional moves to Proceeding, where Timer E is reset to T2', () => {
  const user = new FakeUser();
  const tx = nonInvite(user);
  user.time.advance(600);
  assert.ok(receive(tx, MESSAGE, 180));
  assert.is(tx.state, 'Proceeding');
  user.time.advance(10_000);
  // The E due at 1500 fires in Proceeding and is reset to T2 from then on.
  assert.equal(user.sendTimes('MESSAGE'), [0, 500, 1500, 5500, 9500]);
  assert.equal(user.log, ['up 180']);
});

test('non-INVITE: a final response completes; Timer K (T4) absorbs retransmissions, then terminates', () => {
  const user = new FakeUser();
  const tx = nonInvite(user);
  user.time.advance(100);
  assert.ok(receive(tx, MESSAGE, 200));
  assert.is(tx.state, 'Completed');
  assert.not.ok(receive(tx, MESSAGE, 200), 'retransmission absorbed');
  assert.not.ok(receive(tx, MESSAGE, 180), 'late provisional absorbed');
  user.time.advance(4999);
  assert.is(tx.state, 'Completed');
  assert.equal(user.sendTimes('MESSAGE'), [0], 'no retransmission once completed');
  user.time.advance(1);
  assert.is(tx.state, 'Terminated');
  assert.equal(user.log, ['up 200', 'terminated']);
  assert.is(user.timers.size, 0);
});

test('non-INVITE over TCP: no Timer E; Timer K is zero; Timer F still bounds it', () => {
  const user = new FakeUser();
  const a = nonInvite(user, TCP);
  user.time.advance(31_999);
  assert.equal(user.sendTimes('MESSAGE'), [0]);
  user.time.advance(1);
  assert.equal(user.log, ['failed timer-f', 'terminated']);
  const b = nonInvite(user, TCP);
  assert.ok(receive(b, MESSAGE, 404));
  assert.is(b.state, 'Terminated', 'Completed then Terminated at once');
  assert.is(a.state, 'Terminated');
  assert.is(user.timers.size, 0);
});

test('non-INVITE: a transport error in Trying or Proceeding informs the user and terminates; later ones are ignored', () => {
  const user = new FakeUser();
  const tx = nonInvite(user);
  user.failLastSend();
  assert.equal(user.log, ['failed transport', 'terminated']);
  const p = nonInvite(user);
  receive(p, MESSAGE, 180);
  user.failLastSend();
  assert.is(p.state, 'Terminated');
  const c = nonInvite(user);
  receive(c, MESSAGE, 200);
  user.failLastSend();
  assert.is(c.state, 'Completed', 'a late report of an earlier send');
  assert.is(tx.state, 'Terminated');
});

// ---- INVITE ----

test('INVITE over UDP: Timer A doubles without a cap; Timer B times out at 64*T1 without an ACK', () => {
  const user = new FakeUser();
  const tx = invite(user);
  assert.is(tx.state, 'Calling');
  user.time.advance(40_000);
  assert.equal(user.sendTimes('INVITE'), [0, 500, 1500, 3500, 7500, 15500, 31500], 'seven transmissions (§17.1.1.2)');
  assert.equal(user.sendTimes('ACK'), []);
  assert.equal(user.log, ['failed timer-b', 'terminated']);
  assert.is(user.timers.size, 0);
});

test('INVITE: a provisional stops Timer A and Timer B; Timer C fires after its value, reset by 101-199 only', () => {
  const user = new FakeUser(500, 4000, 5000, 200_000);
  const tx = invite(user);
  user.time.advance(700);
  receive(tx, INVITE, 100);
  assert.is(tx.state, 'Proceeding');
  assert.ok(tx.provisional);
  user.time.advance(100_000);
  assert.equal(user.sendTimes('INVITE'), [0, 500]);
  assert.is(tx.state, 'Proceeding', 'Timer B only acts in Calling');
  receive(tx, INVITE, 100);
  user.time.advance(99_300);
  assert.equal(user.log, ['up 100', 'up 100', 'timer-c'], 'a 100 does not reset Timer C: it fires 200 s after the INVITE');
  const t2 = invite(user);
  receive(t2, INVITE, 100);
  user.time.advance(150_000);
  receive(t2, INVITE, 180);
  user.time.advance(199_999);
  assert.equal(user.log.filter((l) => l === 'timer-c').length, 1);
  user.time.advance(1);
  assert.equal(user.log.filter((l) => l === 'timer-c').length, 2, 'the 180 reset Timer C');
});

test('INVITE: 300-699 completes with an ACK built per §17.1.1.3; retransmissions re-send it; Timer D ends it', () => {
  const user = new FakeUser();
  const tx = invite(user);
  receive(tx, INVITE, 180);
  user.time.advance(1000);
  assert.ok(receive(tx, INVITE, 486, 'busy'));
  assert.is(tx.state, 'Completed');
  const acks = user.sends.filter((s) => s.text.startsWith('ACK'));
  assert.is(acks.length, 1);
  const ack = parse(Buffer.from(acks[0]!.text, 'latin1'));
  const inv = parse(INVITE);
  assert.is(ack.requestUri, inv.requestUri);
  assert.is(ack.vias().length, 1);
  assert.is(ack.topVia().branch, 'z9hG4bKc1');
  assert.is(ack.to().tag, 'busy');
  assert.equal(ack.cseq(), { seq: inv.cseq().seq, method: 'ACK' });
  assert.is(ack.callId(), inv.callId());
  assert.is(ack.routes().length, 1, 'Route of the INVITE');
  assert.not.ok(receive(tx, INVITE, 486, 'busy'), 'not passed up');
  assert.is(user.sendTimes('ACK').length, 2, 'the ACK re-passed to the transport');
  user.time.advance(31_999);
  assert.is(tx.state, 'Completed');
  user.time.advance(1);
  assert.is(tx.state, 'Terminated');
  assert.equal(user.log, ['up 180', 'up 486', 'terminated']);
  assert.is(user.timers.size, 0);
});

test('INVITE: Timer D is at least 32 s, and 64*T1 when that is longer', () => {
  const user = new FakeUser(1000, 4000, 5000);
  const tx = invite(user);
  receive(tx, INVITE, 603);
  user.time.advance(63_999);
  assert.is(tx.state, 'Completed');
  user.time.advance(1);
  assert.is(tx.state, 'Terminated');
});

test('INVITE over TCP: no Timer A; the ACK is still sent, and Timer D is zero', () => {
  const user = new FakeUser();
  const tx = invite(user, TCP);
  user.time.advance(10_000);
  assert.equal(user.sendTimes('INVITE'), [0]);
  receive(tx, INVITE, 404);
  assert.equal(user.sendTimes('ACK'), [10_000]);
  assert.is(tx.state, 'Terminated');
  assert.is(user.timers.size, 0);
});

test('INVITE: a 2xx moves to Accepted (RFC 6026); 2xx retransmissions go up, no ACK; Timer M ends it', () => {
  const user = new FakeUser();
  const tx = invite(user);
  user.time.advance(200);
  assert.ok(receive(tx, INVITE, 200));
  assert.is(tx.state, 'Accepted');
  user.time.advance(10_000);
  assert.ok(receive(tx, INVITE, 200), 'retransmitted 2xx passed up');
  assert.not.ok(receive(tx, INVITE, 180));
  assert.not.ok(receive(tx, INVITE, 486));
  assert.equal(user.sendTimes('ACK'), []);
  assert.equal(user.sendTimes('INVITE'), [0], 'no retransmission of the request once accepted');
  user.time.advance(21_999);
  assert.is(tx.state, 'Accepted');
  user.time.advance(1);
  assert.equal(user.log, ['up 200', 'up 200', 'terminated']);
  assert.is(user.timers.size, 0);
});

test('INVITE: a transport error in Calling informs the user; once a CANCEL is sent, 64*T1 without a final ends it', () => {
  const user = new FakeUser();
  const a = invite(user);
  user.failLastSend();
  assert.equal(user.log, ['failed transport', 'terminated']);
  assert.is(a.state, 'Terminated');
  user.log.length = 0;
  const b = invite(user);
  receive(b, INVITE, 180);
  user.time.advance(1000);
  b.cancelSent();
  assert.is(b.cancel, 'sent');
  user.time.advance(31_999);
  receive(b, INVITE, 183);
  assert.is(b.state, 'Proceeding', 'a provisional does not restart the wait');
  user.time.advance(1);
  assert.equal(user.log, ['up 180', 'up 183', 'failed cancel-wait', 'terminated']);
});

test('INVITE: timeOut() (Timer C without a provisional) behaves as a 408 and terminates', () => {
  const user = new FakeUser();
  const tx = invite(user);
  tx.timeOut();
  assert.equal(user.log, ['failed timer-c', 'terminated']);
  assert.is(user.timers.size, 0);
});

test('INVITE: an unparsable sent request means no ACK, but the state machine still runs', () => {
  const user = new FakeUser();
  const bad = Buffer.from('INVITE sip:b@x SIP/2.0\r\nVia: broken\r\n\r\n', 'latin1');
  const tx = new InviteClientTransaction(user, 'z9hG4bKbad', 'INVITE', bad, UDP, 1, {});
  tx.start();
  assert.is(tx.sentRequest(), undefined);
  receive(tx, INVITE, 500);
  assert.is(tx.state, 'Completed');
  assert.equal(user.sendTimes('ACK'), []);
});

test.run();
