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

/** What every transport failure carries: a stable code and the operating system's error code, if any. */
abstract class TransportFailure<Code extends string> extends Error {
  readonly code: Code;
  /** The system error code (ECONNREFUSED, EADDRINUSE, ETIMEDOUT ...), when the OS reported one. */
  readonly errno: string | undefined;

  constructor(code: Code, message: string, cause: unknown) {
    super(`${code}: ${message}`, cause === undefined ? undefined : { cause });
    this.code = code;
    this.errno = systemCode(cause);
  }
}

/** A send that failed, and what was tried. */
export class TransportError extends TransportFailure<TransportErrorCode> {
  override readonly name = 'TransportError';
  readonly target: Target;

  constructor(code: TransportErrorCode, target: Target, detail: string, cause?: unknown) {
    super(code, `${detail} (${target.transport} socket ${target.socketId} to ${target.remote.addr} port ${target.remote.port})`, cause);
    this.target = target;
  }
}

export type TransportOpenErrorCode =
  | 'TRANSPORT_BAD_PLAN' // a socket list planSockets would not make: misnumbered, not an IP literal, bad port
  | 'TRANSPORT_BIND_FAILED'; // a UDP socket or a TCP listener could not bind its address and port

/** Transports.open() failed on one of the planned sockets. */
export class TransportOpenError extends TransportFailure<TransportOpenErrorCode> {
  override readonly name = 'TransportOpenError';
  readonly socket: LocalSocket;

  constructor(code: TransportOpenErrorCode, socket: LocalSocket, detail: string, cause?: unknown) {
    super(code, `${socket.transport} ${socket.local.addr} port ${socket.local.port}: ${detail}`, cause);
    this.socket = socket;
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
