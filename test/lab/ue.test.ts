// The lab UE against the lab S-CSCF through the P-CSCF stand-in, on loopback in this file's own
// namespace, with the SAs recorded instead of installed: what it sends and installs at each step
// of registration, MESSAGE, re-registration (TS 33.203 §7.4) and de-registration, and how it
// reports each kind of failure.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildUeSaSet, createOps, deleteOps, saSetIds, type TunnelParams } from '../../src/ipsec/sa-set.js';
import { UeError, type UeErrorCode } from '../../src/lab/errors.js';
import { SipNode } from '../../src/lab/sip-node.js';
import type { UeEvent } from '../../src/lab/ue.js';
import { ownNetns } from '../helpers/own-netns.js';
import {
  IMPU, newUe, PCSCF_CLIENT_PORTS, PCSCF_SERVER_PORT, PCSCF_SPI_BASE, startWorld, TEL, UE_MARKER, UE_PORTS, UE_SPI_BASE, type World,
} from './world.js';

await ownNetns('lab-ue');

async function rejects(p: Promise<unknown>, code: UeErrorCode): Promise<UeError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, UeError);
    assert.is((e as UeError).code, code, (e as Error).message);
    return e as UeError;
  }
  assert.unreachable(`no ${code}`);
  throw new Error('unreachable');
}

async function within<T>(started: Promise<World>, fn: (w: World) => Promise<T>): Promise<T> {
  const w = await started;
  try {
    return await fn(w);
  } finally {
    await w.close();
  }
}

const names = (events: readonly UeEvent[]): string[] => events.map((e) => e.event);
/** The stand-in's view of a set, as the UE must have installed it (the keys included). */
const ueView = (p: TunnelParams): TunnelParams => ({ ...p, marker: UE_MARKER });

for (const [transport, family] of [['udp', 4], ['tcp', 4], ['udp', 6], ['tcp', 6]] as const) {
  test(`${transport.toUpperCase()} IPv${family}: register, MESSAGE both ways, re-register, de-register`, () => within(startWorld({ family }), async (w) => {
    const { ue, events } = newUe(w, transport);
    try {
      const t = await ue.register();
      assert.ok(t.challengedAfterMs !== undefined && t.challengedAfterMs <= t.doneAfterMs);
      assert.equal(names(events), ['security-client', 'challenged', 'security-server', 'sas-installed', 'registered']);
      // The UE installed the mirror of what the P-CSCF installed: same SPIs, ports, algorithms and keys.
      const [pc1] = w.standin.log.created;
      assert.equal(ue.tunnel, ueView(pc1!));
      assert.equal(w.ueXfrm.groups, [createOps(buildUeSaSet(ueView(pc1!)))]);
      assert.equal([pc1!.spiUc, pc1!.spiUs, pc1!.portUc, pc1!.portUs, pc1!.portPs], [UE_SPI_BASE, UE_SPI_BASE + 1, UE_PORTS.clients[0], UE_PORTS.server, PCSCF_SERVER_PORT]);
      assert.is(w.standin.log.verifyMismatches, 0, 'Security-Verify and Security-Client as the P-CSCF expects');
      const offered = events[0];
      assert.equal(offered?.event === 'security-client' && [offered.procedure, offered.value],
        ['register', `ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=${UE_SPI_BASE};spi-s=${UE_SPI_BASE + 1};port-c=${UE_PORTS.clients[0]};port-s=${UE_PORTS.server}`]);
      const registered = events.at(-1);
      assert.equal(registered?.event === 'registered' && [registered.serviceRoute, registered.associatedUris, registered.expires],
        [[`<sip:orig@${w.family === 6 ? '[::1]' : '127.0.0.1'}:6060;lr>`], [`<${IMPU}>`, `<${TEL}>`], 600]);

      assert.equal(await ue.sendMessage('sip:bob@ims.example', 'hello'), { status: 200, reason: 'OK' });
      assert.ok(w.scscfEvents.some((e) => e.event === 'message-received' && e.text === 'hello' && e.requestUri === 'sip:bob@ims.example'));
      assert.equal(await w.scscf.sendMessage(IMPU, 'hi alice'), { ok: true, status: 200, reason: 'OK' });
      assert.equal(events.filter((e) => e.event === 'message-received').map((e) => e.event === 'message-received' && e.text), ['hi alice']);
      assert.is(w.standin.log.forwardedToUe, 1);

      // TS 33.203 §7.4: new SPIs and port_uc, port_us kept; old SAs removed after the 200 over the new ones.
      events.length = 0;
      const r = await ue.reregister();
      assert.ok(r.challengedAfterMs !== undefined);
      assert.equal(names(events), ['security-client', 'challenged', 'security-server', 'sas-installed', 'sas-removed', 'reregistered']);
      const pc2 = w.standin.log.created[1]!;
      assert.equal([pc2.spiUc, pc2.spiUs, pc2.portUc, pc2.portUs], [UE_SPI_BASE + 2, UE_SPI_BASE + 3, UE_PORTS.clients[1], UE_PORTS.server]);
      assert.equal([pc2.portPs, pc2.portPc, pc1!.portPc], [PCSCF_SERVER_PORT, PCSCF_CLIENT_PORTS[1], PCSCF_CLIENT_PORTS[0]]);
      assert.not.equal(pc2.ck, pc1!.ck, 'a new challenge, new keys');
      assert.equal(ue.tunnel, ueView(pc2));
      assert.equal(w.ueXfrm.groups.slice(1), [createOps(buildUeSaSet(ueView(pc2))), deleteOps(saSetIds(ueView(pc1!), 'ue'))]);
      assert.equal(w.standin.sets().map((s) => [s.params.spiUc, s.state]), [[UE_SPI_BASE + 2, 'active']]);
      assert.equal(await ue.sendMessage('sip:bob@ims.example', 'over the new SAs'), { status: 200, reason: 'OK' });
      assert.equal(await w.scscf.sendMessage(IMPU, 'to the new SAs'), { ok: true, status: 200, reason: 'OK' });

      // A second re-registration goes back to the first SPI pair and client port.
      await ue.reregister();
      assert.equal([ue.tunnel!.spiUc, ue.tunnel!.portUc], [UE_SPI_BASE, UE_PORTS.clients[0]]);

      events.length = 0;
      await ue.deregister();
      assert.equal(names(events), ['security-client', 'sas-removed', 'deregistered']);
      assert.is(ue.registered, false);
      assert.equal(w.ueXfrm.groups.at(-1), deleteOps(saSetIds(ueView(w.standin.log.created[2]!), 'ue')));
      assert.equal(w.scscf.bindings(IMPU), []);
      assert.equal(w.standin.sets(), []);
      await rejects(ue.sendMessage('sip:bob@ims.example', 'gone'), 'UE_NOT_REGISTERED');
    } finally {
      await ue.close();
    }
  }));
}

test('a 503 instead of the 401 (a P-CSCF that cannot create SAs) is UE_NO_CHALLENGE with the status; nothing installed', () => within(startWorld({ standin: { failChallengeWith: 503 } }), async (w) => {
  const { ue } = newUe(w);
  try {
    const e = await rejects(ue.register(), 'UE_NO_CHALLENGE');
    assert.is(e.details.status, 503);
    assert.match(e.message, /503 .* instead of 401/);
    assert.equal(w.ueXfrm.groups, []);
    // The UE can try again: its unprotected port was released.
    await rejects(ue.register(), 'UE_NO_CHALLENGE');
  } finally {
    await ue.close();
  }
}));

test('a Security-Server the UE cannot use is UE_SECURITY_SERVER_UNUSABLE with the reason; nothing installed', async () => {
  await within(startWorld({ standin: { editSecurityServer: (v) => v.replace('alg=hmac-sha-1-96', 'alg=hmac-md5-96') } }), async (w) => {
    const { ue } = newUe(w);
    try {
      const e = await rejects(ue.register(), 'UE_SECURITY_SERVER_UNUSABLE');
      assert.match(e.message, /was not offered/);
      assert.equal(w.ueXfrm.groups, []);
    } finally {
      await ue.close();
    }
  });
  await within(startWorld({ standin: { editSecurityServer: (v) => v.replace(/spi-s=\d+;/, '') } }), async (w) => {
    const { ue } = newUe(w);
    try {
      assert.match((await rejects(ue.register(), 'UE_SECURITY_SERVER_UNUSABLE')).message, /SPI_MISSING/);
    } finally {
      await ue.close();
    }
  });
});

test('a Security-Server altered on its way (bidding down) makes the echo differ: the P-CSCF refuses it, the UE removes its SAs', () => within(startWorld({ standin: { editSecurityServer: (v) => v.replace('q=0.1', 'q=0.9') } }), async (w) => {
  const { ue, events } = newUe(w);
  try {
    const e = await rejects(ue.register(), 'UE_REJECTED');
    assert.is(e.details.status, 494);
    assert.is(w.standin.log.verifyMismatches, 1);
    assert.equal(names(events), ['security-client', 'challenged', 'security-server', 'sas-installed', 'sas-removed']);
    assert.equal(w.ueXfrm.kinds(), [['newsa', 'newpolicy'], ['delpolicy', 'delsa']]);
    assert.is(ue.registered, false);
  } finally {
    await ue.close();
  }
}));

test('a kernel failure is UE_KERNEL with errno and errnoName; the UE stays unregistered', () => within(startWorld(), async (w) => {
  const { ue, events } = newUe(w);
  w.ueXfrm.fail = { index: 5, errno: 17, errnoName: 'EEXIST' };
  try {
    const e = await rejects(ue.register(), 'UE_KERNEL');
    assert.equal([e.details.errno, e.details.errnoName], [17, 'EEXIST']);
    assert.match(e.message, /installing the SAs: op 5 failed \(EEXIST\)/);
    assert.is(ue.registered, false);
    assert.not.ok(names(events).includes('sas-installed'));
    w.ueXfrm.fail = undefined;
    await ue.register();
    assert.ok(ue.registered, 'a later attempt works');
  } finally {
    await ue.close();
  }
}));

test('a USIM ahead of the HSS resynchronises (AUTS) and registers; a USIM with another K reports a MAC failure', async () => {
  await within(startWorld({ sqn: 1 }), async (w) => {
    const { ue, events } = newUe(w, 'udp', { sqnMs: 500 });
    try {
      await ue.register();
      assert.equal(names(events), ['security-client', 'challenged', 'resynchronising', 'challenged', 'security-server', 'sas-installed', 'registered']);
      assert.ok(w.scscfEvents.some((e) => e.event === 'resynchronised' && e.sqnMs === 500));
      assert.is(w.standin.log.created.length, 2, 'each 401 made SAs at the P-CSCF; the first ones were replaced');
      assert.equal(w.standin.sets().length, 1);
    } finally {
      await ue.close();
    }
  });
  await within(startWorld(), async (w) => {
    const { ue } = newUe(w, 'udp', { k: Buffer.alloc(16, 9) });
    try {
      await rejects(ue.register(), 'UE_AKA_MAC_FAILURE');
    } finally {
      await ue.close();
    }
  });
});

test('procedures are exclusive; re- and de-registration need a registration; no answer is UE_TIMEOUT', () => within(startWorld(), async (w) => {
  const { ue } = newUe(w);
  try {
    await rejects(ue.reregister(), 'UE_NOT_REGISTERED');
    await rejects(ue.deregister(), 'UE_NOT_REGISTERED');
    const first = ue.register();
    await rejects(ue.register(), 'UE_BUSY');
    await first;
    await rejects(ue.register(), 'UE_BUSY');
  } finally {
    await ue.close();
  }
  const node = new SipNode({ t1Ms: 5, t2Ms: 10 });
  const lost = newUe(w, 'udp', { pcscf: { addr: w.addr, port: 5999 } }, node);
  try {
    await rejects(lost.ue.register(), 'UE_TIMEOUT');
  } finally {
    await lost.ue.close();
    await node.close();
  }
}));

test.run();
