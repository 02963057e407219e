// The few libc calls Node lacks (AF_NETLINK sockets, network namespaces, a thread's scheduling
// policy), through koffi (DESIGN.md: ~50 ns per call, safe in worker threads). Every call that
// fails becomes a SyscallError carrying errno and its name; nothing else leaves this module.

import koffi from 'koffi';

export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;
export const NETLINK_XFRM = 6;
export const SOL_SOCKET = 1;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_RCVTIMEO = 20; // struct timeval on x86-64 (the _OLD variant is the native one there)
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;
export const SOL_NETLINK = 270;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const CLONE_NEWNET = 0x40000000;
export const SCHED_BATCH = 3;

/** `struct sockaddr_nl { sa_family_t nl_family; unsigned short nl_pad; __u32 nl_pid; __u32 nl_groups; }` */
export const SIZEOF_SOCKADDR_NL = 12;

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(koffi.os.errno)) {
  // Several names share a number (EWOULDBLOCK = EAGAIN, EDEADLOCK = EDEADLK): keep the first,
  // which is the one strerror and iproute2 users know.
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

export const errno = koffi.os.errno as Readonly<Record<string, number>>;

/** The symbolic name of an errno value (`EEXIST`), or `E<number>` when libc does not name it. */
export function errnoName(value: number): string {
  return errnoNames.get(value) ?? `E${value}`;
}

export class SyscallError extends Error {
  readonly code = 'SYSCALL_FAILED';
  readonly op: string;
  readonly errno: number;
  readonly errnoName: string;

  constructor(op: string, errnoValue: number) {
    const name = errnoName(errnoValue);
    super(`${op} failed: ${name} (errno ${errnoValue})`);
    this.name = 'SyscallError';
    this.op = op;
    this.errno = errnoValue;
    this.errnoName = name;
  }
}

const lib = koffi.load('libc.so.6');
const c = {
  socket: lib.func('int socket(int domain, int type, int protocol)'),
  bind: lib.func('int bind(int fd, const void *addr, uint32_t addrlen)'),
  getsockname: lib.func('int getsockname(int fd, void *addr, void *addrlen)'),
  sendto: lib.func('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)'),
  recv: lib.func('intptr_t recv(int fd, void *buf, size_t len, int flags)'),
  setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *val, uint32_t len)'),
  getsockopt: lib.func('int getsockopt(int fd, int level, int name, void *val, void *len)'),
  close: lib.func('int close(int fd)'),
  setns: lib.func('int setns(int fd, int nstype)'),
  sched_setscheduler: lib.func('int sched_setscheduler(int pid, int policy, const void *param)'),
};

function check(op: string, result: number): number {
  if (result < 0) throw new SyscallError(op, koffi.errno());
  return result;
}

export function socket(domain: number, type: number, protocol: number): number {
  return check('socket', c.socket(domain, type, protocol) as number);
}

/** Binds a netlink socket; portId 0 lets the kernel choose. */
export function bindNetlink(fd: number, portId = 0, groups = 0): void {
  check('bind', c.bind(fd, sockaddrNl(portId, groups), SIZEOF_SOCKADDR_NL) as number);
}

/** The port id the kernel gave a bound netlink socket. */
export function netlinkPortId(fd: number): number {
  const addr = Buffer.alloc(SIZEOF_SOCKADDR_NL);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(SIZEOF_SOCKADDR_NL);
  check('getsockname', c.getsockname(fd, addr, len) as number);
  return addr.readUInt32LE(4);
}

export function sockaddrNl(portId: number, groups = 0): Buffer {
  const addr = Buffer.alloc(SIZEOF_SOCKADDR_NL);
  addr.writeUInt16LE(AF_NETLINK, 0);
  addr.writeUInt32LE(portId >>> 0, 4);
  addr.writeUInt32LE(groups >>> 0, 8);
  return addr;
}

export function sendto(fd: number, buf: Uint8Array, len: number, flags: number, addr: Buffer): number {
  return check('sendto', Number(c.sendto(fd, buf, len, flags, addr, addr.length)));
}

/** One datagram; with MSG_TRUNC the result is its real length even when `buf` was shorter. */
export function recv(fd: number, buf: Uint8Array, flags: number): number {
  return check('recv', Number(c.recv(fd, buf, buf.length, flags)));
}

export function setsockoptInt(fd: number, level: number, name: number, value: number): void {
  const v = Buffer.alloc(4);
  v.writeInt32LE(value);
  check(`setsockopt(${level}, ${name})`, c.setsockopt(fd, level, name, v, 4) as number);
}

export function getsockoptInt(fd: number, level: number, name: number): number {
  const v = Buffer.alloc(4);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(4);
  check(`getsockopt(${level}, ${name})`, c.getsockopt(fd, level, name, v, len) as number);
  return v.readInt32LE(0);
}

/** SO_RCVTIMEO: `struct timeval { long tv_sec; long tv_usec; }`, 16 bytes on x86-64. */
export function setReceiveTimeout(fd: number, ms: number): void {
  const tv = Buffer.alloc(16);
  tv.writeBigInt64LE(BigInt(Math.floor(ms / 1000)), 0);
  tv.writeBigInt64LE(BigInt((ms % 1000) * 1000), 8);
  check('setsockopt(SO_RCVTIMEO)', c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16) as number);
}

export function close(fd: number): void {
  check('close', c.close(fd) as number);
}

/** Moves the calling thread (only it: a worker thread may do this alone) into a namespace. */
export function setns(fd: number, nstype: number): void {
  check('setns', c.setns(fd, nstype) as number);
}

/**
 * Puts the calling thread (Linux: pid 0 is the thread, not the process) under SCHED_BATCH, the
 * non-real-time policy for CPU-bound work that never preempts another thread on waking up. Any
 * process may choose it for its own threads.
 */
export function setBatchScheduling(): void {
  // struct sched_param { int sched_priority; }: 0, the only value SCHED_BATCH takes.
  check('sched_setscheduler(SCHED_BATCH)', c.sched_setscheduler(0, SCHED_BATCH, Buffer.alloc(4)) as number);
}
