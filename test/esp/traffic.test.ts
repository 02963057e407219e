// Real ESP traffic (needs a kernel with ESP: the runner starts this file in the ESP VM): a UE
// namespace and a P-CSCF namespace on a veth pair, each with the SA set sa-set.ts builds for it,
// installed by its own netlink worker. Every algorithm pair, IPv4 and IPv6, UDP and TCP, both
// SA pairs (UE client -> P-CSCF server, P-CSCF client -> UE server); wrong keys fail; plaintext
// to a protected port is dropped; the SA counters move and `ip xfrm state` agrees with our dump.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildPcscfSaSet, buildUeSaSet, createOps, type TunnelParams } from '../../src/ipsec/sa-set.js';
import { VALID_ALG_PAIRS } from '../../src/ipsec/algorithms.js';
import { XfrmClient } from '../../src/netlink/client.js';
import type { XfrmSa } from '../../src/netlink/xfrm-types.js';
import { parseStates, parseXfrmStat } from '../helpers/iproute.js';
import { NetPeer, type Exchange } from '../helpers/net-peer.js';
import { createNetns, vethPair, type Netns } from '../helpers/netns.js';

const MARKER = 143956232;
const UE = { 4: '172.31.251.1', 6: 'fd00:e5b:1::1' } as const;
const PC = { 4: '172.31.251.2', 6: 'fd00:e5b:1::2' } as const;
const CK = Buffer.from('0123456789abcdeffedcba9876543210', 'hex');
const IK = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
// Generous: QEMU without KVM on a busy 2-core host can take seconds for a TCP handshake; a
// protected exchange that fails does so by never answering, so this only bounds a failure.
const TIMEOUT_MS = 10_000;

interface World {
  ue: Netns;
  pc: Netns;
  ueX: XfrmClient;
  pcX: XfrmClient;
  uePeer: NetPeer;
  pcPeer: NetPeer;
}
let w: World;

/** Tunnel n: its own SPIs and ports, so every tunnel's flows are distinct. */
function tunnel(n: number, family: 4 | 6, pair: readonly [TunnelParams['alg'], TunnelParams['ealg']]): TunnelParams {
  const base = 20000 + 10 * n;
  return {
    family, ueAddr: UE[family], pcscfAddr: PC[family],
    spiUc: 0x3000 + 4 * n, spiUs: 0x3001 + 4 * n, spiPc: 0x3002 + 4 * n, spiPs: 0x3003 + 4 * n,
    portUc: base + 1, portUs: base + 2, portPc: base + 3, portPs: base + 4,
    alg: pair[0], ealg: pair[1], ck: CK, ik: IK, marker: MARKER,
  };
}

const tunnels = VALID_ALG_PAIRS.flatMap((pair, i) => [tunnel(2 * i, 4, pair), tunnel(2 * i + 1, 6, pair)]);
const label = (p: TunnelParams): string => `${p.alg}/${p.ealg} IPv${p.family}`;

/** UE client -> P-CSCF server and P-CSCF client -> UE server, each over UDP and TCP. */
function flows(p: TunnelParams): { who: 'ue' | 'pc'; proto: 'udp' | 'tcp'; x: Exchange }[] {
  const out: { who: 'ue' | 'pc'; proto: 'udp' | 'tcp'; x: Exchange }[] = [];
  for (const proto of ['udp', 'tcp'] as const) {
    out.push({ who: 'ue', proto, x: { local: p.ueAddr, lport: p.portUc, remote: p.pcscfAddr, rport: p.portPs, payload: `${proto} ue->pc ${label(p)}`, timeoutMs: TIMEOUT_MS } });
    out.push({ who: 'pc', proto, x: { local: p.pcscfAddr, lport: p.portPc, remote: p.ueAddr, rport: p.portUs, payload: `${proto} pc->ue ${label(p)}`, timeoutMs: TIMEOUT_MS } });
  }
  return out;
}

function run(f: { who: 'ue' | 'pc'; proto: 'udp' | 'tcp'; x: Exchange }): ReturnType<NetPeer['udp']> {
  const peer = f.who === 'ue' ? w.uePeer : w.pcPeer;
  return f.proto === 'udp' ? peer.udp(f.x) : peer.tcp(f.x);
}

const xfrmStat = (ns: Netns): Record<string, number> => parseXfrmStat(ns.exec('cat', '/proc/net/xfrm_stat'));

test.before(async () => {
  const ue = createNetns('esp-ue');
  const pc = createNetns('esp-pc');
  const [ueIf, pcIf] = vethPair({ ns: ue, addrs: [`${UE[4]}/24`, `${UE[6]}/64`] }, { ns: pc, addrs: [`${PC[4]}/24`, `${PC[6]}/64`] });
  // Static neighbours, so that no first packet of a protected flow waits (or is dropped) while
  // ARP / neighbour discovery runs in a slow VM.
  const mac = (ns: Netns, ifname: string): string => /link\/ether (\S+)/.exec(ns.ip('link', 'show', ifname))![1]!;
  for (const f of [4, 6] as const) {
    ue.ip('neigh', 'replace', PC[f], 'lladdr', mac(pc, pcIf), 'dev', ueIf, 'nud', 'permanent');
    pc.ip('neigh', 'replace', UE[f], 'lladdr', mac(ue, ueIf), 'dev', pcIf, 'nud', 'permanent');
  }
  const [ueX, pcX, uePeer, pcPeer] = await Promise.all([
    XfrmClient.start({ netns: ue.name, marker: MARKER }),
    XfrmClient.start({ netns: pc.name, marker: MARKER }),
    NetPeer.start(ue),
    NetPeer.start(pc),
  ]);
  w = { ue, pc, ueX, pcX, uePeer, pcPeer };
});

test.after(async () => {
  w.uePeer.close();
  w.pcPeer.close();
  await Promise.all([w.ueX.close(), w.pcX.close()]);
  w.ue.delete();
  w.pc.delete();
});

test('every algorithm pair, IPv4 and IPv6: both SA pairs carry UDP and TCP; counters move; ip xfrm state agrees', async () => {
  for (const p of tunnels) {
    await w.pcPeer.listen(p.pcscfAddr, p.portPs);
    await w.uePeer.listen(p.ueAddr, p.portUs);
  }
  // All 16 tunnels of each side in one go: the worker batches them.
  const [pcR, ueR] = await Promise.all([
    Promise.all(tunnels.map((p) => w.pcX.submit(createOps(buildPcscfSaSet(p))))),
    Promise.all(tunnels.map((p) => w.ueX.submit(createOps(buildUeSaSet(p))))),
  ]);
  tunnels.forEach((p, i) => {
    assert.ok(pcR[i]!.ok, `P-CSCF ${label(p)}: ${JSON.stringify(pcR[i]!.firstError)}`);
    assert.ok(ueR[i]!.ok, `UE ${label(p)}: ${JSON.stringify(ueR[i]!.firstError)}`);
  });

  // One tunnel at a time (its 4 flows together): the VM is slow, and this keeps a lost packet rare.
  for (const p of tunnels) {
    const fs = flows(p);
    const answers = await Promise.all(fs.map(run));
    answers.forEach((a, i) => {
      const f = fs[i]!;
      assert.equal(a.ok ? a.reply : a.error, `ack:${f.x.payload}`, `${label(p)} ${f.proto} ${f.who}->`);
    });
  }

  // Every SA on both sides saw packets (so the traffic above was ESP, not plaintext).
  for (const [side, client, ns] of [['P-CSCF', w.pcX, w.pc], ['UE', w.ueX, w.ue]] as const) {
    const sas = await client.dumpSas({ ours: true });
    assert.is(sas.length, tunnels.length * 4, side);
    for (const sa of sas) assert.ok((sa.current?.packets ?? 0n) > 0n, `${side} SA spi 0x${sa.spi.toString(16)} carried no packet`);
    // iproute2's view of the same SAs: same ids, algorithms, keys, selectors and counters.
    const ip = parseStates(ns.ip('-s', '-d', 'xfrm', 'state', 'list'));
    assert.is(ip.length, sas.length);
    for (const sa of sas) {
      const seen = ip.find((s) => s.spi === sa.spi && s.dst === sa.daddr);
      assert.ok(seen, `ip xfrm state lacks spi 0x${sa.spi.toString(16)}`);
      assert.equal(seen, expectedIpState(sa), `spi 0x${sa.spi.toString(16)}`);
    }
  }
});

/** What `ip -s -d xfrm state` prints for one of our SAs. */
function expectedIpState(sa: XfrmSa): ReturnType<typeof parseStates>[number] {
  const hex = (k: Uint8Array): string => Buffer.from(k).toString('hex');
  const s = sa.selector;
  return {
    src: sa.saddr, dst: sa.daddr, proto: 'esp', spi: sa.spi, reqid: sa.reqid, mode: sa.mode, replayWindow: sa.replayWindow,
    ...(sa.auth ? { auth: { name: sa.auth.name, key: hex(sa.auth.key), bits: sa.auth.key.length * 8, trunc: sa.auth.truncBits } } : {}),
    ...(sa.crypt ? { enc: { name: sa.crypt.name, key: hex(sa.crypt.key), bits: sa.crypt.key.length * 8 } } : {}),
    ...(sa.aead ? { aead: { name: sa.aead.name, key: hex(sa.aead.key), bits: sa.aead.key.length * 8, icv: sa.aead.icvBits } } : {}),
    sel: { src: `${s.saddr}/${s.prefixS}`, dst: `${s.daddr}/${s.prefixD}`, sport: s.sport, dport: s.dport, uid: s.user },
    bytes: Number(sa.current!.bytes), packets: Number(sa.current!.packets),
  };
}

test('wrong keys on the UE side: the traffic fails, the P-CSCF counts ESP integrity failures', async () => {
  for (const [n, pair] of [[40, ['hmac-sha-1-96', 'aes-cbc']], [41, ['null', 'aes-gcm']], [42, ['aes-gmac', 'null']]] as const) {
    const p = tunnel(n, 4, pair);
    await w.pcPeer.listen(p.pcscfAddr, p.portPs);
    assert.ok((await w.pcX.submit(createOps(buildPcscfSaSet(p)))).ok);
    const wrong = { ...p, ik: Buffer.from(IK).reverse(), ck: Buffer.from(CK).reverse() };
    assert.ok((await w.ueX.submit(createOps(buildUeSaSet(wrong)))).ok);
    const before = xfrmStat(w.pc);
    const a = await w.uePeer.udp({ local: p.ueAddr, lport: p.portUc, remote: p.pcscfAddr, rport: p.portPs, payload: 'wrong keys', timeoutMs: 1500 });
    assert.equal(a.ok ? a.reply : a.error, 'timeout', label(p));
    const after = xfrmStat(w.pc);
    assert.ok(after['XfrmInStateProtoError']! > before['XfrmInStateProtoError']!, `${label(p)}: no ESP integrity failure counted`);
  }
});

test('plaintext to a protected port is dropped by the inbound policy (XfrmInTmplMismatch); an unprotected port still answers', async () => {
  const p = tunnel(50, 4, ['hmac-sha-1-96', 'aes-cbc']);
  await w.pcPeer.listen(p.pcscfAddr, p.portPs);
  await w.pcPeer.listen(p.pcscfAddr, p.portPs + 100);
  // Only the P-CSCF side is installed: the UE sends in the clear.
  assert.ok((await w.pcX.submit(createOps(buildPcscfSaSet(p)))).ok);
  const control = await w.uePeer.udp({ local: p.ueAddr, lport: p.portUc, remote: p.pcscfAddr, rport: p.portPs + 100, payload: 'clear', timeoutMs: TIMEOUT_MS });
  assert.equal(control.ok ? control.reply : control.error, 'ack:clear');
  const before = xfrmStat(w.pc);
  const a = await w.uePeer.udp({ local: p.ueAddr, lport: p.portUc, remote: p.pcscfAddr, rport: p.portPs, payload: 'clear', timeoutMs: 1500 });
  assert.equal(a.ok ? a.reply : a.error, 'timeout');
  const t = await w.uePeer.tcp({ local: p.ueAddr, lport: p.portUc, remote: p.pcscfAddr, rport: p.portPs, payload: 'clear', timeoutMs: 1500 });
  assert.not.ok(t.ok);
  const after = xfrmStat(w.pc);
  assert.ok(after['XfrmInTmplMismatch']! >= before['XfrmInTmplMismatch']! + 2, `XfrmInTmplMismatch ${before['XfrmInTmplMismatch']} -> ${after['XfrmInTmplMismatch']}`);
});

test.run();
