// Typed failures of the netlink layer (besides SyscallError in libc.ts). Each has a stable `code`
// that callers match on; nothing in src/netlink throws anything else on bad input.

/** A record that cannot be put on the wire: an address that does not parse, a port out of range... */
export class XfrmRecordError extends Error {
  readonly code = 'XFRM_INVALID_RECORD';
  readonly field: string;
  readonly reason: string;

  constructor(field: string, reason: string) {
    super(`${field}: ${reason}`);
    this.name = 'XfrmRecordError';
    this.field = field;
    this.reason = reason;
  }
}

/** submit() refused: the ops already waiting for the kernel reached `queueMax`. */
export class NetlinkQueueFullError extends Error {
  readonly code = 'NETLINK_QUEUE_FULL';
  readonly queued: number;
  readonly queueMax: number;

  constructor(queued: number, wanted: number, queueMax: number) {
    super(`netlink queue full: ${queued} ops waiting, ${wanted} more would exceed queueMax ${queueMax}`);
    this.name = 'NetlinkQueueFullError';
    this.queued = queued;
    this.queueMax = queueMax;
  }
}

/** The client was closed (or its worker died) before the request was answered. */
export class NetlinkClosedError extends Error {
  readonly code = 'NETLINK_CLOSED';

  constructor(why: string) {
    super(`netlink client closed: ${why}`);
    this.name = 'NetlinkClosedError';
  }
}

/** A request that is not a group of ops (a dump, the probe) failed in the worker. */
export class NetlinkRequestError extends Error {
  readonly code: 'NETLINK_TIMEOUT' | 'NETLINK_REQUEST_FAILED';
  readonly errno: number;
  readonly errnoName: string;

  constructor(code: 'NETLINK_TIMEOUT' | 'NETLINK_REQUEST_FAILED', message: string, errno: number, errnoName: string) {
    super(message);
    this.name = 'NetlinkRequestError';
    this.code = code;
    this.errno = errno;
    this.errnoName = errnoName;
  }
}
