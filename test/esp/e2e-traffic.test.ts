// End to end over real ESP (the runner starts this file in the ESP VM): the product's P-CSCF
// (dist/main.js, with a worker pool) between the lab UE and the lab S-CSCF in the three-namespace
// lab, with a UDP UE over IPv4 (alice) and a TCP UE over IPv6 (bob) registered at the same time.
// A forged Security-Verify is refused with 494 and counted; full registration leaves the binding
// with its SA set and 4 SAs + 4 policies on each side; MESSAGE both ways crosses the SAs (ESP on
// the P-CSCF's UE-side link, no plaintext of it there, every SA counter of both sides moving);
// plaintext to a protected port is dropped by the kernel and never reaches the registrar;
// re-registration replaces the SAs while terminating MESSAGEs sent across it are all delivered;
// de-registration leaves no SA, policy, SPI pair or binding.

import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  espPcscfConfig, kernel, marked, packets, register, reportFailure, socatSend, spisOf, startPcscf, startScscf, startUe, STEP_MS, xfrmStat,
  type KernelView, type LabUe,
} from '../helpers/esp-lab.js';
import { createLabNet } from '../helpers/lab-net.js';
import type { LabEvent, LabProcess } from '../helpers/lab-process.js';
import { sampleValue, type PcscfProcess, type Sample } from '../helpers/pcscf-process.js';
import { settle } from '../helpers/poll.js';

const SPI_START = 4000;
const net = createLabNet('e2e-tr');
let pcscf: PcscfProcess;
let scscf: LabProcess;
let alice: LabUe;
let bob: LabUe;
/** Each UE's SA set in use (its sas-installed event). */
const current = new Map<LabUe, LabEvent>();

const sum = (samples: readonly Sample[], name: string): number => samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);

/** A terminating MESSAGE from the S-CSCF; resolves with its outcome event. */
function terminating(to: string, text: string): Promise<LabEvent> {
  const from = scscf.events.length;
  scscf.send({ cmd: 'message', to, text });
  return scscf.waitFor((e) => (e.event === 'message-answered' || e.event === 'message-failed') && e['to'] === to, STEP_MS, from);
}

/** The UE's side and the P-CSCF's side of one UE's SAs. */
function sides(ue: LabUe): { ue: KernelView; pc: KernelView } {
  return { ue: kernel(net.ue, ue.addr), pc: kernel(net.pcscf, ue.addr) };
}

const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);

test.before(() => reportFailure(async () => {
  pcscf = await startPcscf(net, espPcscfConfig(net, { poolSize: 1, spiStart: SPI_START }));
  scscf = await startScscf(net, ['alice', 'bob']);
  alice = await startUe(net, { user: 'alice', family: 4, transport: 'udp', ports: 7060, spi: 10000 });
  bob = await startUe(net, { user: 'bob', family: 6, transport: 'tcp', ports: 7070, spi: 20000 });
}));

test.after(async () => {
  for (const ue of [alice, bob]) await ue?.proc.close();
  await scscf?.close();
  await pcscf?.stop('SIGTERM');
  net.delete();
});

test('a protected REGISTER with a forged Security-Verify is refused with 494, counted, and never reaches the registrar', async () => {
  const before = await pcscf.metrics();
  const from = alice.proc.events.length;
  alice.proc.send({ cmd: 'register', forge: 'security-verify' });
  const failed = await alice.proc.waitFor((e) => e.event === 'error', STEP_MS, from);
  assert.equal([failed['code'], failed['status']], ['UE_REJECTED', 494], JSON.stringify(failed));
  const after = await pcscf.metrics();
  assert.is(sum(after, 'pcscf_security_verify_mismatches_total') - sum(before, 'pcscf_security_verify_mismatches_total'), 1);
  assert.is(sampleValue(after, 'pcscf_registrations_rejected_total', { reason: 'security_verify' }) - sampleValue(before, 'pcscf_registrations_rejected_total', { reason: 'security_verify' }), 1);
  assert.is(scscf.events.filter((e) => e.event === 'registered').length, 0, 'the registrar registered nobody');
});

for (const [name, transport, family] of [['alice', 'udp', 4], ['bob', 'tcp', 6]] as const) {
  test(`full registration, ${transport.toUpperCase()} over IPv${family}: the UE registered, the binding holds its set, 4 SAs and 4 policies on each side`, async () => {
    const ue = name === 'alice' ? alice : bob;
    const installed = await register(ue);
    current.set(ue, installed);
    const spis = sorted(spisOf(installed));
    // The forged attempt's unconfirmed set goes when this registration replaces it.
    const { ue: ueSide, pc } = await settle(() => sides(ue), (s) => s.pc.sas.length === 4, STEP_MS);
    assert.equal(sorted(pc.sas.map((s) => s.spi)), spis, 'the P-CSCF holds exactly the agreed SAs');
    assert.equal(sorted(ueSide.sas.map((s) => s.spi)), spis, 'the UE holds exactly the agreed SAs');
    assert.is(pc.policies.length, 4);
    assert.is(ueSide.policies.length, 4);
    assert.equal(marked(pc), pc, 'everything the P-CSCF installed carries its marker');
    assert.ok(scscf.events.some((e) => e.event === 'registered' && e['impu'] === ue.impu), 'the registrar registered the UE');
    const bindings = await pcscf.bindings(ue.impu);
    assert.is(bindings.length, 1);
    const b = bindings[0] as { state: string; transport: string; sa: Record<string, unknown>; previousSa?: unknown };
    assert.equal([b.state, b.transport], ['registered', transport]);
    assert.equal(
      [b.sa['spiUc'], b.sa['spiUs'], b.sa['spiPc'], b.sa['spiPs'], b.sa['portUc'], b.sa['portUs'], b.sa['portPc'], b.sa['portPs'], b.sa['state']],
      [installed['spiUc'], installed['spiUs'], installed['spiPc'], installed['spiPs'], installed['portUc'], installed['portUs'], installed['portPc'], installed['portPs'], 'established'],
    );
    assert.is(b.previousSa, undefined);
  });
}

test('MESSAGE both ways for both UEs over the SAs: ESP on the UE link without the plaintext, every SA counter of both sides moves', async () => {
  const dev = /^\d+:\s+(\S+)\s+inet /m.exec(net.pcscf.ip('-o', '-4', 'addr', 'show', 'to', `${net.addr.pcscfUe4}/32`))![1]!;
  const dump = spawn('ip', ['netns', 'exec', net.pcscf.name, 'tcpdump', '-i', dev, '-n', '-l', '-A', '-s', '0', '-U'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let wire = '';
  dump.stdout.on('data', (d: Buffer) => { wire += d.toString('latin1'); });
  const listening = new Promise<void>((r) => dump.stderr.once('data', () => r()));
  try {
    await listening;
    for (const ue of [alice, bob]) {
      const text = `secret from ${ue.impu}`;
      assert.equal((await ue.proc.command({ cmd: 'message', to: 'sip:carol@ims.example', text }, 'message-answered', STEP_MS))['status'], 200);
      assert.ok(scscf.events.some((e) => e.event === 'message-received' && e['text'] === text), 'the originating MESSAGE reached the S-CSCF');
      const from = ue.proc.events.length;
      const answered = await terminating(ue.impu, `secret to ${ue.impu}`);
      assert.equal([answered.event, answered['status']], ['message-answered', 200], JSON.stringify(answered));
      assert.is((await ue.proc.waitFor((e) => e.event === 'message-received', STEP_MS, from))['text'], `secret to ${ue.impu}`);
    }
  } finally {
    const ended = new Promise((r) => dump.once('close', r));
    dump.kill('SIGINT');
    await ended;
  }
  for (const ue of [alice, bob]) {
    const { ue: ueSide, pc } = sides(ue);
    const [pcCount, ueCount] = [packets(pc), packets(ueSide)];
    for (const spi of spisOf(current.get(ue)!)) {
      assert.ok(pcCount.get(spi)! > 0, `P-CSCF SA spi ${spi} of ${ue.impu} carried no packet`);
      assert.ok(ueCount.get(spi)! > 0, `UE SA spi ${spi} of ${ue.impu} carried no packet`);
      assert.match(wire, `ESP(spi=0x${spi.toString(16).padStart(8, '0')},`, `no ESP packet with spi ${spi} on the UE link`);
    }
    assert.not.match(wire, `secret from ${ue.impu}`, 'an originating MESSAGE crossed the UE link in plaintext');
    assert.not.match(wire, `secret to ${ue.impu}`, 'a terminating MESSAGE crossed the UE link in plaintext');
  }
});

test('plaintext to a protected port from the UE\'s protected client port is dropped by the kernel and never reaches the registrar', async () => {
  const heard = scscf.events.filter((e) => e.event === 'message-received').length;
  const before = xfrmStat(net.pcscf)['XfrmInTmplMismatch'] ?? 0;
  const message = (ue: LabUe, portPs: number): string => [
    `MESSAGE sip:carol@ims.example SIP/2.0`,
    `Via: SIP/2.0/UDP ${ue.addr.includes(':') ? `[${ue.addr}]` : ue.addr}:${portPs};branch=z9hG4bKplain${portPs}`,
    'Max-Forwards: 70', `From: <${ue.impu}>;tag=plain`, 'To: <sip:carol@ims.example>',
    `Call-ID: plain-${portPs}@lab`, 'CSeq: 1 MESSAGE', 'Content-Type: text/plain', 'Content-Length: 9', '', 'plaintext',
  ].join('\r\n');
  // alice's port_uc is hers over UDP, bob's over TCP: the other transport is free to send from, and
  // the P-CSCF's policies select every protocol. The UE's own policies would protect that traffic
  // too, so a policy without template ahead of them (lower priority value) lets it leave in
  // plaintext, as a sender that forges the UE's address and port would send it.
  const a = current.get(alice)!;
  const b = current.get(bob)!;
  const bypass = (ue: LabUe, proto: string, sport: number, dport: number): string[] =>
    ['src', ue.addr, 'dst', ue.pcscfAddr, 'proto', proto, 'sport', String(sport), 'dport', String(dport), 'dir', 'out'];
  const flows = [bypass(bob, 'udp', b['portUc'] as number, b['portPs'] as number), bypass(alice, 'tcp', a['portUc'] as number, a['portPs'] as number)];
  try {
    for (const f of flows) net.ue.ip('xfrm', 'policy', 'add', ...f, 'priority', '1');
    const udp = await socatSend(net.ue, { transport: 'udp', family: 6, from: bob.addr, sport: b['portUc'] as number, to: bob.pcscfAddr, port: b['portPs'] as number, text: message(bob, b['portPs'] as number) });
    assert.is(udp.code, 0, `the UDP datagram was not sent: ${udp.stderr}`);
    // The P-CSCF listens on its protected server port over TCP too: only the kernel can stop the SYN.
    const tcp = await socatSend(net.ue, { transport: 'tcp', family: 4, from: alice.addr, sport: a['portUc'] as number, to: alice.pcscfAddr, port: a['portPs'] as number, text: message(alice, a['portPs'] as number) });
    assert.match(tcp.stderr, /Connection timed out/, `the plaintext TCP connection was not silently dropped: ${tcp.code} ${tcp.stderr}`);
  } finally {
    for (const f of flows) net.ue.tryIp('xfrm', 'policy', 'delete', ...f);
  }
  const after = xfrmStat(net.pcscf)['XfrmInTmplMismatch'] ?? 0;
  assert.ok(after >= before + 2, `XfrmInTmplMismatch went from ${before} to ${after}`);
  // The protected path still works, and only its MESSAGE reached the registrar.
  assert.equal((await alice.proc.command({ cmd: 'message', to: 'sip:carol@ims.example', text: 'protected' }, 'message-answered', STEP_MS))['status'], 200);
  const received = scscf.events.filter((e) => e.event === 'message-received').slice(heard);
  assert.equal(received.map((e) => e['text']), ['protected']);
});

for (const name of ['alice', 'bob'] as const) {
  test(`re-registration (${name}) replaces the SAs with no gap: every terminating MESSAGE sent across it is delivered`, async () => {
    const ue = name === 'alice' ? alice : bob;
    const old = current.get(ue)!;
    const mark = ue.proc.events.length;
    let done = false;
    const reregistered = ue.proc.command({ cmd: 'reregister' }, 'reregistered', STEP_MS).finally(() => { done = true; });
    let sent = 0;
    let during = 0;
    let afterwards = 0;
    while (afterwards < 3) {
      const wasDone = done;
      const text = `across ${sent}`;
      const from = ue.proc.events.length;
      const answered = await terminating(ue.impu, text);
      assert.equal([answered.event, answered['status']], ['message-answered', 200], `${text}: ${JSON.stringify(answered)}`);
      assert.is((await ue.proc.waitFor((e) => e.event === 'message-received' && e['text'] === text, STEP_MS, from))['text'], text);
      sent++;
      if (wasDone) afterwards++;
      else during++;
    }
    await reregistered;
    assert.ok(during > 0, 'no MESSAGE was sent while the re-registration was in progress');
    const installed = await ue.proc.waitFor((e) => e.event === 'sas-installed', 0, mark);
    current.set(ue, installed);
    assert.is(installed['portUs'], old['portUs'], 'port_us kept');
    assert.is(installed['portPs'], old['portPs'], 'port_ps kept (ipsec_reuse_server_port)');
    assert.is.not(installed['portUc'], old['portUc'], 'new port_uc');
    const spis = sorted(spisOf(installed));
    const { ue: ueSide, pc } = await settle(() => sides(ue), (s) => s.pc.sas.length === 4 && s.ue.sas.length === 4, STEP_MS);
    assert.equal(sorted(pc.sas.map((s) => s.spi)), spis, 'the P-CSCF holds only the new SAs');
    assert.equal(sorted(ueSide.sas.map((s) => s.spi)), spis, 'the UE holds only the new SAs');
    assert.is(pc.policies.length, 4);
    const [b] = await pcscf.bindings(ue.impu) as { sa: Record<string, unknown>; previousSa?: unknown }[];
    assert.equal([b?.sa['spiPc'], b?.sa['spiPs'], b?.previousSa], [installed['spiPc'], installed['spiPs'], undefined]);
    const counts = packets(pc);
    for (const spi of spisOf(installed)) assert.ok(counts.get(spi)! > 0, `new P-CSCF SA spi ${spi} carried no packet`);
  });
}

test('de-registration leaves no SA, policy, SPI pair or binding on either side', async () => {
  for (const ue of [alice, bob]) await ue.proc.command({ cmd: 'deregister' }, 'deregistered', STEP_MS);
  const pc = await settle(() => kernel(net.pcscf), (v) => v.sas.length === 0 && v.policies.length === 0, STEP_MS);
  assert.equal(pc, { sas: [], policies: [] });
  assert.equal(kernel(net.ue), { sas: [], policies: [] });
  assert.equal(await pcscf.bindings(), []);
  const m = await pcscf.metrics();
  assert.is(sampleValue(m, 'pcscf_spi_pairs_in_use'), 0);
  assert.is(sampleValue(m, 'pcscf_registrations_total', { outcome: 'de' }), 2);
});

test.run();
