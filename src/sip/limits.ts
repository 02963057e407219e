// Size limits applied by the parser and the stream framer. Exceeding one is a SipError with status
// 513 (Message Too Large, RFC 3261 §21.5.14), so a UE learns why rather than seeing a silent drop.

export interface SipLimits {
  /** Largest UDP datagram accepted: the largest UDP payload over IPv4 and IPv6 without jumbograms. */
  maxDatagramBytes: number;
  /** Largest message accepted from a stream (TCP/TLS), start line + headers + body. */
  maxStreamMessageBytes: number;
  /** Largest number of header fields (a folded field counts once). */
  maxHeaders: number;
  /** Longest start line or header field, continuation lines included, CRLFs included. */
  maxLineBytes: number;
}

// maxHeaders: RFC 4475 longreq has 45 header fields and an IMS REGISTER carries about 25; 256 leaves
// room for long proxy chains (one Via and Record-Route line per hop) while bounding per-message work.
// maxLineBytes: the longest fields met in IMS (Identity, Contact with feature tags, Security-Client
// with several offers, P-Charging-Vector) stay under 2 KiB; 8 KiB keeps a safety margin.
export const DEFAULT_SIP_LIMITS: Readonly<SipLimits> = Object.freeze({
  maxDatagramBytes: 65535,
  maxStreamMessageBytes: 65536,
  maxHeaders: 256,
  maxLineBytes: 8192,
});
