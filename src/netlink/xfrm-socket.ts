// One NETLINK_XFRM socket and the two exchanges done on it: a batch of requests (one sendto,
// NLM_F_ACK on the last message only) whose failures come back as NLMSG_ERROR by sequence
// number, and a dump. Blocking calls: this runs on the netlink worker's own thread.

import * as libc from './libc.js';
import { NetlinkRequestError } from './errors.js';
import {
  decodeNlMsgDone, decodeNlMsgErr, NLM_F_ACK, NLM_F_DUMP_INTR, NLMSG_DONE, NLMSG_ERROR, SIZEOF_NLMSGHDR,
  type NlMsgErr, type NlWriter,
} from './nlmsg.js';

export interface XfrmSocketOptions {
  /** How long one recv waits for the kernel before the exchange is declared timed out. */
  timeoutMs: number;
  /** Requested SO_SNDBUF / SO_RCVBUF (the kernel doubles it). */
  bufferBytes?: number;
  /** Where requests go: 0 = the kernel. Tests point it at a silent socket to exercise timeouts. */
  peerPortId?: number;
}

/** What came back for a batch of `count` messages. */
export interface BatchReplies {
  /** errors[i]: the NLMSG_ERROR of message i when it failed. */
  errors: (NlMsgErr | undefined)[];
  /** The last message's ACK arrived: every message without an error succeeded. */
  complete: boolean;
  /** The receive buffer overflowed (ENOBUFS): some error replies may be lost. */
  overrun: boolean;
}

const RECV_BYTES = 64 * 1024; // > the 32 KiB the kernel uses for one dump skb

export class XfrmSocket {
  readonly fd: number;
  readonly portId: number;
  /** Effective SO_SNDBUF: a batch larger than this cannot be sent in one datagram. */
  readonly sendBufferBytes: number;
  /** Effective SO_RCVBUF: bounds how many error replies one batch may produce. */
  readonly receiveBufferBytes: number;
  private readonly peer: Buffer;
  private readonly rbuf = Buffer.alloc(RECV_BYTES);
  private closed = false;
  /** An exchange ended early: late replies may still be queued. */
  private stale = false;

  constructor(opts: XfrmSocketOptions) {
    const fd = libc.socket(libc.AF_NETLINK, libc.SOCK_RAW | libc.SOCK_CLOEXEC, libc.NETLINK_XFRM);
    try {
      const bytes = opts.bufferBytes ?? 4 * 1024 * 1024;
      libc.setsockoptInt(fd, libc.SOL_SOCKET, libc.SO_SNDBUFFORCE, bytes);
      libc.setsockoptInt(fd, libc.SOL_SOCKET, libc.SO_RCVBUFFORCE, bytes);
      // Error replies carry the kernel's explanation and only the failing request's header.
      libc.setsockoptInt(fd, libc.SOL_NETLINK, libc.NETLINK_EXT_ACK, 1);
      libc.setsockoptInt(fd, libc.SOL_NETLINK, libc.NETLINK_CAP_ACK, 1);
      libc.setReceiveTimeout(fd, opts.timeoutMs);
      libc.bindNetlink(fd);
      this.portId = libc.netlinkPortId(fd);
      this.sendBufferBytes = libc.getsockoptInt(fd, libc.SOL_SOCKET, libc.SO_SNDBUF);
      this.receiveBufferBytes = libc.getsockoptInt(fd, libc.SOL_SOCKET, libc.SO_RCVBUF);
    } catch (e) {
      libc.close(fd);
      throw e;
    }
    this.fd = fd;
    this.peer = libc.sockaddrNl(opts.peerPortId ?? 0);
  }

  /**
   * Sends the `count` messages in `w` (sequence numbers firstSeq, firstSeq+1, ...), after setting
   * NLM_F_ACK on the last one (which starts at `lastStart`), and collects the replies. The kernel
   * handles the messages in order and answers each failure, so once the last one is acknowledged
   * every message that got no error reply has succeeded.
   */
  exchangeBatch(w: NlWriter, lastStart: number, firstSeq: number, count: number): BatchReplies {
    w.buf.writeUInt16LE(w.buf.readUInt16LE(lastStart + 6) | NLM_F_ACK, lastStart + 6);
    const replies: BatchReplies = { errors: new Array<NlMsgErr | undefined>(count), complete: false, overrun: false };
    this.drain();
    libc.sendto(this.fd, w.buf, w.off, 0, this.peer);
    const buf = this.rbuf;
    while (!replies.complete) {
      const n = this.receive(replies);
      if (n < 0) {
        this.stale = true;
        return replies;
      }
      for (let off = 0; off + SIZEOF_NLMSGHDR <= n;) {
        const len = buf.readUInt32LE(off);
        if (len < SIZEOF_NLMSGHDR || off + len > n) break;
        const type = buf.readUInt16LE(off + 4);
        const index = (buf.readUInt32LE(off + 8) - firstSeq) >>> 0;
        if (type === NLMSG_ERROR && index < count) {
          const e = decodeNlMsgErr(buf, off + SIZEOF_NLMSGHDR, off + len, buf.readUInt16LE(off + 6));
          if (e.errno !== 0) replies.errors[index] = e;
          if (index === count - 1) replies.complete = true;
        }
        off += (len + 3) & ~3;
      }
    }
    return replies;
  }

  /**
   * Runs the dump request in `w` (sequence `seq`) and hands every reply message of the dump to
   * `onMessage(type, buf, payloadOffset, end)`. Restarts (up to 3 times) when the kernel flags
   * the dump as interrupted by a concurrent change (NLM_F_DUMP_INTR).
   */
  dump(w: NlWriter, seq: number, onMessage: (type: number, buf: Buffer, off: number, end: number) => void): void {
    for (let attempt = 0; ; attempt++) {
      const collected: [number, Buffer][] = [];
      let interrupted = false;
      this.drain();
      libc.sendto(this.fd, w.buf, w.off, 0, this.peer);
      const buf = this.rbuf;
      let done = false;
      while (!done) {
        const n = this.receive(undefined);
        if (n < 0) throw this.failed(new NetlinkRequestError('NETLINK_TIMEOUT', 'the kernel did not answer the dump request', libc.errno.ETIMEDOUT!, 'ETIMEDOUT'));
        for (let off = 0; off + SIZEOF_NLMSGHDR <= n;) {
          const len = buf.readUInt32LE(off);
          if (len < SIZEOF_NLMSGHDR || off + len > n) break;
          const type = buf.readUInt16LE(off + 4);
          const flags = buf.readUInt16LE(off + 6);
          if (buf.readUInt32LE(off + 8) === seq) {
            if (flags & NLM_F_DUMP_INTR) interrupted = true;
            if (type === NLMSG_DONE) {
              const d = decodeNlMsgDone(buf, off + SIZEOF_NLMSGHDR, off + len, flags);
              if (d.errno !== 0) throw this.failed(kernelRequestError('dump', d.errno, d.extMessage));
              done = true;
            } else if (type === NLMSG_ERROR) {
              const e = decodeNlMsgErr(buf, off + SIZEOF_NLMSGHDR, off + len, flags);
              throw this.failed(kernelRequestError('dump', e.errno, e.extMessage));
            } else {
              collected.push([type, Buffer.from(buf.subarray(off, off + len))]);
            }
          }
          off += (len + 3) & ~3;
        }
      }
      if (interrupted && attempt < 3) continue;
      for (const [type, msg] of collected) onMessage(type, msg, SIZEOF_NLMSGHDR, msg.length);
      return;
    }
  }

  /**
   * Sends the single request in `w` (sequence `seq`) and returns its one answer message (a copy),
   * or undefined when the kernel answers with error `absent` (e.g. ESRCH: no such SA).
   */
  request(w: NlWriter, seq: number, absent: number): { type: number; msg: Buffer } | undefined {
    this.drain();
    libc.sendto(this.fd, w.buf, w.off, 0, this.peer);
    const buf = this.rbuf;
    for (;;) {
      const n = this.receive(undefined);
      if (n < 0) throw this.failed(new NetlinkRequestError('NETLINK_TIMEOUT', 'the kernel did not answer the request', libc.errno.ETIMEDOUT!, 'ETIMEDOUT'));
      for (let off = 0; off + SIZEOF_NLMSGHDR <= n;) {
        const len = buf.readUInt32LE(off);
        if (len < SIZEOF_NLMSGHDR || off + len > n) break;
        if (buf.readUInt32LE(off + 8) === seq) {
          const type = buf.readUInt16LE(off + 4);
          if (type !== NLMSG_ERROR) return { type, msg: Buffer.from(buf.subarray(off, off + len)) };
          const e = decodeNlMsgErr(buf, off + SIZEOF_NLMSGHDR, off + len, buf.readUInt16LE(off + 6));
          if (e.errno === absent) return undefined;
          throw kernelRequestError('request', e.errno, e.extMessage);
        }
        off += (len + 3) & ~3;
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    libc.close(this.fd);
  }

  /** One datagram into rbuf; -1 on timeout. An overrun (ENOBUFS) is noted and reading goes on. */
  private receive(replies: BatchReplies | undefined): number {
    for (;;) {
      try {
        return Math.min(libc.recv(this.fd, this.rbuf, libc.MSG_TRUNC), this.rbuf.length);
      } catch (e) {
        if (!(e instanceof libc.SyscallError)) throw e;
        if (e.errno === libc.errno.EAGAIN) return -1;
        if (e.errno === libc.errno.EINTR) continue;
        if (e.errno === libc.errno.ENOBUFS) {
          if (replies) replies.overrun = true;
          continue;
        }
        throw e;
      }
    }
  }

  private failed(e: NetlinkRequestError): NetlinkRequestError {
    this.stale = true;
    return e;
  }

  /** Discards what earlier, unfinished exchanges left in the receive queue. */
  private drain(): void {
    if (!this.stale) return;
    this.stale = false;
    for (;;) {
      try {
        libc.recv(this.fd, this.rbuf, libc.MSG_DONTWAIT);
      } catch (e) {
        if (e instanceof libc.SyscallError && (e.errno === libc.errno.EAGAIN || e.errno === libc.errno.ENOBUFS)) {
          if (e.errno === libc.errno.EAGAIN) return;
          continue;
        }
        throw e;
      }
    }
  }
}

function kernelRequestError(what: string, errnoValue: number, ext: string | undefined): NetlinkRequestError {
  const name = libc.errnoName(errnoValue);
  return new NetlinkRequestError('NETLINK_REQUEST_FAILED', `${what} failed: ${name}${ext ? ` (${ext})` : ''}`, errnoValue, name);
}
