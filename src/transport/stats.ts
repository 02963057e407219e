// Counters of the transports, kept as plain numbers on the main thread (every socket lives there)
// and copied out by stats() for /metrics.

import { TRANSPORT_ERROR_CODES, type TransportErrorCode } from './errors.js';

/** Why a TCP connection closed. */
export type CloseReason =
  | 'peer' // the peer closed it (FIN)
  | 'error' // a socket error: reset by the peer, timed out in the kernel ...
  | 'idle' // nothing carried for the idle timeout
  | 'framing' // the framer failed (RFC 3261 §18.3: the stream cannot be resynchronised)
  | 'backpressure' // unsent octets beyond the write buffer bound
  | 'connect-failed' // an outbound connect or its bind failed
  | 'connect-timeout' // an outbound connect took longer than the connect timeout
  | 'shutdown'; // close()

export const CLOSE_REASONS: readonly CloseReason[] = [
  'peer', 'error', 'idle', 'framing', 'backpressure', 'connect-failed', 'connect-timeout', 'shutdown',
];

export interface TrafficStats {
  /** Octets received / handed to the operating system. */
  bytesIn: number;
  bytesOut: number;
  /** Datagrams or framed messages received / sent (keep-alives not included). */
  messagesIn: number;
  messagesOut: number;
  /** Keep-alives received: CRLFCRLF pings on TCP (answered), CRLF-only datagrams on UDP (dropped). */
  keepalives: number;
}

export interface TransportStats {
  sockets: { udp: number; tcpListeners: number; tcpEndpoints: number };
  connections: {
    /** Open now (connecting and closing included). */
    open: number;
    opened: { inbound: number; outbound: number };
    /** Inbound connections closed at once because the connection cap was reached. */
    rejected: number;
    closed: Record<CloseReason, number>;
  };
  udp: TrafficStats & {
    /** Datagrams over limits.maxDatagramBytes, dropped. */
    oversize: number;
  };
  tcp: TrafficStats;
  /** Failed sends, by the code their TransportError carries. */
  sendErrors: Record<TransportErrorCode, number>;
  /** Errors a socket or listener reported outside any send (receive or accept failures); the socket stays open. */
  socketErrors: number;
  /** Exceptions thrown by the event handlers or onError callbacks given to the transports (caught, so they cannot stop the process). */
  callbackErrors: number;
}

const traffic = (): TrafficStats => ({ bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0, keepalives: 0 });
const zeros = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

export function emptyStats(): TransportStats {
  return {
    sockets: { udp: 0, tcpListeners: 0, tcpEndpoints: 0 },
    connections: { open: 0, opened: { inbound: 0, outbound: 0 }, rejected: 0, closed: zeros(CLOSE_REASONS) },
    udp: { ...traffic(), oversize: 0 },
    tcp: traffic(),
    sendErrors: zeros(TRANSPORT_ERROR_CODES),
    socketErrors: 0,
    callbackErrors: 0,
  };
}

export function copyStats(s: TransportStats): TransportStats {
  return {
    sockets: { ...s.sockets },
    connections: { ...s.connections, opened: { ...s.connections.opened }, closed: { ...s.connections.closed } },
    udp: { ...s.udp },
    tcp: { ...s.tcp },
    sendErrors: { ...s.sendErrors },
    socketErrors: s.socketErrors,
    callbackErrors: s.callbackErrors,
  };
}
