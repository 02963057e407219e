// The lab UE and S-CSCF around the product's P-CSCF (src/main.ts) in the three-namespace lab: the
// UE's unprotected REGISTER crosses the P-CSCF to the S-CSCF, which challenges it with ck / ik.
// What the UE gets back depends on whether this P-CSCF can create SAs here: without IPsec (or on a
// kernel without ESP) it answers create_failure_status (503) instead of the 401, which the UE must
// report as such; with IPsec on an ESP kernel the UE registers.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLabNet } from '../helpers/lab-net.js';
import { LabProcess } from '../helpers/lab-process.js';
import { IMPI, IMPU, K, OPC } from './world.js';

const STEP_MS = 60_000;
const tsx = (entry: string): string[] => [process.execPath, '--import', 'tsx', resolve(entry)];

test('UE -> P-CSCF -> S-CSCF: the S-CSCF challenges; the UE registers, or reports the P-CSCF\'s 503 instead of the 401', async () => {
  const net = createLabNet('lab-real');
  const a = net.addr;
  const dir = mkdtempSync(join(tmpdir(), 'lab-real-'));
  const config = join(dir, 'pcscf.yaml');
  writeFileSync(config, [
    `ipsec_listen_addr: "${a.pcscfUe4}"`,
    'sip:',
    '  listen:',
    `    - { transport: udp, address: ${a.pcscfUe4}, port: 5060, side: access }`,
    `    - { transport: udp, address: ${a.pcscfCore4}, port: 5060, side: core }`,
    `  next_hop: "sip:${a.core4}:6060;transport=udp"`,
    `  trusted_peers: [${a.core4}]`,
    'workers: { pool_size: 0 }',
    'http: { listen: "" }',
    'log: { level: warn }',
    '',
  ].join('\n'));
  const pcscf = LabProcess.start(net.pcscf.name, [...tsx('src/main.ts'), '--config', config], 'P-CSCF');
  const scscf = LabProcess.start(net.core.name, [...tsx('src/lab/scscf-main.ts'), '--addr', a.core4, '--port', '6060', '--impi', IMPI, '--impu', IMPU, '--k', K, '--opc', OPC], 'S-CSCF');
  let ue: LabProcess | undefined;
  try {
    await scscf.waitFor((e) => e.event === 'listening', STEP_MS, 0);
    ue = LabProcess.start(net.ue.name, [...tsx('src/lab/ue-main.ts'), '--impi', IMPI, '--impu', IMPU, '--k', K, '--opc', OPC, '--addr', a.ue4, '--pcscf', a.pcscfUe4], 'UE');
    await ue.waitFor((e) => e.event === 'ready', STEP_MS, 0);
    // The P-CSCF starts in parallel; a REGISTER sent before it listens is retransmitted (Timer E).
    ue.send({ cmd: 'register' });
    const outcome = await ue.waitFor((e) => e.event === 'registered' || e.event === 'error', STEP_MS, 0);
    const challenged = scscf.events.find((e) => e.event === 'challenged');
    assert.ok(challenged, 'the REGISTER crossed the P-CSCF and was challenged');
    assert.is(challenged!['impi'], IMPI);
    if (outcome.event === 'error') {
      assert.is(outcome['code'], 'UE_NO_CHALLENGE', JSON.stringify(outcome));
      assert.is(outcome['status'], 503);
      assert.match(String(outcome['reason']), /got 503 .* instead of 401/);
    } else {
      assert.ok(ue.events.some((e) => e.event === 'sas-installed'));
    }
    ue.send({ cmd: 'quit' });
    assert.is(await ue.close(), 0);
  } finally {
    await ue?.close();
    await scscf.close();
    await pcscf.close(20_000, 'SIGTERM');
    net.delete();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
