// XFRM throughput, all in one run.
//
// Host kernel (policies). Every method gets a fresh scratch namespace and runs 1 + RUNS times on
// the same N policies, emptying the namespace after each: a warm-up run, then the measured runs
// (perSec is the fastest, medianPerSec the median). The warm-up matters twice over: the kernel's policy hash tables grow as policies arrive (and never shrink), and
// inserting into a namespace whose tables have not grown yet was measured 2-8x slower and far
// more variable; and the worker's code is compiled by then, as in a server that has been running.
// --cold measures the first run in a fresh namespace (and a fresh worker) instead.
//   kernel     the ceiling: the N NEWPOLICY requests encoded beforehand into datagrams of 1024 on a
//              plain socket; only sendto/recv are timed (the kernel's own time plus two syscalls per datagram)
//   rtt-raw    one NEWPOLICY per round trip on a plain socket (encode, sendto, wait for its ACK, next): no worker
//   rtt        through XfrmClient, one group of one op awaited at a time
//   batched    through XfrmClient, groups of one op submitted as a server would (1024 per event-loop turn), the worker coalescing
//   batched-groups-of-4  the same with groups of 4 policies (one UE's)
//   batched-one-turn  all N groups of one op submitted in one turn, the main thread otherwise idle until the results
//   batched-errors  as batched, every 100th op a duplicate: checks each EEXIST comes back on its own op
//   ip-batch   `ip -batch` with the same policies
// Besides ops/s, each method through the client prints what an op cost: cpuUsPerOp (the process's
// CPU: both threads, GC, system calls), mainBusyUsPerOp (the main thread's event loop busy),
// workerBusyUsPerOp (the netlink worker busy, kernel included), kernelUsPerOp (sendto to the last
// ACK) and kernelPerSec (ops / kernel time).
// ESP kernel (re-launched in the ESP VM with --esp-inner unless this kernel has ESP): SA+policy
// groups of one UE (sa-set.ts: 4 SAs + 4 policies), batched and one group at a time.
//
// Prints one JSON line per figure ({"bench":"xfrm",...}) and a summary line with the ratios.
//   npx tsx bench/xfrm.ts [--n 20000] [--runs 3] [--groups 2000] [--cold] [--no-esp] [--backend qemu|uml]

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPcscfSaSet, createOps, type TunnelParams } from '../src/ipsec/sa-set.js';
import { XfrmClient, type NetlinkStats } from '../src/netlink/client.js';
import * as libc from '../src/netlink/libc.js';
import { NlWriter } from '../src/netlink/nlmsg.js';
import { writeOp } from '../src/netlink/xfrm.js';
import { XfrmSocket } from '../src/netlink/xfrm-socket.js';
import type { GroupResult, XfrmOp, XfrmPolicy } from '../src/netlink/xfrm-types.js';
import { createNetns, type Netns } from '../test/helpers/netns.js';

const MARKER = 0x0b3c0001;
const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const N = opt('n', 20000);
const GROUPS = opt('groups', 2000);
const COLD = args.includes('--cold');
const RUNS = opt('runs', 3);
const CHUNK = 1024;

const results: Record<string, number> = {};
function emit(method: string, ops: number, seconds: number, extra: Record<string, unknown> = {}): void {
  const perSec = Math.round(ops / seconds);
  results[method] = perSec;
  const { medianSeconds, ...rest } = extra;
  const median = typeof medianSeconds === 'number' ? { medianPerSec: Math.round(ops / medianSeconds) } : {};
  console.log(JSON.stringify({ bench: 'xfrm', method, ops, seconds: Number(seconds.toFixed(4)), perSec, ...median, ...rest }));
}

/** Times a run and what it cost per op; with a client, also the worker's busy time and the kernel's. */
class Clock {
  private readonly t0 = performance.now();
  private readonly cpu0 = process.cpuUsage();
  private readonly elu0 = performance.eventLoopUtilization();
  private readonly st0: NetlinkStats | undefined;

  constructor(private readonly client?: XfrmClient) {
    this.st0 = client?.stats();
  }

  stop(ops: number): { seconds: number; costs: Record<string, number> } {
    const seconds = (performance.now() - this.t0) / 1000;
    const cpu = process.cpuUsage(this.cpu0);
    const elu = performance.eventLoopUtilization(this.elu0);
    const perOp = (us: number): number => Number((us / ops).toFixed(2));
    const costs: Record<string, number> = { cpuUsPerOp: perOp(cpu.user + cpu.system), mainBusyUsPerOp: perOp(elu.active * 1000) };
    if (this.client && this.st0) {
      const st = this.client.stats();
      const kernelUs = st.kernelLatencyUs.sum - this.st0.kernelLatencyUs.sum;
      costs['workerBusyUsPerOp'] = perOp(st.workerBusyUs - this.st0.workerBusyUs);
      costs['kernelUsPerOp'] = perOp(kernelUs);
      costs['kernelPerSec'] = Math.round(ops / (kernelUs / 1e6));
      costs['batches'] = st.batches - this.st0.batches;
    }
    return { seconds, costs };
  }
}

const ueAddr = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** Policy i: a distinct /32 -> /32 selector with ports and an ESP transport template, as a UE's inbound one. */
function policy(i: number): XfrmPolicy {
  const ue = ueAddr(i);
  return {
    selector: { family: 4, saddr: ue, prefixS: 32, daddr: '192.168.255.1', prefixD: 32, sport: 5062, sportMask: 0xffff, dport: 5064, dportMask: 0xffff, proto: 0, ifindex: 0, user: MARKER },
    dir: 'in', action: 'allow', priority: 2080, index: 0,
    templates: [{ family: 4, saddr: ue, daddr: '192.168.255.1', spi: 0, proto: 50, reqid: i + 1, mode: 'transport', optional: false }],
  };
}

const ipBatchLine = (i: number): string =>
  `xfrm policy add src ${ueAddr(i)}/32 dst 192.168.255.1/32 sport 5062 dport 5064 dir in priority 2080 ` +
  `tmpl src ${ueAddr(i)} dst 192.168.255.1 proto esp reqid ${i + 1} mode transport`;

function policyCount(ns: Netns): number {
  return Number(/SPD IN\s+(\d+)/.exec(ns.ip('xfrm', 'policy', 'count'))?.[1] ?? Number.NaN);
}

async function inScratchNs(fn: (ns: Netns) => Promise<void>): Promise<void> {
  const ns = createNetns('bench');
  try {
    await fn(ns);
  } finally {
    ns.delete();
  }
}

/**
 * Runs `once` 1 + RUNS times (a warm-up, then the measured runs), emptying the namespace's
 * policies after each, and returns the fastest measured run with the median time of all of them
 * (with --cold: the first run alone). Other work on the machine only ever slows a run down, so the
 * fastest is the least disturbed.
 */
async function measure<T extends { seconds: number }>(ns: Netns, once: () => T | Promise<T>): Promise<T & { medianSeconds: number }> {
  const runs: T[] = [];
  for (let i = 0; i < (COLD ? 1 : 1 + RUNS); i++) {
    if (i > 0) ns.ip('xfrm', 'policy', 'flush');
    const r = await once();
    if (COLD || i > 0) runs.push(r);
  }
  runs.sort((a, b) => a.seconds - b.seconds);
  return { ...runs[0]!, medianSeconds: runs[runs.length >> 1]!.seconds };
}

/** A plain XFRM socket in `ns`: this thread enters the namespace to open it and returns at once. */
function socketIn(ns: Netns): XfrmSocket {
  const home = openSync('/proc/self/ns/net', 'r');
  const there = openSync(`/run/netns/${ns.name}`, 'r');
  try {
    libc.setns(there, libc.CLONE_NEWNET);
    try {
      return new XfrmSocket({ timeoutMs: 5000 });
    } finally {
      libc.setns(home, libc.CLONE_NEWNET);
    }
  } finally {
    closeSync(there);
    closeSync(home);
  }
}

/** Submits groups 1024 per event-loop turn (as a server reading packets would) and awaits them all. */
async function submitStreaming(client: XfrmClient, groups: XfrmOp[][]): Promise<GroupResult[]> {
  const pending: Promise<GroupResult>[] = [];
  for (let i = 0; i < groups.length; i++) {
    pending.push(client.submit(groups[i]!));
    if (i % CHUNK === CHUNK - 1) await new Promise((r) => setImmediate(r));
  }
  return Promise.all(pending);
}

/** Submits every group in this turn and awaits them all. */
function submitAll(client: XfrmClient, groups: XfrmOp[][]): Promise<GroupResult[]> {
  return Promise.all(groups.map((g) => client.submit(g)));
}

async function benchKernel(ops: XfrmOp[]): Promise<void> {
  await inScratchNs(async (ns) => {
    const datagrams: { w: NlWriter; lastStart: number; firstSeq: number; count: number }[] = [];
    for (let first = 0; first < ops.length; first += CHUNK) {
      const count = Math.min(CHUNK, ops.length - first);
      const w = new NlWriter(count * 512);
      let lastStart = 0;
      for (let i = first; i < first + count; i++) {
        lastStart = w.off;
        writeOp(w, ops[i]!, i + 1, false);
      }
      datagrams.push({ w, lastStart, firstSeq: first + 1, count });
    }
    const sock = socketIn(ns);
    try {
      const { seconds, medianSeconds, failed } = await measure(ns, () => {
        let errors = 0;
        const t0 = performance.now();
        for (const d of datagrams) errors += sock.exchangeBatch(d.w, d.lastStart, d.firstSeq, d.count).errors.filter(Boolean).length;
        return { seconds: (performance.now() - t0) / 1000, failed: errors };
      });
      emit('kernel', ops.length, seconds, { medianSeconds, failed, installed: policyCount(ns) });
    } finally {
      sock.close();
    }
  });
}

async function benchRawRoundTrip(ops: XfrmOp[]): Promise<void> {
  await inScratchNs(async (ns) => {
    const sock = socketIn(ns);
    const w = new NlWriter(4096);
    try {
      const { seconds, medianSeconds, costs, failed } = await measure(ns, () => {
        let errors = 0;
        const clock = new Clock();
        for (let i = 0; i < ops.length; i++) {
          w.reset();
          writeOp(w, ops[i]!, i + 1, false);
          if (sock.exchangeBatch(w, 0, i + 1, 1).errors[0]) errors++;
        }
        return { ...clock.stop(ops.length), failed: errors };
      });
      emit('rtt-raw', ops.length, seconds, { medianSeconds, failed, installed: policyCount(ns), ...costs });
    } finally {
      sock.close();
    }
  });
}

/** A method through XfrmClient: `run` submits the groups its way; the figures are of the measured run. */
async function benchClient(method: string, groups: XfrmOp[][], run: (client: XfrmClient) => Promise<GroupResult[]>, check?: (rs: GroupResult[]) => Record<string, unknown>): Promise<void> {
  await inScratchNs(async (ns) => {
    const client = await XfrmClient.start({ netns: ns.name, marker: MARKER });
    try {
      const ops = groups.reduce((n, g) => n + g.length, 0);
      const { rs, seconds, medianSeconds, costs } = await measure(ns, async () => {
        const clock = new Clock(client);
        const rs = await run(client);
        return { rs, ...clock.stop(ops) };
      });
      emit(method, ops, seconds, { medianSeconds, failed: rs.filter((r) => !r.ok).length, installed: policyCount(ns), ...(check?.(rs) ?? {}), ...costs });
    } finally {
      await client.close();
    }
  });
}

async function oneAtATime(client: XfrmClient, groups: XfrmOp[][]): Promise<GroupResult[]> {
  const rs: GroupResult[] = [];
  for (const g of groups) rs.push(await client.submit(g));
  return rs;
}

const groupsOf = (ops: XfrmOp[], perGroup: number): XfrmOp[][] =>
  Array.from({ length: Math.ceil(ops.length / perGroup) }, (_, i) => ops.slice(i * perGroup, (i + 1) * perGroup));

async function benchBatchedWithErrors(ops: XfrmOp[]): Promise<void> {
  // Every 100th group repeats the previous policy: the kernel answers EEXIST for exactly those.
  const groups = ops.map((op, i) => [i % 100 === 99 ? ops[i - 1]! : op]);
  const isEexist = (r: GroupResult): boolean => { const x = r.results[0]!; return !x.ok && x.errnoName === 'EEXIST'; };
  await benchClient('batched-errors', groups, (c) => submitStreaming(c, groups), (rs) => ({
    expectedErrors: groups.filter((_, i) => i % 100 === 99).length,
    errorsOnTheRightOp: rs.every((r, i) => (i % 100 === 99) === isEexist(r)),
  }));
}

async function benchIpBatch(n: number): Promise<void> {
  await inScratchNs(async (ns) => {
    const dir = mkdtempSync(join(tmpdir(), 'xfrm-bench-'));
    try {
      const file = join(dir, 'batch');
      writeFileSync(file, Array.from({ length: n }, (_, i) => ipBatchLine(i)).join('\n') + '\n');
      const { seconds, medianSeconds, status } = await measure(ns, () => {
        const t0 = performance.now();
        const r = spawnSync('ip', ['-n', ns.name, '-batch', file]);
        return { seconds: (performance.now() - t0) / 1000, status: r.status };
      });
      emit('ip-batch', n, seconds, { medianSeconds, status, installed: policyCount(ns) });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
}

function tunnel(i: number): TunnelParams {
  return {
    family: 4, pcscfAddr: '192.168.255.1', ueAddr: ueAddr(i),
    spiUc: 0x10000 + 4 * i, spiUs: 0x10001 + 4 * i, spiPc: 0x10002 + 4 * i, spiPs: 0x10003 + 4 * i,
    portUc: 5062, portUs: 5064, portPc: 6100, portPs: 6101,
    alg: 'hmac-sha-1-96', ealg: 'aes-cbc', ck: Buffer.alloc(16, 0x22), ik: Buffer.alloc(16, 0x11), marker: MARKER,
  };
}

/** Inside an ESP kernel: SA+policy groups of one UE each. */
async function espInner(groupCount: number): Promise<void> {
  const groups = Array.from({ length: groupCount }, (_, i) => createOps(buildPcscfSaSet(tunnel(i))));
  await inScratchNs(async (ns) => {
    const client = await XfrmClient.start({ netns: ns.name, marker: MARKER });
    const t0 = performance.now();
    const rs = await submitStreaming(client, groups);
    const s = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    const del = await client.deleteOurs();
    const sd = (performance.now() - t1) / 1000;
    const one = groups.slice(0, Math.min(groupCount, 200));
    const t2 = performance.now();
    let failedOne = 0;
    for (const g of one) if (!(await client.submit(g)).ok) failedOne++;
    const s1 = (performance.now() - t2) / 1000;
    await client.close();
    emit('esp-groups-batched', groupCount, s, { unit: 'groups of 4 SA + 4 policy', failed: rs.filter((r) => !r.ok).length });
    emit('esp-delete-ours', del.sas + del.policies, sd, { sas: del.sas, policies: del.policies, errors: del.errors.length });
    emit('esp-groups-one-at-a-time', one.length, s1, { unit: 'groups of 4 SA + 4 policy', failed: failedOne });
  });
}

function hostHasEsp(): boolean {
  const ns = createNetns('benchesp');
  try {
    return ns.tryIp('xfrm', 'state', 'add', 'src', '192.0.2.1', 'dst', '192.0.2.2', 'proto', 'esp', 'spi', '0x1000', 'mode', 'transport',
      'auth-trunc', 'hmac(sha1)', '0x' + '11'.repeat(20), '96', 'enc', 'cbc(aes)', '0x' + '22'.repeat(16)).ok;
  } finally {
    ns.delete();
  }
}

/** Runs the ESP part here when this kernel has ESP, else in the ESP VM; relays its JSON lines. */
async function esp(): Promise<void> {
  if (hostHasEsp()) {
    await espInner(GROUPS);
    return;
  }
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const runner = process.env.ESPVM_RUNNER ?? resolve(root, '..', 'shared', 'tools', 'run-in-esp-vm.sh');
  if (!existsSync(runner)) {
    console.log(JSON.stringify({ bench: 'xfrm', method: 'esp', skipped: `no ESP in this kernel and no ESP VM runner at ${runner}` }));
    return;
  }
  const backend = args.includes('--backend') ? ['--backend', args[args.indexOf('--backend') + 1]!] : [];
  const child = spawn(runner, [...backend, '--timeout', '600', '--', process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), '--esp-inner', '--groups', String(GROUPS)],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const code = await new Promise<number | null>((r) => child.on('close', r));
  for (const line of out.split('\n')) {
    if (!line.startsWith('{"bench"')) continue;
    console.log(line);
    const m = JSON.parse(line) as { method: string; perSec: number };
    results[m.method] = m.perSec;
  }
  if (code !== 0) console.log(JSON.stringify({ bench: 'xfrm', method: 'esp', error: `ESP VM run exited with ${code}` }));
}

async function main(): Promise<void> {
  if (args.includes('--esp-inner')) {
    await espInner(GROUPS);
    return;
  }
  const ops: XfrmOp[] = Array.from({ length: N }, (_, i) => ({ op: 'newpolicy', policy: policy(i) }));
  const ones = groupsOf(ops, 1);
  const fours = groupsOf(ops, 4);
  console.log(JSON.stringify({
    bench: 'xfrm',
    note: `host kernel ${spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim()}, N=${N} policies per method, ${COLD ? 'cold: the first run in a fresh namespace and worker' : `a warm-up run then the fastest of ${RUNS} (perSec; medianPerSec their median) in each namespace`}, 2 shared cores: figures are noisy, compare ratios within one run`,
  }));
  await benchKernel(ops);
  await benchRawRoundTrip(ops);
  await benchClient('rtt', ones, (c) => oneAtATime(c, ones));
  await benchClient('batched', ones, (c) => submitStreaming(c, ones));
  await benchClient('batched-groups-of-4', fours, (c) => submitStreaming(c, fours));
  await benchClient('batched-one-turn', ones, (c) => submitAll(c, ones));
  await benchBatchedWithErrors(ops);
  await benchIpBatch(N);
  if (!args.includes('--no-esp')) await esp();
  const ratio = (a: string, b: string): number | null => (results[a] && results[b] ? Number((results[a]! / results[b]!).toFixed(2)) : null);
  const against = (m: string): Record<string, number | null> => ({
    perSec: results[m] ?? null, ofKernel: ratio(m, 'kernel'), overRtt: ratio(m, 'rtt'), overRttRaw: ratio(m, 'rtt-raw'), overIpBatch: ratio(m, 'ip-batch'),
  });
  console.log(JSON.stringify({
    bench: 'xfrm', summary: true, kernelPerSec: results['kernel'], rttRawOverIpBatch: ratio('rtt-raw', 'ip-batch'),
    batched: against('batched'), groupsOf4: against('batched-groups-of-4'), oneTurn: against('batched-one-turn'),
    espGroupsPerSec: results['esp-groups-batched'] ?? null, espBatchedOverOneAtATime: ratio('esp-groups-batched', 'esp-groups-one-at-a-time'),
  }));
}

await main();
