// TCP: listeners on the listening LocalSockets, outbound connections bound to a LocalSocket's
// address (and, for a protected one, exactly its port), each connection framed by Content-Length
// (RFC 3261 §18.3), CRLFCRLF pings answered (RFC 5626 §3.5.1), idle connections closed, and the
// number of connections and the octets waiting on each bounded.

import net from 'node:net';
import { isWildcard } from '../config/net-syntax.js';
import type { Target } from '../engine/plan.js';
import type { SipError } from '../sip/errors.js';
import { familyOf, isPort } from './addresses.js';
import { Connection, ConnectionTable, connectionKey, type ConnectionInfo } from './connections.js';
import type { TransportContext } from './context.js';
import type { SendErrorHandler } from './delivery.js';
import { DeadlineQueue } from './deadlines.js';
import { systemCall, systemCode, TransportOpenError, type TransportErrorCode } from './errors.js';
import type { LocalSocket } from './sockets.js';
import type { CloseReason } from './stats.js';

/** The answer to a CRLFCRLF ping (RFC 5626 §3.5.1). */
const PONG = Buffer.from('\r\n', 'latin1');

export class TcpListener {
  readonly local: LocalSocket;
  readonly #server: net.Server;
  #closed: Promise<void> | undefined;

  private constructor(local: LocalSocket, server: net.Server) {
    this.local = local;
    this.#server = server;
  }

  static open(local: LocalSocket, tcp: TcpTransport, ctx: TransportContext): Promise<TcpListener> {
    const server = net.createServer({ noDelay: true });
    return new Promise((resolve, reject) => {
      const failed = (e: Error): void => {
        server.close();
        reject(new TransportOpenError('TRANSPORT_BIND_FAILED', local, e.message, e));
      };
      server.once('error', failed);
      // A v6 listener must not take the v4 port too, so that a v4 and a v6 listener share a port number.
      server.listen({ host: local.local.addr, port: local.local.port, ipv6Only: local.family === 6 }, () => {
        server.off('error', failed);
        // Accept failures (EMFILE ...) are reported here; the listener keeps listening.
        server.on('error', () => ctx.stats.socketErrors++);
        server.on('connection', (socket: net.Socket) => tcp.accept(local, socket));
        resolve(new TcpListener(local, server));
      });
    });
  }

  /** Stops listening now; resolves once the listening socket is closed (accepted connections are not waited for). */
  stop(): Promise<void> {
    if (this.#closed === undefined) {
      this.#closed = new Promise((resolve) => this.#server.once('close', resolve));
      this.#server.close();
    }
    return new Promise((resolve) => setImmediate(resolve));
  }

  /** Resolves when the listener and every connection it accepted are closed. */
  closed(): Promise<void> {
    void this.stop();
    return this.#closed!;
  }
}

export class TcpTransport {
  readonly #ctx: TransportContext;
  /** The TCP LocalSockets (listening or not) by id; undefined for UDP ones. */
  readonly #bySocket: readonly (LocalSocket | undefined)[];
  readonly #table = new ConnectionTable();
  readonly #connecting: DeadlineQueue<Connection>;
  readonly #idle: DeadlineQueue<Connection>;
  readonly #linger: DeadlineQueue<Connection>;
  /** Activity re-queues a connection for the idle timeout at most this often (see #touch). */
  readonly #idleGranularityMs: number;
  /** Called by #onClose when close() waits and the last socket has closed. */
  #drained: (() => void) | undefined;
  #closed = false;

  constructor(bySocket: readonly (LocalSocket | undefined)[], ctx: TransportContext) {
    this.#bySocket = bySocket;
    this.#ctx = ctx;
    const o = ctx.opts;
    this.#idleGranularityMs = Math.min(1000, Math.ceil(o.idleTimeoutMs / 10));
    this.#connecting = new DeadlineQueue(o.connectTimeoutMs, (c) => {
      const e: NodeJS.ErrnoException = new Error(`connect timed out after ${o.connectTimeoutMs} ms`);
      e.code = 'ETIMEDOUT';
      e.syscall = 'connect';
      c.error = e;
      this.#destroy(c, 'connect-timeout');
    });
    this.#idle = new DeadlineQueue(o.idleTimeoutMs + this.#idleGranularityMs, (c) => this.#destroy(c, 'idle'));
    this.#linger = new DeadlineQueue(o.closeLingerMs, (c) => c.socket.destroy());
  }

  connection(id: number): ConnectionInfo | undefined {
    return this.#table.byId(id)?.info();
  }

  send(bytes: Uint8Array, target: Target, onError: SendErrorHandler | undefined): void {
    const { delivery, addresses, opts } = this.#ctx;
    const local = this.#bySocket[target.socketId];
    if (local === undefined) return delivery.fail('TRANSPORT_NO_SOCKET', target, onError, 'no TCP socket with this id');
    const addr = addresses.canonical(target.remote.addr);
    const port = target.remote.port;
    if (addr === '' || familyOf(addr) !== local.family || !isPort(port)) {
      return delivery.fail('TRANSPORT_BAD_TARGET', target, onError, `remote must be an IPv${local.family} literal and a port 1-65535`);
    }
    if (bytes.length > opts.limits.maxStreamMessageBytes) {
      return delivery.fail('TRANSPORT_MESSAGE_TOO_LARGE', target, onError, `${bytes.length} octets over the stream message limit ${opts.limits.maxStreamMessageBytes}`);
    }
    let conn: Connection | undefined;
    if (target.connId !== undefined) {
      const c = this.#table.byId(target.connId);
      // Only a connection of the named socket and remote host: another one could bypass the SA the
      // plan chose. Its remote port may differ from the target's: a response goes on the request's
      // connection while it is open, and only a new connection uses the Via's sent-by port
      // (RFC 3261 §18.2.2), which a client need not connect from.
      if (c !== undefined && c.state !== 'closing' && c.local === local && c.remote.addr === addr) conn = c;
    }
    conn ??= this.#table.byKey(connectionKey(local.id, addr, port));
    if (conn === undefined) {
      if (target.reuseOnly === true) return delivery.fail('TRANSPORT_CONNECTION_GONE', target, onError, 'no open connection and reuseOnly');
      if (local.role !== 'unprotected' && local.listening) {
        // A port with a listener cannot be bound by a connection (Linux, no SO_REUSEPORT in Node):
        // a new connection from a protected server port cannot exist, and no other port may do.
        return delivery.fail('TRANSPORT_BIND_FAILED', target, onError, `local port ${local.local.port} is a listening protected port; new connections leave from a protected client port`);
      }
      if (this.#table.size >= opts.maxConnections) {
        return delivery.fail('TRANSPORT_TOO_MANY_CONNECTIONS', target, onError, `${this.#table.size} connections open, the cap is ${opts.maxConnections}`);
      }
      conn = this.#connect(local, addr, port);
    }
    if (conn.state === 'open') this.#write(conn, bytes, target, onError);
    else this.#queue(conn, bytes, target, onError);
  }

  /** A connection a listener accepted. */
  accept(local: LocalSocket, socket: net.Socket): void {
    const { stats, opts } = this.#ctx;
    if (this.#closed || this.#table.size >= opts.maxConnections) {
      stats.connections.rejected++;
      socket.on('error', ignore);
      // A reset leaves no TIME_WAIT behind, so a flood of rejected connections costs nothing after.
      socket.resetAndDestroy();
      return;
    }
    const addr = socket.remoteAddress;
    const port = socket.remotePort;
    if (addr === undefined || port === undefined) {
      socket.on('error', ignore);
      socket.destroy(); // already gone
      return;
    }
    const now = performance.now();
    const conn = new Connection(this.#table.nextId(), local, 'inbound', socket, { addr, port }, opts.limits, now);
    conn.rx = { transport: 'tcp', socketId: local.id, local: { addr: socket.localAddress ?? local.local.addr, port: socket.localPort ?? local.local.port }, remote: conn.remote, connId: conn.id };
    this.#track(conn);
    stats.connections.opened.inbound++;
    this.#idle.add(conn, now);
  }

  /** Closes every connection; resolves when all their sockets are closed. */
  close(): Promise<void> {
    this.#closed = true;
    for (const conn of this.#table.values()) this.#destroy(conn, 'shutdown');
    this.#connecting.clear();
    this.#idle.clear();
    this.#linger.clear();
    if (this.#table.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drained = resolve;
    });
  }

  #connect(local: LocalSocket, addr: string, port: number): Connection {
    const opts: net.TcpNetConnectOpts = { host: addr, port, noDelay: true };
    if (local.role !== 'unprotected') {
      // TS 33.203 §7.1: the P-CSCF connects from its protected client port, which the SAs cover.
      // Node binds exactly this port or fails with the bind error; it never picks another.
      opts.localAddress = local.local.addr;
      opts.localPort = local.local.port;
    } else if (!isWildcard(local.local.addr)) {
      opts.localAddress = local.local.addr;
    }
    const now = performance.now();
    const conn = new Connection(this.#table.nextId(), local, 'outbound', net.connect(opts), { addr, port }, this.#ctx.opts.limits, now);
    conn.socket.once('connect', () => this.#onConnect(conn));
    this.#track(conn);
    this.#ctx.stats.connections.opened.outbound++;
    this.#connecting.add(conn, now);
    return conn;
  }

  #onConnect(conn: Connection): void {
    this.#connecting.delete(conn);
    if (conn.state !== 'connecting') return;
    const s = conn.socket;
    if (conn.exactPort && s.localPort !== conn.local.local.port) {
      // Cannot happen with Node's bind-then-connect; checked because a message sent from another
      // port would leave outside the SAs (Kamailio's issue #4138).
      const e: NodeJS.ErrnoException = new Error(`bound to port ${s.localPort}, not ${conn.local.local.port}`);
      e.syscall = 'bind';
      conn.error = e;
      this.#destroy(conn, 'connect-failed');
      return;
    }
    conn.state = 'open';
    conn.rx = { transport: 'tcp', socketId: conn.local.id, local: { addr: s.localAddress ?? conn.local.local.addr, port: s.localPort ?? 0 }, remote: conn.remote, connId: conn.id };
    const now = performance.now();
    conn.lastActivity = now;
    conn.idleQueuedAt = now;
    this.#idle.add(conn, now);
    const pending = conn.pending;
    conn.pending = [];
    conn.pendingBytes = 0;
    let i = 0;
    for (; i < pending.length && conn.state === 'open'; i++) {
      const p = pending[i]!;
      this.#write(conn, p.bytes, p.target, p.onError);
    }
    // What was not written (a write closed the connection) fails when the socket closes.
    if (i < pending.length) conn.pending = pending.slice(i);
  }

  /** Installs the socket's handlers and enters the connection in the table. */
  #track(conn: Connection): void {
    const s = conn.socket;
    const { stats } = this.#ctx;
    stats.connections.open++;
    this.#table.add(conn);
    s.on('data', (chunk: Buffer) => this.#onData(conn, chunk));
    s.on('end', () => this.#onEnd(conn));
    s.on('error', (e: Error) => {
      conn.error = e;
    });
    s.once('close', () => this.#onClose(conn));
  }

  #onData(conn: Connection, chunk: Buffer): void {
    const { stats, delivery } = this.#ctx;
    stats.tcp.bytesIn += chunk.length;
    // After a framing error the stream is lost (RFC 3261 §18.3): what still arrives is discarded.
    if (conn.state !== 'open') return;
    this.#touch(conn);
    const rx = conn.rx!;
    for (const f of conn.framer.push(chunk)) {
      if (f.kind === 'error') {
        this.#streamFailed(conn, f.error);
        return;
      }
      if (f.kind === 'keepalive') {
        stats.tcp.keepalives++;
        conn.socket.write(PONG);
        continue;
      }
      stats.tcp.messagesIn++;
      delivery.message(f.bytes, rx);
      if (conn.state !== 'open') return; // the handler closed it, or closed everything
    }
  }

  #streamFailed(conn: Connection, err: SipError): void {
    // Still open during the handler, so that the 400 it sends goes out before the FIN.
    this.#ctx.delivery.streamError(conn.rx!, err);
    if (conn.state !== 'open') return;
    conn.state = 'closing';
    conn.closeReason = 'framing';
    this.#table.retire(conn);
    this.#idle.delete(conn);
    this.#linger.add(conn, performance.now());
    conn.socket.end();
  }

  #onEnd(conn: Connection): void {
    // The peer sent FIN; Node answers with ours (allowHalfOpen is off) and the socket closes.
    conn.closeReason ??= 'peer';
    if (conn.state !== 'closing') {
      conn.state = 'closing';
      this.#table.retire(conn);
    }
  }

  #onClose(conn: Connection): void {
    const { stats } = this.#ctx;
    const connecting = conn.rx === undefined;
    conn.state = 'closing';
    this.#table.delete(conn);
    this.#connecting.delete(conn);
    this.#idle.delete(conn);
    this.#linger.delete(conn);
    const reason: CloseReason = conn.closeReason ?? (connecting ? 'connect-failed' : conn.error !== undefined ? 'error' : 'peer');
    stats.connections.closed[reason]++;
    stats.connections.open--;
    if (conn.pending.length > 0) this.#failPending(conn, reason, connecting);
    if (this.#table.size === 0) this.#drained?.();
  }

  #failPending(conn: Connection, reason: CloseReason, connecting: boolean): void {
    const pending = conn.pending;
    conn.pending = [];
    conn.pendingBytes = 0;
    const [code, detail] = this.#pendingFailure(conn, reason, connecting);
    for (const p of pending) this.#ctx.delivery.fail(code, p.target, p.onError, detail, conn.error);
  }

  #pendingFailure(conn: Connection, reason: CloseReason, connecting: boolean): [TransportErrorCode, string] {
    if (reason === 'shutdown') return ['TRANSPORT_CLOSED', 'the transports were closed'];
    if (reason === 'connect-timeout') return ['TRANSPORT_CONNECT_FAILED', `no connection after ${this.#ctx.opts.connectTimeoutMs} ms`];
    if (!connecting) return ['TRANSPORT_CONNECTION_GONE', `connection closed (${reason})`];
    const e = conn.error;
    const errno = systemCode(e);
    // For a protected port, EADDRINUSE / EADDRNOTAVAIL at connect mean that this exact port cannot
    // reach this remote (the 4-tuple is taken, or in TIME_WAIT); no other port may be tried.
    if (systemCall(e) === 'bind' || (conn.exactPort && (errno === 'EADDRINUSE' || errno === 'EADDRNOTAVAIL'))) {
      return ['TRANSPORT_BIND_FAILED', `cannot use local ${conn.local.local.addr} port ${conn.local.local.port}: ${e?.message ?? 'bind failed'}`];
    }
    if (e !== undefined && reason === 'connect-failed') return ['TRANSPORT_CONNECT_FAILED', e.message];
    return ['TRANSPORT_CONNECTION_GONE', `connection closed (${reason}) before it was established`];
  }

  #queue(conn: Connection, bytes: Uint8Array, target: Target, onError: SendErrorHandler | undefined): void {
    conn.pending.push({ bytes, target, onError });
    conn.pendingBytes += bytes.length;
    if (conn.pendingBytes > this.#ctx.opts.maxWriteBufferBytes) this.#destroy(conn, 'backpressure');
  }

  #write(conn: Connection, bytes: Uint8Array, target: Target, onError: SendErrorHandler | undefined): void {
    const st = this.#ctx.stats.tcp;
    st.messagesOut++;
    st.bytesOut += bytes.length;
    this.#touch(conn);
    const s = conn.socket;
    // A closure only for a sender that wants to hear about its failure; the shared callback counts.
    s.write(bytes, onError === undefined ? this.#afterWrite : (err?: Error | null) => {
      if (err) this.#ctx.delivery.fail(writeFailure(err), target, onError, err.message, err);
    });
    if (s.writableLength > this.#ctx.opts.maxWriteBufferBytes) this.#destroy(conn, 'backpressure');
  }

  readonly #afterWrite = (err?: Error | null): void => {
    if (err) this.#ctx.stats.sendErrors[writeFailure(err)]++;
  };

  /**
   * Marks activity for the idle timeout. The connection is re-queued only when its place in the
   * queue is older than the granularity, so activity costs a Map operation at most that often; the
   * queue's delay is the idle timeout plus the granularity, so when a connection comes up its last
   * activity is at least the idle timeout old (and at most one granularity more).
   */
  #touch(conn: Connection): void {
    const now = performance.now();
    conn.lastActivity = now;
    if (now - conn.idleQueuedAt >= this.#idleGranularityMs) {
      conn.idleQueuedAt = now;
      this.#idle.add(conn, now);
    }
  }

  /** Closes a connection at once; its 'close' event finishes the bookkeeping. */
  #destroy(conn: Connection, reason: CloseReason): void {
    conn.closeReason ??= reason;
    const wasOpen = conn.state === 'open';
    conn.state = 'closing';
    this.#table.retire(conn);
    this.#connecting.delete(conn);
    this.#idle.delete(conn);
    // Closed first with a FIN, a connection from a protected port leaves its 4-tuple in TIME_WAIT
    // for a minute, and Linux lets a new connection from the bound port take it over only if the
    // peer used TCP timestamps: a reconnect to the same UE port could fail. A reset leaves no
    // TIME_WAIT (nothing is lost: the connection is idle, overloaded or shutting down).
    if (conn.exactPort && wasOpen) conn.socket.resetAndDestroy();
    else conn.socket.destroy();
  }
}

function writeFailure(err: Error): TransportErrorCode {
  const code = systemCode(err);
  return code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_WRITE_AFTER_END' || code === 'EPIPE' || code === 'ECONNRESET'
    ? 'TRANSPORT_CONNECTION_GONE'
    : 'TRANSPORT_SEND_FAILED';
}

function ignore(): void {}
