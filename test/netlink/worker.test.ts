// The netlink worker's limits and failure paths: backpressure, a peer that never answers,
// batches split to fit, groups split across batches, records that cannot be encoded, closing.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { XfrmClient } from '../../src/netlink/client.js';
import * as libc from '../../src/netlink/libc.js';
import type { XfrmOp, XfrmPolicy } from '../../src/netlink/xfrm-types.js';
import { parsePolicies } from '../helpers/iproute.js';
import { createNetns, type Netns } from '../helpers/netns.js';

const MARKER = 0x5e5e0001;

function policy(i: number): XfrmPolicy {
  const ue = `10.${(i >> 8) & 255}.${i & 255}.1`;
  return {
    selector: { family: 4, saddr: ue, prefixS: 32, daddr: '192.0.2.1', prefixD: 32, sport: 5062, sportMask: 0xffff, dport: 5064, dportMask: 0xffff, proto: 0, ifindex: 0, user: MARKER },
    dir: 'in', action: 'allow', priority: 2080, index: 0,
    templates: [{ family: 4, saddr: ue, daddr: '192.0.2.1', spi: 0, proto: 50, reqid: i + 1, mode: 'transport', optional: false }],
  };
}
const newPolicy = (i: number): XfrmOp => ({ op: 'newpolicy', policy: policy(i) });

async function inNs(tag: string, fn: (ns: Netns) => Promise<void>): Promise<void> {
  const ns = createNetns(tag);
  try {
    await fn(ns);
  } finally {
    ns.delete();
  }
}

const count = (ns: Netns): number => parsePolicies(ns.ip('xfrm', 'policy', 'list')).length;

test('backpressure: a group that would exceed queueMax is refused with NETLINK_QUEUE_FULL; room comes back as results arrive', async () => {
  await inNs('wk-queue', async (ns) => {
    const client = await XfrmClient.start({ netns: ns.name, marker: MARKER, queueMax: 10 });
    try {
      const first = client.submit([0, 1, 2, 3, 4, 5, 6, 7].map(newPolicy));
      assert.is(client.stats().queueDepth, 8);
      const err = await client.submit([8, 9, 10].map(newPolicy)).then(() => undefined, (e: Error & { code?: string }) => e);
      assert.is(err?.code, 'NETLINK_QUEUE_FULL');
      assert.ok((await client.submit([8, 9].map(newPolicy))).ok, 'exactly queueMax still fits');
      assert.ok((await first).ok);
      assert.is(client.stats().queueDepth, 0);
      assert.ok((await client.submit([10, 11, 12].map(newPolicy))).ok);
      assert.is(count(ns), 13);
    } finally {
      await client.close();
    }
  });
});

test('a peer that never answers: every op of the batch fails with NETLINK_TIMEOUT, dumps reject with it', async () => {
  // A real netlink socket of our own stands in for a kernel that does not answer.
  const silent = libc.socket(libc.AF_NETLINK, libc.SOCK_RAW | libc.SOCK_CLOEXEC, libc.NETLINK_XFRM);
  try {
    libc.bindNetlink(silent);
    const client = await XfrmClient.start({ marker: MARKER, timeoutMs: 150, peerPortId: libc.netlinkPortId(silent) });
    try {
      const r = await client.submit([newPolicy(1), newPolicy(2)]);
      assert.not.ok(r.ok);
      for (const x of r.results) assert.ok(!x.ok && x.code === 'NETLINK_TIMEOUT' && x.errnoName === 'ETIMEDOUT', JSON.stringify(x));
      // Outcome unknown, so the rollback tried to delete both (and timed out too).
      assert.equal(r.rolledBack?.map((x) => !x.ok && x.code), ['NETLINK_TIMEOUT', 'NETLINK_TIMEOUT']);
      assert.ok(client.stats().timeouts >= 2);
      const e = await client.dumpPolicies().then(() => undefined, (x: Error & { code?: string }) => x);
      assert.is(e?.code, 'NETLINK_TIMEOUT');
    } finally {
      await client.close();
    }
  } finally {
    libc.close(silent);
  }
});

test('batchMax splits what is queued into several datagrams; every op still gets its own result', async () => {
  await inNs('wk-split', async (ns) => {
    const client = await XfrmClient.start({ netns: ns.name, marker: MARKER, batchMax: 16 });
    try {
      const groups = Array.from({ length: 100 }, (_, i) => [newPolicy(i)]);
      groups[77] = [newPolicy(5)]; // EEXIST in the 5th datagram
      const rs = await Promise.all(groups.map((g) => client.submit(g)));
      const st = client.stats();
      assert.is(st.batches, 7);
      assert.is(st.opsPerBatch.find((b) => b.le === 16)!.count, 7, 'no datagram carried more than 16 ops');
      rs.forEach((r, i) => assert.is(r.ok, i !== 77, `group ${i}`));
      assert.is(count(ns), 99);
    } finally {
      await client.close();
    }
  });
});

test('small socket buffers: batches shrink to what the buffers hold, and every op still gets its result', async () => {
  await inNs('wk-sockbuf', async (ns) => {
    // 16 KiB requested -> 32 KiB effective: room for 16 error replies per datagram at our budget.
    const client = await XfrmClient.start({ netns: ns.name, marker: MARKER, socketBufferBytes: 16 * 1024 });
    try {
      // Every op fails (each a duplicate): the worst case for the receive buffer, nothing may be lost.
      assert.ok((await client.submit(Array.from({ length: 200 }, (_, i) => newPolicy(i)))).ok);
      const rs = await Promise.all(Array.from({ length: 200 }, (_, i) => client.submit([newPolicy(i)])));
      assert.ok(rs.every((r) => !r.ok && !r.results[0]!.ok && r.results[0]!.errnoName === 'EEXIST'));
      const st = client.stats();
      assert.is(st.overruns, 0);
      assert.is(st.opsPerBatch.find((b) => b.le === 16)!.count, st.batches, 'no datagram carried more than 16 ops');
      assert.is(st.batches, 2 * Math.ceil(200 / 16));
    } finally {
      await client.close();
    }
  });
});

test('a group split across datagrams stops at its first failure: later ops are not attempted, earlier ones rolled back', async () => {
  await inNs('wk-span', async (ns) => {
    const client = await XfrmClient.start({ netns: ns.name, marker: MARKER, batchMax: 4 });
    try {
      assert.ok((await client.submit([newPolicy(2)])).ok);
      const r = await client.submit(Array.from({ length: 10 }, (_, i) => newPolicy(i))); // op 2 exists
      assert.is(r.firstError?.index, 2);
      assert.equal(r.results.map((x) => (x.ok ? 'ok' : x.code)), ['ok', 'ok', 'KERNEL', 'ok', 'NOT_ATTEMPTED', 'NOT_ATTEMPTED', 'NOT_ATTEMPTED', 'NOT_ATTEMPTED', 'NOT_ATTEMPTED', 'NOT_ATTEMPTED']);
      assert.is(r.rolledBack?.length, 3);
      assert.equal(parsePolicies(ns.ip('xfrm', 'policy', 'list')).map((p) => p.src), ['10.0.2.1/32']);
    } finally {
      await client.close();
    }
  });
});

test('a record that cannot be encoded fails its group before anything reaches the kernel', async () => {
  await inNs('wk-invalid', async (ns) => {
    const client = await XfrmClient.start({ netns: ns.name, marker: MARKER });
    try {
      const bad: XfrmOp = { op: 'newpolicy', policy: { ...policy(3), selector: { ...policy(3).selector, saddr: '10.0.0.300' } } };
      const r = await client.submit([newPolicy(1), newPolicy(2), bad, newPolicy(4)]);
      assert.not.ok(r.ok);
      assert.is(r.firstError?.index, 2);
      assert.equal(r.results.map((x) => (x.ok ? 'ok' : x.code)), ['NOT_ATTEMPTED', 'NOT_ATTEMPTED', 'INVALID_RECORD', 'NOT_ATTEMPTED']);
      assert.ok(!r.results[2]!.ok && r.results[2]!.message.includes('10.0.0.300'));
      assert.is(count(ns), 0);
      assert.is(client.stats().batches, 0);
    } finally {
      await client.close();
    }
  });
});

test('start-up failures and a closed client are typed errors', async () => {
  const e = await XfrmClient.start({ netns: `pcscf-missing-${process.pid}`, marker: MARKER }).then(() => undefined, (x: Error & { code?: string }) => x);
  assert.is(e?.code, 'NETLINK_REQUEST_FAILED');
  assert.match(e!.message, /pcscf-missing/);
  await inNs('wk-close', async (ns) => {
    const client = await XfrmClient.start({ netns: ns.name, marker: MARKER });
    const pending = client.submit([newPolicy(1)]);
    await client.close();
    assert.ok((await pending).ok, 'work submitted before close() is finished');
    const after = await client.submit([newPolicy(2)]).then(() => undefined, (x: Error & { code?: string }) => x);
    assert.is(after?.code, 'NETLINK_CLOSED');
    assert.is(count(ns), 1);
  });
});

test('the capability probe agrees with iproute2 about ESP on this kernel, and tells the user how to check when it is missing', async () => {
  await inNs('wk-probe', async (ns) => {
    const espByIp = ns.tryIp('xfrm', 'state', 'add', 'src', '192.0.2.1', 'dst', '192.0.2.2', 'proto', 'esp', 'spi', '0x1000', 'mode', 'transport',
      'auth-trunc', 'hmac(sha1)', '0x' + '11'.repeat(20), '96', 'enc', 'cbc(aes)', '0x' + '22'.repeat(16)).ok;
    ns.ip('xfrm', 'state', 'flush');
    const client = await XfrmClient.start({ netns: ns.name, marker: MARKER });
    try {
      const caps = await client.probe([['hmac-sha-1-96', 'aes-cbc']]);
      assert.is(caps.esp.ipv4, espByIp);
      assert.is(caps.ok, espByIp && caps.esp.ipv6);
      if (!espByIp) assert.match(caps.message, /EPROTONOSUPPORT.*ip -n espcheck xfrm state add/s);
      assert.is(ns.ip('xfrm', 'state', 'list').trim(), '', 'the probe leaves no SA behind');
    } finally {
      await client.close();
    }
  });
});

test.run();
