// The netlink worker (a worker_threads entry started by XfrmClient): it owns the process's only
// NETLINK_XFRM socket, optionally inside a named network namespace (setns on this thread only),
// and answers the client's requests in order. Ops are coalesced: whatever arrived while the
// previous batch was with the kernel goes out in the next one.

import { closeSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { VALID_ALG_PAIRS } from '../ipsec/algorithms.js';
import { kernelAlgorithmNames, espAlgorithms } from './algorithms.js';
import { Batcher, type GroupOwner } from './batcher.js';
import { NetlinkRequestError } from './errors.js';
import * as libc from './libc.js';
import { nlmsgAlign, NlWriter, SIZEOF_NLMSGHDR } from './nlmsg.js';
import type { AlgorithmCheck, AlgPair, FromWorker, KernelCapabilities, ToWorker, WireError, WorkerInit } from './protocol.js';
import { StatsWriter } from './stats.js';
import {
  decodePolicy, decodeSa, encodeOps, policyIdOf, saIdOf, writeDump, writeGetSa, XFRM_MSG_NEWPOLICY, XFRM_MSG_NEWSA,
} from './xfrm.js';
import { XfrmSocket } from './xfrm-socket.js';
import {
  IPPROTO_ESP, type GroupResult, type IpFamily, type OpResult, type XfrmOp, type XfrmPolicy, type XfrmSa, type XfrmSaId,
} from './xfrm-types.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (m: FromWorker): void => port.postMessage(m);

function wireError(e: unknown): WireError {
  if (e instanceof libc.SyscallError) return { code: e.code, message: e.message, op: e.op, errno: e.errno, errnoName: e.errnoName };
  if (e instanceof NetlinkRequestError) return { code: e.code, message: e.message, errno: e.errno, errnoName: e.errnoName };
  return { code: 'NETLINK_REQUEST_FAILED', message: e instanceof Error ? e.message : String(e) };
}

function enterNetns(name: string): void {
  let fd: number;
  try {
    fd = openSync(`/run/netns/${name}`, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EINVAL';
    throw new NetlinkRequestError('NETLINK_REQUEST_FAILED', `cannot enter network namespace "${name}": /run/netns/${name}: ${code}`, libc.errno[code] ?? 0, code);
  }
  try {
    libc.setns(fd, libc.CLONE_NEWNET);
  } finally {
    closeSync(fd);
  }
}

let sock: XfrmSocket;
try {
  if (init.netns !== undefined) enterNetns(init.netns);
  sock = new XfrmSocket({
    timeoutMs: init.timeoutMs,
    ...(init.peerPortId !== undefined ? { peerPortId: init.peerPortId } : {}),
    ...(init.bufferBytes !== undefined ? { bufferBytes: init.bufferBytes } : {}),
  });
} catch (e) {
  post({ kind: 'startFailed', error: wireError(e) });
  process.exit(1);
}

const stats = new StatsWriter(init.stats);
const batcher = new Batcher(sock, stats, init.batchMax);
const dumpWriter = new NlWriter(256);
let dumpSeq = 0x80000000; // apart from the batcher's sequence numbers
let scheduled = false;
let okIds: number[] = [];
let failedGroups: { id: number; result: GroupResult }[] = [];
let recycled: ArrayBuffer[] = [];

function postResults(): void {
  if (okIds.length === 0 && failedGroups.length === 0 && recycled.length === 0) return;
  port.postMessage({ kind: 'groups', ok: okIds, failed: failedGroups, recycled } satisfies FromWorker, recycled);
  okIds = [];
  failedGroups = [];
  recycled = [];
}

function flush(): void {
  const t0 = performance.now();
  scheduled = false;
  const more = batcher.runBatch();
  postResults();
  if (more) schedule();
  stats.busy((performance.now() - t0) * 1000);
}

/**
 * The groups of one submit message: their results go to the client, and the message's buffer
 * goes back to it once they are all settled (the batcher reads a group's bytes until then).
 */
class Submission implements GroupOwner {
  constructor(private readonly bytes: ArrayBuffer, private unsettled: number) {}

  groupDone(result: GroupResult, id: number): void {
    if (result.ok) okIds.push(id);
    else failedGroups.push({ id, result });
    if (--this.unsettled === 0) recycled.push(this.bytes);
  }
}

/** Queues the groups of one submit message: pairs (client id, number of requests) over the requests in `bytes`. */
function submitEncoded(groups: number[], bytes: ArrayBuffer, length: number): void {
  const buf = Buffer.from(bytes, 0, length);
  const owner = new Submission(bytes, groups.length >> 1);
  let off = 0;
  for (let k = 0; k + 1 < groups.length; k += 2) {
    const start = off;
    const count = groups[k + 1]!;
    for (let n = count; n > 0; n--) off += nlmsgAlign(buf.readUInt32LE(off));
    batcher.submit(buf, start, count, owner, groups[k]!);
  }
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  // setImmediate, not a microtask: lets the messages that arrived meanwhile join the next batch.
  setImmediate(flush);
}

function dump(what: 'sa', ours: boolean): XfrmSa[];
function dump(what: 'policy', ours: boolean): XfrmPolicy[];
function dump(what: 'sa' | 'policy', ours: boolean): (XfrmSa | XfrmPolicy)[] {
  batcher.drain(); // answer in order: what was submitted before the dump is in it
  dumpWriter.reset();
  dumpSeq = (dumpSeq + 1) >>> 0 || 0x80000000;
  writeDump(dumpWriter, what, dumpSeq);
  const items: (XfrmSa | XfrmPolicy)[] = [];
  sock.dump(dumpWriter, dumpSeq, (type, buf, off, end) => {
    if (what === 'sa' && type === XFRM_MSG_NEWSA) items.push(decodeSa(buf, off, end));
    if (what === 'policy' && type === XFRM_MSG_NEWPOLICY) items.push(decodePolicy(buf, off, end));
  });
  return ours ? items.filter((x) => x.selector.user === init.marker) : items;
}

function getSa(id: XfrmSaId): XfrmSa | undefined {
  batcher.drain();
  dumpWriter.reset();
  dumpSeq = (dumpSeq + 1) >>> 0 || 0x80000000;
  writeGetSa(dumpWriter, id, dumpSeq);
  const reply = sock.request(dumpWriter, dumpSeq, libc.errno.ESRCH!);
  return reply?.type === XFRM_MSG_NEWSA ? decodeSa(reply.msg, SIZEOF_NLMSGHDR, reply.msg.length) : undefined;
}

/** Runs one group to completion, right now (after whatever was queued). */
function runNow(ops: XfrmOp[], cleanup: boolean): GroupResult {
  let result: GroupResult | undefined;
  const owner: GroupOwner = { groupDone: (r) => { result = r; } };
  const enc = encodeOps(ops);
  if (cleanup) batcher.submitCleanup(enc.buf, 0, enc.count, owner, 0);
  else batcher.submit(enc.buf, 0, enc.count, owner, 0);
  batcher.drain();
  return result!;
}

function deleteOurs(): { sas: number; policies: number; errors: OpResult[] } {
  // Policies first: no packet should meet a policy whose SA is already gone.
  const policies = dump('policy', true);
  const p = runNow(policies.map((pol): XfrmOp => ({ op: 'delpolicy', id: { ...policyIdOf(pol), index: pol.index } })), true);
  const sas = dump('sa', true);
  const s = runNow(sas.map((sa): XfrmOp => ({ op: 'delsa', id: saIdOf(sa) })), true);
  const all = [...p.results, ...s.results];
  return {
    policies: p.results.filter((r) => r.ok).length,
    sas: s.results.filter((r) => r.ok).length,
    errors: all.filter((r) => !r.ok),
  };
}

// SAs the probe creates and deletes at once: documentation addresses (RFC 5737 / RFC 3849), an
// SPI far above any configured range, and our marker, so a crash mid-probe leaves nothing that
// start-up cleanup would not remove.
const PROBE_ADDR: Record<IpFamily, [string, string]> = { 4: ['192.0.2.1', '192.0.2.2'], 6: ['2001:db8::1', '2001:db8::2'] };
const PROBE_SPI = 0xfffff000;
const ESP_CHECK =
  "ip netns add espcheck; ip -n espcheck xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1000 mode transport " +
  "auth-trunc 'hmac(sha1)' 0x1111111111111111111111111111111111111111 96 enc 'cbc(aes)' 0x22222222222222222222222222222222; ip netns del espcheck";

function probeSa(family: IpFamily, spi: number, pair: AlgPair): OpResult {
  const [src, dst] = PROBE_ADDR[family];
  const prefix = family === 4 ? 32 : 128;
  const key = Buffer.alloc(16, 0x5a);
  const sa: XfrmSa = {
    family, saddr: src, daddr: dst, spi, proto: IPPROTO_ESP, reqid: spi, mode: 'transport', replayWindow: 32, flags: 0,
    selector: { family, saddr: src, prefixS: prefix, daddr: dst, prefixD: prefix, sport: 0, sportMask: 0, dport: 0, dportMask: 0, proto: 0, ifindex: 0, user: init.marker },
    ...espAlgorithms(pair[0], pair[1], key, key),
  };
  const created = runNow([{ op: 'newsa', sa }], false);
  if (created.ok) runNow([{ op: 'delsa', id: saIdOf(sa) }], true);
  return created.results[0]!;
}

const isNoEsp = (r: OpResult): boolean => !r.ok && r.code === 'KERNEL' && r.errno === libc.errno.EPROTONOSUPPORT;

// The kernel looks the algorithms up before the ESP type (xfrm_user), so ENOSYS names a missing
// algorithm and EPROTONOSUPPORT ("Requested type not found") a kernel without esp4 / esp6.
function probe(pairs: AlgPair[]): KernelCapabilities {
  const checks = pairs.length > 0 ? pairs : VALID_ALG_PAIRS;
  const v4 = checks.map((pair, i) => probeSa(4, PROBE_SPI + 2 + i, pair));
  // IPv6 with a pair whose algorithms the kernel has (it worked, or failed only for want of ESP).
  const usable = checks.find((_, i) => v4[i]!.ok) ?? checks.find((_, i) => isNoEsp(v4[i]!)) ?? checks[0] ?? VALID_ALG_PAIRS[0]!;
  const v6 = probeSa(6, PROBE_SPI + 1, usable);
  const esp = { ipv4: v4.some((r) => r.ok), ipv6: v6.ok };
  const algorithms: AlgorithmCheck[] = checks.map(([alg, ealg], i) => {
    const kernelNames = kernelAlgorithmNames(alg, ealg);
    const r = v4[i]!;
    if (r.ok) return { alg, ealg, kernelNames, ok: true, message: `alg=${alg} ealg=${ealg}: usable` };
    const why = isNoEsp(r)
      ? 'this kernel has no ESP'
      : r.errno === libc.errno.ENOSYS
        ? `the kernel does not know ${kernelNames.join(' or ')} (${r.message}); see grep -E '^name' /proc/crypto, crypto modules load on first use`
        : r.message;
    return { alg, ealg, kernelNames, ok: false, errnoName: r.errnoName, message: `alg=${alg} ealg=${ealg}: not usable, ${why}.` };
  });
  const ok = esp.ipv4 && esp.ipv6 && algorithms.every((a) => a.ok);
  const noEsp = [!esp.ipv4 && v4.some(isNoEsp) ? 'IPv4 (esp4, CONFIG_INET_ESP)' : '', !esp.ipv6 && isNoEsp(v6) ? 'IPv6 (esp6, CONFIG_INET6_ESP)' : ''].filter(Boolean);
  let message: string;
  if (noEsp.length > 0) {
    message = `This kernel cannot create IPsec ESP SAs for ${noEsp.join(' and ')}: it answers EPROTONOSUPPORT ("Requested type not found"). ` +
      `Load the modules (modprobe esp4 esp6) or use a kernel built with ESP. To check by hand, as root: ${ESP_CHECK}`;
  } else if (!esp.ipv4 || !esp.ipv6) {
    message = `No ESP SA could be created: ${[...algorithms.filter((a) => !a.ok).map((a) => a.message), v6.ok ? '' : `IPv6: ${!v6.ok ? v6.message : ''}`].join(' ')}`;
  } else if (!ok) {
    message = `ESP works, but some algorithm pairs do not: ${algorithms.filter((a) => !a.ok).map((a) => a.message).join(' ')}`;
  } else {
    message = `ESP works for IPv4 and IPv6 with ${algorithms.map((a) => `${a.alg}/${a.ealg}`).join(', ')}.`;
  }
  return { esp, algorithms, ok, message };
}

function handle(m: ToWorker): void {
  switch (m.kind) {
    case 'submit':
      submitEncoded(m.groups, m.bytes, m.length);
      schedule();
      return;
    case 'dump':
      if (m.what === 'sa') post({ kind: 'dump', id: m.id, sas: dump('sa', m.ours) });
      else post({ kind: 'dump', id: m.id, policies: dump('policy', m.ours) });
      return;
    case 'getSa':
      post({ kind: 'sa', id: m.id, sa: getSa(m.sa) });
      return;
    case 'deleteOurs':
      post({ kind: 'deleted', id: m.id, ...deleteOurs() });
      return;
    case 'probe':
      post({ kind: 'probe', id: m.id, capabilities: probe(m.pairs) });
      return;
    case 'close':
      batcher.drain();
      postResults();
      sock.close();
      post({ kind: 'closed' });
      port.close();
      return;
  }
}

port.on('message', (m: ToWorker) => {
  const t0 = performance.now();
  try {
    handle(m);
  } catch (e) {
    if ('id' in m) post({ kind: 'failed', id: m.id, error: wireError(e) });
  }
  postResults(); // groups that a dump, cleanup or probe drained on the way
  stats.busy((performance.now() - t0) * 1000);
});

post({ kind: 'ready', portId: sock.portId, sendBufferBytes: sock.sendBufferBytes, receiveBufferBytes: sock.receiveBufferBytes });
