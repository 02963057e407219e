// Start and stop, in a network namespace of this file: stopAccepting closes the listeners while
// connections and UDP keep working; close() leaves no handle and no file descriptor behind and
// fails what was still queued; handlers that throw are counted and never stop the process.

import { readdirSync } from 'node:fs';
import dgram from 'node:dgram';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RxInfo } from '../../src/engine/plan.js';
import { Transports } from '../../src/transport/transports.js';
import { createNetns, vethPair } from '../helpers/netns.js';
import { ownNetns } from '../helpers/own-netns.js';
import { errors, OPTIONS, Recorder, sip, sockets, TcpClient, TcpPeer, tick } from './fixtures.js';
import { until } from '../helpers/poll.js';

const V4 = '10.74.0.1';
const V6 = 'fd00:74::1';
const BLACKHOLE = '10.74.9.2';

await ownNetns('tr-life', (ns) => {
  ns.ip('addr', 'add', `${V4}/32`, 'dev', 'lo');
  ns.ip('addr', 'add', `${V6}/128`, 'dev', 'lo', 'nodad');
  // Routed to a namespace where nobody answers: a connect there stays pending.
  const sink = createNetns('tr-life-sink'); // removed when the parent process exits
  const [ifA] = vethPair({ ns, addrs: ['10.74.9.1/24'] }, { ns: sink, addrs: [] });
  ns.ip('neigh', 'replace', BLACKHOLE, 'lladdr', '02:00:00:00:74:09', 'dev', ifA, 'nud', 'permanent');
});

const LIST = sockets(
  ['udp', V4, 5060], ['tcp', V4, 5060], ['udp', V6, 5060], ['tcp', V6, 5060],
  ['udp', V4, 6100, 'protected-client'], ['tcp', V4, 6100, 'protected-client', false],
  ['udp', V4, 6200, 'protected-server'], ['tcp', V4, 6200, 'protected-server'],
);

const fds = (): number => readdirSync('/proc/self/fd').length;
const handles = (): string[] => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'Timeout').sort();

test('stopAccepting closes the listeners; open connections and UDP keep working', async () => {
  const rec = new Recorder();
  const t = await Transports.open(LIST, OPTIONS, rec);
  const c = await TcpClient.connect(V4, 6200);
  try {
    c.write(sip('before'));
    await until(() => rec.messages.length === 1, 'the first message');
    await t.stopAccepting();
    const refused = await TcpClient.connect(V4, 6200).then(() => 'connected', (e: NodeJS.ErrnoException) => e.code);
    assert.is(refused, 'ECONNREFUSED');
    c.write(sip('after'));
    const u = dgram.createSocket('udp4');
    await new Promise<void>((r) => u.bind(0, V4, r));
    u.send(sip('udp'), 5060, V4);
    await until(() => rec.messages.length === 3, 'the TCP and the UDP message after stopAccepting');
    const rx = rec.messages.find((m) => m.rx.transport === 'tcp' && m.text === sip('after'))!.rx;
    t.send(Buffer.from('answer'), { transport: 'tcp', socketId: rx.socketId, remote: rx.remote, connId: rx.connId! });
    await until(() => c.data === 'answer', 'the answer on the open connection');
    u.close();
  } finally {
    c.socket.destroy();
    await t.close();
  }
});

test('close() leaves no socket, handle or file descriptor behind, and fails what was queued', async () => {
  await tick(50);
  const fdsBefore = fds();
  const handlesBefore = handles();
  const rec = new Recorder();
  const t = await Transports.open(LIST, { ...OPTIONS, connectTimeoutMs: 60_000 }, rec);
  const peer = await TcpPeer.listen(V4, 7020);
  const inbound = await TcpClient.connect(V6, 5060);
  const e = errors();
  try {
    inbound.write(sip('in'));
    t.send(Buffer.from('out'), { transport: 'tcp', socketId: 5, remote: { addr: V4, port: 7020 } });
    // Still connecting when close() comes: its message must fail, not vanish.
    t.send(Buffer.from('stuck'), { transport: 'tcp', socketId: 1, remote: { addr: BLACKHOLE, port: 5060 } }, e.onError);
    await until(() => rec.messages.length === 1 && peer.conns[0]?.data === 'out', 'traffic on both connections');
    assert.ok(fds() > fdsBefore + LIST.length - 1, 'the sockets are open');
    assert.is(t.stats().connections.open, 3);
  } finally {
    await t.close();
  }
  try {
    await until(() => e.list.length === 1, 'the queued message failed');
    assert.is(e.list[0]!.code, 'TRANSPORT_CLOSED');
    t.send(Buffer.from('late'), { transport: 'udp', socketId: 0, remote: { addr: V4, port: 7020 } }, e.onError);
    await until(() => e.list.length === 2, 'a send after close fails');
    assert.is(e.list[1]!.code, 'TRANSPORT_CLOSED');
    await until(() => inbound.closed && peer.conns[0]!.closed, 'the peers saw the connections close');
  } finally {
    inbound.socket.destroy();
    await peer.close();
  }
  await until(() => fds() === fdsBefore, `file descriptors back to ${fdsBefore}`);
  await until(() => handles().join() === handlesBefore.join(), 'no handle left');
  const s = t.stats();
  assert.is(s.connections.open, 0);
  assert.is(s.connections.closed.shutdown, 3);
  await t.close(); // a second close is harmless
});

test('handlers that throw are counted and reported; the transports keep delivering', async () => {
  const seen: string[] = [];
  const reported: unknown[] = [];
  const t = await Transports.open(LIST, OPTIONS, {
    onMessage(bytes: Buffer, rx: RxInfo) {
      seen.push(`${rx.transport}:${bytes.toString('latin1')}`);
      throw new Error('handler bug');
    },
    onStreamError() {
      throw new Error('stream handler bug');
    },
    onCallbackError(err: unknown) {
      reported.push(err);
      throw new Error('even this one');
    },
  });
  const u = dgram.createSocket('udp4');
  await new Promise<void>((r) => u.bind(0, V4, r));
  const c = await TcpClient.connect(V4, 5060);
  try {
    u.send('one', 5060, V4);
    u.send('two', 5060, V4);
    c.write(sip('a') + sip('b'));
    await until(() => seen.length === 4, 'four messages despite the throws');
    c.write('no content length\r\n\r\n');
    await until(() => c.closed, 'the framing error closed the connection');
    t.send(Buffer.from('x'), { transport: 'udp', socketId: 99, remote: { addr: V4, port: 1 } }, () => {
      throw new Error('onError bug');
    });
    await until(() => t.stats().callbackErrors === 6, 'six handler failures');
    assert.is(reported.length, 6);
    assert.equal(seen.sort(), ['tcp:' + sip('a'), 'tcp:' + sip('b'), 'udp:one', 'udp:two']);
  } finally {
    u.close();
    c.socket.destroy();
    await t.close();
  }
});

test('a socket list that planSockets would not make is refused before anything is opened', async () => {
  const bad = [
    LIST.slice(1), // misnumbered
    [{ ...LIST[0]!, local: { addr: 'localhost', port: 5060 } }], // a name would mean a DNS lookup
    [{ ...LIST[0]!, family: 6 as const }],
    [{ ...LIST[0]!, local: { addr: V4, port: 70000 } }],
  ];
  for (const list of bad) {
    const err = await Transports.open(list, OPTIONS, new Recorder()).then(() => undefined, (e: unknown) => e);
    assert.is((err as { code?: string } | undefined)?.code, 'TRANSPORT_BAD_PLAN');
  }
  assert.is(handles().filter((h) => h === 'UDPWrap' || h === 'TCPServerWrap').length, 0);
});

test.run();
