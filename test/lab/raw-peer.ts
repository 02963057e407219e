// A bare SIP peer for the lab's tests: sends octets over UDP or TCP and hands back what arrives,
// parsed, so that a test sees exactly what a node put on the wire (no lab code in between).

import dgram from 'node:dgram';
import net from 'node:net';
import { parseMessage, StreamFramer, type SipMessage } from '../../src/sip/index.js';

export interface Received {
  readonly msg: SipMessage;
  readonly from: { readonly addr: string; readonly port: number };
}

/** Messages in arrival order; next() waits for one (failing after timeoutMs). */
class Inbox {
  readonly #queue: Received[] = [];
  readonly #waiting: ((r: Received) => void)[] = [];

  push(r: Received): void {
    const w = this.#waiting.shift();
    if (w !== undefined) w(r);
    else this.#queue.push(r);
  }

  next(timeoutMs = 5000): Promise<Received> {
    const r = this.#queue.shift();
    if (r !== undefined) return Promise.resolve(r);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.splice(this.#waiting.indexOf(done), 1);
        reject(new Error(`nothing received within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (x: Received): void => {
        clearTimeout(timer);
        resolve(x);
      };
      this.#waiting.push(done);
    });
  }

  get size(): number {
    return this.#queue.length;
  }
}

export class UdpPeer {
  readonly inbox = new Inbox();
  private constructor(readonly socket: dgram.Socket, readonly addr: string, readonly port: number) {
    socket.on('message', (m, r) => this.inbox.push({ msg: parseMessage(m), from: { addr: r.address, port: r.port } }));
  }

  static open(addr: string, port = 0): Promise<UdpPeer> {
    const socket = dgram.createSocket(addr.includes(':') ? 'udp6' : 'udp4');
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, addr, () => resolve(new UdpPeer(socket, addr, socket.address().port)));
    });
  }

  send(text: string | Buffer, to: { addr: string; port: number }): void {
    this.socket.send(typeof text === 'string' ? Buffer.from(text, 'latin1') : text, to.port, to.addr);
  }

  close(): void {
    this.socket.close();
  }
}

export class TcpPeer {
  readonly inbox = new Inbox();
  readonly #framer = new StreamFramer();
  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d) => {
      for (const f of this.#framer.push(d)) {
        if (f.kind === 'message') this.inbox.push({ msg: parseMessage(f.bytes, { framing: 'stream' }), from: { addr: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 } });
      }
    });
    socket.on('error', () => {});
  }

  get port(): number {
    return this.socket.localPort ?? 0;
  }

  static connect(to: { addr: string; port: number }, localAddress: string): Promise<TcpPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: to.addr, port: to.port, localAddress });
      s.once('error', reject);
      s.once('connect', () => resolve(new TcpPeer(s)));
    });
  }

  send(text: string): void {
    this.socket.write(Buffer.from(text, 'latin1'));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A request as a test writes it: fixed From/To/Call-ID, with the header lines given. */
export function request(method: string, uri: string, via: string, cseq: number, headers: readonly string[], body = ''): string {
  return [`${method} ${uri} SIP/2.0`, `Via: ${via}`, 'Max-Forwards: 70', 'From: <sip:alice@ims.example>;tag=ft', 'To: <sip:alice@ims.example>',
    'Call-ID: test-call@lab', `CSeq: ${cseq} ${method}`, ...headers, `Content-Length: ${Buffer.byteLength(body, 'latin1')}`, '', body].join('\r\n');
}
