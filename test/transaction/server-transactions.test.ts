// The INVITE and non-INVITE server transactions alone (RFC 3261 §17.2, RFC 6026 §7.1 / §8.7),
// against a recording user on a fake clock.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TransactionError } from '../../src/transaction/index.js';
import { InviteServerTransaction } from '../../src/transaction/invite-server.js';
import { NonInviteServerTransaction } from '../../src/transaction/non-invite-server.js';
import { checkTransition } from '../../src/transaction/transaction.js';
import { FakeUser, parse, request, respond, rxFrom } from './support.js';

const INVITE = request({ method: 'INVITE', branch: 'z9hG4bKs1' });
const REGISTER = request({ method: 'REGISTER', branch: 'z9hG4bKs2', uri: 'sip:ims.example.net' });

function inviteServer(user: FakeUser, transport: 'udp' | 'tcp' = 'udp'): InviteServerTransaction {
  return new InviteServerTransaction(user, parse(INVITE), rxFrom('192.0.2.1', 5060, transport), 1, 'z9hG4bKs1', false);
}

function nonInviteServer(user: FakeUser, transport: 'udp' | 'tcp' = 'udp'): NonInviteServerTransaction {
  return new NonInviteServerTransaction(user, parse(REGISTER), rxFrom('192.0.2.1', 5060, transport), 2, 'z9hG4bKs2', false);
}

const status = (text: string): number => Number(text.slice(8, 11));
const sentStatuses = (user: FakeUser): number[] => user.sends.map((s) => status(s.text));

// ---- INVITE ----

test('INVITE server in Proceeding: provisionals go out once; a retransmission re-sends the most recent one', () => {
  const user = new FakeUser();
  const tx = inviteServer(user);
  assert.is(tx.state, 'Proceeding');
  assert.ok(tx.retransmission() === false, 'nothing to re-send yet');
  tx.respond(respond(INVITE, 100), 100);
  assert.ok(tx.retransmission());
  tx.respond(respond(INVITE, 180), 180);
  user.time.advance(10_000);
  assert.ok(tx.retransmission());
  assert.equal(sentStatuses(user), [100, 100, 180, 180], 'no retransmission by a timer');
  assert.is(tx.state, 'Proceeding');
});

test('INVITE server, 300-699 over UDP: Timer G doubles to T2, Timer H (64*T1) fails the transaction without an ACK', () => {
  const user = new FakeUser();
  const tx = inviteServer(user);
  tx.respond(respond(INVITE, 486), 486);
  assert.is(tx.state, 'Completed');
  assert.is(tx.finalStatus, 486);
  user.time.advance(40_000);
  assert.equal(user.sendTimes('SIP/2.0 486'), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.equal(user.log, ['server-failed timer-h', 'terminated']);
  assert.is(user.timers.size, 0);
});

test('INVITE server: a retransmitted INVITE in Completed re-sends the final; the ACK confirms, Timer I (T4) ends it', () => {
  const user = new FakeUser();
  const tx = inviteServer(user);
  tx.respond(respond(INVITE, 404), 404);
  user.time.advance(700);
  assert.ok(tx.retransmission());
  assert.is(tx.ack(), 'absorbed');
  assert.is(tx.state, 'Confirmed');
  assert.is(tx.ack(), 'absorbed', 'retransmitted ACK absorbed');
  assert.not.ok(tx.retransmission(), 'Confirmed absorbs');
  user.time.advance(4_999);
  assert.equal(user.sendTimes('SIP/2.0 404'), [0, 500, 700], 'Timer G stopped by the ACK');
  assert.is(tx.state, 'Confirmed');
  user.time.advance(1);
  assert.equal(user.log, ['terminated']);
  assert.is(user.timers.size, 0);
});

test('INVITE server over TCP: no Timer G; Timer I is zero; Timer H still waits 64*T1 for the ACK', () => {
  const user = new FakeUser();
  const a = inviteServer(user, 'tcp');
  a.respond(respond(INVITE, 486), 486);
  user.time.advance(1000);
  assert.is(a.ack(), 'absorbed');
  assert.is(a.state, 'Terminated');
  const b = inviteServer(user, 'tcp');
  b.respond(respond(INVITE, 486), 486);
  user.time.advance(31_999);
  assert.is(b.state, 'Completed');
  user.time.advance(1);
  assert.is(b.state, 'Terminated');
  assert.equal(user.sendTimes('SIP/2.0 486'), [0, 1000]);
  assert.equal(user.log, ['terminated', 'server-failed timer-h', 'terminated']);
});

test('INVITE server, 2xx (RFC 6026): Accepted absorbs INVITEs, sends further 2xx, discards the rest, passes ACKs up; Timer L ends it', () => {
  const user = new FakeUser();
  const tx = inviteServer(user);
  tx.respond(respond(INVITE, 100), 100);
  assert.ok(tx.respond(respond(INVITE, 200), 200));
  assert.is(tx.state, 'Accepted');
  assert.not.ok(tx.retransmission(), 'INVITE retransmission absorbed, not answered');
  user.time.advance(2000);
  assert.ok(tx.respond(respond(INVITE, 200), 200), '2xx retransmission from the TU goes out');
  assert.not.ok(tx.respond(respond(INVITE, 486), 486));
  assert.not.ok(tx.respond(respond(INVITE, 180), 180));
  assert.is(tx.ack(), 'to-tu');
  assert.equal(sentStatuses(user), [100, 200, 200]);
  user.time.advance(29_999);
  assert.is(tx.state, 'Accepted');
  user.time.advance(1);
  assert.equal(user.log, ['terminated']);
  assert.is(user.timers.size, 0);
});

test('INVITE server: responses after a non-2xx final are discarded; abandon() only acts in Proceeding', () => {
  const user = new FakeUser();
  const tx = inviteServer(user);
  tx.respond(respond(INVITE, 487), 487);
  assert.not.ok(tx.respond(respond(INVITE, 200), 200));
  assert.not.ok(tx.respond(respond(INVITE, 180), 180));
  tx.abandon();
  assert.is(tx.state, 'Completed');
  const p = inviteServer(user);
  p.abandon();
  assert.is(p.state, 'Terminated');
});

test('INVITE server: transport errors inform the user and change no state (RFC 6026 Figure 7)', () => {
  const user = new FakeUser();
  const tx = inviteServer(user);
  tx.respond(respond(INVITE, 100), 100);
  user.failLastSend();
  assert.is(tx.state, 'Proceeding');
  tx.respond(respond(INVITE, 200), 200);
  user.failLastSend();
  assert.is(tx.state, 'Accepted');
  const c = inviteServer(user);
  c.respond(respond(INVITE, 500), 500);
  user.failLastSend();
  assert.is(c.state, 'Completed');
  assert.equal(user.log, ['server-failed transport', 'server-failed transport', 'server-failed transport']);
});

test('an ACK before any final response goes to the TU', () => {
  const user = new FakeUser();
  const tx = inviteServer(user);
  assert.is(tx.ack(), 'to-tu');
  assert.is(tx.state, 'Proceeding');
});

// ---- non-INVITE ----

test('non-INVITE server: Trying discards retransmissions; a provisional moves to Proceeding, re-sent on retransmission', () => {
  const user = new FakeUser();
  const tx = nonInviteServer(user);
  assert.is(tx.state, 'Trying');
  assert.not.ok(tx.retransmission());
  assert.equal(user.sends, []);
  tx.respond(respond(REGISTER, 183), 183);
  assert.is(tx.state, 'Proceeding');
  assert.ok(tx.retransmission());
  assert.equal(sentStatuses(user), [183, 183]);
});

test('non-INVITE server over UDP: the final completes; retransmissions get it again; other finals are discarded; Timer J ends it', () => {
  const user = new FakeUser();
  const tx = nonInviteServer(user);
  assert.ok(tx.respond(respond(REGISTER, 401), 401));
  assert.is(tx.state, 'Completed');
  user.time.advance(10_000);
  assert.ok(tx.retransmission());
  assert.not.ok(tx.respond(respond(REGISTER, 200), 200));
  assert.not.ok(tx.respond(respond(REGISTER, 100), 100));
  assert.equal(sentStatuses(user), [401, 401]);
  user.time.advance(21_999);
  assert.is(tx.state, 'Completed');
  user.time.advance(1);
  assert.equal(user.log, ['terminated']);
  assert.is(user.timers.size, 0);
});

test('non-INVITE server over TCP: Timer J is zero', () => {
  const user = new FakeUser();
  const tx = nonInviteServer(user, 'tcp');
  tx.respond(respond(REGISTER, 200), 200);
  assert.is(tx.state, 'Terminated');
  assert.equal(user.log, ['terminated']);
  assert.is(user.timers.size, 0);
});

test('non-INVITE server: a transport error in Proceeding or Completed terminates (§17.2.4); abandon() from Trying', () => {
  const user = new FakeUser();
  const a = nonInviteServer(user);
  a.respond(respond(REGISTER, 180), 180);
  user.failLastSend();
  assert.is(a.state, 'Terminated');
  const b = nonInviteServer(user);
  b.respond(respond(REGISTER, 200), 200);
  user.failLastSend();
  assert.is(b.state, 'Terminated');
  assert.is(user.timers.size, 0);
  const c = nonInviteServer(user);
  c.abandon();
  assert.is(c.state, 'Terminated');
  assert.equal(user.log, ['server-failed transport', 'terminated', 'server-failed transport', 'terminated', 'terminated']);
});

test('a transition outside the figure is a TransactionError', () => {
  try {
    checkTransition('invite-server', { Proceeding: ['Completed'], Completed: [] }, 'Completed', 'Proceeding');
    assert.unreachable('no error');
  } catch (e) {
    assert.instance(e, TransactionError);
    assert.is((e as TransactionError).code, 'TX_ILLEGAL_TRANSITION');
  }
});

test.run();
