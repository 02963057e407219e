// The transports of the main I/O thread: every planned local socket opened, messages in through
// TransportEvents, messages out from exactly the local socket a Target names.

import { isIP } from 'node:net';
import type { Target } from '../engine/plan.js';
import { isPort, RemoteAddresses } from './addresses.js';
import type { ConnectionInfo } from './connections.js';
import type { TransportContext } from './context.js';
import { Delivery, type SendErrorHandler, type TransportEvents } from './delivery.js';
import { TransportOpenError } from './errors.js';
import type { TransportOptions } from './options.js';
import type { LocalSocket } from './sockets.js';
import { copyStats, emptyStats, type TransportStats } from './stats.js';
import { TcpListener, TcpTransport } from './tcp.js';
import { UdpEndpoint, UdpTransport } from './udp.js';

export class Transports {
  readonly #ctx: TransportContext;
  readonly #udp: UdpTransport;
  readonly #tcp: TcpTransport;
  readonly #listeners: readonly TcpListener[];
  #closing: Promise<void> | undefined;

  private constructor(ctx: TransportContext, udp: UdpTransport, tcp: TcpTransport, listeners: readonly TcpListener[]) {
    this.#ctx = ctx;
    this.#udp = udp;
    this.#tcp = tcp;
    this.#listeners = listeners;
  }

  /**
   * Binds every UDP socket and TCP listener of `sockets` (ids 0..n-1, as planSockets numbers them).
   * Rejects with a TransportOpenError, having closed whatever it opened, when one cannot be bound.
   */
  static async open(sockets: readonly LocalSocket[], opts: TransportOptions, events: TransportEvents): Promise<Transports> {
    for (const [i, s] of sockets.entries()) {
      const problem = planProblem(s, i);
      if (problem !== undefined) throw new TransportOpenError('TRANSPORT_BAD_PLAN', s, problem);
    }
    const stats = emptyStats();
    const ctx: TransportContext = { opts, stats, delivery: new Delivery(events, stats), addresses: new RemoteAddresses() };
    const tcpSockets = sockets.map((s) => (s.transport === 'tcp' ? s : undefined));
    const tcp = new TcpTransport(tcpSockets, ctx);
    const opened = await Promise.allSettled(sockets.map((s) => {
      if (s.transport === 'udp') return UdpEndpoint.open(s, ctx);
      return s.listening ? TcpListener.open(s, tcp, ctx) : Promise.resolve(undefined);
    }));
    const ready = opened.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
    const udpEndpoints = ready.map((x) => (x instanceof UdpEndpoint ? x : undefined));
    const listeners = ready.filter((x) => x instanceof TcpListener);
    const failure = opened.find((r) => r.status === 'rejected');
    if (failure !== undefined) {
      await Promise.all([new UdpTransport(udpEndpoints, ctx).close(), tcp.close(), ...listeners.map((l) => l.closed())]);
      await afterHandlesClosed();
      throw failure.reason;
    }
    stats.sockets.udp = udpEndpoints.filter((x) => x !== undefined).length;
    stats.sockets.tcpListeners = listeners.length;
    stats.sockets.tcpEndpoints = sockets.filter((s) => s.transport === 'tcp' && !s.listening).length;
    return new Transports(ctx, new UdpTransport(udpEndpoints, ctx), tcp, listeners);
  }

  /**
   * Sends one message from the local socket `target.socketId`. Never throws: a failure reaches
   * `onError` on a later tick (and is counted). Over TCP: `target.connId` while it is open, else an
   * open connection of the same local socket and remote endpoint, else (unless `reuseOnly`) a new
   * connection, bound to exactly the local port for a protected socket.
   */
  send(bytes: Uint8Array, target: Target, onError?: SendErrorHandler): void {
    if (this.#closing !== undefined) return this.#ctx.delivery.fail('TRANSPORT_CLOSED', target, onError, 'the transports were closed');
    if (target.transport === 'udp') this.#udp.send(bytes, target, onError);
    else if (target.transport === 'tcp') this.#tcp.send(bytes, target, onError);
    else this.#ctx.delivery.fail('TRANSPORT_NO_SOCKET', target, onError, 'unknown transport');
  }

  /** Closes the TCP listeners; existing connections and the UDP sockets keep working. */
  async stopAccepting(): Promise<void> {
    await Promise.all(this.#listeners.map((l) => l.stop()));
  }

  /** Closes every socket, listener and connection; messages still queued fail with TRANSPORT_CLOSED. */
  close(): Promise<void> {
    this.#closing ??= Promise.all([
      this.#udp.close(),
      this.#tcp.close(),
      ...this.#listeners.map((l) => l.closed()),
    ]).then(afterHandlesClosed);
    return this.#closing;
  }

  stats(): TransportStats {
    return copyStats(this.#ctx.stats);
  }

  /** The connection `id` if it is still in the table. */
  connection(id: number): ConnectionInfo | undefined {
    return this.#tcp.connection(id);
  }
}

/** What is wrong with socket `s` at position `i` of a plan, if anything (planSockets never yields such a socket). */
function planProblem(s: LocalSocket, i: number): string | undefined {
  if (s.id !== i) return 'socket ids must be 0..n-1 in order';
  if (s.transport !== 'udp' && s.transport !== 'tcp') return 'transport must be udp or tcp';
  if (isIP(s.local.addr) !== s.family) return `address must be an IPv${s.family} literal`;
  if (!isPort(s.local.port)) return 'port must be 1-65535';
  return undefined;
}

/**
 * UDP sockets and listeners emit 'close' before libuv has released their handles (at the end of
 * the loop turn); a timer runs in a later turn, so once it fired no handle of ours is left.
 */
function afterHandlesClosed(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
