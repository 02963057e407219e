// The SA set of one UE (kamailio-behaviour.md §6 rows 1-4) as records; that the kernel carries
// traffic with it is test/esp/traffic.test.ts.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  buildPcscfSaSet, buildUeSaSet, createOps, deleteOps, POLICY_PRIORITY, REPLAY_WINDOW, saSetIds, type TunnelParams,
} from '../../src/ipsec/sa-set.js';
import { policyIdOf, saIdOf } from '../../src/netlink/xfrm.js';

const p: TunnelParams = {
  family: 4, pcscfAddr: '192.0.2.10', ueAddr: '198.51.100.7',
  spiUc: 1111, spiUs: 2222, spiPc: 3333, spiPs: 4444,
  portUc: 5001, portUs: 5002, portPc: 6001, portPs: 6002,
  alg: 'hmac-sha-1-96', ealg: 'aes-cbc', ck: Buffer.alloc(16, 1), ik: Buffer.alloc(16, 2), marker: 143956232,
};

const flow = (x: { saddr: string; daddr: string; selector: { sport: number; dport: number } }): string =>
  `${x.saddr}:${x.selector.sport}>${x.daddr}:${x.selector.dport}`;

test('P-CSCF set: rows 1-4 with the receiver\'s SPIs on inbound SAs and the right policy directions', () => {
  const set = buildPcscfSaSet(p);
  assert.is(set.sas.length, 4);
  assert.is(set.policies.length, 4);
  assert.equal(set.sas.map((sa) => [flow(sa), sa.spi]), [
    ['198.51.100.7:5001>192.0.2.10:6002', 4444], // UE client -> P server, spi_ps
    ['192.0.2.10:6001>198.51.100.7:5002', 2222], // P client -> UE server, spi_us
    ['192.0.2.10:6002>198.51.100.7:5001', 1111], // P server -> UE client, spi_uc
    ['198.51.100.7:5002>192.0.2.10:6001', 3333], // UE server -> P client, spi_pc
  ]);
  assert.equal(set.policies.map((pol) => pol.dir), ['in', 'out', 'out', 'in']);
});

test('every SA: ESP transport, reqid = SPI, replay window 32, exact /32 selector with proto any and the marker', () => {
  for (const sa of buildPcscfSaSet(p).sas) {
    assert.is(sa.proto, 50);
    assert.is(sa.mode, 'transport');
    assert.is(sa.reqid, sa.spi);
    assert.is(sa.replayWindow, REPLAY_WINDOW);
    assert.is(sa.selector.proto, 0);
    assert.is(sa.selector.user, p.marker);
    assert.equal([sa.selector.prefixS, sa.selector.prefixD, sa.selector.sportMask, sa.selector.dportMask], [32, 32, 0xffff, 0xffff]);
    assert.equal([sa.selector.saddr, sa.selector.daddr], [sa.saddr, sa.daddr]);
    assert.is(sa.auth!.name, 'hmac(sha1)');
    assert.is(sa.crypt!.name, 'cbc(aes)');
  }
});

test('every policy: priority 2080, the SA\'s selector, one required ESP transport template with reqid = SPI', () => {
  const set = buildPcscfSaSet(p);
  set.policies.forEach((pol, i) => {
    const sa = set.sas[i]!;
    assert.is(pol.priority, POLICY_PRIORITY);
    assert.is(pol.action, 'allow');
    assert.equal(pol.selector, sa.selector);
    assert.equal(pol.templates, [{ family: 4, saddr: sa.saddr, daddr: sa.daddr, spi: 0, proto: 50, reqid: sa.spi, mode: 'transport', optional: false }]);
  });
});

test('the UE set is the mirror image: same SAs, reversed policy directions', () => {
  const pc = buildPcscfSaSet(p);
  const ue = buildUeSaSet(p);
  assert.equal(ue.sas, pc.sas);
  assert.equal(ue.policies.map((x) => x.dir), ['out', 'in', 'in', 'out']);
  assert.equal(ue.policies.map((x) => x.selector), pc.policies.map((x) => x.selector));
});

test('IPv6: /128 selectors', () => {
  const set = buildPcscfSaSet({ ...p, family: 6, pcscfAddr: '2001:db8::10', ueAddr: '2001:db8::7' });
  for (const sa of set.sas) assert.equal([sa.family, sa.selector.family, sa.selector.prefixS, sa.selector.prefixD], [6, 6, 128, 128]);
});

test('saSetIds deletes exactly what was built, on either side; createOps puts SAs first, deleteOps policies first', () => {
  for (const [side, set] of [['pcscf', buildPcscfSaSet(p)], ['ue', buildUeSaSet(p)]] as const) {
    const ids = saSetIds(p, side);
    assert.equal(ids.sas, set.sas.map(saIdOf));
    assert.equal(ids.policies, set.policies.map(policyIdOf));
    assert.equal(createOps(set).map((o) => o.op), ['newsa', 'newsa', 'newsa', 'newsa', 'newpolicy', 'newpolicy', 'newpolicy', 'newpolicy']);
    assert.equal(deleteOps(ids).map((o) => o.op), ['delpolicy', 'delpolicy', 'delpolicy', 'delpolicy', 'delsa', 'delsa', 'delsa', 'delsa']);
  }
});

test('an unusable algorithm pair is refused before anything is built', () => {
  assert.throws(() => buildPcscfSaSet({ ...p, alg: 'hmac-sha-1-96', ealg: 'aes-gcm' }), (e: Error & { code?: string }) => e.code === 'IPSEC_BAD_ALGORITHM');
});

test.run();
