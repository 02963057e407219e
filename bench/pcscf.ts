// Benchmark of the P-CSCF decision (src/pcscf/): decisions per second on one thread, parse
// included, for the messages of the registration and of an originating MESSAGE, over a contact
// table of N UEs. Each figure is printed for people and as a line
// `BENCH {"name":…,"value":…,"unit":…}` for machines.
//
//   npx tsx bench/pcscf.ts [--quick]
//
// Next to each rate: the cost of one decision in parses of the same message (parseMessage alone,
// timed between the passes, under the same load), the figure to compare between runs on a shared
// machine.
//
// Cases (each message is a distinct UE's, taken in order, so the table is exercised as a whole):
// - register_new: initial REGISTER of a UE the table does not know (a pending binding inserted);
// - register_refresh: the REGISTER answering the challenge (the pending binding refreshed);
// - register_200: the registrar's 200 OK (request re-parsed, binding made registered);
// - message_mo: originating MESSAGE of a registered UE (SEARCH_RECEIVED, Service-Route check,
//   P-Asserted-Identity);
// - message_mt: terminating MESSAGE from the core to a registered UE (SEARCH_NORMAL).

import { loadConfig } from '../src/config/index.js';
import type { Inbound, RxInfo } from '../src/engine/plan.js';
import { PCSCF_METRICS, PcscfContext, decide } from '../src/pcscf/index.js';
import { ContactTable } from '../src/shared/contact-table.js';
import { SharedCounters } from '../src/shared/counters.js';
import { parseMessage } from '../src/sip/index.js';
import { SocketTable, planSockets } from '../src/transport/sockets.js';

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 0.3 : 1.5;
const UES = quick ? 2_000 : 10_000;

const config = loadConfig({
  argv: [],
  env: {
    PCSCF_SIP__NEXT_HOP: 'sip:10.0.0.20:5060',
    PCSCF_SIP__ADVERTISED_HOST: 'pcscf.ims.example.net',
    PCSCF_SIP__LISTEN: '[{transport: udp, address: 10.0.0.1, port: 5060}]',
    PCSCF_SIP__TRUSTED_PEERS: '[10.0.0.20]',
  },
});
const sockets = new SocketTable(planSockets(config));
const counters = SharedCounters.create(PCSCF_METRICS);

function context(): PcscfContext {
  return new PcscfContext({ config, sockets, contacts: ContactTable.create({ capacity: UES }), counters, now: () => 1_767_225_600 });
}

const ueAddr = (i: number): string => `10.${45 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}`;
const msisdn = (i: number): string => `+49170${String(1234567 + i).padStart(7, '0')}`;
const crlf = (lines: string[], body = ''): Buffer => Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'latin1');
const rx = (addr: string): RxInfo => ({ transport: 'udp', socketId: 0, local: { addr: '10.0.0.1', port: 5060 }, remote: { addr, port: 5060 } });

function register(i: number, cseq: number): Buffer {
  const ip = ueAddr(i);
  const user = msisdn(i);
  return crlf([
    'REGISTER sip:ims.mnc001.mcc262.3gppnetwork.org SIP/2.0',
    `Via: SIP/2.0/UDP ${ip}:5060;branch=z9hG4bK${i}r${cseq};rport`,
    'Max-Forwards: 70',
    `From: <sip:${user}@ims.mnc001.mcc262.3gppnetwork.org>;tag=${i}f`,
    `To: <sip:${user}@ims.mnc001.mcc262.3gppnetwork.org>`,
    `Contact: <sip:${user}@${ip}:5060>;+sip.instance="<urn:gsma:imei:35399306-${String(129823 + i).padStart(6, '0')}-0>";+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel";+g.3gpp.smsip;expires=600000`,
    `Call-ID: ${i}reg@${ip}`,
    `CSeq: ${cseq} REGISTER`,
    'Expires: 600000',
    `Authorization: Digest username="${user}@ims.mnc001.mcc262.3gppnetwork.org",realm="ims.mnc001.mcc262.3gppnetwork.org",nonce="${cseq === 1 ? '' : 'bm9uY2U='}",uri="sip:ims.mnc001.mcc262.3gppnetwork.org",response="${cseq === 1 ? '' : '6629fae49393a05397450978507c4ef1'}",algorithm=AKAv1-MD5`,
    ...(cseq === 1 ? ['Require: sec-agree', 'Security-Client: ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=1111;spi-s=2222;port-c=5062;port-s=5064'] : []),
    'Supported: path,sec-agree',
    'User-Agent: Bench-UE/1.0',
    'Content-Length: 0',
  ]);
}

function ok(i: number, branch: string): Buffer {
  const ip = ueAddr(i);
  const user = msisdn(i);
  return crlf([
    'SIP/2.0 200 OK',
    `Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=${branch}`,
    `Via: SIP/2.0/UDP ${ip}:5060;branch=z9hG4bK${i}r2;rport=5060;received=${ip}`,
    `From: <sip:${user}@ims.mnc001.mcc262.3gppnetwork.org>;tag=${i}f`,
    `To: <sip:${user}@ims.mnc001.mcc262.3gppnetwork.org>;tag=${i}s`,
    `Call-ID: ${i}reg@${ip}`,
    'CSeq: 2 REGISTER',
    'Path: <sip:term@pcscf.ims.example.net:5060;lr>',
    'Service-Route: <sip:orig@scscf.ims.mnc001.mcc262.3gppnetwork.org:6060;lr>',
    `P-Associated-URI: <sip:${user}@ims.mnc001.mcc262.3gppnetwork.org>, <tel:${user}>`,
    `Contact: <sip:${user}@${ip}:5060>;expires=600000;+sip.instance="<urn:gsma:imei:35399306-${String(129823 + i).padStart(6, '0')}-0>";+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel";+g.3gpp.smsip`,
    'Content-Length: 0',
  ]);
}

const SMS = 'Hello from the benchmark';
function messageMo(i: number): Buffer {
  const ip = ueAddr(i);
  return crlf([
    'MESSAGE sip:+4917099999999@ims.mnc001.mcc262.3gppnetwork.org;user=phone SIP/2.0',
    `Via: SIP/2.0/UDP ${ip}:5060;branch=z9hG4bK${i}m;rport`,
    'Max-Forwards: 70',
    'Route: <sip:pcscf.ims.example.net:5060;lr>, <sip:orig@scscf.ims.mnc001.mcc262.3gppnetwork.org:6060;lr>',
    `From: <sip:${msisdn(i)}@ims.mnc001.mcc262.3gppnetwork.org>;tag=${i}m`,
    'To: <sip:+4917099999999@ims.mnc001.mcc262.3gppnetwork.org;user=phone>',
    `Call-ID: ${i}msg@${ip}`,
    'CSeq: 1 MESSAGE',
    `P-Preferred-Identity: <tel:${msisdn(i)}>`,
    'Accept-Contact: *;+g.3gpp.smsip',
    'Content-Type: text/plain',
    `Content-Length: ${SMS.length}`,
  ], SMS);
}

function messageMt(i: number): Buffer {
  return crlf([
    `MESSAGE sip:${msisdn(i)}@${ueAddr(i)}:5060 SIP/2.0`,
    `Via: SIP/2.0/UDP 10.0.0.20:6060;branch=z9hG4bK${i}t`,
    'Max-Forwards: 68',
    'Route: <sip:term@pcscf.ims.example.net:5060;lr>',
    `From: <sip:+4917099999999@ims.mnc001.mcc262.3gppnetwork.org>;tag=${i}t`,
    `To: <sip:${msisdn(i)}@ims.mnc001.mcc262.3gppnetwork.org>`,
    `Call-ID: ${i}mt@scscf`,
    'CSeq: 1 MESSAGE',
    'Content-Type: text/plain',
    `Content-Length: ${SMS.length}`,
  ], SMS);
}

const requestOf = (bytes: Buffer, addr: string): Inbound => ({ kind: 'request', id: 1, bytes, rx: rx(addr) });

function report(name: string, value: number, unit: string, label: string): number {
  const shown = value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
  console.log(`${label.padEnd(62)} ${shown.padStart(14)} ${unit}`);
  console.log(`BENCH ${JSON.stringify({ name, value: Math.round(value * 100) / 100, unit })}`);
  return value;
}

/**
 * Decisions per second of `pass` (a run over every UE, after an untimed `setup` for cases that
 * need a fresh table), and the same number of parses of the case's own messages timed between
 * the passes: the machine is shared, so the ratio of the two, taken under the same load, is the
 * figure to compare between runs.
 */
function measure(messages: readonly Inbound[], setup: () => void, pass: () => number): { rate: number; parses: number } {
  setup();
  pass(); // warm-up
  let ops = 0;
  let ns = 0n;
  let parseNs = 0n;
  while (ns < BigInt(SECONDS * 1e9)) {
    setup();
    const t0 = process.hrtime.bigint();
    ops += pass();
    const t1 = process.hrtime.bigint();
    for (const m of messages) sink += parseMessage(m.bytes as Buffer).fieldCount;
    parseNs += process.hrtime.bigint() - t1;
    ns += t1 - t0;
  }
  return { rate: ops / (Number(ns) / 1e9), parses: Number(ns) / Number(parseNs) };
}

function reportCase(name: string, label: string, m: { rate: number; parses: number }): void {
  report(name, m.rate, 'decisions/s', label);
  report(`${name}_in_parses`, m.parses, 'parses', '  cost of one decision, in parses of the same message');
}

const ids = Array.from({ length: UES }, (_, i) => i);
const initial = ids.map((i) => requestOf(register(i, 1), ueAddr(i)));
const second = ids.map((i) => requestOf(register(i, 2), ueAddr(i)));
const mo = ids.map((i) => requestOf(messageMo(i), ueAddr(i)));
const mt = ids.map((i) => requestOf(messageMt(i), '10.0.0.20'));

let ctx = context();
const answers: Inbound[] = [];
let sink = 0;

function fresh(): void {
  ctx = context();
}

/** A table where every UE's second REGISTER is pending, and the 200s that answer them. */
function pendingWithAnswers(): void {
  fresh();
  answers.length = 0;
  for (const i of ids) {
    const plan = decide(second[i]!, ctx);
    if (plan.kind !== 'forward') throw new Error(`setup: REGISTER of UE ${i} was not forwarded (${plan.kind})`);
    answers.push({ kind: 'response', id: 1, bytes: ok(i, plan.branch), rx: rx('10.0.0.20'), request: { bytes: second[i]!.bytes, rx: second[i]!.rx }, context: plan.context });
  }
}

function registeredTable(): void {
  pendingWithAnswers();
  for (const a of answers) decide(a, ctx);
  if (ctx.contacts.size !== UES) throw new Error('setup: not every UE registered');
}

function run(list: readonly Inbound[], expect: Inbound['kind'] extends never ? never : 'forward' | 'reply'): number {
  for (const m of list) {
    const plan = decide(m, ctx);
    if (plan.kind !== expect) throw new Error(`unexpected ${plan.kind} plan`);
    sink += plan.bytes.length;
  }
  return list.length;
}

console.log(`P-CSCF decisions on one thread, ${UES.toLocaleString('en-US')} UEs, ${SECONDS} s per case`);
reportCase('register_new', 'initial REGISTER, new pending binding', measure(initial, fresh, () => run(initial, 'forward')));
reportCase('register_refresh', 'REGISTER answering the challenge, pending refreshed', measure(second, () => undefined, () => run(second, 'forward')));
reportCase('register_200', '200 OK to REGISTER, binding stored as registered', measure(answers, pendingWithAnswers, () => run(answers, 'reply')));
registeredTable();
reportCase('message_mo', 'originating MESSAGE of a registered UE', measure(mo, () => undefined, () => run(mo, 'forward')));
reportCase('message_mt', 'terminating MESSAGE to a registered UE', measure(mt, () => undefined, () => run(mt, 'forward')));
if (sink === 0) console.log('');
