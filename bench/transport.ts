// Transport throughput on loopback, in a network namespace of its own, all in one run, each figure
// next to the same job done with bare Node sockets (the floor our layer adds to):
//   udp-in   datagrams/s through Transports (one socket; a burst sender in another process)  vs a bare dgram socket
//   udp-out  datagrams/s sent with Transports.send, counted by a receiver in another process   vs bare dgram send
//   tcp-in   messages/s framed and delivered from one connection (a sender in another process) vs a bare socket + StreamFramer
//   tcp-out  messages/s sent with Transports.send over one connection                           vs bare socket.write
//            (at the receiver, and at the sender: the time to hand every message to Node)
// Rates are taken where the messages arrive, from the first to the last (udp-out: at the sender).
// Every figure is measured in each of --rounds rounds, bare and ours alternating, and the median
// is reported. Prints one line `BENCH {json}` per figure and a summary of the ratios.
//   npx tsx bench/transport.ts [--n 100000] [--size 600] [--rounds 3]

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { RxInfo } from '../src/engine/plan.js';
import { DEFAULT_SIP_LIMITS } from '../src/sip/limits.js';
import { StreamFramer } from '../src/sip/framer.js';
import type { TransportOptions } from '../src/transport/options.js';
import type { LocalSocket } from '../src/transport/sockets.js';
import { Transports } from '../src/transport/transports.js';
import { ownNetns } from '../test/helpers/own-netns.js';

await ownNetns('bench-tr');

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const N = Math.ceil(opt('n', 100_000) / 64) * 64;
const ROUNDS = opt('rounds', 3);
const SIZE = opt('size', 600);
const ADDR = '127.0.0.1';
const PEER = fileURLToPath(new URL('./transport-peer.mjs', import.meta.url));

const OPTIONS: TransportOptions = {
  limits: DEFAULT_SIP_LIMITS,
  idleTimeoutMs: 600_000,
  maxConnections: 1000,
  connectTimeoutMs: 5000,
  // The send loops yield every 512 messages; the bound must hold what accumulates in between.
  maxWriteBufferBytes: 64 << 20,
  closeLingerMs: 1000,
  udpBufferBytes: 4 << 20,
};
const SOCKETS: LocalSocket[] = [
  { id: 0, transport: 'udp', family: 4, local: { addr: ADDR, port: 5060 }, role: 'unprotected', side: 'both', advertised: ADDR, listening: true },
  { id: 1, transport: 'tcp', family: 4, local: { addr: ADDR, port: 5060 }, role: 'unprotected', side: 'both', advertised: ADDR, listening: true },
];

function message(size: number): Buffer {
  const head = (len: number): string => `MESSAGE sip:ue@ims.example.net SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKbench\r\n` +
    `From: <sip:core@ims.example.net>;tag=1\r\nTo: <sip:ue@ims.example.net>\r\nCall-ID: bench\r\nCSeq: 1 MESSAGE\r\n` +
    `Content-Length: ${len}\r\n\r\n`;
  let len = Math.max(0, size - head(0).length);
  while (head(len).length + len > size && len > 0) len--;
  return Buffer.from(head(len) + 'x'.repeat(len), 'latin1');
}
const MSG = message(SIZE);

interface Peer {
  lines: AsyncIterator<string>;
  child: ChildProcessWithoutNullStreams;
  next(): Promise<Record<string, number | boolean>>;
}

function peer(job: Record<string, unknown>): Peer {
  const child = spawn(process.execPath, [PEER, JSON.stringify(job)], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr.pipe(process.stderr);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    lines,
    child,
    async next() {
      const r = await lines.next();
      if (r.done === true) throw new Error(`peer ${String(job.job)} ended without an answer`);
      return JSON.parse(r.value) as Record<string, number | boolean>;
    },
  };
}

/** Counts arrivals in this process, reporting the span from the first to the last. */
class Arrivals {
  count = 0;
  first = 0;
  last = 0;
  #waiting: (() => void) | undefined;
  #target = Infinity;

  add(k: number): void {
    const now = performance.now();
    if (this.count === 0) this.first = now;
    this.count += k;
    this.last = now;
    if (this.count >= this.#target) this.#waiting?.();
  }

  /** Resolves at `target` arrivals, or after 1 s without any. */
  async until(target: number): Promise<{ received: number; seconds: number }> {
    this.#target = target;
    let seen = -1;
    while (this.count < target && this.count !== seen) {
      seen = this.count;
      await new Promise<void>((resolve) => {
        this.#waiting = resolve;
        setTimeout(resolve, 1000);
      });
    }
    return { received: this.count, seconds: (this.last - this.first) / 1000 };
  }
}

const samples = new Map<string, number[]>();
function emit(name: string, r: { received: number; seconds: number }, sent: number, note = ''): void {
  const perSec = Math.round((r.received - 1) / r.seconds);
  samples.set(name, [...(samples.get(name) ?? []), perSec]);
  console.log(`  ${name.padEnd(34)} ${String(perSec).padStart(9)} msg/s  (${Math.min(r.received, sent)}/${sent} counted${note})`);
}
function median(name: string): number {
  const v = [...(samples.get(name) ?? [0])].sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)]!;
}

const yieldNow = (): Promise<void> => new Promise((r) => setImmediate(r));

async function udpIn(viaTransports: boolean): Promise<void> {
  const arrivals = new Arrivals();
  let close: () => Promise<void>;
  if (viaTransports) {
    const t = await Transports.open(SOCKETS.slice(0, 1), OPTIONS, { onMessage: () => arrivals.add(1), onStreamError() {} });
    close = () => t.close();
  } else {
    const s = dgram.createSocket({ type: 'udp4', recvBufferSize: OPTIONS.udpBufferBytes });
    s.on('message', () => arrivals.add(1));
    await new Promise<void>((r) => s.bind(5060, ADDR, r));
    close = () => new Promise((r) => s.close(() => r()));
  }
  const p = peer({ job: 'udp-send', addr: ADDR, port: 5060, n: N, size: SIZE });
  await p.next();
  emit(viaTransports ? 'udp-in transports' : 'udp-in bare dgram', await arrivals.until(N), N);
  await close();
}

async function udpOut(how: 'transports' | 'bare' | 'bare-callback'): Promise<void> {
  const p = peer({ job: 'udp-recv', addr: ADDR, n: N });
  const port = (await p.next()).port as number;
  let send: () => void;
  let close: () => Promise<void>;
  if (how === 'transports') {
    const t = await Transports.open(SOCKETS.slice(0, 1), OPTIONS, { onMessage() {}, onStreamError() {} });
    const target = { transport: 'udp', socketId: 0, remote: { addr: ADDR, port } } as const;
    send = () => t.send(MSG, target);
    close = () => t.close();
  } else {
    const s = dgram.createSocket({ type: 'udp4', sendBufferSize: OPTIONS.udpBufferBytes });
    await new Promise<void>((r) => s.bind(5060, ADDR, r));
    const cb = (): void => {};
    send = how === 'bare' ? () => s.send(MSG, port, ADDR) : () => s.send(MSG, port, ADDR, cb);
    close = () => new Promise((r) => s.close(() => r()));
  }
  // Taken at the sender: a receiver in another process on two shared cores drops datagrams and
  // would measure itself. Every datagram is handed to the kernel before the loop's last yield returns.
  const start = performance.now();
  for (let i = 0; i < N; i++) {
    send();
    if (i % 512 === 511) await yieldNow();
  }
  await yieldNow();
  const seconds = (performance.now() - start) / 1000;
  const r = await p.next();
  emit(`udp-out ${how}`, { received: N + 1, seconds }, N, `, ${r.received as number} reached the receiver`);
  await close();
}

async function tcpIn(viaTransports: boolean): Promise<void> {
  const arrivals = new Arrivals();
  let close: () => Promise<void>;
  if (viaTransports) {
    const t = await Transports.open([{ ...SOCKETS[1]!, id: 0 }], OPTIONS, { onMessage: () => arrivals.add(1), onStreamError() {} });
    close = () => t.close();
  } else {
    const server = net.createServer((c) => {
      const framer = new StreamFramer(DEFAULT_SIP_LIMITS);
      c.on('data', (d: Buffer) => {
        for (const f of framer.push(d)) if (f.kind === 'message') arrivals.add(1);
      });
      c.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(5060, ADDR, r));
    close = () => new Promise((r) => server.close(() => r()));
  }
  const p = peer({ job: 'tcp-send', addr: ADDR, port: 5060, n: N, size: SIZE });
  await p.next();
  emit(viaTransports ? 'tcp-in transports' : 'tcp-in bare socket+framer', await arrivals.until(N), N);
  await close();
}

async function tcpOut(viaTransports: boolean): Promise<void> {
  const p = peer({ job: 'tcp-recv', addr: ADDR, n: N, size: MSG.length });
  const port = (await p.next()).port as number;
  let send: () => void;
  let close: () => Promise<void>;
  if (viaTransports) {
    // Unprotected socket, so the connection leaves from an ephemeral port (no listener needed here).
    const list: LocalSocket[] = [{ ...SOCKETS[1]!, id: 0, listening: false }];
    const t = await Transports.open(list, OPTIONS, { onMessage() {}, onStreamError() {} });
    const target = { transport: 'tcp', socketId: 0, remote: { addr: ADDR, port } } as const;
    send = () => t.send(MSG, target);
    close = () => t.close();
  } else {
    const c = net.connect({ host: ADDR, port, noDelay: true });
    await new Promise<void>((r) => c.once('connect', () => r()));
    send = () => void c.write(MSG);
    close = async () => void c.destroy();
  }
  const start = performance.now();
  for (let i = 0; i < N; i++) {
    send();
    if (i % 512 === 511) await yieldNow();
  }
  await yieldNow();
  const seconds = (performance.now() - start) / 1000;
  const r = await p.next();
  const name = viaTransports ? 'tcp-out transports' : 'tcp-out bare socket';
  emit(name, { received: (r.received as number) / MSG.length, seconds: r.seconds as number }, N);
  emit(`${name} (sender)`, { received: N + 1, seconds }, N);
  await close();
}

console.log(`bench/transport.ts: node ${process.version}, ${N} messages of ${MSG.length} octets per figure, ${ROUNDS} rounds, loopback in a private network namespace`);
console.log('figures are noisy on a shared 2-core machine: compare the ratios within one run');
for (let round = 1; round <= ROUNDS; round++) {
  console.log(`round ${round}`);
  await udpIn(false);
  await udpIn(true);
  await udpOut('bare');
  await udpOut('bare-callback');
  await udpOut('transports');
  await tcpIn(false);
  await tcpIn(true);
  await tcpOut(false);
  await tcpOut(true);
}
console.log('medians');
for (const name of samples.keys()) {
  const value = median(name);
  console.log(`  ${name.padEnd(34)} ${String(value).padStart(9)} msg/s`);
  console.log(`BENCH ${JSON.stringify({ name, value, unit: 'msg/s', samples: samples.get(name), n: N, size: MSG.length })}`);
}
const ratio = (a: string, b: string): string => (median(a) / median(b)).toFixed(2);
console.log(`ratios of medians (transports / bare): udp-in ${ratio('udp-in transports', 'udp-in bare dgram')}, ` +
  `udp-out ${ratio('udp-out transports', 'udp-out bare')} (bare with a send callback: ${ratio('udp-out bare-callback', 'udp-out bare')}), ` +
  `tcp-in ${ratio('tcp-in transports', 'tcp-in bare socket+framer')}, tcp-out ${ratio('tcp-out transports', 'tcp-out bare socket')} ` +
  `(at the sender: ${ratio('tcp-out transports (sender)', 'tcp-out bare socket (sender)')})`);
process.exit(0);
