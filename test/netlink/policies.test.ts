// XFRM policies against the host kernel (it has XFRM; SAs need ESP and are tested in test/esp/),
// through the netlink worker, inside namespaces this file creates and always deletes. Checked
// against iproute2 both ways, so the struct layouts are the kernel's, not only our own.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildPcscfSaSet, type TunnelParams } from '../../src/ipsec/sa-set.js';
import { XfrmClient } from '../../src/netlink/client.js';
import type { XfrmOp, XfrmPolicy } from '../../src/netlink/xfrm-types.js';
import { parsePolicies, type IpPolicy } from '../helpers/iproute.js';
import { createNetns, type Netns } from '../helpers/netns.js';

const MARKER = 143956232;

const params = (family: 4 | 6, i: number): TunnelParams => ({
  family,
  pcscfAddr: family === 4 ? '192.0.2.10' : '2001:db8::10',
  ueAddr: family === 4 ? `198.51.100.${i}` : `2001:db8:0:1::${i.toString(16)}`,
  spiUc: 1000 + 4 * i, spiUs: 1001 + 4 * i, spiPc: 1002 + 4 * i, spiPs: 1003 + 4 * i,
  portUc: 5000 + i, portUs: 5500 + i, portPc: 6100, portPs: 6101,
  alg: 'hmac-sha-1-96', ealg: 'aes-cbc', ck: Buffer.alloc(16, 1), ik: Buffer.alloc(16, 2), marker: MARKER,
});

/** Policy i of a simple family of distinct inbound policies. */
function policy(i: number, marker = MARKER): XfrmPolicy {
  const ue = `10.${(i >> 8) & 255}.${i & 255}.1`;
  return {
    selector: { family: 4, saddr: ue, prefixS: 32, daddr: '192.0.2.1', prefixD: 32, sport: 5062, sportMask: 0xffff, dport: 5064, dportMask: 0xffff, proto: 0, ifindex: 0, user: marker },
    dir: 'in', action: 'allow', priority: 2080, index: 0,
    templates: [{ family: 4, saddr: ue, daddr: '192.0.2.1', spi: 0, proto: 50, reqid: i + 1, mode: 'transport', optional: false }],
  };
}

const newPolicy = (policy: XfrmPolicy): XfrmOp => ({ op: 'newpolicy', policy });

/** The fields iproute2 prints for one of our policies. */
function asIp(p: XfrmPolicy): IpPolicy {
  const s = p.selector;
  return {
    src: `${s.saddr}/${s.prefixS}`, dst: `${s.daddr}/${s.prefixD}`,
    ...(s.proto !== 0 ? { proto: ({ 6: 'tcp', 17: 'udp' } as Record<number, string>)[s.proto] ?? String(s.proto) } : {}),
    ...(s.sportMask !== 0 ? { sport: s.sport } : {}), ...(s.dportMask !== 0 ? { dport: s.dport } : {}),
    uid: s.user, dir: p.dir, action: p.action, priority: p.priority,
    tmpls: p.templates.map((t) => ({ src: t.saddr, dst: t.daddr, proto: 'esp', spi: t.spi, reqid: t.reqid, mode: t.mode, level: t.optional ? 'use' : 'required' })),
  };
}

const key = (x: { src: string; dst: string; dir: string; sport?: number; dport?: number }): string => `${x.dir} ${x.src}:${x.sport ?? '*'} ${x.dst}:${x.dport ?? '*'}`;
const byKey = <T extends { src: string; dst: string; dir: string }>(xs: T[]): T[] => [...xs].sort((a, b) => key(a).localeCompare(key(b)));

async function withClient(tag: string, fn: (c: XfrmClient, ns: Netns) => Promise<void>, opts: { batchMax?: number } = {}): Promise<void> {
  const ns = createNetns(tag);
  let client: XfrmClient | undefined;
  try {
    client = await XfrmClient.start({ netns: ns.name, marker: MARKER, ...opts });
    await fn(client, ns);
  } finally {
    await client?.close();
    ns.delete();
  }
}

test('policies the worker creates read back through `ip xfrm policy` with the same fields (IPv4 and IPv6)', async () => {
  await withClient('pol-ip', async (client, ns) => {
    const ours = [...buildPcscfSaSet(params(4, 7)).policies, ...buildPcscfSaSet(params(6, 7)).policies];
    const r = await client.submit(ours.map(newPolicy));
    assert.ok(r.ok, JSON.stringify(r.firstError));
    const seen = parsePolicies(ns.ip('-s', '-d', 'xfrm', 'policy', 'list'));
    assert.equal(byKey(seen), byKey(ours.map(asIp)));
  });
});

test('policies `ip xfrm policy add` creates decode field for field in our dump (foreign: user 0)', async () => {
  await withClient('pol-dump', async (client, ns) => {
    ns.ip('xfrm', 'policy', 'add', 'src', '10.9.0.1/32', 'dst', '10.9.0.2/32', 'proto', 'udp', 'sport', '5060', 'dport', '5061', 'dir', 'out', 'priority', '77',
      'tmpl', 'src', '10.9.0.1', 'dst', '10.9.0.2', 'proto', 'esp', 'reqid', '9', 'mode', 'transport');
    ns.ip('xfrm', 'policy', 'add', 'src', '2001:db8:9::1/128', 'dst', '2001:db8:9::/64', 'proto', 'tcp', 'dport', '443', 'dir', 'in', 'priority', '3000',
      'tmpl', 'src', '2001:db8:9::1', 'dst', '2001:db8:9::2', 'proto', 'esp', 'spi', '0x1234', 'reqid', '10', 'mode', 'tunnel', 'level', 'use');
    ns.ip('xfrm', 'policy', 'add', 'src', '10.8.0.0/16', 'dst', '10.7.0.0/24', 'dir', 'fwd', 'action', 'block');
    const dumped = await client.dumpPolicies();
    const strip = (p: XfrmPolicy): XfrmPolicy => ({ ...p, index: 0, lifetime: undefined, current: undefined }) as XfrmPolicy;
    assert.equal(byKey(dumped.map(asIp)), byKey(parsePolicies(ns.ip('-s', '-d', 'xfrm', 'policy', 'list'))));
    const tcp6 = dumped.find((p) => p.dir === 'in')!;
    assert.equal(strip(tcp6), strip({
      selector: { family: 6, saddr: '2001:db8:9::1', prefixS: 128, daddr: '2001:db8:9::', prefixD: 64, sport: 0, sportMask: 0, dport: 443, dportMask: 0xffff, proto: 6, ifindex: 0, user: 0 },
      dir: 'in', action: 'allow', priority: 3000, index: 0,
      templates: [{ family: 6, saddr: '2001:db8:9::1', daddr: '2001:db8:9::2', spi: 0x1234, proto: 50, reqid: 10, mode: 'tunnel', optional: true }],
    }));
    const udp4 = dumped.find((p) => p.dir === 'out')!;
    assert.equal([udp4.selector.proto, udp4.selector.sport, udp4.selector.dport, udp4.priority, udp4.templates[0]!.reqid], [17, 5060, 5061, 77, 9]);
    const block = dumped.find((p) => p.dir === 'fwd')!;
    assert.equal([block.action, block.selector.prefixS, block.selector.prefixD, block.templates.length], ['block', 16, 24, 0]);
    assert.ok(dumped.every((p) => p.index > 0 && p.lifetime !== undefined));
    assert.equal(await client.dumpPolicies({ ours: true }), []);
  });
});

test('in one batch of hundreds, EEXIST, ENOENT, ESRCH and EINVAL come back on exactly the ops that caused them', async () => {
  await withClient('pol-errs', async (client, ns) => {
    const groups: XfrmOp[][] = Array.from({ length: 400 }, (_, i) => [newPolicy(policy(i))]);
    groups[50] = [newPolicy(policy(10))]; // duplicate -> EEXIST
    groups[120] = [{ op: 'delpolicy', id: { selector: policy(1000).selector, dir: 'in' } }]; // never created -> ENOENT
    groups[200] = [newPolicy({ ...policy(200), selector: { ...policy(200).selector, prefixD: 33 } })]; // bad selector -> EINVAL
    groups[333] = [{ op: 'delsa', id: { family: 4, daddr: '192.0.2.1', spi: 0x4242, proto: 50 } }]; // no such SA -> ESRCH
    const before = client.stats().batches;
    const results = await Promise.all(groups.map((g) => client.submit(g)));
    assert.is(client.stats().batches - before, 1, 'the 400 groups went to the kernel in one datagram');
    const expected: Record<number, string> = { 50: 'EEXIST', 120: 'ENOENT', 200: 'EINVAL', 333: 'ESRCH' };
    results.forEach((r, i) => {
      const want = expected[i];
      const got = r.results[0]!;
      if (want === undefined) assert.ok(got.ok, `op ${i}: ${JSON.stringify(got)}`);
      else assert.ok(!got.ok && got.code === 'KERNEL' && got.errnoName === want, `op ${i}: want ${want}, got ${JSON.stringify(got)}`);
    });
    const einval = results[200]!.results[0]!;
    assert.ok(!einval.ok && /prefix/i.test(einval.message) && einval.message.includes('10.0.200.1/32'), `ext-ack text and context: ${!einval.ok ? einval.message : ''}`);
    assert.is(parsePolicies(ns.ip('-s', 'xfrm', 'policy', 'list')).length, 396, 'the 396 good NEWPOLICY ops, nothing else');
  });
});

test('a group that fails halfway is rolled back: nothing it created remains, what existed before is untouched', async () => {
  await withClient('pol-rollback', async (client, ns) => {
    const existing = policy(3);
    assert.ok((await client.submit([newPolicy(existing)])).ok);
    const group = [0, 1, 2, 3, 4, 5].map((i) => newPolicy(policy(i))); // op 3 collides with `existing`
    const r = await client.submit(group);
    assert.not.ok(r.ok);
    assert.is(r.firstError?.index, 3);
    assert.ok(!r.firstError!.result.ok && r.firstError!.result.errnoName === 'EEXIST');
    assert.ok(r.results[0]!.ok && r.results[1]!.ok && r.results[2]!.ok);
    // Everything the group created (ops 0-2, 4, 5) is deleted, newest first.
    assert.is(r.rolledBack?.length, 5);
    assert.ok(r.rolledBack!.every((x) => x.ok));
    const left = parsePolicies(ns.ip('-s', 'xfrm', 'policy', 'list'));
    assert.equal(left.map((p) => p.src), ['10.0.3.1/32']);
    assert.equal((await client.dumpPolicies({ ours: true })).map((p) => p.selector.saddr), ['10.0.3.1']);
  });
});

test('cleanup by marker deletes ours only: a policy from `ip` and one with another marker (same selector otherwise) stay', async () => {
  await withClient('pol-clean', async (client, ns) => {
    const ours = [...buildPcscfSaSet(params(4, 1)).policies, ...buildPcscfSaSet(params(6, 2)).policies];
    assert.ok((await client.submit(ours.map(newPolicy))).ok);
    ns.ip('xfrm', 'policy', 'add', 'src', '198.51.100.1/32', 'dst', '192.0.2.10/32', 'dir', 'in', 'priority', '2080');
    const other = await XfrmClient.start({ netns: ns.name, marker: MARKER + 1 });
    try {
      // The kernel compares whole selectors, `user` included, so this coexists with ours.
      assert.ok((await other.submit([newPolicy({ ...ours[0]!, selector: { ...ours[0]!.selector, user: MARKER + 1 } })])).ok);
      assert.is((await other.dumpPolicies({ ours: true })).length, 1);
    } finally {
      await other.close();
    }
    const del = await client.deleteOurs();
    assert.equal(del, { sas: 0, policies: 8, errors: [] });
    const left = parsePolicies(ns.ip('-s', 'xfrm', 'policy', 'list'));
    assert.equal(left.map((p) => p.uid).sort(), [0, MARKER + 1]);
    assert.equal(await client.dumpPolicies({ ours: true }), []);
    assert.equal(await client.deleteOurs(), { sas: 0, policies: 0, errors: [] }, 'nothing left to delete is not an error');
  });
});

test('DELPOLICY through the worker removes the policy; a second delete is ENOENT', async () => {
  await withClient('pol-del', async (client, ns) => {
    const p = buildPcscfSaSet(params(6, 9)).policies[1]!;
    assert.ok((await client.submit([newPolicy(p)])).ok);
    assert.is(parsePolicies(ns.ip('xfrm', 'policy', 'list')).length, 1);
    const del: XfrmOp = { op: 'delpolicy', id: { selector: p.selector, dir: p.dir } };
    assert.ok((await client.submit([del])).ok);
    assert.is(ns.ip('xfrm', 'policy', 'list').trim(), '');
    const again = (await client.submit([del])).results[0]!;
    assert.ok(!again.ok && again.errnoName === 'ENOENT' && again.message.includes('DELPOLICY out'), JSON.stringify(again));
  });
});

test.run();
