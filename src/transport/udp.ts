// UDP: one dgram socket per planned UDP LocalSocket; each datagram is one message (RFC 3261 §18.3)
// and every message is sent from exactly the socket the target names, so a reply to a UE leaves
// from the protected port its SA covers.

import dgram from 'node:dgram';
import type { Endpoint, RxInfo, Target } from '../engine/plan.js';
import { familyOf, isPort } from './addresses.js';
import type { TransportContext } from './context.js';
import type { SendErrorHandler } from './delivery.js';
import { TransportOpenError } from './errors.js';
import type { LocalSocket } from './sockets.js';

const CR = 0x0d;
const LF = 0x0a;

export class UdpEndpoint {
  readonly local: LocalSocket;
  readonly #socket: dgram.Socket;
  readonly #ctx: TransportContext;
  readonly #rxLocal: Endpoint;

  private constructor(local: LocalSocket, socket: dgram.Socket, ctx: TransportContext) {
    this.local = local;
    this.#socket = socket;
    this.#ctx = ctx;
    this.#rxLocal = local.local;
    socket.on('message', this.#onDatagram);
    socket.on('error', this.#onSocketError);
  }

  static open(local: LocalSocket, ctx: TransportContext): Promise<UdpEndpoint> {
    const v6 = local.family === 6;
    const socket = dgram.createSocket({
      type: v6 ? 'udp6' : 'udp4',
      // A v6 socket must not take the v4 port too, so that a v4 and a v6 socket share a port number.
      ipv6Only: v6,
      recvBufferSize: ctx.opts.udpBufferBytes,
      sendBufferSize: ctx.opts.udpBufferBytes,
    });
    return new Promise((resolve, reject) => {
      const failed = (e: Error): void => {
        try {
          socket.close();
        } catch {
          // already closed by the failed bind
        }
        reject(new TransportOpenError('TRANSPORT_BIND_FAILED', local, e.message, e));
      };
      socket.once('error', failed);
      socket.bind(local.local.port, local.local.addr, () => {
        socket.off('error', failed);
        resolve(new UdpEndpoint(local, socket, ctx));
      });
    });
  }

  /** `addr` is canonical and of this socket's family, `port` valid, the size checked. */
  send(bytes: Uint8Array, addr: string, port: number, target: Target, onError: SendErrorHandler | undefined): void {
    const st = this.#ctx.stats.udp;
    st.messagesOut++;
    st.bytesOut += bytes.length;
    // Without a callback Node drops send errors silently, so the shared one counts them; a
    // closure is made only for a sender that wants to hear about its failure.
    this.#socket.send(bytes, port, addr, onError === undefined ? this.#afterSend : (err) => {
      if (err) this.#ctx.delivery.fail('TRANSPORT_SEND_FAILED', target, onError, err.message, err);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.#socket.close(resolve);
      } catch {
        resolve(); // already closed
      }
    });
  }

  readonly #onDatagram = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    const st = this.#ctx.stats.udp;
    st.bytesIn += msg.length;
    if (msg.length > this.#ctx.opts.limits.maxDatagramBytes) {
      st.oversize++;
      return;
    }
    if (isKeepalive(msg)) {
      st.keepalives++;
      return;
    }
    st.messagesIn++;
    const rx: RxInfo = { transport: 'udp', socketId: this.local.id, local: this.#rxLocal, remote: { addr: rinfo.address, port: rinfo.port } };
    this.#ctx.delivery.message(msg, rx);
  };

  readonly #afterSend = (err: Error | null): void => {
    if (err) this.#ctx.stats.sendErrors.TRANSPORT_SEND_FAILED++;
  };

  readonly #onSocketError = (): void => {
    this.#ctx.stats.socketErrors++;
  };
}

/**
 * A datagram of CRs and LFs only: some UEs send the RFC 5626 §3.5.1 CRLF keep-alive over UDP too
 * (the RFC's UDP keep-alive is STUN, §4.4.1). It is no SIP message and gets no answer.
 */
function isKeepalive(msg: Buffer): boolean {
  if (msg.length === 0) return true;
  for (let i = 0; i < msg.length; i++) {
    const c = msg[i];
    if (c !== CR && c !== LF) return false;
  }
  return true;
}

/** The UDP half of the transports: sockets by id, the checks every send needs. */
export class UdpTransport {
  /** Indexed by LocalSocket id; undefined for TCP sockets. */
  readonly #bySocket: readonly (UdpEndpoint | undefined)[];
  readonly #ctx: TransportContext;

  constructor(bySocket: readonly (UdpEndpoint | undefined)[], ctx: TransportContext) {
    this.#bySocket = bySocket;
    this.#ctx = ctx;
  }

  send(bytes: Uint8Array, target: Target, onError: SendErrorHandler | undefined): void {
    const { delivery, addresses, opts } = this.#ctx;
    const ep = this.#bySocket[target.socketId];
    if (ep === undefined) return delivery.fail('TRANSPORT_NO_SOCKET', target, onError, 'no UDP socket with this id');
    const addr = addresses.canonical(target.remote.addr);
    if (addr === '' || familyOf(addr) !== ep.local.family || !isPort(target.remote.port)) {
      return delivery.fail('TRANSPORT_BAD_TARGET', target, onError, `remote must be an IPv${ep.local.family} literal and a port 1-65535`);
    }
    if (bytes.length > opts.limits.maxDatagramBytes) {
      return delivery.fail('TRANSPORT_MESSAGE_TOO_LARGE', target, onError, `${bytes.length} octets over the datagram limit ${opts.limits.maxDatagramBytes}`);
    }
    ep.send(bytes, addr, target.remote.port, target, onError);
  }

  close(): Promise<void> {
    return Promise.all(this.#bySocket.map((ep) => ep?.close())).then(() => undefined);
  }
}
