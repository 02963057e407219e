// Typed failures of the transports. A send that fails reaches the caller's onError as a
// TransportError (the transaction layer turns it into a 503 or a transport error event, RFC 3261
// §8.1.3.1 / §17.1.4); opening the sockets fails with a TransportOpenError. Callers match on `code`.

import type { Target } from '../engine/plan.js';
import type { LocalSocket } from './sockets.js';

export type TransportErrorCode =
  | 'TRANSPORT_NO_SOCKET' // target.socketId names no local socket of target.transport
  | 'TRANSPORT_BAD_TARGET' // remote is not an IP literal of the socket's family, or the port is not 1-65535
  | 'TRANSPORT_CONNECT_FAILED' // a new TCP connection was refused, unreachable or timed out
  | 'TRANSPORT_CONNECTION_GONE' // the connection closed before the message was written, or reuseOnly found none
  | 'TRANSPORT_BIND_FAILED' // a connection from a protected port could not use exactly that port
  | 'TRANSPORT_TOO_MANY_CONNECTIONS' // a new connection would exceed the connection cap
  | 'TRANSPORT_MESSAGE_TOO_LARGE' // larger than the datagram / stream message limit
  | 'TRANSPORT_SEND_FAILED' // the operating system refused the datagram or the write
  | 'TRANSPORT_CLOSED'; // the transports were closed

export const TRANSPORT_ERROR_CODES: readonly TransportErrorCode[] = [
  'TRANSPORT_NO_SOCKET', 'TRANSPORT_BAD_TARGET', 'TRANSPORT_CONNECT_FAILED', 'TRANSPORT_CONNECTION_GONE',
  'TRANSPORT_BIND_FAILED', 'TRANSPORT_TOO_MANY_CONNECTIONS', 'TRANSPORT_MESSAGE_TOO_LARGE',
  'TRANSPORT_SEND_FAILED', 'TRANSPORT_CLOSED',
];

/** A send that failed: what was tried, and the operating system's error code when there is one. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly code: TransportErrorCode;
  readonly target: Target;
  /** The system error code (ECONNREFUSED, EADDRINUSE, ETIMEDOUT ...), when the OS reported one. */
  readonly errno: string | undefined;

  constructor(code: TransportErrorCode, target: Target, detail: string, cause?: unknown) {
    super(`${code}: ${detail} (${target.transport} socket ${target.socketId} to ${target.remote.addr} port ${target.remote.port})`, cause === undefined ? undefined : { cause });
    this.code = code;
    this.target = target;
    this.errno = systemCode(cause);
  }
}

export type TransportOpenErrorCode =
  | 'TRANSPORT_BAD_PLAN' // the socket list is not numbered 0..n-1
  | 'TRANSPORT_BIND_FAILED'; // a UDP socket or a TCP listener could not bind its address and port

export class TransportOpenError extends Error {
  override readonly name = 'TransportOpenError';
  readonly code: TransportOpenErrorCode;
  readonly socket: LocalSocket;
  readonly errno: string | undefined;

  constructor(code: TransportOpenErrorCode, socket: LocalSocket, detail: string, cause?: unknown) {
    super(`${code}: ${socket.transport} ${socket.local.addr} port ${socket.local.port}: ${detail}`, cause === undefined ? undefined : { cause });
    this.code = code;
    this.socket = socket;
    this.errno = systemCode(cause);
  }
}

/** The `code` of a Node.js system error (ECONNRESET ...), or of an ERR_* error. */
export function systemCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The syscall a Node.js system error names ('bind', 'connect', 'write' ...). */
export function systemCall(e: unknown): string | undefined {
  const syscall = (e as { syscall?: unknown } | null | undefined)?.syscall;
  return typeof syscall === 'string' ? syscall : undefined;
}
