// Tunables of the transports, taken from the configuration's `sip.tcp` and `sip.limits`, plus a few
// bounds the configuration does not expose (write buffer, close linger, UDP socket buffers).

import type { Config } from '../config/index.js';
import type { SipLimits } from '../sip/limits.js';

export interface TransportOptions {
  /** The SIP layer's limits: maxDatagramBytes bounds datagrams in and out, maxStreamMessageBytes the framer and TCP sends. */
  readonly limits: SipLimits;
  /** Close a TCP connection that has carried nothing for this long (reads and writes count). */
  readonly idleTimeoutMs: number;
  /** Open TCP connections at most, inbound and outbound together. */
  readonly maxConnections: number;
  /** Give up a new outbound TCP connection after this. */
  readonly connectTimeoutMs: number;
  /** A connection whose unsent octets (in Node and while connecting) exceed this is closed. */
  readonly maxWriteBufferBytes: number;
  /** How long a connection we closed after a framing error may take to flush and close before it is destroyed. */
  readonly closeLingerMs: number;
  /** SO_RCVBUF / SO_SNDBUF asked for every UDP socket (the kernel caps them at net.core.rmem_max / wmem_max). */
  readonly udpBufferBytes: number;
}

/** The SIP limits the configuration sets, for the framer here and for parseMessage in the logic. */
export function sipLimitsOf(config: Config): SipLimits {
  const l = config.sip.limits;
  return {
    maxDatagramBytes: l.max_udp_bytes,
    maxStreamMessageBytes: l.max_tcp_message_bytes,
    maxHeaders: l.max_headers,
    maxLineBytes: l.max_line_bytes,
  };
}

export function transportOptions(config: Config): TransportOptions {
  const limits = sipLimitsOf(config);
  return {
    limits,
    idleTimeoutMs: config.sip.tcp.idle_timeout_s * 1000,
    maxConnections: config.sip.tcp.max_connections,
    connectTimeoutMs: config.sip.tcp.connect_timeout_ms,
    // Room for a burst of the largest messages toward a slow reader, and never under 1 MiB.
    maxWriteBufferBytes: Math.max(1 << 20, 16 * limits.maxStreamMessageBytes),
    closeLingerMs: 2000,
    // A burst of registrations is thousands of datagrams of 1-2 KiB: 4 MiB absorbs about a second
    // of it while the event loop is busy, instead of the kernel dropping them (default ~208 KiB).
    udpBufferBytes: 4 << 20,
  };
}
