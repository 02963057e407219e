// The IPsec side of the engine against a kernel with ESP (the runner starts this file in the ESP
// VM), in a namespace of its own: start-up removes leftovers carrying our marker and spares a
// foreign SA; the P-CSCF logic and the main thread's executor over the real netlink worker create
// a UE's set (IPv4 and IPv6) before the 401 and tear it down after the de-REGISTER's 200; a foreign
// SA holding one of the set's SPIs makes the kernel refuse it: 503, nothing left, the SPI pair
// released; shutdown removes everything ours.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { Inbound } from '../../src/engine/plan.js';
import { securityServerOf, startIpsec, stopIpsec, type IpsecRuntime } from '../../src/ipsec/index.js';
import { buildPcscfSaSet, createOps } from '../../src/ipsec/sa-set.js';
import { XfrmClient } from '../../src/netlink/client.js';
import { parsePolicies, parseStates } from '../helpers/iproute.js';
import { createNetns, type Netns } from '../helpers/netns.js';
import { INITIAL_REGISTER, UE, bindingOf, request, testConfig } from '../pcscf/fixtures.js';
import {
  CLIENT_1, IPSEC_ENV, UE_PC, answerTo, challengeFor, ipsecHarness, protectedRegister, registeredOver, replyText, type IpsecHarness,
} from '../ipsec/fixtures.js';

const MARKER = 143956232;
const ENV = { ...IPSEC_ENV, PCSCF_IPSEC_LISTEN_ADDR6: '2001:db8::1', PCSCF_SIP__LISTEN: '[{transport: udp, address: 10.0.0.1, port: 5060}, {transport: udp, address: "2001:db8::1", port: 5060}]' };
const FOREIGN = ['proto', 'esp', 'mode', 'transport', 'auth-trunc', 'hmac(sha1)', '0x' + '77'.repeat(20), '96', 'enc', 'cbc(aes)', '0x' + '88'.repeat(16)];

let ns: Netns;
let runtime: IpsecRuntime;
const log: string[] = [];

const states = (): ReturnType<typeof parseStates> => parseStates(ns.ip('-s', '-d', 'xfrm', 'state', 'list'));
const policies = (): ReturnType<typeof parsePolicies> => parsePolicies(ns.ip('xfrm', 'policy', 'list'));

function harnessOver(): IpsecHarness {
  return ipsecHarness(ENV, { xfrm: runtime.client, spis: runtime.spis, ports: runtime.ports });
}

/** The protected REGISTER (expires as given) over the binding's set, from the UE at `ueAddr`. */
function overSet(h: IpsecHarness, ueAddr: string, expires: number, id: number): Extract<Inbound, { kind: 'request' }> {
  const set = bindingOf(h)!.sa!;
  const family = ueAddr.includes(':') ? 6 : 4;
  const text = protectedRegister(id, CLIENT_1, securityServerOf(set), UE_PC, expires).replace(/10\.45\.0\.7/g, family === 6 ? `[${ueAddr}]` : ueAddr);
  const socket = h.ctx.sockets.protectedSocket(family, 'udp', set.portPs)!;
  return { kind: 'request', id, bytes: Buffer.from(text, 'latin1'), rx: { transport: 'udp', socketId: socket.id, local: socket.local, remote: { addr: ueAddr, port: UE_PC } } };
}

test.before(async () => {
  ns = createNetns('esp-engine');
  // A previous run's leftovers (a whole set with our marker) and someone else's SA.
  const leftover = await XfrmClient.start({ netns: ns.name, marker: MARKER });
  const r = await leftover.submit(createOps(buildPcscfSaSet({
    family: 4, pcscfAddr: '10.0.0.1', ueAddr: '10.45.0.99', marker: MARKER, spiUc: 0x9001, spiUs: 0x9002, spiPc: 0x9003, spiPs: 0x9004,
    portUc: 7001, portUs: 7002, portPc: 7003, portPs: 7004, alg: 'hmac-sha-1-96', ealg: 'aes-cbc', ck: Buffer.alloc(16, 1), ik: Buffer.alloc(16, 2),
  })));
  await leftover.close();
  assert.ok(r.ok, JSON.stringify(r.firstError));
  ns.ip('xfrm', 'state', 'add', 'src', '10.9.0.1', 'dst', '10.9.0.2', 'spi', '0x7777', ...FOREIGN);
  runtime = await startIpsec(testConfig(ENV), (e) => log.push(`${e.level} ${e.msg} ${JSON.stringify(e.fields ?? {})}`), { netns: ns.name });
});

test.after(async () => {
  await runtime.client.close();
  ns.delete();
});

test('start-up: the kernel has ESP for IPv4 and IPv6; our leftovers are gone, the foreign SA is still there', () => {
  assert.equal(runtime.capabilities.esp, { ipv4: true, ipv6: true });
  assert.equal(states().map((s) => s.spi), [0x7777]);
  assert.equal(policies(), []);
  assert.ok(log.some((l) => l.includes('removed SAs and policies a previous run left') && l.includes('"sas":4') && l.includes('"policies":4')), log.join('\n'));
});

async function registerAndDeregister(h: IpsecHarness, ue: { addr: string; port: number }, family: 4 | 6): Promise<void> {
  const host = family === 6 ? `[${ue.addr}]` : ue.addr;
  const reg = request(INITIAL_REGISTER.replace(/10\.45\.0\.7/g, host), ue, 1);
  const sent = h.decide(reg);
  if (sent.kind !== 'forward') return assert.unreachable(`got ${sent.kind}`);
  const challenged = await h.run(answerTo(challengeFor(1, sent.branch, 5060).replace(/10\.45\.0\.7/g, host), reg, sent.context));
  const set = bindingOf(h)!.sa!;
  assert.match(replyText(challenged, 401), `\r\nSecurity-Server: ${securityServerOf(set)}\r\n`);
  const ours = states().filter((s) => s.spi !== 0x7777);
  assert.equal(ours.map((s) => s.spi).sort((a, b) => a - b), [set.spiPc, set.spiPs, 1111, 2222].sort((a, b) => a - b), 'the 4 SAs were in the kernel when the 401 left');
  assert.is(policies().length, 4);
  assert.ok(ours.every((s) => s.src === ue.addr || s.dst === ue.addr));

  const dereg = overSet(h, ue.addr, 0, 2);
  const sent2 = h.decide(dereg);
  if (sent2.kind !== 'forward') return assert.unreachable(`got ${sent2.kind}`);
  const ok = await h.run(answerTo(registeredOver(2, sent2.branch, 0).replace(/10\.45\.0\.7/g, host), dereg, sent2.context));
  replyText(ok, 200);
  await h.executor.idle();
  assert.equal(states().map((s) => s.spi), [0x7777], 'the set is gone after the 200');
  assert.equal(policies(), []);
  assert.is(runtime.spis.inUse, 0);
  assert.is(h.contacts.size, 0);
}

test('IPv4 and IPv6: the set exists before the 401 leaves; the de-REGISTER\'s 200 leaves, then the set goes', async () => {
  await registerAndDeregister(harnessOver(), UE, 4);
  await registerAndDeregister(harnessOver(), { addr: '2001:db8::7', port: 5060 }, 6);
});

test('a foreign SA holding the set\'s spi_pc: the kernel refuses, 503, nothing of ours left, the SPI pair released', async () => {
  const h = harnessOver();
  const reg = request(INITIAL_REGISTER, UE, 1);
  const sent = h.decide(reg);
  if (sent.kind !== 'forward') return assert.unreachable();
  const plan = h.decide(answerTo(challengeFor(1, sent.branch, 5060), reg, sent.context));
  if (plan.kind !== 'kernel') return assert.unreachable(`got ${plan.kind}`);
  const spiPc = plan.commit.set.spiPc;
  // SA #4 of the set (UE server port -> P-CSCF client port) arrives with spi_pc.
  ns.ip('xfrm', 'state', 'add', 'src', UE.addr, 'dst', '10.0.0.1', 'spi', String(spiPc), ...FOREIGN);
  h.executor.apply(1, plan);
  await h.executor.idle();
  assert.match(replyText(h.delivered.at(-1)?.plan, 503), /^SIP\/2.0 503 Service Unavailable/);
  assert.equal(states().map((s) => s.spi).sort((a, b) => a - b), [spiPc, 0x7777].sort((a, b) => a - b), 'only the foreign SAs');
  assert.equal(policies(), []);
  assert.is(runtime.spis.inUse, 0);
  assert.is(bindingOf(h)?.sa, undefined);
  ns.ip('xfrm', 'state', 'delete', 'src', UE.addr, 'dst', '10.0.0.1', 'proto', 'esp', 'spi', String(spiPc));
});

test('shutdown removes every SA and policy of ours and nothing else', async () => {
  const h = harnessOver();
  const reg = request(INITIAL_REGISTER, UE, 1);
  const sent = h.decide(reg);
  if (sent.kind !== 'forward') return assert.unreachable();
  await h.run(answerTo(challengeFor(1, sent.branch, 5060), reg, sent.context));
  // The protected REGISTER and its 200: a registered UE with its set, as at shutdown.
  const preg = overSet(h, UE.addr, 600000, 2);
  const psent = h.decide(preg);
  if (psent.kind !== 'forward') return assert.unreachable(`got ${psent.kind}`);
  await h.run(answerTo(registeredOver(2, psent.branch, 600000), preg, psent.context));
  assert.is(bindingOf(h)?.state, 'registered');
  assert.is(states().length, 5);
  assert.is(policies().length, 4);
  await stopIpsec(runtime.client, () => undefined);
  assert.equal(states().map((s) => s.spi), [0x7777]);
  assert.equal(policies(), []);
  runtime = await startIpsec(testConfig(ENV), () => undefined, { netns: ns.name });
});

test.run();
