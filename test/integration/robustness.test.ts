// A running P-CSCF (workers: 0) fed exact bytes by a raw SIP peer in the UE namespace, with a raw
// sink or SIPp as the registrar: retransmissions absorbed, malformed requests answered 400 and
// malformed responses dropped over UDP and TCP while the process keeps serving, requests from
// unregistered UEs and REGISTERs from the core refused, and SIGTERM with a transaction in progress.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SipPeer, type Received } from '../helpers/sip-peer.js';
import { MetricDelta, closeLab, register, startLab, stopCleanly, type Lab } from './support.js';
import { settle } from '../helpers/poll.js';

let lab: Lab | undefined;
let ue: SipPeer | undefined;
const l = (): Lab => lab!;
const u = (): SipPeer => ue!;

const UE_PORT = 5090;
/** The port of the UE that registers (the others must stay unregistered). */
const REG_PORT = 5091;

test.before(async () => {
  lab = await startLab('itrob', { poolSize: 0, graceS: 8 });
  ue = await SipPeer.start(lab.net.ue);
  await ue.bind('udp', 'udp', lab.net.addr.ue4, UE_PORT);
  await ue.bind('reg', 'udp', lab.net.addr.ue4, REG_PORT);
});

test.after(async () => {
  ue?.close();
  await closeLab(lab);
});

let serial = 0;

/** A request from the UE at 10.41.1.2:`port` as text with CRLFs: `fields` replace the defaults by name (null removes one). */
function request(method: string, fields: Record<string, string | null> = {}, port = UE_PORT): string {
  const n = ++serial;
  const all: Record<string, string | null> = {
    Via: `SIP/2.0/UDP 10.41.1.2:${port};branch=z9hG4bK-rob-${n};rport`,
    'Max-Forwards': '70',
    From: `<sip:eve@ims.example>;tag=rob${n}`,
    To: method === 'REGISTER' ? '<sip:eve@ims.example>' : '<sip:dave@ims.example>',
    'Call-ID': `rob-${n}@10.41.1.2`,
    CSeq: `1 ${method}`,
    ...(method === 'REGISTER' ? { Contact: `<sip:eve@10.41.1.2:${port}>`, Expires: '600' } : {}),
    ...fields,
  };
  const lines = [`${method} ${method === 'REGISTER' ? 'sip:ims.example' : 'sip:dave@ims.example'} SIP/2.0`];
  for (const [k, v] of Object.entries(all)) if (v !== null) lines.push(`${k}: ${v}`);
  return [...lines, 'Content-Length: 0', '', ''].join('\r\n');
}

const callIdOf = (text: string): string | undefined => /^(?:Call-ID|i)[ \t]*:[ \t]*(\S+)/im.exec(text)?.[1];
const statusOf = (r: Received | undefined): number | undefined => (r === undefined ? undefined : Number(r.text.slice(8, 11)));

/** Sends `text` from a UDP socket of the UE and waits for the first response carrying its Call-ID. */
async function exchange(text: string, socket = 'udp', timeoutMs = 3000): Promise<Received | undefined> {
  const since = await u().last();
  await u().send(socket, l().net.addr.pcscfUe4, 5060, text);
  return u().wait(`^SIP/2\\.0 [^\\r]*\\r\\n(?:.*\\r\\n)*?(?:Call-ID|i)[ \\t]*:[ \\t]*${escape(callIdOf(text) ?? '-none-')}\\r`, since, timeoutMs);
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A raw registrar in the core at next_hop (10.41.2.2:5060 UDP) for one test: answers with `statuses`, records everything. */
async function withSink(statuses: Record<string, number> | undefined, fn: (sink: SipPeer) => Promise<void>): Promise<void> {
  const sink = await SipPeer.start(l().net.core);
  try {
    await sink.bind('udp', 'udp', l().net.addr.core4, 5060);
    if (statuses !== undefined) await sink.answer('udp', statuses);
    await fn(sink);
  } finally {
    sink.close();
  }
}

test('a retransmitted REGISTER is absorbed: the registrar sees it once, the UE gets the 200 twice', async () => {
  await withSink({ REGISTER: 200 }, async (sink) => {
    const m = await MetricDelta.start(l());
    const reg = request('REGISTER', {}, REG_PORT);
    const first = await exchange(reg, 'reg');
    assert.is(statusOf(first), 200);
    // The same bytes again, as a UE whose 200 was lost retransmits (RFC 3261 §17.1.2.2).
    const since = first!.seq;
    await u().send('reg', l().net.addr.pcscfUe4, 5060, reg);
    const second = await u().wait('^SIP/2\\.0 200', since, 3000);
    assert.ok(second !== undefined, 'the 200 is sent again');
    assert.is(second.text, first!.text, 'the same response, from the server transaction (§17.2.2)');
    await m.end(l());

    const arrived = (await sink.log()).filter((e) => e.text.startsWith('REGISTER '));
    assert.is(arrived.length, 1, 'the registrar got the REGISTER once');
    assert.is(m.requests('in', 'udp', 'REGISTER'), 2);
    assert.is(m.requests('out', 'udp', 'REGISTER'), 1);
    assert.is(m.responses('out', 'udp', '2xx'), 2);
    assert.is(m.of('pcscf_transaction_events_total', { event: 'absorbed-request' }), 1);
    assert.is(m.of('pcscf_transactions_created_total', { kind: 'non-invite-server' }), 1);
    assert.is(m.of('pcscf_registrations_total', { outcome: 'initial' }), 1, 'registered once, not re-registered by the copy');
  });
});

test('malformed requests over UDP get their error status, malformed responses are dropped; the P-CSCF keeps serving', async () => {
  const m = await MetricDelta.start(l());
  const answered: [string, number, RegExp][] = [
    [request('OPTIONS', { CSeq: 'abc OPTIONS' }), 400, /^SIP\/2\.0 400 Invalid CSeq\r\n/],
    [request('OPTIONS', { Via: 'garbage;;;' }), 400, /^SIP\/2\.0 400 Invalid Via\r\n/],
    [request('OPTIONS', { From: '<sip:eve@ims.example' }), 400, /^SIP\/2\.0 400 /],
    [request('OPTIONS', { 'Max-Forwards': 'many' }), 400, /^SIP\/2\.0 400 /],
    [request('OPTIONS').replace('Content-Length: 0', 'Content-Length: 500'), 400, /^SIP\/2\.0 400 /],
    [request('OPTIONS').replace('SIP/2.0\r\n', 'SIP/3.0\r\n'), 505, /^SIP\/2\.0 505 /],
  ];
  for (const [text, status, line] of answered) {
    const r = await exchange(text);
    assert.is(statusOf(r), status, text);
    assert.match(r!.text, line);
    assert.match(r!.text, /^To: <sip:dave@ims\.example>;tag=\S+\r$/m, 'the error carries a To tag (RFC 3261 §8.2.6.2)');
  }
  // No Call-ID: nothing to build an answer from (RFC 4475 insuf); garbage; a broken response.
  const dropped = [request('OPTIONS', { 'Call-ID': null }), 'hello\r\n\r\n', 'SIP/2.0 200 OK\r\nVia: nonsense\r\n\r\n'];
  const since = await u().last();
  for (const text of dropped) await u().send('udp', l().net.addr.pcscfUe4, 5060, text);
  const ok = await exchange(request('OPTIONS'));
  assert.is(statusOf(ok), 403, 'a well-formed request after them is handled (403: this UE is not registered)');
  assert.equal((await u().log(since)).filter((e) => e.seq < ok!.seq).map((e) => e.text.split('\r\n')[0]), [], 'nothing answered the dropped ones');
  await m.end(l());

  assert.is(m.of('pcscf_sip_malformed_total', { transport: 'udp', kind: 'request' }), answered.length + 2);
  assert.is(m.of('pcscf_sip_malformed_total', { transport: 'udp', kind: 'response' }), 1);
  assert.is(m.responses('out', 'udp', '4xx'), answered.length, 'the 400s and the 403');
  assert.is(m.responses('out', 'udp', '5xx'), 1, 'the 505');
  assert.ok(l().pcscf.running);
  await register(l(), { user: 'ursula', family: 4, transport: 'u1' });
});

test('over TCP: a malformed request gets 400 on its connection, a broken stream is closed; a TCP registration still works', async () => {
  const m = await MetricDelta.start(l());
  const tcpRequest = (fields: Record<string, string | null>): string => request('OPTIONS', { Via: `SIP/2.0/TCP 10.41.1.2:${UE_PORT};branch=z9hG4bK-rob-tcp-${++serial}`, ...fields });
  const since = await u().last();
  // Two messages on one connection from an ephemeral port (the Via names 5090): the answers come
  // back on it (RFC 3261 §18.2.2), the 400 from the main thread, the 403 from the logic.
  await u().tcpSend('conn1', l().net.addr.ue4, l().net.addr.pcscfUe4, 5060, tcpRequest({ CSeq: 'x OPTIONS' }) + tcpRequest({}));
  const first = await u().wait('^SIP/2\\.0 400 Invalid CSeq\\r', since, 3000);
  const second = await u().wait('^SIP/2\\.0 403 ', since, 3000);
  assert.is(first?.name, 'conn1');
  assert.is(second?.name, 'conn1');
  assert.is(first!.from, second!.from, 'both on the same connection');
  // A negative Content-Length leaves no way to find the next message: the connection is closed.
  await u().tcpSend('conn2', l().net.addr.ue4, l().net.addr.pcscfUe4, 5060, tcpRequest({}).replace('Content-Length: 0', 'Content-Length: -5'));
  const closed = await settle(async () => {
    const s = await l().pcscf.metrics();
    return s.some((x) => x.name === 'pcscf_tcp_connections_closed_total' && x.labels.reason === 'framing' && x.value > 0);
  }, Boolean, 5000, 100);
  assert.ok(closed, 'closed for its framing');
  await m.end(l());

  assert.is(m.of('pcscf_sip_malformed_total', { transport: 'tcp', kind: 'request' }), 2);
  assert.is(m.of('pcscf_tcp_connections_closed_total', { reason: 'framing' }), 1);
  assert.is(m.of('pcscf_tcp_connections_closed_total', { reason: 'connect-failed' }), 0, 'no answer tried a connection to the sent-by port');
  assert.is((await u().log(since)).filter((e) => e.name === 'conn2').length, 0, 'nothing answered on the broken stream');
  await register(l(), { user: 'victor', family: 4, transport: 't1', port: 5095 });
});

test('a request from a UE that is not registered gets 403, a REGISTER from the core 403', async () => {
  const m = await MetricDelta.start(l());
  const r = await exchange(request('MESSAGE'));
  assert.match(r?.text ?? '', /^SIP\/2\.0 403 Forbidden \(Not registered\)\r\n/);
  await withSink(undefined, async (core) => {
    const since = await core.last();
    const reg = request('REGISTER', { Via: `SIP/2.0/UDP ${l().net.addr.core4}:5060;branch=z9hG4bK-rob-core` });
    await core.send('udp', l().net.addr.pcscfCore4, 5060, reg);
    const answer = await core.wait('^SIP/2\\.0 ', since, 3000);
    assert.match(answer?.text ?? '', /^SIP\/2\.0 403 Forbidden \(REGISTER from the core\)\r\n/);
  });
  await m.end(l());
  assert.is(m.of('pcscf_requests_rejected_total', { reason: 'unregistered' }), 1);
  assert.is(m.of('pcscf_registrations_rejected_total', { reason: 'from_core' }), 1);
});

test('SIGTERM with a REGISTER in progress: new requests 503 with Retry-After, the pending one 503 at the deadline, exit 0', async () => {
  await withSink(undefined, async (sink) => {
    const pending = request('REGISTER', { 'Call-ID': 'rob-pending@10.41.1.2' });
    const since = await u().last();
    await u().send('udp', l().net.addr.pcscfUe4, 5060, pending);
    assert.ok(await sink.wait('^REGISTER ', 0, 3000), 'the REGISTER reached the registrar, which keeps it unanswered');

    const exit = stopCleanly(l());
    const draining = await settle(async () => (await l().pcscf.get('/health')).status === 503, Boolean, 6000, 100);
    assert.ok(draining, '/health says 503 while draining');
    const refused = await exchange(request('REGISTER'));
    assert.is(statusOf(refused), 503, 'a new request while draining');
    assert.match(refused!.text, /^Retry-After: \d+\r$/m);
    await exit;
    const late = (await u().log(since)).filter((e) => callIdOf(e.text) === 'rob-pending@10.41.1.2');
    assert.equal(late.map((e) => statusOf(e)), [503], 'the REGISTER still unanswered at the deadline gets 503');
  });
});

test.run();
