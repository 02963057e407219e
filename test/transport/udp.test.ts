// UDP through Transports, in a network namespace of this file: IPv4 and IPv6, datagrams in with
// the right RxInfo, datagrams out from exactly the named socket (the receiver checks the source
// port), v4 and v6 sockets on one port, oversize and keep-alive datagrams, bad targets.

import dgram from 'node:dgram';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Transports } from '../../src/transport/transports.js';
import { ownNetns } from '../helpers/own-netns.js';
import { errors, OPTIONS, Recorder, sip, sockets, tick } from './fixtures.js';
import { until } from '../helpers/poll.js';

await ownNetns('tr-udp', (ns) => {
  ns.ip('addr', 'add', '10.71.0.1/32', 'dev', 'lo');
  ns.ip('addr', 'add', 'fd00:71::1/128', 'dev', 'lo', 'nodad');
});

const V4 = '10.71.0.1';
const V6 = 'fd00:71::1';

interface Peer {
  socket: dgram.Socket;
  port: number;
  got: { text: string; from: string; port: number }[];
}

async function peer(addr: string): Promise<Peer> {
  const socket = dgram.createSocket({ type: addr.includes(':') ? 'udp6' : 'udp4' });
  const got: Peer['got'] = [];
  socket.on('message', (m, r) => got.push({ text: m.toString('latin1'), from: r.address, port: r.port }));
  await new Promise<void>((r) => socket.bind(0, addr, r));
  return { socket, port: socket.address().port, got };
}

const closePeer = (p: Peer): Promise<void> => new Promise((r) => p.socket.close(() => r()));

function sendFrom(p: Peer, text: string | Buffer, port: number, addr: string): Promise<void> {
  return new Promise((resolve, reject) => p.socket.send(text, port, addr, (e) => (e ? reject(e) : resolve())));
}

// Unprotected 5060 on v4 and v6 (same port number), protected client / server ports on both.
const LIST = sockets(
  ['udp', V4, 5060], ['udp', V6, 5060],
  ['udp', V4, 6100, 'protected-client'], ['udp', V4, 6200, 'protected-server'],
  ['udp', V6, 6100, 'protected-client'], ['udp', V6, 6200, 'protected-server'],
);

test('datagrams arrive with the socket id, local and remote endpoints, on v4 and v6 sockets of one port', async () => {
  const rec = new Recorder();
  const t = await Transports.open(LIST, OPTIONS, rec);
  const p4 = await peer(V4);
  const p6 = await peer(V6);
  try {
    await sendFrom(p4, sip('a'), 5060, V4);
    await sendFrom(p6, sip('b'), 5060, V6);
    await sendFrom(p6, sip('c'), 6200, V6);
    await until(() => rec.messages.length === 3, 'three datagrams');
    const byText = new Map(rec.messages.map((m) => [m.text, m.rx]));
    assert.equal(byText.get(sip('a')), { transport: 'udp', socketId: 0, local: { addr: V4, port: 5060 }, remote: { addr: V4, port: p4.port } });
    assert.equal(byText.get(sip('b')), { transport: 'udp', socketId: 1, local: { addr: V6, port: 5060 }, remote: { addr: V6, port: p6.port } });
    assert.is(byText.get(sip('c'))?.socketId, 5);
    const s = t.stats();
    assert.is(s.sockets.udp, 6);
    assert.is(s.udp.messagesIn, 3);
    assert.is(s.udp.bytesIn, sip('a').length + sip('b').length + sip('c').length);
  } finally {
    await t.close();
    await closePeer(p4);
    await closePeer(p6);
  }
});

test('each message leaves from exactly the socket the target names', async () => {
  const t = await Transports.open(LIST, OPTIONS, new Recorder());
  const p4 = await peer(V4);
  const p6 = await peer(V6);
  try {
    for (const [id, p, addr] of [[0, p4, V4], [2, p4, V4], [3, p4, V4], [1, p6, V6], [4, p6, V6], [5, p6, V6]] as const) {
      t.send(Buffer.from(`from socket ${id}`), { transport: 'udp', socketId: id, remote: { addr, port: p.port } });
    }
    await until(() => p4.got.length === 3 && p6.got.length === 3, 'six datagrams');
    const seen = [...p4.got, ...p6.got].map((g) => [g.text, g.from, g.port]).sort();
    assert.equal(seen, [
      ['from socket 0', V4, 5060], ['from socket 1', V6, 5060], ['from socket 2', V4, 6100],
      ['from socket 3', V4, 6200], ['from socket 4', V6, 6100], ['from socket 5', V6, 6200],
    ]);
    assert.is(t.stats().udp.messagesOut, 6);
  } finally {
    await t.close();
    await closePeer(p4);
    await closePeer(p6);
  }
});

test('a datagram over the size limit is dropped and counted; CRLF keep-alives are dropped and counted', async () => {
  const rec = new Recorder();
  const t = await Transports.open(LIST.slice(0, 1), { ...OPTIONS, limits: { ...OPTIONS.limits, maxDatagramBytes: 1000 } }, rec);
  const p = await peer(V4);
  try {
    await sendFrom(p, sip('big', 1200), 5060, V4);
    await sendFrom(p, '\r\n\r\n', 5060, V4);
    await sendFrom(p, sip('small', 10), 5060, V4);
    await until(() => rec.messages.length === 1, 'the small datagram');
    // Datagrams on one socket arrive in order, so the two before have been handled by now.
    assert.is(rec.messages[0]!.text, sip('small', 10));
    const s = t.stats();
    assert.is(s.udp.oversize, 1);
    assert.is(s.udp.keepalives, 1);
    assert.is(s.udp.messagesIn, 1);
  } finally {
    await t.close();
    await closePeer(p);
  }
});

test('bad targets fail through onError with their codes, later and never by throwing', async () => {
  const t = await Transports.open(LIST, { ...OPTIONS, limits: { ...OPTIONS.limits, maxDatagramBytes: 1000 } }, new Recorder());
  const e = errors();
  try {
    const remote = { addr: V4, port: 5999 };
    t.send(Buffer.from('x'), { transport: 'udp', socketId: 99, remote }, e.onError);
    t.send(Buffer.from('x'), { transport: 'tcp', socketId: 0, remote }, e.onError); // socket 0 is UDP
    t.send(Buffer.from('x'), { transport: 'udp', socketId: 0, remote: { addr: V6, port: 5999 } }, e.onError); // family
    t.send(Buffer.from('x'), { transport: 'udp', socketId: 0, remote: { addr: 'ue.example.net', port: 5999 } }, e.onError);
    t.send(Buffer.from('x'), { transport: 'udp', socketId: 0, remote: { addr: V4, port: 0 } }, e.onError);
    t.send(Buffer.alloc(1001), { transport: 'udp', socketId: 0, remote }, e.onError);
    assert.is(e.list.length, 0, 'onError is not called from inside send()');
    await until(() => e.list.length === 6, 'six errors');
    assert.equal(e.list.map((x) => x.code), [
      'TRANSPORT_NO_SOCKET', 'TRANSPORT_NO_SOCKET', 'TRANSPORT_BAD_TARGET', 'TRANSPORT_BAD_TARGET',
      'TRANSPORT_BAD_TARGET', 'TRANSPORT_MESSAGE_TOO_LARGE',
    ]);
    assert.is(e.list[0]!.target.socketId, 99);
    const s = t.stats();
    assert.is(s.sendErrors.TRANSPORT_BAD_TARGET, 3);
    assert.is(s.udp.messagesOut, 0);
  } finally {
    await t.close();
  }
});

test('an IPv6 target written in another form than the canonical one is accepted', async () => {
  const t = await Transports.open(LIST, OPTIONS, new Recorder());
  const p = await peer(V6);
  try {
    t.send(Buffer.from('upper'), { transport: 'udp', socketId: 1, remote: { addr: 'FD00:71:0:0::1', port: p.port } });
    await until(() => p.got.length === 1, 'the datagram');
    assert.equal(p.got[0], { text: 'upper', from: V6, port: 5060 });
  } finally {
    await t.close();
    await closePeer(p);
  }
});

test('an operating system send failure reaches onError as TRANSPORT_SEND_FAILED', async () => {
  const t = await Transports.open(LIST.slice(0, 1), OPTIONS, new Recorder());
  const e = errors();
  try {
    // No route to this address in the namespace: sendto fails with ENETUNREACH.
    t.send(Buffer.from('x'), { transport: 'udp', socketId: 0, remote: { addr: '198.51.100.7', port: 5060 } }, e.onError);
    t.send(Buffer.from('y'), { transport: 'udp', socketId: 0, remote: { addr: '198.51.100.7', port: 5060 } });
    await until(() => e.list.length === 1 && t.stats().sendErrors.TRANSPORT_SEND_FAILED === 2, 'both failures counted');
    assert.is(e.list[0]!.code, 'TRANSPORT_SEND_FAILED');
    assert.is(e.list[0]!.errno, 'ENETUNREACH');
  } finally {
    await t.close();
  }
});

test('opening fails with TRANSPORT_BIND_FAILED when a port is taken, and leaves nothing open', async () => {
  const blocker = dgram.createSocket('udp4');
  await new Promise<void>((r) => blocker.bind(6100, V4, r));
  await tick(50); // handles closed by the tests before leave the list a little after their 'close' event
  const before = process.getActiveResourcesInfo().filter((x) => x === 'UDPWrap').length;
  try {
    await Transports.open(LIST, OPTIONS, new Recorder());
    assert.unreachable('open should fail');
  } catch (e) {
    assert.is((e as { code?: string }).code, 'TRANSPORT_BIND_FAILED');
    assert.is((e as { socket?: { id: number } }).socket?.id, 2);
  } finally {
    blocker.close();
  }
  await until(() => process.getActiveResourcesInfo().filter((x) => x === 'UDPWrap').length === before - 1, 'only the blocker closed');
});

test.run();
