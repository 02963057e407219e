// Shared pieces of the transport tests: socket lists, an event recorder, SIP-looking messages,
// and waiting for a condition (bounded, so a broken feature fails instead of hanging).

import net from 'node:net';
import type { RxInfo } from '../../src/engine/plan.js';
import type { SipError } from '../../src/sip/errors.js';
import { DEFAULT_SIP_LIMITS } from '../../src/sip/limits.js';
import type { TransportEvents } from '../../src/transport/delivery.js';
import type { TransportError } from '../../src/transport/errors.js';
import type { TransportOptions } from '../../src/transport/options.js';
import type { LocalSocket, SocketRole } from '../../src/transport/sockets.js';

export const OPTIONS: TransportOptions = {
  limits: DEFAULT_SIP_LIMITS,
  idleTimeoutMs: 60_000,
  maxConnections: 1000,
  connectTimeoutMs: 5000,
  maxWriteBufferBytes: 1 << 20,
  closeLingerMs: 2000,
  udpBufferBytes: 1 << 20,
};

type Spec = [transport: 'udp' | 'tcp', addr: string, port: number, role?: SocketRole, listening?: boolean];

/** LocalSockets numbered in order (as planSockets numbers them). */
export function sockets(...specs: Spec[]): LocalSocket[] {
  return specs.map(([transport, addr, port, role = 'unprotected', listening = true], id) => ({
    id, transport, family: addr.includes(':') ? 6 : 4, local: { addr, port }, role, listening,
    side: role === 'unprotected' ? 'both' : 'access', advertised: addr.includes(':') ? `[${addr}]` : addr,
  }));
}

export class Recorder implements TransportEvents {
  readonly messages: { text: string; rx: RxInfo }[] = [];
  readonly streamErrors: { rx: RxInfo; err: SipError }[] = [];
  /** Called from onMessage, e.g. to answer on the same connection. */
  onEach: ((text: string, rx: RxInfo) => void) | undefined;

  onMessage(bytes: Buffer, rx: RxInfo): void {
    const text = bytes.toString('latin1');
    this.messages.push({ text, rx });
    this.onEach?.(text, rx);
  }

  onStreamError(rx: RxInfo, err: SipError): void {
    this.streamErrors.push({ rx, err });
  }
}

/** A send's onError that records, and the list it records into. */
export function errors(): { list: TransportError[]; onError: (e: TransportError) => void } {
  const list: TransportError[] = [];
  return { list, onError: (e) => list.push(e) };
}

/** A SIP request with a body of `bodyLength` octets and Content-Length; `tag` identifies it. */
export function sip(tag: string, bodyLength = 0): string {
  const body = 'b'.repeat(bodyLength);
  return `MESSAGE sip:ue@example.net SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK${tag}\r\n` +
    `Call-ID: ${tag}\r\nCSeq: 1 MESSAGE\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

export const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A TCP server standing in for a UE or a core node: records each accepted connection and what it read. */
export class TcpPeer {
  readonly conns: { socket: net.Socket; from: string; port: number; data: string; closed: boolean }[] = [];
  private constructor(readonly server: net.Server, readonly addr: string, readonly port: number) {}

  static async listen(addr: string, port = 0): Promise<TcpPeer> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: addr, port, ipv6Only: addr.includes(':') }, resolve);
    });
    const peer = new TcpPeer(server, addr, (server.address() as net.AddressInfo).port);
    server.on('connection', (socket) => {
      const c = { socket, from: socket.remoteAddress!, port: socket.remotePort!, data: '', closed: false };
      peer.conns.push(c);
      socket.on('data', (d) => { c.data += d.toString('latin1'); });
      socket.on('error', () => {});
      socket.on('close', () => { c.closed = true; });
    });
    return peer;
  }

  close(): Promise<void> {
    for (const c of this.conns) c.socket.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** A TCP client connection recording what it reads and whether it closed. */
export class TcpClient {
  data = '';
  closed = false;
  error: string | undefined;
  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d) => { this.data += d.toString('latin1'); });
    socket.on('error', (e: NodeJS.ErrnoException) => { this.error = e.code; });
    socket.on('close', () => { this.closed = true; });
  }

  static connect(addr: string, port: number, localAddress?: string): Promise<TcpClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: addr, port, ...(localAddress ? { localAddress } : {}) });
      const c = new TcpClient(socket);
      socket.once('connect', () => resolve(c));
      socket.once('error', reject);
    });
  }

  get port(): number {
    return this.socket.localPort!;
  }

  write(text: string | Buffer): void {
    this.socket.write(text);
  }
}
