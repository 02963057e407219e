// The lab UE over real ESP (the runner starts this file in the ESP VM): the UE command line runs in
// a UE namespace and installs its own SAs there; this file runs in the P-CSCF namespace with the
// P-CSCF stand-in (which installs the mirror set with buildPcscfSaSet on the S-CSCF's 401) and the
// lab S-CSCF. The protected REGISTER, its 200 and a MESSAGE each way cross the SAs: every SA
// counter of both sides moves. Re-registration replaces the SAs (the new ones carry traffic, the
// old ones are gone), de-registration leaves no SA or policy on either side. UDP over IPv4, TCP
// over IPv6.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Transport } from '../../src/engine/plan.js';
import { XfrmClient } from '../../src/netlink/client.js';
import { Scscf, type ScscfEvent } from '../../src/lab/scscf.js';
import { parseSubscriberFile, SubscriberStore } from '../../src/lab/subscribers.js';
import { parsePolicies, parseStates } from '../helpers/iproute.js';
import { LabProcess, type LabEvent } from '../helpers/lab-process.js';
import { createNetns, vethPair } from '../helpers/netns.js';
import { ownNetns } from '../helpers/own-netns.js';
import { PcscfStandin } from '../helpers/pcscf-standin.js';

const UE_NS_ENV = 'LAB_ESP_UE_NS';
const UE = { 4: '10.47.0.2', 6: 'fd00:47::2' } as const;
const PC = { 4: '10.47.0.1', 6: 'fd00:47::1' } as const;
const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OPC = 'cd63cb71954a9f4e48a5994e37a02baf';
const PCSCF_MARKER = 143956232;
// QEMU without KVM is slow: these bound a failure, they are not what a run takes.
const STEP_MS = 60_000;

const pcNs = await ownNetns('lab-esp-pc', (pc) => {
  const ue = createNetns('lab-esp-ue');
  vethPair({ ns: ue, addrs: [`${UE[4]}/24`, `${UE[6]}/64`] }, { ns: pc, addrs: [`${PC[4]}/24`, `${PC[6]}/64`] });
  process.env[UE_NS_ENV] = ue.name;
});
const ueNs = process.env[UE_NS_ENV]!;
const ueIp = (...args: string[]): string => run('ip', ['-n', ueNs, ...args]);
const pcIp = (...args: string[]): string => run('ip', ['-n', pcNs, ...args]);

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// The compiled UE starts in about a second in the VM (under tsx: several).
const UE_MAIN = existsSync(resolve('dist/lab/ue-main.js')) ? [process.execPath, resolve('dist/lab/ue-main.js')] : [process.execPath, '--import', 'tsx', resolve('src/lab/ue-main.ts')];

let xfrm: XfrmClient;
test.before(async () => {
  xfrm = await XfrmClient.start({ marker: PCSCF_MARKER });
});
test.after(async () => {
  await xfrm.deleteOurs();
  await xfrm.close();
});

const states = (ip: (...a: string[]) => string): ReturnType<typeof parseStates> => parseStates(ip('-s', '-d', 'xfrm', 'state', 'list'));
const policies = (ip: (...a: string[]) => string): ReturnType<typeof parsePolicies> => parsePolicies(ip('-s', '-d', 'xfrm', 'policy', 'list'));

/** SPI -> packets, of the SAs iproute2 lists in a namespace. */
function packets(ip: (...a: string[]) => string): Map<number, number> {
  return new Map(states(ip).map((s) => [s.spi, s.packets]));
}

function spisOf(e: LabEvent): number[] {
  return [e['spiPs'], e['spiUs'], e['spiUc'], e['spiPc']] as number[];
}

for (const [transport, family] of [['udp', 4], ['tcp', 6]] as [Transport, 4 | 6][]) {
  test(`${transport.toUpperCase()} IPv${family}: protected REGISTER and MESSAGE both ways over ESP; re-registration replaces the SAs; de-registration leaves none`, async () => {
    const file = parseSubscriberFile({ subscribers: [{ impi: 'alice@ims.example', impu: 'sip:alice@ims.example', k: K, opc: OPC }] });
    const scscfEvents: ScscfEvent[] = [];
    const scscf = await Scscf.start({ addr: PC[family], port: 6060, realm: file.realm, subscribers: new SubscriberStore(file.subscribers) }, (e) => scscfEvents.push(e));
    const standin = await PcscfStandin.start({
      addr: PC[family], port: 5060, serverPort: 5064, clientPorts: [5062, 5063], spiBase: 3000,
      scscf: { addr: PC[family], port: 6060 }, xfrm, marker: PCSCF_MARKER,
    });
    const ue = LabProcess.start(ueNs, [...UE_MAIN, '--impi', 'alice@ims.example', '--impu', 'sip:alice@ims.example', '--k', K, '--opc', OPC,
      '--addr', UE[family], '--pcscf', PC[family], '--transport', transport, '--ports', '7060', '--spi', '10000'], `UE ${transport}/${family}`);
    try {
      await ue.waitFor((e) => e.event === 'ready', STEP_MS);
      const start = ue.events.length;
      const registered = ue.command({ cmd: 'register' }, 'registered', STEP_MS);
      const installed = await ue.waitFor((e) => e.event === 'sas-installed', STEP_MS, start);
      await registered;
      const [spiPs, spiUs, spiUc, spiPc] = spisOf(installed);
      // The protected REGISTER went over SA#1 (port_uc -> port_ps) and its 200 came back over SA#3.
      let pcCount = packets(pcIp);
      let ueCount = packets(ueIp);
      assert.ok(pcCount.get(spiPs!)! > 0 && ueCount.get(spiPs!)! > 0, 'SA#1 carried the protected REGISTER');
      assert.ok(pcCount.get(spiUc!)! > 0 && ueCount.get(spiUc!)! > 0, 'SA#3 carried its 200');
      assert.is(states(ueIp).length, 4);
      assert.is(policies(ueIp).length, 4);

      assert.equal((await ue.command({ cmd: 'message', to: 'sip:bob@ims.example', text: 'hello over ESP' }, 'message-answered', STEP_MS))['status'], 200);
      assert.ok(scscfEvents.some((e) => e.event === 'message-received' && e.text === 'hello over ESP'));
      const before = ue.events.length;
      assert.equal(await scscf.sendMessage('sip:alice@ims.example', 'hi alice over ESP'), { ok: true, status: 200, reason: 'OK' });
      assert.equal((await ue.waitFor((e) => e.event === 'message-received', STEP_MS, before))['text'], 'hi alice over ESP');
      pcCount = packets(pcIp);
      ueCount = packets(ueIp);
      for (const spi of [spiPs, spiUs, spiUc, spiPc]) {
        assert.ok(pcCount.get(spi!)! > 0, `P-CSCF SA spi ${spi} carried no packet`);
        assert.ok(ueCount.get(spi!)! > 0, `UE SA spi ${spi} carried no packet`);
      }

      // TS 33.203 §7.4: new SAs carry the protected REGISTER; the old ones go after its 200.
      const mark = ue.events.length;
      const reregistered = ue.command({ cmd: 'reregister' }, 'reregistered', STEP_MS);
      const installed2 = await ue.waitFor((e) => e.event === 'sas-installed', STEP_MS, mark);
      await reregistered;
      const spis2 = spisOf(installed2);
      const ueSas = states(ueIp);
      assert.equal(ueSas.map((s) => s.spi).sort(), [...spis2].sort(), 'only the new set is left in the UE');
      assert.equal(installed2['portUs'], installed['portUs'], 'port_us kept');
      assert.is.not(installed2['portUc'], installed['portUc'], 'port_uc changed');
      assert.equal(standin.sets().map((s) => s.params.spiUc), [spis2[2]]);
      assert.equal((await ue.command({ cmd: 'message', to: 'sip:bob@ims.example', text: 'again' }, 'message-answered', STEP_MS))['status'], 200);
      assert.equal(await scscf.sendMessage('sip:alice@ims.example', 'again to alice'), { ok: true, status: 200, reason: 'OK' });
      ueCount = packets(ueIp);
      for (const spi of spis2) assert.ok(ueCount.get(spi!)! > 0, `new UE SA spi ${spi} carried no packet`);

      await ue.command({ cmd: 'deregister' }, 'deregistered', STEP_MS);
      assert.equal(states(ueIp), []);
      assert.equal(policies(ueIp), []);
      assert.equal(standin.sets(), []);
      assert.equal(await xfrm.dumpSas({ ours: true }), []);
      assert.equal(await xfrm.dumpPolicies({ ours: true }), []);
      ue.send({ cmd: 'quit' });
      assert.is(await ue.close(), 0);
      assert.ok(ue.events.some((e) => e.event === 'stopped'));
    } finally {
      await ue.close();
      await standin.close();
      await scscf.close();
    }
  });
}

test.run();
