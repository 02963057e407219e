// SAs against a kernel with ESP (the runner starts this file in the ESP VM): the capability
// probe, what `ip xfrm state add` creates decodes as expected in our dump and GETSA, a group
// that fails halfway leaves nothing behind, and cleanup by marker leaves foreign SAs alone.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildPcscfSaSet, createOps, type TunnelParams } from '../../src/ipsec/sa-set.js';
import { XfrmClient } from '../../src/netlink/client.js';
import type { XfrmSa } from '../../src/netlink/xfrm-types.js';
import { parsePolicies, parseStates } from '../helpers/iproute.js';
import { createNetns, type Netns } from '../helpers/netns.js';

const MARKER = 143956232;
let ns: Netns;
let client: XfrmClient;

const params = (family: 4 | 6): TunnelParams => ({
  family, pcscfAddr: family === 4 ? '192.0.2.10' : '2001:db8::10', ueAddr: family === 4 ? '198.51.100.7' : '2001:db8::7',
  spiUc: 0x500 + family, spiUs: 0x510 + family, spiPc: 0x520 + family, spiPs: 0x530 + family,
  portUc: 5001, portUs: 5002, portPc: 6001, portPs: 6002,
  alg: 'hmac-sha-1-96', ealg: 'aes-cbc', ck: Buffer.alloc(16, 0xc1), ik: Buffer.alloc(16, 0x1c), marker: MARKER,
});

const states = (): ReturnType<typeof parseStates> => parseStates(ns.ip('-s', '-d', 'xfrm', 'state', 'list'));
const strip = (sa: XfrmSa): XfrmSa => ({ ...sa, lifetime: undefined, current: undefined, stats: undefined }) as XfrmSa;

test.before(async () => {
  ns = createNetns('esp-sa');
  client = await XfrmClient.start({ netns: ns.name, marker: MARKER });
});

test.after(async () => {
  await client.close();
  ns.delete();
});

test.after.each(() => {
  ns.ip('xfrm', 'state', 'flush');
  ns.ip('xfrm', 'policy', 'flush');
});

test('the probe finds ESP for IPv4 and IPv6 and every algorithm pair usable, and leaves nothing behind', async () => {
  const caps = await client.probe();
  assert.equal(caps.esp, { ipv4: true, ipv6: true });
  assert.equal(caps.algorithms.filter((a) => !a.ok).map((a) => a.message), []);
  assert.is(caps.algorithms.length, 8);
  assert.ok(caps.ok);
  assert.match(caps.message, /ESP works/);
  assert.equal(states(), []);
});

test('SAs that `ip xfrm state add` creates decode field for field in our dump and through GETSA', async () => {
  ns.ip('xfrm', 'state', 'add', 'src', '10.1.0.1', 'dst', '10.1.0.2', 'proto', 'esp', 'spi', '0x1001', 'reqid', '4097', 'mode', 'transport',
    'replay-window', '32', 'auth-trunc', 'hmac(sha1)', '0x' + '11'.repeat(20), '96', 'enc', 'cbc(aes)', '0x' + '22'.repeat(16),
    'sel', 'src', '10.1.0.1/32', 'dst', '10.1.0.2/32', 'proto', 'udp', 'sport', '5062', 'dport', '5064');
  ns.ip('xfrm', 'state', 'add', 'src', '2001:db8:1::1', 'dst', '2001:db8:1::2', 'proto', 'esp', 'spi', '0x2002', 'reqid', '7', 'mode', 'transport',
    'aead', 'rfc4106(gcm(aes))', '0x' + '33'.repeat(20), '128');
  ns.ip('xfrm', 'state', 'add', 'src', '10.1.0.3', 'dst', '10.1.0.4', 'proto', 'esp', 'spi', '0x3003', 'mode', 'tunnel',
    'auth-trunc', 'hmac(md5)', '0x' + '44'.repeat(16), '96', 'enc', 'ecb(cipher_null)', '');
  const dumped = await client.dumpSas();
  const bySpi = (spi: number): XfrmSa => dumped.find((s) => s.spi === spi)!;
  assert.equal(strip(bySpi(0x1001)), strip({
    family: 4, saddr: '10.1.0.1', daddr: '10.1.0.2', spi: 0x1001, proto: 50, reqid: 4097, mode: 'transport', replayWindow: 32, flags: 0,
    selector: { family: 4, saddr: '10.1.0.1', prefixS: 32, daddr: '10.1.0.2', prefixD: 32, sport: 5062, sportMask: 0xffff, dport: 5064, dportMask: 0xffff, proto: 17, ifindex: 0, user: 0 },
    auth: { name: 'hmac(sha1)', key: Buffer.alloc(20, 0x11), truncBits: 96 },
    crypt: { name: 'cbc(aes)', key: Buffer.alloc(16, 0x22) },
  }));
  const gcm = bySpi(0x2002);
  assert.equal([gcm.family, gcm.saddr, gcm.daddr, gcm.reqid, gcm.auth, gcm.crypt], [6, '2001:db8:1::1', '2001:db8:1::2', 7, undefined, undefined]);
  assert.equal(gcm.aead, { name: 'rfc4106(gcm(aes))', key: Buffer.alloc(20, 0x33), icvBits: 128 });
  const md5 = bySpi(0x3003);
  assert.equal([md5.mode, md5.auth?.name, md5.auth?.truncBits, md5.crypt?.name, md5.crypt?.key.length], ['tunnel', 'hmac(md5)', 96, 'ecb(cipher_null)', 0]);
  assert.ok(dumped.every((s) => s.lifetime !== undefined && s.current !== undefined && s.stats !== undefined));
  // GETSA of one SA is the same record; of a missing one, nothing.
  assert.equal(strip((await client.getSa({ family: 6, daddr: '2001:db8:1::2', spi: 0x2002, proto: 50 }))!), strip(gcm));
  assert.is(await client.getSa({ family: 4, daddr: '10.1.0.2', spi: 0x9999, proto: 50 }), undefined);
  assert.equal(await client.dumpSas({ ours: true }), [], 'none of them carries our marker');
});

test('a group that fails halfway (a foreign SA already holds one SPI) leaves no SA or policy of ours behind', async () => {
  const p = params(4);
  // SA #4 of the set (UE server -> P-CSCF client) uses spi_pc towards the P-CSCF: take it first.
  ns.ip('xfrm', 'state', 'add', 'src', p.ueAddr, 'dst', p.pcscfAddr, 'proto', 'esp', 'spi', String(p.spiPc), 'mode', 'transport',
    'auth-trunc', 'hmac(sha1)', '0x' + '55'.repeat(20), '96', 'enc', 'cbc(aes)', '0x' + '66'.repeat(16));
  const r = await client.submit(createOps(buildPcscfSaSet(p)));
  assert.not.ok(r.ok);
  assert.is(r.firstError?.index, 3);
  assert.ok(!r.firstError!.result.ok && r.firstError!.result.errnoName === 'EEXIST', JSON.stringify(r.firstError));
  assert.ok(r.results.slice(0, 3).every((x) => x.ok));
  assert.ok(r.rolledBack!.length >= 3 && r.rolledBack!.every((x) => x.ok), JSON.stringify(r.rolledBack));
  assert.equal(states().map((s) => s.spi), [p.spiPc], 'only the foreign SA is left');
  assert.equal(parsePolicies(ns.ip('xfrm', 'policy', 'list')), []);
});

test('cleanup by marker deletes our SAs and policies, and no foreign SA', async () => {
  const rs = await Promise.all([client.submit(createOps(buildPcscfSaSet(params(4)))), client.submit(createOps(buildPcscfSaSet(params(6))))]);
  assert.ok(rs.every((r) => r.ok));
  ns.ip('xfrm', 'state', 'add', 'src', '10.2.0.1', 'dst', '10.2.0.2', 'proto', 'esp', 'spi', '0x7777', 'mode', 'transport',
    'auth-trunc', 'hmac(sha1)', '0x' + '77'.repeat(20), '96', 'enc', 'cbc(aes)', '0x' + '88'.repeat(16));
  assert.equal(await client.deleteOurs(), { sas: 8, policies: 8, errors: [] });
  assert.equal(states().map((s) => s.spi), [0x7777]);
  assert.equal(parsePolicies(ns.ip('xfrm', 'policy', 'list')), []);
});

test.run();
