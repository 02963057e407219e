// The load generator: many UEs from one process, each with its own ports and SPIs, sharing one
// SipNode and one netlink client, registered at a rate, with their 401 and 200 times.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { percentile, registerMany, slotOf } from '../../src/lab/load.js';
import { SipNode } from '../../src/lab/sip-node.js';
import { ownNetns } from '../helpers/own-netns.js';
import { K, OPC, PCSCF_PORT, startWorld, UE_MARKER } from './world.js';

await ownNetns('lab-load');

test('slots: 4 ports and 4 SPIs per UE, one after the other', () => {
  assert.equal(slotOf(0, { portBase: 20000, spiBase: 5000 }), { ports: { unprotected: 20000, server: 20001, clients: [20002, 20003] }, spiBase: 5000 });
  assert.equal(slotOf(3, { portBase: 20000, spiBase: 5000 }), { ports: { unprotected: 20012, server: 20013, clients: [20014, 20015] }, spiBase: 5012 });
});

test('percentile: nearest rank', () => {
  const v = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
  assert.equal([percentile(v, 50), percentile(v, 99), percentile(v, 100), percentile(v, 0), percentile([], 50)], [5, 10, 10, 1, NaN]);
});

test('40 UEs at 400/s through the P-CSCF stand-in: every one registered, 401 before 200, distinct SAs; one node, one XFRM client', async () => {
  const w = await startWorld({ count: 40 });
  const node = new SipNode();
  try {
    const samples: number[] = [];
    const r = await registerMany({
      count: 40, ratePerSecond: 400, xfrm: w.ueXfrm, node, onSample: (s) => samples.push(s.index),
      ue: (i) => ({
        impi: `ue${i + 1}@ims.example`, impu: `sip:ue${i + 1}@ims.example`, k: Buffer.from(K, 'hex'), opc: Buffer.from(OPC, 'hex'),
        addr: w.addr, pcscf: { addr: w.addr, port: PCSCF_PORT }, marker: UE_MARKER, ...slotOf(i, { portBase: 20000, spiBase: 50000 }),
      }),
    });
    assert.is(r.samples.length, 40);
    assert.equal(r.samples.filter((s) => !s.ok), []);
    for (const s of r.samples) assert.ok(s.challengedAfterMs! > 0 && s.challengedAfterMs! <= s.registeredAfterMs!, `UE ${s.index}`);
    assert.equal([...samples].sort((a, b) => a - b), [...Array(40).keys()]);
    assert.is(r.ues.filter((u) => u.registered).length, 40);
    assert.is(new Set(r.ues.map((u) => u.tunnel!.spiUc)).size, 40);
    assert.is(w.ueXfrm.groups.length, 40);
    assert.is(w.standin.sets().filter((s) => s.state === 'active').length, 40);
    assert.ok(r.elapsedMs >= 39 * (1000 / 400) - 1, 'the rate is kept');
    for (const ue of r.ues) await ue.close();
    assert.is(w.ueXfrm.groups.length, 80, 'closing removes each UE\'s SAs');
  } finally {
    await node.close();
    await w.close();
  }
});

test.run();
