import { XfrmClient } from '../src/netlink/client.js';
import type { XfrmOp, XfrmPolicy, GroupResult } from '../src/netlink/xfrm-types.js';
import { createNetns } from '../test/helpers/netns.js';
import { performance as perf } from 'node:perf_hooks';
const policy = (i: number): XfrmPolicy => { const ue = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`; return {
    selector: { family: 4, saddr: ue, prefixS: 32, daddr: '192.168.255.1', prefixD: 32, sport: 5062, sportMask: 0xffff, dport: 5064, dportMask: 0xffff, proto: 0, ifindex: 0, user: 1 },
    dir: 'in', action: 'allow', priority: 2080, index: 0,
    templates: [{ family: 4, saddr: ue, daddr: '192.168.255.1', spi: 0, proto: 50, reqid: i + 1, mode: 'transport', optional: false }] }; };
const N = 20000;
for (let round = 0; round < 4; round++) {
  const ns = createNetns('prof');
  const client = await XfrmClient.start({ netns: ns.name, marker: 1 });
  const worker = (client as unknown as { worker: import('node:worker_threads').Worker }).worker;
  const groups: XfrmOp[][] = Array.from({ length: N }, (_, i) => [{ op: 'newpolicy', policy: policy(i) }]);
  await new Promise((r) => setTimeout(r, 50));
  const e0 = perf.eventLoopUtilization(); const w0 = worker.performance.eventLoopUtilization();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const pending: Promise<GroupResult>[] = [];
  for (let i = 0; i < N; i++) {
    pending.push(client.submit(groups[i]!));
    if (i % 1024 === 1023) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(pending);
  const t = performance.now() - t0;
  const e = perf.eventLoopUtilization(e0); const w = worker.performance.eventLoopUtilization(w0);
  const c = process.cpuUsage(c0);
  console.log(`round ${round}: ${Math.round(N / (t / 1000))}/s ${t.toFixed(0)}ms; main active ${(e.active).toFixed(0)}ms; worker active ${(w.active).toFixed(0)}ms; kernel ${(client.stats().kernelLatencyUs.sum / 1000).toFixed(0)}ms; process cpu user ${(c.user/1000).toFixed(0)} sys ${(c.system/1000).toFixed(0)}`);
  await client.close();
  ns.delete();
}
