// XFRM throughput, all in one run.
//
// Host kernel (policies; a fresh scratch namespace per method, the same N policies each time):
//   rtt-raw    one NEWPOLICY per round trip on a plain socket (sendto, wait for its ACK, next): no worker
//   rtt        through XfrmClient, one group of one op awaited at a time
//   batched    through XfrmClient, groups of one op submitted as a server would (1024 per event-loop turn), the worker coalescing
//   batched-groups-of-4  the same with groups of 4 policies (one UE's)
//   batched-errors  as batched, every 100th op a duplicate: checks each EEXIST comes back on its own op
//   ip-batch   `ip -batch` with the same policies
// ESP kernel (re-launched in the ESP VM with --esp-inner unless this kernel has ESP): SA+policy
// groups of one UE (sa-set.ts: 4 SAs + 4 policies), batched and one group at a time.
//
// Prints one JSON line per figure ({"bench":"xfrm",...}) and a summary line with the ratios.
//   npx tsx bench/xfrm.ts [--n 20000] [--groups 2000] [--no-esp] [--backend qemu|uml]

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPcscfSaSet, createOps, type TunnelParams } from '../src/ipsec/sa-set.js';
import { XfrmClient } from '../src/netlink/client.js';
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
const CHUNK = 1024;

const results: Record<string, number> = {};
function emit(method: string, ops: number, seconds: number, extra: Record<string, unknown> = {}): void {
  const perSec = Math.round(ops / seconds);
  results[method] = perSec;
  console.log(JSON.stringify({ bench: 'xfrm', method, ops, seconds: Number(seconds.toFixed(4)), perSec, ...extra }));
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

/** Submits groups 1024 per event-loop turn (as a server reading packets would) and awaits them all. */
async function submitStreaming(client: XfrmClient, groups: XfrmOp[][]): Promise<GroupResult[]> {
  const pending: Promise<GroupResult>[] = [];
  for (let i = 0; i < groups.length; i++) {
    pending.push(client.submit(groups[i]!));
    if (i % CHUNK === CHUNK - 1) await new Promise((r) => setImmediate(r));
  }
  return Promise.all(pending);
}

async function benchRawRoundTrip(ops: XfrmOp[]): Promise<void> {
  await inScratchNs(async (ns) => {
    // This thread enters the namespace for the measurement and returns to its own afterwards.
    const home = openSync('/proc/self/ns/net', 'r');
    const there = openSync(`/run/netns/${ns.name}`, 'r');
    libc.setns(there, libc.CLONE_NEWNET);
    closeSync(there);
    const sock = new XfrmSocket({ timeoutMs: 5000 });
    libc.setns(home, libc.CLONE_NEWNET);
    closeSync(home);
    const w = new NlWriter(4096);
    let failed = 0;
    const t0 = performance.now();
    for (let i = 0; i < ops.length; i++) {
      w.reset();
      writeOp(w, ops[i]!, i + 1, false);
      if (sock.exchangeBatch(w, 0, i + 1, 1).errors[0]) failed++;
    }
    const s = (performance.now() - t0) / 1000;
    sock.close();
    emit('rtt-raw', ops.length, s, { failed, installed: policyCount(ns) });
  });
}

async function benchWorkerOneAtATime(ops: XfrmOp[]): Promise<void> {
  await inScratchNs(async (ns) => {
    const client = await XfrmClient.start({ netns: ns.name, marker: MARKER });
    let failed = 0;
    const t0 = performance.now();
    for (const op of ops) if (!(await client.submit([op])).ok) failed++;
    const s = (performance.now() - t0) / 1000;
    await client.close();
    emit('rtt', ops.length, s, { failed, installed: policyCount(ns) });
  });
}

/** `perGroup` ops per submit: 1 (the worst case for per-group overhead) or 4 (the policies of one UE). */
async function benchBatched(ops: XfrmOp[], perGroup: number): Promise<void> {
  await inScratchNs(async (ns) => {
    const client = await XfrmClient.start({ netns: ns.name, marker: MARKER });
    const groups = Array.from({ length: Math.ceil(ops.length / perGroup) }, (_, i) => ops.slice(i * perGroup, (i + 1) * perGroup));
    const t0 = performance.now();
    const rs = await submitStreaming(client, groups);
    const s = (performance.now() - t0) / 1000;
    const st = client.stats();
    await client.close();
    emit(perGroup === 1 ? 'batched' : `batched-groups-of-${perGroup}`, ops.length, s, {
      failed: rs.filter((r) => !r.ok).length, installed: policyCount(ns), batches: st.batches,
      kernelSeconds: Number((st.kernelLatencyUs.sum / 1e6).toFixed(4)),
    });
  });
}

async function benchBatchedWithErrors(ops: XfrmOp[]): Promise<void> {
  await inScratchNs(async (ns) => {
    const client = await XfrmClient.start({ netns: ns.name, marker: MARKER });
    // Every 100th group repeats the previous policy: the kernel answers EEXIST for exactly those.
    const groups = ops.map((op, i) => [i % 100 === 99 ? ops[i - 1]! : op]);
    const t0 = performance.now();
    const rs = await submitStreaming(client, groups);
    const s = (performance.now() - t0) / 1000;
    await client.close();
    const expected = groups.filter((_, i) => i % 100 === 99).length;
    const isEexist = (r: GroupResult): boolean => { const x = r.results[0]!; return !x.ok && x.errnoName === 'EEXIST'; };
    const right = rs.filter((r, i) => (i % 100 === 99) === isEexist(r)).length;
    emit('batched-errors', ops.length, s, { expectedErrors: expected, errorsOnTheRightOp: right === groups.length, installed: policyCount(ns) });
  });
}

async function benchIpBatch(n: number): Promise<void> {
  await inScratchNs(async (ns) => {
    const dir = mkdtempSync(join(tmpdir(), 'xfrm-bench-'));
    try {
      const file = join(dir, 'batch');
      writeFileSync(file, Array.from({ length: n }, (_, i) => ipBatchLine(i)).join('\n') + '\n');
      const t0 = performance.now();
      const r = spawnSync('ip', ['-n', ns.name, '-batch', file]);
      const s = (performance.now() - t0) / 1000;
      emit('ip-batch', n, s, { status: r.status, installed: policyCount(ns) });
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
  console.log(JSON.stringify({ bench: 'xfrm', note: `host kernel ${spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim()}, N=${N} policies per method, 2 shared cores: figures are noisy, compare ratios within one run` }));
  await benchRawRoundTrip(ops);
  await benchWorkerOneAtATime(ops);
  await benchBatched(ops, 1);
  await benchBatched(ops, 4);
  await benchBatchedWithErrors(ops);
  await benchIpBatch(N);
  if (!args.includes('--no-esp')) await esp();
  const ratio = (a: string, b: string): number | null => (results[a] && results[b] ? Number((results[a]! / results[b]!).toFixed(1)) : null);
  console.log(JSON.stringify({
    bench: 'xfrm', summary: true,
    batchedPerSec: results['batched'], batchedOverRtt: ratio('batched', 'rtt'), batchedOverRttRaw: ratio('batched', 'rtt-raw'),
    batchedOverIpBatch: ratio('batched', 'ip-batch'), groupsOf4OverRtt: ratio('batched-groups-of-4', 'rtt'),
    groupsOf4OverIpBatch: ratio('batched-groups-of-4', 'ip-batch'), espGroupsPerSec: results['esp-groups-batched'] ?? null,
    espBatchedOverOneAtATime: ratio('esp-groups-batched', 'esp-groups-one-at-a-time'),
  }));
}

await main();
