// The lab's command-line entries, in this file's own namespace: the S-CSCF from a subscriber file
// and the UE with its own netlink worker, driven by JSON lines, against the P-CSCF stand-in. The
// UE's kernel step is made to fail whatever this kernel is (a policy with the selector of the UE's
// first one is there already; a kernel without ESP refuses the SAs before that), so the UE must
// report the kernel's errno and leave nothing behind.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildUeSaSet, type TunnelParams } from '../../src/ipsec/sa-set.js';
import { XfrmClient } from '../../src/netlink/client.js';
import { LAB_UE_MARKER } from '../../src/lab/ue.js';
import { parsePolicies, parseStates } from '../helpers/iproute.js';
import { LabProcess } from '../helpers/lab-process.js';
import { ownNetns } from '../helpers/own-netns.js';
import { PcscfStandin } from '../helpers/pcscf-standin.js';
import { FakeXfrm, IMPI, IMPU, K, OPC, PCSCF_CLIENT_PORTS, PCSCF_MARKER, PCSCF_PORT, PCSCF_SERVER_PORT, PCSCF_SPI_BASE, SCSCF_PORT } from './world.js';

await ownNetns('lab-cli');

const ADDR = '127.0.0.1';
const tsx = (entry: string): string[] => [process.execPath, '--import', 'tsx', resolve(`src/lab/${entry}`)];
const STEP_MS = 30_000;

test('bad flags: exit status 2 and the reason on stderr', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', resolve('src/lab/scscf-main.ts'), '--port', '6060'], { encoding: 'utf8' });
  assert.is(r.status, 2);
  assert.match(r.stderr, /--addr: is required/);
  const u = spawnSync(process.execPath, ['--import', 'tsx', resolve('src/lab/ue-main.ts'), '--impi', 'a', '--impu', 'sip:a@x', '--k', K, '--opc', OPC, '--addr', ADDR, '--pcscf', 'pcscf.example'], { encoding: 'utf8' });
  assert.is(u.status, 2);
  assert.match(u.stderr, /--pcscf: must be an IP literal/);
});

test('S-CSCF and UE command lines: the UE reports the kernel\'s refusal with errno, removes nothing it did not install, leaves nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-cli-'));
  const subscribers = join(dir, 'subscribers.yaml');
  writeFileSync(subscribers, `subscribers:\n  - { impi: ${IMPI}, impu: [${IMPU}], k: ${K}, opc: ${OPC} }\n`);
  const scscf = LabProcess.start(undefined, [...tsx('scscf-main.ts'), '--addr', ADDR, '--port', String(SCSCF_PORT), '--subscribers', subscribers], 'S-CSCF');
  const standin = await PcscfStandin.start({
    addr: ADDR, port: PCSCF_PORT, serverPort: PCSCF_SERVER_PORT, clientPorts: PCSCF_CLIENT_PORTS, spiBase: PCSCF_SPI_BASE,
    scscf: { addr: ADDR, port: SCSCF_PORT }, xfrm: new FakeXfrm(), marker: PCSCF_MARKER,
  });
  // The policy the UE will want first (UE port_uc -> P-CSCF port_ps, out), already there.
  const planned: TunnelParams = {
    family: 4, ueAddr: ADDR, pcscfAddr: ADDR, spiUc: 10000, spiUs: 10001, spiPc: PCSCF_SPI_BASE, spiPs: PCSCF_SPI_BASE + 1,
    portUc: 7062, portUs: 7061, portPc: PCSCF_CLIENT_PORTS[0], portPs: PCSCF_SERVER_PORT, alg: 'hmac-sha-1-96', ealg: 'aes-cbc',
    ck: Buffer.alloc(16), ik: Buffer.alloc(16), marker: LAB_UE_MARKER,
  };
  const blocker = buildUeSaSet(planned).policies[0]!;
  const xfrm = await XfrmClient.start({ marker: LAB_UE_MARKER });
  let ue: LabProcess | undefined;
  try {
    assert.ok((await xfrm.submit([{ op: 'newpolicy', policy: blocker }])).ok);
    await scscf.waitFor((e) => e.event === 'listening', STEP_MS, 0);
    ue = LabProcess.start(undefined, [...tsx('ue-main.ts'), '--impi', IMPI, '--impu', IMPU, '--k', K, '--opc', OPC, '--addr', ADDR, '--pcscf', ADDR, '--ports', '7060', '--spi', '10000'], 'UE');
    await ue.waitFor((e) => e.event === 'ready', STEP_MS, 0);
    const failed = await ue.command({ cmd: 'register' }, 'error', STEP_MS);
    assert.is(failed['code'], 'UE_KERNEL');
    assert.is(failed['op'], 'register');
    assert.ok(typeof failed['errno'] === 'number' && failed['errno'] > 0, JSON.stringify(failed));
    assert.match(String(failed['errnoName']), /^E[A-Z]+$/);
    assert.match(String(failed['reason']), /^installing the SAs: /);
    assert.equal(ue.events.map((e) => e.event), ['ready', 'security-client', 'challenged', 'security-server', 'error']);
    assert.ok(scscf.events.some((e) => e.event === 'challenged' && e['impi'] === IMPI));
    assert.equal((await scscf.command({ cmd: 'bindings', impu: IMPU }, 'bindings', STEP_MS))['contacts'], []);
    assert.equal((await ue.command({ cmd: 'status' }, 'status', STEP_MS))['registered'], 0);
    // The group was rolled back: only the policy this test made is there.
    assert.equal(parseStates(spawnSync('ip', ['-s', '-d', 'xfrm', 'state', 'list'], { encoding: 'utf8' }).stdout), []);
    const policies = parsePolicies(spawnSync('ip', ['-s', '-d', 'xfrm', 'policy', 'list'], { encoding: 'utf8' }).stdout);
    assert.equal(policies.map((p) => [p.sport, p.dport, p.dir]), [[7062, PCSCF_SERVER_PORT, 'out']]);
    ue.send({ cmd: 'quit' });
    assert.is(await ue.close(), 0);
    assert.is(ue.events.at(-1)?.event, 'stopped');
    scscf.send({ cmd: 'quit' });
    assert.is(await scscf.close(), 0);
  } finally {
    await ue?.close();
    await scscf.close();
    await standin.close();
    await xfrm.deleteOurs();
    await xfrm.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
