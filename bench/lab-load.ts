// How much load the lab itself can generate: N lab UEs registering through the P-CSCF stand-in to
// the lab S-CSCF, all on loopback in a namespace of their own, with the SAs recorded instead of
// installed (no kernel), so that every figure is the cost of the lab's SIP, AKA and sec-agree
// work. This is the ceiling of the IPsec registration benchmark that drives the real P-CSCF with
// these UEs: a P-CSCF figure close to it measures the lab, not the P-CSCF.
//
// Two ways in one run: paced (registerMany at --rate) and one registration at a time (the latency
// floor). Prints one JSON line per figure ({"bench":"lab-load",...}) and a summary.
//   npx tsx bench/lab-load.ts [--n 500] [--rate 100] [--transport udp|tcp]
//
// Offered a rate above what the one event loop can do, UDP queues overflow and retransmissions
// (Timer E) pile up: the paced figures then collapse to the retransmission timers, not the CPU.

import type { Transport } from '../src/engine/plan.js';
import { percentile, registerMany, slotOf } from '../src/lab/load.js';
import { SipNode } from '../src/lab/sip-node.js';
import { Ue } from '../src/lab/ue.js';
import { ownNetns } from '../test/helpers/own-netns.js';
import { FakeXfrm, K, OPC, PCSCF_PORT, startWorld, UE_MARKER } from '../test/lab/world.js';

await ownNetns('bench-lab');

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const N = Number(opt('n', '500'));
const RATE = Number(opt('rate', '100'));
const TRANSPORT = opt('transport', 'udp') as Transport;
const SEQUENTIAL = Math.min(N, 200);

const w = await startWorld({ count: 2 * N });
const xfrm = new FakeXfrm();
const options = (i: number, base: number) => ({
  impi: `ue${i + 1}@ims.example`, impu: `sip:ue${i + 1}@ims.example`, k: Buffer.from(K, 'hex'), opc: Buffer.from(OPC, 'hex'),
  addr: w.addr, pcscf: { addr: w.addr, port: PCSCF_PORT }, transport: TRANSPORT, marker: UE_MARKER, ...slotOf(i, { portBase: base, spiBase: 100_000 + 4 * i }),
});

function report(method: string, registrations: number, seconds: number, challenge: number[], register: number[], failed: number): { perSec: number } {
  const perSec = Math.round(registrations / seconds);
  console.log(JSON.stringify({
    bench: 'lab-load', method, transport: TRANSPORT, registrations, failed, seconds: Number(seconds.toFixed(3)), perSec,
    challengeMs: { p50: Number(percentile(challenge, 50).toFixed(2)), p99: Number(percentile(challenge, 99).toFixed(2)) },
    registerMs: { p50: Number(percentile(register, 50).toFixed(2)), p99: Number(percentile(register, 99).toFixed(2)) },
  }));
  return { perSec };
}

const node = new SipNode();
const paced = await registerMany({ count: N, ratePerSecond: RATE, xfrm, node, ue: (i) => options(i, 20000) });
const ok = paced.samples.filter((s) => s.ok);
const a = report('paced', ok.length, paced.elapsedMs / 1000, ok.map((s) => s.challengedAfterMs!), ok.map((s) => s.registeredAfterMs!), N - ok.length);
for (const ue of paced.ues) await ue.close();

const challenge: number[] = [];
const register: number[] = [];
const started = performance.now();
for (let i = 0; i < SEQUENTIAL; i++) {
  const ue = new Ue(options(N + i, 20000), { xfrm, node });
  const t = await ue.register();
  challenge.push(t.challengedAfterMs!);
  register.push(t.doneAfterMs);
  await ue.close();
}
const b = report('one-at-a-time', SEQUENTIAL, (performance.now() - started) / 1000, challenge, register, 0);
console.log(JSON.stringify({ bench: 'lab-load', summary: `paced ${a.perSec}/s with ${N - ok.length} failures; one at a time ${b.perSec}/s`, xfrmGroups: xfrm.groups.length }));
await node.close();
await w.close();
