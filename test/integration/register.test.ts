// Registration through a running P-CSCF (worker pool of 2), SIPp as UE and as registrar, in three
// network namespaces: REGISTER / 401 / REGISTER / 200 for several UEs over UDP IPv4; register,
// re-register and de-register over TCP IPv4 and UDP IPv6, with the binding watched through
// /admin/bindings; every counter of /metrics that the flows touch equal to what SIPp sent and
// received; SIGTERM.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { countRequests, countResponses, loggedMessages } from '../helpers/sipp.js';
import {
  MetricDelta, aorOf, closeLab, labPath, register, startLab, stopCleanly, uePair, type Family, type Lab,
} from './support.js';
import { settle } from '../helpers/poll.js';

let lab: Lab | undefined;

test.before(async () => {
  lab = await startLab('itreg', { poolSize: 2 });
});

test.after(async () => {
  await closeLab(lab);
});

const l = (): Lab => lab!;

test('REGISTER / 401 / REGISTER / 200 for five UEs over UDP IPv4; the metrics count what SIPp sent', async () => {
  const m = await MetricDelta.start(l());
  // -t un: every call is a UE of its own (its own port, so its own contact).
  const { ue, core } = await register(l(), { user: 'alice', family: 4, transport: 'un', calls: 5 });
  await m.end(l());

  const sent = countRequests(ue, 'sent', 'REGISTER');
  assert.ok(sent >= 10, 'two REGISTERs per UE');
  assert.is(m.requests('in', 'udp', 'REGISTER'), sent, 'REGISTERs in = REGISTERs the UEs sent');
  assert.is(m.requests('out', 'udp', 'REGISTER'), countRequests(core, 'received', 'REGISTER'), 'REGISTERs out = REGISTERs the registrar received');
  assert.is(m.responses('in', 'udp', '4xx'), countResponses(core, 'sent', '401'));
  assert.is(m.responses('in', 'udp', '2xx'), countResponses(core, 'sent', '200'));
  assert.is(m.responses('out', 'udp', '4xx'), countResponses(ue, 'received', '401'));
  assert.is(m.responses('out', 'udp', '2xx'), countResponses(ue, 'received', '200'));
  assert.is(m.of('pcscf_registrations_total', { outcome: 'initial' }), 5);
  assert.is(m.of('pcscf_registrations_total', { outcome: 're' }), 0);
  assert.is(m.of('pcscf_requests_routed_total', { direction: 'register', method: 'REGISTER' }), countRequests(core, 'received', 'REGISTER'));
  assert.is(m.of('pcscf_transaction_events_total', { event: 'stray' }), 0);

  // What the registrar saw: the P-CSCF's Via on top, its Path, Require: path (RFC 3327).
  const forwarded = loggedMessages(core.messages).filter((x) => x.direction === 'received');
  for (const r of forwarded) {
    assert.match(r.text, /^Via: SIP\/2\.0\/UDP 10\.41\.2\.1:5060;branch=z9hG4bK/m);
    assert.ok(r.text.includes(`\r\nPath: ${labPath(l())}\r\n`), r.text);
    assert.match(r.text, /^Require: path\r$/m);
  }

  const bindings = await l().pcscf.bindings(aorOf('alice'));
  const ports = loggedMessages(ue.messages).filter((x) => x.direction === 'sent').map((x) => Number(/^Contact: <sip:alice@10\.41\.1\.2:(\d+);/m.exec(x.text)![1]));
  assert.equal(bindings.map((b) => b.contactPort).sort(), [...new Set(ports)].sort(), 'one binding per UE contact');
  for (const b of bindings) {
    assert.is(b.state, 'registered');
    assert.is(b.transport, 'udp');
    assert.is(b.receivedAddr, l().net.addr.ue4);
    assert.is(b.receivedPort, b.contactPort);
    assert.is(b.path, labPath(l()));
    assert.equal(b.serviceRoute, [`<sip:orig@${l().net.addr.core4}:5060;lr>`]);
    assert.equal(b.associatedUris, ['sip:alice@ims.example', 'tel:+15550100']);
  }
});

async function cycle(user: string, family: Family, transport: 'u1' | 't1'): Promise<void> {
  const t = transport === 'u1' ? 'udp' : 'tcp';
  const m = await MetricDelta.start(l());
  let seen: Record<string, unknown> | undefined;
  // The pauses between register, re-register and de-register leave time to look at the binding.
  const flow = uePair(l(), 'ue-register-cycle.xml', 'registrar-cycle.xml', { user, family, transport, port: 5070, pauseMs: 2000 });
  const watch = settle(async () => (await l().pcscf.bindings(aorOf(user)))[0], (b) => b?.state === 'registered', 15_000, 100)
    .then((b) => { seen = b?.state === 'registered' ? b : undefined; });
  const { ue, core } = await flow;
  await watch;
  await m.end(l());

  assert.ok(seen !== undefined, 'the binding was listed while registered');
  assert.is(seen.transport, t);
  assert.is(seen.receivedPort, 5070);
  assert.is(seen.receivedAddr, family === 4 ? l().net.addr.ue4 : l().net.addr.ue6);
  assert.equal(await l().pcscf.bindings(aorOf(user)), [], 'de-registered: no binding left');

  assert.is(countRequests(ue, 'sent', 'REGISTER'), 4);
  assert.is(m.requests('in', t, 'REGISTER'), countRequests(ue, 'sent', 'REGISTER'));
  assert.is(m.requests('out', 'udp', 'REGISTER'), countRequests(core, 'received', 'REGISTER'), 'the registrar is reached over UDP IPv4 whatever the UE uses');
  assert.is(m.responses('out', t, '2xx'), countResponses(ue, 'received', '200'));
  assert.is(m.responses('out', t, '4xx'), countResponses(ue, 'received', '401'));
  assert.is(m.of('pcscf_registrations_total', { outcome: 'initial' }), 1);
  assert.is(m.of('pcscf_registrations_total', { outcome: 're' }), 1);
  assert.is(m.of('pcscf_registrations_total', { outcome: 'de' }), 1);
}

test('register, re-register, de-register over TCP IPv4', async () => {
  await cycle('bob', 4, 't1');
});

test('register, re-register, de-register over UDP IPv6', async () => {
  await cycle('carol', 6, 'u1');
});

test('SIGTERM: exit status 0, nothing left behind', async () => {
  await stopCleanly(l());
});

test.run();
