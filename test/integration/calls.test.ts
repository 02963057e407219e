// Requests of registered UEs through a running P-CSCF with the logic inline (workers: 0), SIPp at
// both ends: originating and terminating MESSAGE, an INVITE dialog with ACK and BYE, CANCEL; UDP
// IPv4 (alice), TCP IPv6 (bob) and UDP IPv6 (carol) UEs, the core always on UDP IPv4; the counters
// of /metrics equal to what SIPp sent; SIGTERM.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { countRequests, countResponses, loggedMessages, type SippResult } from '../helpers/sipp.js';
import {
  MetricDelta, closeLab, coreSipp, labPath, register, sippPair, startLab, stopCleanly, uePair, ueSipp, type Lab, type UeRun,
} from './support.js';

let lab: Lab | undefined;
const l = (): Lab => lab!;

const alice: UeRun = { user: 'alice', family: 4, transport: 'u1', port: 5060 };
const bob: UeRun = { user: 'bob', family: 6, transport: 't1', port: 5070 };
const carol: UeRun = { user: 'carol', family: 6, transport: 'u1', port: 5080 };

test.before(async () => {
  lab = await startLab('itcall', { poolSize: 0 });
  // bob's SIPp runs one after the other from the same TCP port, as a UE keeps its port; the
  // connection the last run closed is in TIME-WAIT on the UE's side (this namespace only).
  lab.net.ue.exec('sysctl', '-q', '-w', 'net.ipv4.tcp_tw_reuse=1');
  for (const u of [alice, bob, carol]) await register(lab, u);
});

test.after(async () => {
  await closeLab(lab);
});

/** The messages of a SIPp log in one direction whose start line begins with `start`. */
function logged(r: SippResult, direction: 'sent' | 'received', start: string): string[] {
  return loggedMessages(r.messages).filter((m) => m.direction === direction && m.text.startsWith(start)).map((m) => m.text);
}

/** The value of the first header line `name` of a message (exact name, as SIPp and the P-CSCF write them). */
function header(text: string, name: string): string | undefined {
  return new RegExp(`^${name}: (.*?)\\r?$`, 'm').exec(text)?.[1];
}

test('originating MESSAGE (UDP IPv4): Service-Route, P-Asserted-Identity, received/rport; counted', async () => {
  const m = await MetricDelta.start(l());
  const { ue, core } = await uePair(l(), 'ue-message.xml', 'uas-message.xml', { ...alice, calls: 3 }, { to: 'dave' });
  await m.end(l());

  const arrived = logged(core, 'received', 'MESSAGE ');
  assert.is(arrived.length, 3);
  for (const text of arrived) {
    assert.is(header(text, 'Route'), `<sip:orig@${l().net.addr.core4}:5060;lr>`, 'the UE\'s Route replaced by the Service-Route (TS 24.229 §5.2.6.3.2)');
    assert.is(header(text, 'P-Asserted-Identity'), '<sip:alice@ims.example>');
    const vias = text.split(/\r?\n/).filter((x) => x.startsWith('Via: '));
    assert.match(vias[0]!, /^Via: SIP\/2\.0\/UDP 10\.41\.2\.1:5060;branch=z9hG4bK/);
    assert.match(vias[1]!, /;rport=5060;received=10\.41\.1\.2$|;received=10\.41\.1\.2;rport=5060$/);
  }
  const sent = countRequests(ue, 'sent', 'MESSAGE');
  assert.is(m.requests('in', 'udp', 'MESSAGE'), sent);
  assert.is(m.requests('out', 'udp', 'MESSAGE'), countRequests(core, 'received', 'MESSAGE'));
  assert.is(m.responses('out', 'udp', '2xx'), countResponses(ue, 'received', '200'));
  assert.is(m.of('pcscf_requests_routed_total', { direction: 'originating', method: 'MESSAGE' }), 3);
  assert.is(m.of('pcscf_transactions_created_total', { kind: 'non-invite-server' }), 3, 'no retransmission made a transaction');
});

test('terminating MESSAGE to a UDP IPv4 UE: found by its contact, reached at its received address', async () => {
  const m = await MetricDelta.start(l());
  const keys = { ruri: 'sip:alice@10.41.1.2:5060;transport=UDP', route: labPath(l()) };
  const { server: ue, client: core } = await sippPair(ueSipp(l(), 'uas-message.xml', { ...alice, calls: 2 }), coreSipp(l(), 'core-message.xml', 2, keys));
  await m.end(l());

  const arrived = logged(ue, 'received', 'MESSAGE ');
  assert.is(arrived.length, 2);
  for (const text of arrived) {
    assert.ok(text.startsWith(`MESSAGE ${keys.ruri} SIP/2.0`), text);
    assert.is(header(text, 'Route'), undefined, 'the P-CSCF\'s own Path entry is consumed');
    assert.match(text, /^Via: SIP\/2\.0\/UDP 10\.41\.1\.1:5060;branch=z9hG4bK/m, 'sent from the access side');
  }
  assert.is(m.requests('in', 'udp', 'MESSAGE'), countRequests(core, 'sent', 'MESSAGE'));
  assert.is(m.requests('out', 'udp', 'MESSAGE'), countRequests(ue, 'received', 'MESSAGE'));
  assert.is(m.of('pcscf_requests_routed_total', { direction: 'terminating', method: 'MESSAGE' }), 2);
});

test('terminating MESSAGE to a TCP IPv6 UE: a connection to its port, from the core over UDP IPv4', async () => {
  const m = await MetricDelta.start(l());
  const keys = { ruri: 'sip:bob@[fd00:41:1::2]:5070;transport=TCP', route: labPath(l()) };
  const { server: ue, client: core } = await sippPair(ueSipp(l(), 'uas-message.xml', bob), coreSipp(l(), 'core-message.xml', 1, keys));
  await m.end(l());

  const [text] = logged(ue, 'received', 'MESSAGE ');
  assert.ok(text !== undefined && text.startsWith(`MESSAGE ${keys.ruri} SIP/2.0`), text);
  assert.match(text, /^Via: SIP\/2\.0\/TCP \[fd00:41:1::1\]:5060;branch=z9hG4bK/m);
  assert.is(m.requests('in', 'udp', 'MESSAGE'), countRequests(core, 'sent', 'MESSAGE'));
  assert.is(m.requests('out', 'tcp', 'MESSAGE'), 1);
  assert.is(m.responses('in', 'tcp', '2xx'), 1);
  assert.is(m.responses('out', 'udp', '2xx'), countResponses(core, 'received', '200'));
});

async function inviteDialog(u: UeRun, transport: 'udp' | 'tcp'): Promise<void> {
  const m = await MetricDelta.start(l());
  const { ue, core } = await uePair(l(), 'ue-invite.xml', 'uas-invite.xml', u, { to: 'dave' });
  await m.end(l());

  // The INVITE creates a dialog: the P-CSCF records its route (RFC 3261 §16.6 item 4); its two
  // sides differ here (access towards the UE, core towards the S-CSCF), so it records both (RFC 5658).
  const [invite] = logged(core, 'received', 'INVITE ');
  assert.ok(invite !== undefined);
  const rr = invite.split(/\r?\n/).filter((x) => /^Record-Route: /i.test(x)).join(', ');
  assert.match(rr, /sip:[^>]*10\.41\.2\.1:5060;lr/, 'the core side is recorded');
  assert.ok(rr.includes(u.family === 4 ? '10.41.1.1' : '[fd00:41:1::1]'), `the access side is recorded: ${rr}`);
  // The ACK and the BYE follow the recorded route: they reach the far end through the P-CSCF.
  for (const method of ['ACK', 'BYE']) {
    const [x] = logged(core, 'received', `${method} `);
    assert.ok(x !== undefined, `${method} reached the far end`);
    assert.match(x, /^Via: SIP\/2\.0\/UDP 10\.41\.2\.1:5060;branch=z9hG4bK/m, `${method} came through the P-CSCF`);
  }
  for (const method of ['INVITE', 'ACK', 'BYE']) {
    assert.is(m.requests('in', transport, method), countRequests(ue, 'sent', method), `${method} in`);
    assert.is(m.requests('out', 'udp', method), countRequests(core, 'received', method), `${method} out`);
    assert.is(m.of('pcscf_requests_routed_total', { direction: 'originating', method }), 1, `${method} routed once`);
  }
  assert.is(m.responses('out', transport, '1xx'), countResponses(ue, 'received', '1xx'), '100 Trying and the relayed 180');
  assert.is(m.responses('out', transport, '2xx'), countResponses(ue, 'received', '2xx'));
  assert.is(m.of('pcscf_transactions_created_total', { kind: 'invite-server' }), 1);
  assert.is(m.of('pcscf_transactions_created_total', { kind: 'invite-client' }), 1);
}

test('INVITE dialog with ACK and BYE (UDP IPv4)', async () => {
  await inviteDialog(alice, 'udp');
});

test('INVITE dialog with ACK and BYE (TCP IPv6 UE)', async () => {
  await inviteDialog(bob, 'tcp');
});

test('CANCEL (UDP IPv6): 200 for the CANCEL, 487 for the INVITE, ACKed hop by hop', async () => {
  const m = await MetricDelta.start(l());
  const { ue, core } = await uePair(l(), 'ue-cancel.xml', 'uas-cancel.xml', carol, { to: 'dave' });
  await m.end(l());

  assert.is(countResponses(ue, 'received', '487'), 1);
  assert.is(countRequests(core, 'received', 'CANCEL'), 1, 'the CANCEL went on to the far end (RFC 3261 §16.10)');
  assert.is(m.requests('in', 'udp', 'CANCEL'), countRequests(ue, 'sent', 'CANCEL'));
  assert.is(m.requests('out', 'udp', 'CANCEL'), countRequests(core, 'received', 'CANCEL'));
  assert.is(m.requests('in', 'udp', 'ACK'), countRequests(ue, 'sent', 'ACK'), 'the UE\'s ACK for the 487 ends at the P-CSCF');
  assert.is(m.requests('out', 'udp', 'ACK'), countRequests(core, 'received', 'ACK'), 'the P-CSCF ACKs the 487 itself');
  assert.is(m.of('pcscf_transaction_events_total', { event: 'absorbed-ack' }), 1);
  assert.is(m.of('pcscf_transaction_events_total', { event: 'cancel-sent' }), 1);
});

test('SIGTERM: exit status 0, nothing left behind', async () => {
  await stopCleanly(l());
});

test.run();
