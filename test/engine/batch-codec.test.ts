import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeBatch, decodeResult, encodeBatch, encodeResult, transferList } from '../../src/engine/batch-codec.js';
import type { Inbound, Plan, RxInfo } from '../../src/engine/plan.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const udp: RxInfo = { transport: 'udp', socketId: 3, local: { addr: '10.0.0.1', port: 5060 }, remote: { addr: '10.0.0.2', port: 40123 } };
const tcp6: RxInfo = { transport: 'tcp', socketId: 7, local: { addr: 'fd00::1', port: 5103 }, remote: { addr: 'fd00::9', port: 51000 }, connId: 2 ** 40 + 5 };

/** What the other thread sees: the objects as they were, octets compared as text. */
const plain = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (_k, v: unknown) => (v instanceof Uint8Array ? `octets:${text(v)}` : v)));

test('inbound messages cross in flat buffers and come back equal: requests, responses with their request and context, TCP and IPv6, ids past 2^31', () => {
  const messages: Inbound[] = [
    { kind: 'request', id: 1, bytes: bytes('REGISTER sip:a SIP/2.0\r\n\r\n'), rx: udp },
    { kind: 'response', id: 2 ** 33 + 1, bytes: bytes('SIP/2.0 401 Unauthorized\r\n\r\n'), rx: tcp6, request: { bytes: bytes('REGISTER sip:b SIP/2.0\r\n\r\n'), rx: udp }, context: { flow: 'register', ipsec: true, sa: 4242 } },
    { kind: 'request', id: 3, bytes: new Uint8Array(0), rx: tcp6 },
  ];
  const wire = encodeBatch(messages);
  assert.is(wire.count, 3);
  const back = decodeBatch(structuredClone(wire, { transfer: transferList(wire) }));
  assert.equal(plain(back), plain(messages));
  assert.not.ok('connId' in back[0]!.rx, 'no connection id where there was none');
});

test('an empty batch crosses too', () => {
  const wire = encodeBatch([]);
  assert.equal(decodeBatch(structuredClone(wire, { transfer: transferList(wire) })), []);
  assert.equal(decodeResult(structuredClone(encodeResult({ plans: [], events: [] }, 0))).plans, []);
});

test('plans come back equal: each SIP kind, targets with and without connection and reuse-only, kernel work by structured clone, events and busy time', () => {
  const target = { transport: 'tcp', socketId: 1, remote: { addr: 'fd00::9', port: 5062 }, connId: 9, reuseOnly: true } as const;
  const plans: Plan[] = [
    { kind: 'forward', bytes: bytes('REGISTER sip:core SIP/2.0\r\n\r\n'), target: { transport: 'udp', socketId: 0, remote: { addr: '10.0.0.3', port: 5060 } }, branch: 'z9hG4bK-1', context: { flow: 'register', ipsec: false } },
    { kind: 'reply', bytes: bytes('SIP/2.0 200 OK\r\n\r\n'), status: 200 },
    { kind: 'reply', bytes: bytes('SIP/2.0 494 Security Agreement Required\r\n\r\n'), status: 494, target },
    { kind: 'send', bytes: bytes('ACK sip:ue SIP/2.0\r\n\r\n'), target },
    { kind: 'drop', reason: 'stray response' },
    { kind: 'drop', reason: 'deregistered', after: [{ ops: [], release: [1234], what: 'deregistered' }] },
  ];
  const events = [{ level: 'warn', msg: 'something', fields: { aor: 'sip:a@b' } }] as const;
  const back = decodeResult(structuredClone(encodeResult({ plans, events: [...events] }, 1.5)));
  assert.equal(plain(back.plans), plain(plans));
  assert.equal(back.events, events);
  assert.is(back.busyMs, 1.5);
  const reply = back.plans[1]!;
  assert.ok(reply.kind === 'reply' && !('target' in reply), 'a reply without a target gets none');
  const forward = back.plans[0]!;
  assert.ok(forward.kind === 'forward' && !('connId' in forward.target) && !('reuseOnly' in forward.target));
});

test('each message\'s octets are its own range of the batch buffer', () => {
  const messages: Inbound[] = ['A'.repeat(5), 'B'.repeat(7), 'C'].map((s, i) => ({ kind: 'request', id: i, bytes: bytes(s), rx: udp }));
  const back = decodeBatch(encodeBatch(messages));
  assert.equal(back.map((m) => text(m.bytes)), ['AAAAA', 'BBBBBBB', 'C']);
});

test.run();
