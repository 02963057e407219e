// TCP through Transports, in a network namespace of this file: framing, keep-alive, replies on the
// connection a request came on, outbound connections from ephemeral ports (unprotected) and from
// exactly the protected client port (several remotes at once, next to the other sockets of a real
// plan), TRANSPORT_BIND_FAILED without fallback, connect failures and timeouts, IPv6.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../src/config/index.js';
import type { Target } from '../../src/engine/plan.js';
import { planSockets, SocketTable } from '../../src/transport/sockets.js';
import { Transports } from '../../src/transport/transports.js';
import { createNetns, vethPair } from '../helpers/netns.js';
import { ownNetns } from '../helpers/own-netns.js';
import { errors, OPTIONS, Recorder, sip, sockets, TcpClient, TcpPeer, tick } from './fixtures.js';
import { until } from '../helpers/poll.js';

const V4 = '10.72.0.1';
const UE4 = '10.72.0.2';
const UE4B = '10.72.0.3';
const V6 = 'fd00:72::1';
const UE6 = 'fd00:72::2';
/** Routed to a namespace where nobody answers: a connect there hangs until our timeout. */
const BLACKHOLE = '10.72.9.2';

await ownNetns('tr-tcp', (ns) => {
  for (const a of [V4, UE4, UE4B]) ns.ip('addr', 'add', `${a}/32`, 'dev', 'lo');
  for (const a of [V6, UE6]) ns.ip('addr', 'add', `${a}/128`, 'dev', 'lo', 'nodad');
  const sink = createNetns('tr-tcp-sink'); // removed when the parent process exits
  const [ifA, ifB] = vethPair({ ns, addrs: ['10.72.9.1/24'] }, { ns: sink, addrs: [] });
  ns.ip('neigh', 'replace', BLACKHOLE, 'lladdr', '02:00:00:00:72:09', 'dev', ifA, 'nud', 'permanent');
  void ifB;
});

// The plan of a real configuration: unprotected 5060 (UDP and TCP), protected client 6100-6102
// and server 6200-6202 on V4 and V6.
const PLAN = planSockets(loadConfig({
  argv: [],
  env: {
    PCSCF_SIP__NEXT_HOP: `sip:${UE4}:5060`,
    PCSCF_SIP__LISTEN: `[{transport: udp, address: ${V4}, port: 5060}, {transport: tcp, address: ${V4}, port: 5060}, {transport: tcp, address: "${V6}", port: 5060}]`,
    PCSCF_IPSEC_LISTEN_ADDR: V4, PCSCF_IPSEC_LISTEN_ADDR6: V6,
    PCSCF_IPSEC_CLIENT_PORT: '6100', PCSCF_IPSEC_SERVER_PORT: '6200', PCSCF_IPSEC_MAX_CONNECTIONS: '3',
  },
}));
const TABLE = new SocketTable(PLAN);
const TCP4 = TABLE.find('tcp', V4, 5060)!.id;
const TCP6 = TABLE.find('tcp', V6, 5060)!.id;
const pc = (family: 4 | 6, port: number): number => TABLE.protectedSocket(family, 'tcp', port)!.id;

const tcp = (socketId: number, addr: string, port: number, extra: Partial<Target> = {}): Target => ({ transport: 'tcp', socketId, remote: { addr, port }, ...extra });

test('messages are framed across chunk boundaries and several per read, with the connection in RxInfo', async () => {
  const rec = new Recorder();
  const t = await Transports.open(PLAN, OPTIONS, rec);
  const c = await TcpClient.connect(V4, 5060, UE4);
  try {
    const one = sip('one', 10);
    c.write(one.slice(0, 7));
    await tick(20);
    c.write(one.slice(7, 50));
    await tick(20);
    c.write(one.slice(50) + sip('two') + sip('three', 3) + sip('four').slice(0, 5));
    await tick(20);
    c.write(sip('four').slice(5));
    await until(() => rec.messages.length === 4, 'four messages');
    assert.equal(rec.messages.map((m) => m.text), [one, sip('two'), sip('three', 3), sip('four')]);
    const rx = rec.messages[0]!.rx;
    assert.equal(rx, { transport: 'tcp', socketId: TCP4, local: { addr: V4, port: 5060 }, remote: { addr: UE4, port: c.port }, connId: rx.connId });
    assert.ok(rec.messages.every((m) => m.rx === rx), 'one RxInfo per connection');
    const info = t.connection(rx.connId!);
    assert.equal([info?.direction, info?.state, info?.socketId, info?.remote], ['inbound', 'open', TCP4, { addr: UE4, port: c.port }]);
    const s = t.stats();
    assert.is(s.tcp.messagesIn, 4);
    assert.is(s.connections.opened.inbound, 1);
    assert.is(s.sockets.tcpListeners, 2 + 2 * 3);
    assert.is(s.sockets.tcpEndpoints, 2 * 3);
  } finally {
    c.socket.destroy();
    await t.close();
  }
});

test('a CRLFCRLF ping is answered with CRLF (RFC 5626 §3.5.1) and is no message', async () => {
  const rec = new Recorder();
  const t = await Transports.open(PLAN, OPTIONS, rec);
  const c = await TcpClient.connect(V4, 5060);
  try {
    c.write('\r\n\r\n');
    await until(() => c.data.length === 2, 'the pong');
    assert.is(c.data, '\r\n');
    c.write(sip('after'));
    await until(() => rec.messages.length === 1, 'the message after the ping');
    assert.is(t.stats().tcp.keepalives, 1);
    assert.is(c.data, '\r\n', 'only one pong');
  } finally {
    c.socket.destroy();
    await t.close();
  }
});

test('responses and requests to the remote reuse the connection it opened, by connId or by endpoint', async () => {
  const rec = new Recorder();
  const t = await Transports.open(PLAN, OPTIONS, rec);
  const c = await TcpClient.connect(V4, 5060, UE4);
  try {
    c.write(sip('req'));
    await until(() => rec.messages.length === 1, 'the request');
    const rx = rec.messages[0]!.rx;
    t.send(Buffer.from('by connId;'), tcp(rx.socketId, rx.remote.addr, rx.remote.port, { connId: rx.connId! }));
    t.send(Buffer.from('by endpoint;'), tcp(rx.socketId, rx.remote.addr, rx.remote.port, { reuseOnly: true }));
    await until(() => c.data === 'by connId;by endpoint;', 'both on the client connection');
    const s = t.stats();
    assert.is(s.connections.opened.outbound, 0);
    assert.is(s.tcp.messagesOut, 2);
  } finally {
    c.socket.destroy();
    await t.close();
  }
});

test('a target naming the connection is sent on it when its port is the Via sent-by, not the source port (RFC 3261 §18.2.2)', async () => {
  const rec = new Recorder();
  const t = await Transports.open(PLAN, OPTIONS, rec);
  const c = await TcpClient.connect(V4, 5060, UE4);
  try {
    c.write(sip('req'));
    await until(() => rec.messages.length === 1, 'the request');
    const rx = rec.messages[0]!.rx;
    assert.is.not(rx.remote.port, 5070);
    t.send(Buffer.from('response;'), tcp(rx.socketId, rx.remote.addr, 5070, { connId: rx.connId! }));
    await until(() => c.data === 'response;', 'on the client connection');
    assert.is(t.stats().connections.opened.outbound, 0, 'no connection to the sent-by port');
  } finally {
    c.socket.destroy();
    await t.close();
  }
});

test('unprotected: a new connection leaves from an ephemeral port of the socket address, and is reused both ways', async () => {
  const rec = new Recorder();
  const t = await Transports.open(PLAN, OPTIONS, rec);
  const core = await TcpPeer.listen(UE4);
  try {
    t.send(Buffer.from(sip('first')), tcp(TCP4, UE4, core.port));
    t.send(Buffer.from(sip('second')), tcp(TCP4, UE4, core.port));
    await until(() => core.conns[0]?.data === sip('first') + sip('second'), 'both messages, in order');
    assert.is(core.conns.length, 1, 'one connection for both (the second queued while connecting)');
    const conn = core.conns[0]!;
    assert.is(conn.from, V4);
    assert.is.not(conn.port, 5060);
    // The core answers on that connection: it arrives with the connection's id and socket.
    conn.socket.write(sip('answer'));
    await until(() => rec.messages.length === 1, 'the answer');
    const rx = rec.messages[0]!.rx;
    assert.equal([rx.socketId, rx.local, rx.remote], [TCP4, { addr: V4, port: conn.port }, { addr: UE4, port: core.port }]);
    assert.is(t.connection(rx.connId!)?.direction, 'outbound');
    t.send(Buffer.from('third'), tcp(TCP4, UE4, core.port, { connId: rx.connId! }));
    await until(() => conn.data.endsWith('third'), 'the third on the same connection');
    assert.is(t.stats().connections.opened.outbound, 1);
  } finally {
    await t.close();
    await core.close();
  }
});

test('protected: connections to several UEs all leave from exactly the protected client port, next to the other sockets', async () => {
  const t = await Transports.open(PLAN, OPTIONS, new Recorder());
  const ues = await Promise.all([TcpPeer.listen(UE4, 7001), TcpPeer.listen(UE4, 7002), TcpPeer.listen(UE4B, 7001)]);
  const e = errors();
  try {
    for (const ue of ues) t.send(Buffer.from(`to ${ue.addr}:${ue.port}`), tcp(pc(4, 6101), ue.addr, ue.port), e.onError);
    await until(() => ues.every((ue) => ue.conns[0]?.data === `to ${ue.addr}:${ue.port}`), 'one message at each UE');
    for (const ue of ues) assert.equal([ue.conns.length, ue.conns[0]!.from, ue.conns[0]!.port], [1, V4, 6101]);
    assert.is(e.list.length, 0);
    assert.is(t.stats().connections.opened.outbound, 3);
  } finally {
    await t.close();
    await Promise.all(ues.map((ue) => ue.close()));
  }
});

test('protected over IPv6: from exactly the client port; inbound on the server port', async () => {
  const rec = new Recorder();
  const t = await Transports.open(PLAN, OPTIONS, rec);
  const ue = await TcpPeer.listen(UE6, 7003);
  const c = await TcpClient.connect(V6, 6202, UE6);
  try {
    t.send(Buffer.from('to the UE'), tcp(pc(6, 6100), UE6, 7003));
    await until(() => ue.conns[0]?.data === 'to the UE', 'the message');
    assert.equal([ue.conns[0]!.from, ue.conns[0]!.port], [V6, 6100]);
    c.write(sip('from the UE'));
    await until(() => rec.messages.length === 1, 'the inbound message');
    const rx = rec.messages[0]!.rx;
    assert.equal([rx.socketId, rx.local, rx.remote], [TABLE.protectedSocket(6, 'tcp', 6202)!.id, { addr: V6, port: 6202 }, { addr: UE6, port: c.port }]);
  } finally {
    c.socket.destroy();
    await t.close();
    await ue.close();
  }
});

test('TRANSPORT_BIND_FAILED when the exact protected port cannot be bound, and no other port is tried', async () => {
  const t = await Transports.open(PLAN, OPTIONS, new Recorder());
  // Another program listens on the protected client port 6102 of our address.
  const squatter = await TcpPeer.listen(V4, 6102);
  const ue = await TcpPeer.listen(UE4, 7004);
  const e = errors();
  try {
    t.send(Buffer.from('a'), tcp(pc(4, 6102), UE4, 7004), e.onError);
    t.send(Buffer.from('b'), tcp(pc(4, 6102), UE4, 7004), e.onError);
    // A listening protected server port cannot originate a connection either.
    t.send(Buffer.from('c'), tcp(TABLE.protectedSocket(4, 'tcp', 6200)!.id, UE4, 7004), e.onError);
    await until(() => e.list.length === 3, 'three failures');
    assert.ok(e.list.every((x) => x.code === 'TRANSPORT_BIND_FAILED'), e.list.map((x) => x.code).join());
    assert.is(e.list.find((x) => x.target.socketId === pc(4, 6102))?.errno, 'EADDRINUSE');
    await tick(100);
    assert.is(ue.conns.length, 0, 'the UE saw no connection from any port');
    const s = t.stats();
    assert.is(s.sendErrors.TRANSPORT_BIND_FAILED, 3);
    assert.is(s.connections.open, 0);
  } finally {
    await t.close();
    await squatter.close();
    await ue.close();
  }
});

test('a refused connection fails every message queued on it with TRANSPORT_CONNECT_FAILED', async () => {
  const t = await Transports.open(PLAN, OPTIONS, new Recorder());
  const e = errors();
  try {
    t.send(Buffer.from('a'), tcp(pc(4, 6100), UE4, 7999), e.onError);
    t.send(Buffer.from('b'), tcp(pc(4, 6100), UE4, 7999), e.onError);
    await until(() => e.list.length === 2, 'two failures');
    assert.equal(e.list.map((x) => [x.code, x.errno]), [['TRANSPORT_CONNECT_FAILED', 'ECONNREFUSED'], ['TRANSPORT_CONNECT_FAILED', 'ECONNREFUSED']]);
    const s = t.stats();
    assert.is(s.connections.closed['connect-failed'], 1);
    assert.is(s.connections.open, 0);
  } finally {
    await t.close();
  }
});

test('a connect that gets no answer fails after the connect timeout', async () => {
  const t = await Transports.open(PLAN, { ...OPTIONS, connectTimeoutMs: 300 }, new Recorder());
  const e = errors();
  try {
    t.send(Buffer.from('a'), tcp(TCP4, BLACKHOLE, 5060), e.onError);
    await until(() => e.list.length === 1, 'the failure');
    assert.equal([e.list[0]!.code, e.list[0]!.errno], ['TRANSPORT_CONNECT_FAILED', 'ETIMEDOUT']);
    const s = t.stats();
    assert.is(s.connections.closed['connect-timeout'], 1);
    assert.is(s.connections.open, 0);
  } finally {
    await t.close();
  }
});

test('reuseOnly without an open connection fails with TRANSPORT_CONNECTION_GONE and opens none', async () => {
  const t = await Transports.open(PLAN, OPTIONS, new Recorder());
  const ue = await TcpPeer.listen(UE4, 7005);
  const e = errors();
  try {
    t.send(Buffer.from('a'), tcp(pc(4, 6100), UE4, 7005, { reuseOnly: true, connId: 12345 }), e.onError);
    await until(() => e.list.length === 1, 'the failure');
    assert.is(e.list[0]!.code, 'TRANSPORT_CONNECTION_GONE');
    await tick(50);
    assert.is(ue.conns.length, 0);
    assert.is(t.stats().connections.opened.outbound, 0);
  } finally {
    await t.close();
    await ue.close();
  }
});

test('a message over the stream limit fails with TRANSPORT_MESSAGE_TOO_LARGE', async () => {
  const t = await Transports.open(PLAN, { ...OPTIONS, limits: { ...OPTIONS.limits, maxStreamMessageBytes: 1000 } }, new Recorder());
  const e = errors();
  try {
    t.send(Buffer.alloc(1001), tcp(TCP6, UE6, 5060), e.onError);
    await until(() => e.list.length === 1, 'the failure');
    assert.is(e.list[0]!.code, 'TRANSPORT_MESSAGE_TOO_LARGE');
    assert.is(t.stats().connections.opened.outbound, 0);
  } finally {
    await t.close();
  }
});

test.run();
