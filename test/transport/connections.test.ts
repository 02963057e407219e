// The life of TCP connections, in a network namespace of this file: idle timeout, the connection
// cap, framing errors (reported once, a 400 still goes out, then the connection closes), peers
// that reset or send garbage without disturbing the others, and a reader too slow for our writes.

import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RxInfo, Target } from '../../src/engine/plan.js';
import { Transports } from '../../src/transport/transports.js';
import { ownNetns } from '../helpers/own-netns.js';
import { errors, OPTIONS, Recorder, sip, sockets, TcpClient, TcpPeer, tick } from './fixtures.js';
import { until } from '../helpers/poll.js';

const V4 = '10.73.0.1';
const UE = '10.73.0.2';

await ownNetns('tr-conn', (ns) => {
  for (const a of [V4, UE]) ns.ip('addr', 'add', `${a}/32`, 'dev', 'lo');
  // Linux lets a connection from a bound port take over a TIME_WAIT 4-tuple only when the peer
  // used TCP timestamps (or, by default, on loopback): take both away, as a UE stack may.
  ns.exec('sysctl', '-qw', 'net.ipv4.tcp_tw_reuse=0');
  ns.exec('sysctl', '-qw', 'net.ipv4.tcp_timestamps=0');
});

const LIST = sockets(['tcp', V4, 5060], ['tcp', V4, 6100, 'protected-client', false]);
const reply = (rx: RxInfo, extra: Partial<Target> = {}): Target => ({ transport: 'tcp', socketId: rx.socketId, remote: rx.remote, connId: rx.connId!, ...extra });

test('an idle connection is closed; one that carries pings stays open', async () => {
  const t = await Transports.open(LIST, { ...OPTIONS, idleTimeoutMs: 400 }, new Recorder());
  const idle = await TcpClient.connect(V4, 5060);
  const busy = await TcpClient.connect(V4, 5060);
  const pinger = setInterval(() => busy.write('\r\n\r\n'), 50);
  try {
    await until(() => idle.closed, 'the idle connection closed');
    assert.not.ok(busy.closed, 'the busy connection is still open');
    const s = t.stats();
    assert.is(s.connections.closed.idle, 1);
    assert.is(s.connections.open, 1);
  } finally {
    clearInterval(pinger);
    busy.socket.destroy();
    await t.close();
  }
});

test('an outbound connection from a protected port is idle-closed with a reset, so the port can reconnect at once', async () => {
  const t = await Transports.open(LIST, { ...OPTIONS, idleTimeoutMs: 300 }, new Recorder());
  const ue = await TcpPeer.listen(UE, 7010);
  const e = errors();
  try {
    const target: Target = { transport: 'tcp', socketId: 1, remote: { addr: UE, port: 7010 } };
    t.send(Buffer.from('one'), target, e.onError);
    await until(() => ue.conns[0]?.data === 'one', 'the first message');
    await until(() => ue.conns[0]!.closed, 'the idle close');
    // The same 4-tuple again: a FIN-closed socket would leave it in TIME_WAIT and this connect would fail.
    t.send(Buffer.from('two'), target, e.onError);
    await until(() => ue.conns[1]?.data === 'two', 'the second message on a new connection');
    assert.equal([ue.conns[1]!.from, ue.conns[1]!.port], [V4, 6100]);
    assert.is(e.list.length, 0);
  } finally {
    await t.close();
    await ue.close();
  }
});

test('beyond the connection cap new inbound connections are closed at once and counted; outbound ones fail', async () => {
  const t = await Transports.open(LIST, { ...OPTIONS, maxConnections: 2 }, new Recorder());
  const a = await TcpClient.connect(V4, 5060);
  const b = await TcpClient.connect(V4, 5060);
  const ue = await TcpPeer.listen(UE, 7011);
  const e = errors();
  const extra: TcpClient[] = [];
  try {
    await until(() => t.stats().connections.open === 2, 'two connections in the table');
    // Closed at once: the client sees the reset during or right after its connect.
    const c = await TcpClient.connect(V4, 5060).catch((err: NodeJS.ErrnoException) => err.code ?? String(err));
    if (typeof c === 'string') assert.is(c, 'ECONNRESET');
    else {
      extra.push(c);
      await until(() => c.closed, 'the third closed');
    }
    t.send(Buffer.from('x'), { transport: 'tcp', socketId: 1, remote: { addr: UE, port: 7011 } }, e.onError);
    await until(() => e.list.length === 1, 'the outbound failure');
    assert.is(e.list[0]!.code, 'TRANSPORT_TOO_MANY_CONNECTIONS');
    assert.not.ok(a.closed || b.closed, 'the first two stay');
    a.socket.destroy();
    await until(() => t.stats().connections.open === 1, 'one closed');
    const d = await TcpClient.connect(V4, 5060);
    extra.push(d);
    await tick(50);
    assert.not.ok(d.closed, 'below the cap again, a connection is accepted');
    const s = t.stats();
    assert.is(s.connections.rejected, 1);
    assert.is(s.connections.opened.inbound, 3);
  } finally {
    for (const x of [a, b, ...extra]) x.socket.destroy();
    await t.close();
    await ue.close();
  }
});

test('a message that arrives in the same read as a framing error is still delivered, before the error', async () => {
  const rec = new Recorder();
  const t = await Transports.open(LIST, OPTIONS, rec);
  const c = await TcpClient.connect(V4, 5060);
  try {
    c.write(sip('good') + 'MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP x\r\n\r\n');
    await until(() => c.closed, 'the connection closed');
    assert.is(rec.messages.length, 1);
    assert.is(rec.streamErrors.length, 1);
    assert.is(rec.streamErrors[0]!.err.code, 'SIP_MISSING_HEADER');
  } finally {
    c.socket.destroy();
    await t.close();
  }
});

test('a framing error is reported once, a 400 sent from the handler goes out, then the connection closes', async () => {
  const rec = new Recorder();
  const events = {
    onMessage: (bytes: Buffer, rx: RxInfo) => rec.onMessage(bytes, rx),
    onStreamError: (rx: RxInfo, err: Parameters<Recorder['onStreamError']>[1]) => {
      rec.onStreamError(rx, err);
      t.send(Buffer.from(`SIP/2.0 ${err.status} ${err.reason}\r\n\r\n`), reply(rx));
    },
  };
  const t = await Transports.open(LIST, OPTIONS, events);
  const c = await TcpClient.connect(V4, 5060);
  try {
    c.write(sip('good'));
    await until(() => rec.messages.length === 1, 'the message before the error');
    // No Content-Length: a stream cannot be framed (RFC 3261 §18.3); then more garbage.
    c.write('MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP x\r\n\r\n');
    await tick(20);
    c.write('garbage\r\n\r\nmore garbage\r\n\r\n');
    await until(() => c.closed, 'the connection closed');
    assert.is(rec.messages.length, 1);
    assert.is(rec.streamErrors.length, 1);
    assert.is(rec.streamErrors[0]!.err.code, 'SIP_MISSING_HEADER');
    assert.is(rec.streamErrors[0]!.rx.connId, rec.messages[0]!.rx.connId);
    assert.is(c.data, 'SIP/2.0 400 Missing Content-Length\r\n\r\n');
    assert.is(t.stats().connections.closed.framing, 1);
  } finally {
    c.socket.destroy();
    await t.close();
  }
});

test('peers that reset or send garbage do not disturb the other connections', async () => {
  const rec = new Recorder();
  const t = await Transports.open(LIST, OPTIONS, rec);
  const good = await TcpClient.connect(V4, 5060);
  const resetter = await TcpClient.connect(V4, 5060);
  const garbler = await TcpClient.connect(V4, 5060);
  try {
    good.write(sip('g1'));
    await until(() => rec.messages.length === 1, 'the first good message');
    resetter.write(sip('partial', 100).slice(0, 60));
    await tick(20);
    resetter.socket.resetAndDestroy();
    garbler.write(Buffer.from([0, 1, 2, 0xff, 0xfe, 0x0d, 0x0a, 0x0d, 0x0a, 0x80]));
    garbler.write(Buffer.alloc(70_000, 0x41)); // no header end within the limit: too large
    await until(() => garbler.closed && t.stats().connections.open === 1, 'both bad peers gone');
    good.write(sip('g2'));
    await until(() => rec.messages.length === 2, 'the second good message');
    t.send(Buffer.from('still here'), reply(rec.messages[1]!.rx));
    await until(() => good.data === 'still here', 'the answer on the good connection');
    const s = t.stats();
    assert.is(s.connections.closed.error + s.connections.closed.peer, 1, 'the reset');
    assert.is(s.connections.closed.framing, 1, 'the garbage');
    assert.equal(rec.messages.map((m) => m.text), [sip('g1'), sip('g2')]);
  } finally {
    for (const x of [good, resetter, garbler]) x.socket.destroy();
    await t.close();
  }
});

test('random octets from many connections at once: the process keeps serving and every connection is accounted for', async () => {
  const rec = new Recorder();
  const t = await Transports.open(LIST, OPTIONS, rec);
  const good = await TcpClient.connect(V4, 5060);
  const noisy = await Promise.all(Array.from({ length: 20 }, () => TcpClient.connect(V4, 5060)));
  try {
    for (let round = 0; round < 20; round++) {
      for (const [i, c] of noisy.entries()) {
        if (c.closed) continue;
        // Random octets, sometimes behind a plausible start line, sometimes with CRLFs.
        const junk = randomBytes(1 + ((round * 31 + i * 17) % 3000));
        c.write(i % 3 === 0 ? Buffer.concat([Buffer.from('INVITE sip:x SIP/2.0\r\nContent-Length: 5\r\n'), junk]) : junk);
        if (i % 5 === 0 && round === 10) c.socket.resetAndDestroy();
      }
      await tick(2);
    }
    good.write(sip('alive'));
    await until(() => rec.messages.some((m) => m.text === sip('alive')), 'the good message');
    for (const c of noisy) c.socket.destroy();
    await until(() => t.stats().connections.open === 1, 'only the good connection left');
    const s = t.stats();
    const closed = Object.values(s.connections.closed).reduce((a, b) => a + b, 0);
    assert.is(s.connections.opened.inbound, 21);
    assert.is(closed, 20);
    assert.is(rec.streamErrors.length, s.connections.closed.framing);
  } finally {
    good.socket.destroy();
    for (const c of noisy) c.socket.destroy();
    await t.close();
  }
});

test('a connection whose peer does not read is closed when our unsent octets pass the bound', async () => {
  const rec = new Recorder();
  const t = await Transports.open(LIST, { ...OPTIONS, maxWriteBufferBytes: 256 * 1024 }, rec);
  const slow = await TcpClient.connect(V4, 5060);
  const e = errors();
  try {
    slow.socket.pause();
    slow.write(sip('hello'));
    await until(() => rec.messages.length === 1, 'the request');
    const target = reply(rec.messages[0]!.rx, { reuseOnly: true });
    const chunk = Buffer.alloc(60_000, 0x61);
    // The kernel's socket buffers take a few MiB first; then Node buffers, then we close.
    for (let i = 0; i < 2000 && t.stats().connections.closed.backpressure === 0; i++) {
      t.send(chunk, target, e.onError);
      if (i % 50 === 49) await tick(1);
    }
    await until(() => t.stats().connections.closed.backpressure === 1, 'closed for backpressure');
    t.send(chunk, target, e.onError);
    await until(() => e.list.some((x) => x.code === 'TRANSPORT_CONNECTION_GONE'), 'later sends fail');
    assert.is(t.stats().connections.open, 0);
  } finally {
    slow.socket.destroy();
    await t.close();
  }
});

test.run();
