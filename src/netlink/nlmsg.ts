// Netlink framing (include/uapi/linux/netlink.h): the message header, attribute TLVs, and the
// NLMSG_ERROR / NLMSG_DONE replies with their extended-ACK attributes. Host byte order
// throughout (netlink is native-endian); this module is x86-64 / little-endian only.

import { writeI32LE, writeU16LE, writeU32LE, zeroBytes } from './wire.js';

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export const NLM_F_REQUEST = 0x01;
export const NLM_F_ACK = 0x04;
export const NLM_F_DUMP_INTR = 0x10;
// Modifiers of GET requests.
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
// Modifiers of NEW requests.
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
// Flags of NLMSG_ERROR replies.
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;

/** enum nlmsgerr_attrs */
export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;

export const nlmsgAlign = (n: number): number => (n + 3) & ~3;

/*
 * struct nlmsghdr {
 *   __u32 nlmsg_len;    total length, header included
 *   __u16 nlmsg_type;
 *   __u16 nlmsg_flags;
 *   __u32 nlmsg_seq;
 *   __u32 nlmsg_pid;    sender port id (0 = kernel)
 * };
 */
export const SIZEOF_NLMSGHDR = 16;

export interface NlMsgHdr {
  len: number;
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

export function encodeNlMsgHdr(buf: Buffer, off: number, h: NlMsgHdr): void {
  writeU32LE(buf, off, h.len);
  writeU16LE(buf, off + 4, h.type);
  writeU16LE(buf, off + 6, h.flags);
  writeU32LE(buf, off + 8, h.seq >>> 0);
  writeU32LE(buf, off + 12, h.pid >>> 0);
}

export function decodeNlMsgHdr(buf: Buffer, off: number): NlMsgHdr {
  return {
    len: buf.readUInt32LE(off),
    type: buf.readUInt16LE(off + 4),
    flags: buf.readUInt16LE(off + 6),
    seq: buf.readUInt32LE(off + 8),
    pid: buf.readUInt32LE(off + 12),
  };
}

/*
 * struct nlattr {
 *   __u16 nla_len;     header + payload, without the trailing padding
 *   __u16 nla_type;
 * };                   payload follows, padded to 4 bytes
 */
export const SIZEOF_NLATTR = 4;

/** An attribute found in a message: its type and where its payload lies in the buffer. */
export interface NlAttr {
  type: number;
  offset: number;
  length: number;
}

/** Writes an attribute header for `payloadLength` bytes (the caller writes the payload) and returns the payload offset. */
export function encodeNlAttrHeader(buf: Buffer, off: number, type: number, payloadLength: number): number {
  writeU16LE(buf, off, SIZEOF_NLATTR + payloadLength);
  writeU16LE(buf, off + 2, type);
  return off + SIZEOF_NLATTR;
}

/** Writes a whole attribute, zero padding included; returns the offset after it. */
export function encodeNlAttr(buf: Buffer, off: number, type: number, payload: Uint8Array): number {
  const p = encodeNlAttrHeader(buf, off, type, payload.length);
  buf.set(payload, p);
  const end = nlmsgAlign(p + payload.length);
  zeroBytes(buf, p + payload.length, end);
  return end;
}

/** The attributes in `[start, end)`; stops at the first malformed one (as the kernel's nla_ok does). */
export function decodeNlAttrs(buf: Buffer, start: number, end: number): NlAttr[] {
  const attrs: NlAttr[] = [];
  let off = start;
  while (off + SIZEOF_NLATTR <= end) {
    const len = buf.readUInt16LE(off);
    if (len < SIZEOF_NLATTR || off + len > end) break;
    // NLA_F_NESTED / NLA_F_NET_BYTEORDER live in the top bits of the type.
    attrs.push({ type: buf.readUInt16LE(off + 2) & 0x3fff, offset: off + SIZEOF_NLATTR, length: len - SIZEOF_NLATTR });
    off += nlmsgAlign(len);
  }
  return attrs;
}

/*
 * struct nlmsgerr {
 *   int error;               0 = ACK, otherwise -errno
 *   struct nlmsghdr msg;     the request's header, followed by its payload unless NLM_F_CAPPED
 * };                         then, with NLM_F_ACK_TLVS, enum nlmsgerr_attrs TLVs:
 *                            NLMSGERR_ATTR_MSG (string), NLMSGERR_ATTR_OFFS (u32 offset of the
 *                            offending attribute inside the request)
 */
export const SIZEOF_NLMSGERR = 4 + SIZEOF_NLMSGHDR;

export interface NlMsgErr {
  /** 0 for an ACK, otherwise a positive errno (the wire carries it negated). */
  errno: number;
  request: NlMsgHdr;
  /** The request's payload as echoed back (absent when capped). */
  echoed?: Buffer;
  extMessage?: string;
  extOffset?: number;
}

/** Encodes an NLMSG_ERROR payload (as the kernel would) and returns the offset after it; the reply header's flags must carry NLM_F_CAPPED unless `echoed` is given, and NLM_F_ACK_TLVS when ext-ack fields are present. */
export function encodeNlMsgErr(buf: Buffer, off: number, e: NlMsgErr): number {
  writeI32LE(buf, off, -e.errno);
  encodeNlMsgHdr(buf, off + 4, e.request);
  let p = off + SIZEOF_NLMSGERR;
  if (e.echoed) {
    buf.set(e.echoed, p);
    p = nlmsgAlign(p + e.echoed.length);
  }
  if (e.extMessage !== undefined) p = encodeNlAttr(buf, p, NLMSGERR_ATTR_MSG, Buffer.from(e.extMessage + '\0'));
  if (e.extOffset !== undefined) {
    const v = encodeNlAttrHeader(buf, p, NLMSGERR_ATTR_OFFS, 4);
    writeU32LE(buf, v, e.extOffset);
    p = v + 4;
  }
  return p;
}

/** Decodes the payload of an NLMSG_ERROR whose header had `flags`, lying in `[off, end)`. */
export function decodeNlMsgErr(buf: Buffer, off: number, end: number, flags: number): NlMsgErr {
  const request = decodeNlMsgHdr(buf, off + 4);
  const e: NlMsgErr = { errno: -buf.readInt32LE(off), request };
  let p = off + SIZEOF_NLMSGERR;
  if (!(flags & NLM_F_CAPPED)) {
    const echoedEnd = Math.min(end, off + 4 + request.len);
    e.echoed = Buffer.from(buf.subarray(p, echoedEnd));
    p = nlmsgAlign(echoedEnd);
  }
  if (flags & NLM_F_ACK_TLVS) readExtAck(buf, p, end, e);
  return e;
}

function readExtAck(buf: Buffer, start: number, end: number, into: { extMessage?: string; extOffset?: number }): void {
  for (const a of decodeNlAttrs(buf, start, end)) {
    if (a.type === NLMSGERR_ATTR_MSG) {
      const nul = buf.indexOf(0, a.offset);
      into.extMessage = buf.toString('utf8', a.offset, nul >= 0 && nul < a.offset + a.length ? nul : a.offset + a.length);
    } else if (a.type === NLMSGERR_ATTR_OFFS && a.length >= 4) {
      into.extOffset = buf.readUInt32LE(a.offset);
    }
  }
}

/** NLMSG_DONE ends a dump: `int error` (0, or -errno when the dump failed), then ext-ack TLVs. */
export interface NlMsgDone {
  errno: number;
  extMessage?: string;
}

export function encodeNlMsgDone(buf: Buffer, off: number, d: NlMsgDone): number {
  writeI32LE(buf, off, -d.errno);
  return d.extMessage === undefined ? off + 4 : encodeNlAttr(buf, off + 4, NLMSGERR_ATTR_MSG, Buffer.from(d.extMessage + '\0'));
}

export function decodeNlMsgDone(buf: Buffer, off: number, end: number, flags: number): NlMsgDone {
  const d: NlMsgDone = { errno: end - off >= 4 ? -buf.readInt32LE(off) : 0 };
  if (flags & NLM_F_ACK_TLVS) readExtAck(buf, off + 4, end, d);
  return d;
}

/**
 * A growing output buffer for a batch of messages: `begin` reserves room for one message and
 * writes its header, `end` fixes its length. Encoders write straight into `buf` between the two.
 */
export class NlWriter {
  buf: Buffer;
  off = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = NlWriter.allocate(initialBytes);
  }

  /**
   * A buffer of its own (never a slice of Node's pool, so it can be transferred), not zeroed:
   * every encoder writes each byte it produces, padding included, and only [0, off) is ever read.
   */
  static allocate(bytes: number): Buffer {
    return Buffer.allocUnsafeSlow(bytes);
  }

  reset(): void {
    this.off = 0;
  }

  /** Hands over the buffer written so far (to transfer it elsewhere) and continues, empty, in `next`. */
  swap(next: Buffer): Buffer {
    const done = this.buf;
    this.buf = next;
    this.off = 0;
    return done;
  }

  /**
   * Starts a message that will not exceed `maxBytes`; returns the offset of its payload. The
   * encoders write every byte of what they produce (padding included), so nothing is cleared here.
   */
  begin(type: number, flags: number, seq: number, pid: number, maxBytes: number): number {
    this.reserve(maxBytes);
    const b = this.buf;
    const o = this.off;
    writeU32LE(b, o, 0);
    writeU16LE(b, o + 4, type);
    writeU16LE(b, o + 6, flags);
    writeU32LE(b, o + 8, seq >>> 0);
    writeU32LE(b, o + 12, pid >>> 0);
    return o + SIZEOF_NLMSGHDR;
  }

  /** Copies the whole, padded messages in `src[from, to)` (encoded elsewhere); returns where they start. */
  appendMessages(src: Buffer, from: number, to: number): number {
    this.reserve(to - from);
    const start = this.off;
    src.copy(this.buf, start, from, to);
    this.off = start + (to - from);
    return start;
  }

  private reserve(bytes: number): void {
    if (this.off + bytes <= this.buf.length) return;
    const grown = NlWriter.allocate(Math.max(this.buf.length * 2, this.off + bytes));
    this.buf.copy(grown, 0, 0, this.off);
    this.buf = grown;
  }

  /** Ends the message whose payload ends at `payloadEnd` (zero padding to 4 bytes); returns its start offset. */
  end(payloadEnd: number): number {
    const start = this.off;
    writeU32LE(this.buf, start, payloadEnd - start);
    this.off = nlmsgAlign(payloadEnd);
    zeroBytes(this.buf, payloadEnd, this.off);
    return start;
  }
}
