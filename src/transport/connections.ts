// The TCP connection table: every open connection by id and by (local socket, remote endpoint),
// so that a response or request to a remote reuses the connection either side opened
// (RFC 3261 §18.1.1, §18.2.2).

import type { Socket } from 'node:net';
import type { Endpoint, RxInfo, Target } from '../engine/plan.js';
import { StreamFramer } from '../sip/framer.js';
import type { SipLimits } from '../sip/limits.js';
import type { SendErrorHandler } from './delivery.js';
import type { LocalSocket } from './sockets.js';
import type { CloseReason } from './stats.js';

export type Direction = 'inbound' | 'outbound';
/** connecting: outbound, messages queue; open: carries messages; closing: no new messages, waiting for the socket to close. */
export type ConnectionState = 'connecting' | 'open' | 'closing';

/** A snapshot of one connection, for diagnostics. */
export interface ConnectionInfo {
  readonly id: number;
  readonly socketId: number;
  readonly direction: Direction;
  readonly state: ConnectionState;
  /** The address and port the connection is bound to (known once connected). */
  readonly local: Endpoint | undefined;
  readonly remote: Endpoint;
  /** performance.now() time of the last octet read or written. */
  readonly lastActivityMs: number;
}

/** A message waiting for its connection to be established. */
export interface PendingSend {
  readonly bytes: Uint8Array;
  readonly target: Target;
  readonly onError: SendErrorHandler | undefined;
}

export class Connection {
  readonly id: number;
  readonly local: LocalSocket;
  readonly direction: Direction;
  readonly socket: Socket;
  /** Remote address in canonical form (as Node reports a peer) and port. */
  readonly remote: Endpoint;
  readonly key: string;
  /** Bound to exactly its local socket's port (outbound from a protected port): never any other. */
  readonly exactPort: boolean;
  readonly framer: StreamFramer;
  state: ConnectionState;
  /** Given with every message read from this connection; set once the connection is open. */
  rx: RxInfo | undefined;
  lastActivity: number;
  /** When the connection last entered the idle queue (see TcpTransport's touch). */
  idleQueuedAt: number;
  pending: PendingSend[] = [];
  pendingBytes = 0;
  /** Why we closed it; unset when the peer or the network did. */
  closeReason: CloseReason | undefined;
  /** The last error the socket reported. */
  error: Error | undefined;

  constructor(id: number, local: LocalSocket, direction: Direction, socket: Socket, remote: Endpoint, limits: SipLimits, now: number) {
    this.id = id;
    this.local = local;
    this.direction = direction;
    this.socket = socket;
    this.remote = remote;
    this.key = connectionKey(local.id, remote.addr, remote.port);
    this.exactPort = direction === 'outbound' && local.role !== 'unprotected';
    this.framer = new StreamFramer(limits);
    this.state = direction === 'inbound' ? 'open' : 'connecting';
    this.lastActivity = now;
    this.idleQueuedAt = now;
  }

  info(): ConnectionInfo {
    return {
      id: this.id,
      socketId: this.local.id,
      direction: this.direction,
      state: this.state,
      local: this.rx?.local,
      remote: this.remote,
      lastActivityMs: this.lastActivity,
    };
  }
}

/** `addr` in canonical form. */
export function connectionKey(socketId: number, addr: string, port: number): string {
  return `${socketId}|${addr}|${port}`;
}

export class ConnectionTable {
  readonly #byId = new Map<number, Connection>();
  /** Connections that take new messages (connecting or open), by key; the newest wins. */
  readonly #byKey = new Map<string, Connection>();
  #lastId = 0;

  get size(): number {
    return this.#byId.size;
  }

  nextId(): number {
    return ++this.#lastId;
  }

  add(conn: Connection): void {
    this.#byId.set(conn.id, conn);
    this.#byKey.set(conn.key, conn);
  }

  byId(id: number): Connection | undefined {
    return this.#byId.get(id);
  }

  byKey(key: string): Connection | undefined {
    return this.#byKey.get(key);
  }

  /** The connection takes no new messages (it is closing) but stays in the table until its socket closes. */
  retire(conn: Connection): void {
    if (this.#byKey.get(conn.key) === conn) this.#byKey.delete(conn.key);
  }

  delete(conn: Connection): void {
    this.retire(conn);
    this.#byId.delete(conn.id);
  }

  values(): IterableIterator<Connection> {
    return this.#byId.values();
  }
}
