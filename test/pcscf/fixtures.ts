// A P-CSCF context with a fixed clock and predictable branches and tags, and the messages of an
// IMS registration and of calls to and from the UE, written out byte for byte.
//
// Addresses: P-CSCF 10.0.0.1 (UDP and TCP 5060, advertised as pcscf.ims.example.net), core next
// hop 10.0.0.20:5060 (trusted, with 10.0.1.0/24), UE 10.45.0.7:5060.

import * as assert from 'uvu/assert';

import { loadConfig, type Config } from '../../src/config/index.js';
import type { Endpoint, Inbound, LogEvent, Plan, RxInfo, Transport, TxContext } from '../../src/engine/plan.js';
import { PCSCF_METRICS, PcscfContext, decide } from '../../src/pcscf/index.js';
import type { PcscfContextOptions } from '../../src/pcscf/index.js';
import type { Binding } from '../../src/shared/binding.js';
import { ContactTable } from '../../src/shared/contact-table.js';
import { SharedCounters } from '../../src/shared/counters.js';
import { planSockets, SocketTable } from '../../src/transport/sockets.js';

export const T0 = 1_767_225_600;
export const PCSCF: Endpoint = { addr: '10.0.0.1', port: 5060 };
export const UE: Endpoint = { addr: '10.45.0.7', port: 5060 };
export const CORE: Endpoint = { addr: '10.0.0.20', port: 5060 };
export const AOR = 'sip:alice@ims.example.net';

export interface Harness {
  readonly ctx: PcscfContext;
  readonly contacts: ContactTable;
  readonly counters: SharedCounters;
  readonly events: LogEvent[];
  /** Moves the clock. */
  advance(seconds: number): void;
}

/** The configuration of the test P-CSCF; `env` overrides keys (PCSCF_*). */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    argv: [],
    env: {
      PCSCF_SIP__NEXT_HOP: 'sip:10.0.0.20:5060',
      PCSCF_SIP__ADVERTISED_HOST: 'pcscf.ims.example.net',
      PCSCF_SIP__LISTEN: '[{transport: udp, address: 10.0.0.1, port: 5060}, {transport: tcp, address: 10.0.0.1, port: 5060}]',
      PCSCF_SIP__TRUSTED_PEERS: '[10.0.0.20, 10.0.1.0/24]',
      PCSCF_IPSEC_LISTEN_ADDR: '',
      ...env,
    },
  });
}

/** A context over a fresh contact table and counters; `env` overrides configuration keys (PCSCF_*). */
export function harness(env: Record<string, string> = {}, options: Partial<PcscfContextOptions> = {}): Harness {
  const config = testConfig(env);
  const contacts = ContactTable.create({ capacity: 64 });
  const counters = SharedCounters.create(PCSCF_METRICS);
  const events: LogEvent[] = [];
  let clock = T0;
  let branches = 0;
  let tags = 0;
  const ctx = new PcscfContext({
    config,
    sockets: new SocketTable(planSockets(config)),
    contacts,
    counters,
    now: () => clock,
    newBranch: () => `z9hG4bKpc${++branches}`,
    newTag: () => `pctag${++tags}`,
    log: (e) => events.push(e),
    ...options,
  });
  return { ctx, contacts, counters, events, advance: (s) => { clock += s; } };
}

/** A message from lines (CRLF line ends, an empty line, then the body). */
export function sip(lines: readonly string[], body = ''): string {
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

export function rx(remote: Endpoint, transport: Transport = 'udp'): RxInfo {
  return { transport, socketId: transport === 'udp' ? 0 : 1, local: PCSCF, remote };
}

export function request(text: string, from: Endpoint, id = 1, transport: Transport = 'udp'): Extract<Inbound, { kind: 'request' }> {
  return { kind: 'request', id, bytes: Buffer.from(text, 'latin1'), rx: rx(from, transport) };
}

/** A response arriving from `from` to a request this P-CSCF forwarded: `forwarded` is that request's inbound form. */
export function response(text: string, forwarded: Extract<Inbound, { kind: 'request' }>, context: TxContext, from: Endpoint = CORE, id = forwarded.id): Inbound {
  return { kind: 'response', id, bytes: Buffer.from(text, 'latin1'), rx: rx(from), request: { bytes: forwarded.bytes, rx: forwarded.rx }, context };
}

export function text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function expectForward(plan: Plan, to: Endpoint, context: TxContext, transport: Transport = 'udp'): string {
  assert.is(plan.kind, 'forward', `expected a forward, got ${describe(plan)}`);
  if (plan.kind !== 'forward') throw new Error('unreachable');
  assert.equal(plan.target, { transport, socketId: transport === 'udp' ? 0 : 1, remote: to });
  assert.equal(plan.context, context);
  return text(plan.bytes);
}

/** A plan in an assertion message. */
export function describe(plan: Plan): string {
  if (plan.kind === 'drop') return JSON.stringify(plan);
  if (plan.kind === 'kernel') return `kernel plan then ${describe(plan.then)} / otherwise ${describe(plan.otherwise)}`;
  return JSON.stringify({ kind: plan.kind, text: text(plan.bytes) });
}

export function expectReply(plan: Plan, status: number): string {
  assert.is(plan.kind, 'reply', `expected a reply, got ${describe(plan)}`);
  if (plan.kind !== 'reply') throw new Error('unreachable');
  assert.is(plan.status, status);
  assert.is(plan.target, undefined);
  return text(plan.bytes);
}

/** A counter's value. */
export function count(h: Harness, name: string, labels: Record<string, string> = {}): number {
  return h.counters.read(h.counters.cell(name, labels));
}

/** The one binding of an AOR, or undefined. */
export function bindingOf(h: Harness, aor = AOR): Binding | undefined {
  const ids = h.contacts.findByAor(aor);
  assert.ok(ids.length <= 1, `at most one binding of ${aor}, found ${ids.length}`);
  return ids[0] === undefined ? undefined : h.contacts.get(ids[0]);
}

// ---- the registration of UE (alice) ----

export const INITIAL_REGISTER = sip([
  'REGISTER sip:ims.example.net SIP/2.0',
  'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKue1;rport',
  'Max-Forwards: 70',
  'From: <sip:alice@ims.example.net>;tag=reg1',
  'To: <sip:alice@ims.example.net>',
  'Contact: <sip:alice@10.45.0.7:5060>;+sip.instance="<urn:gsma:imei:35693803-564889-0>";+g.3gpp.smsip;expires=600000',
  'Call-ID: reg@10.45.0.7',
  'CSeq: 1 REGISTER',
  'Expires: 600000',
  'Authorization: Digest username="alice@ims.example.net",realm="ims.example.net",nonce="",uri="sip:ims.example.net",response=""',
  'Require: sec-agree',
  'Security-Client: ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=1111;spi-s=2222;port-c=5062;port-s=5064',
  'Supported: path,sec-agree',
  'Content-Length: 0',
]);

export const CHALLENGE = sip([
  'SIP/2.0 401 Unauthorized',
  'Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=z9hG4bKpc1',
  'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKue1;rport=5060;received=10.45.0.7',
  'From: <sip:alice@ims.example.net>;tag=reg1',
  'To: <sip:alice@ims.example.net>;tag=scscf401',
  'Call-ID: reg@10.45.0.7',
  'CSeq: 1 REGISTER',
  'WWW-Authenticate: Digest realm="ims.example.net", nonce="bm9uY2U=", algorithm=AKAv1-MD5, ck="0a1b2c3d4e5f60718293a4b5c6d7e8f9", ik="f9e8d7c6b5a4938271605f4e3d2c1b0a"',
  'Content-Length: 0',
]);

/** The REGISTER that answers the challenge (over no SA: IPsec is not there yet). */
export function authRegister(cseq: number, expires = 600000, branch = `z9hG4bKue${cseq}`): string {
  return sip([
    'REGISTER sip:ims.example.net SIP/2.0',
    `Via: SIP/2.0/UDP 10.45.0.7:5060;branch=${branch};rport`,
    'Max-Forwards: 70',
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>',
    `Contact: <sip:alice@10.45.0.7:5060>;+sip.instance="<urn:gsma:imei:35693803-564889-0>";+g.3gpp.smsip;expires=${expires}`,
    'Call-ID: reg@10.45.0.7',
    `CSeq: ${cseq} REGISTER`,
    `Expires: ${expires}`,
    'Authorization: Digest username="alice@ims.example.net",realm="ims.example.net",nonce="bm9uY2U=",uri="sip:ims.example.net",response="6629fae49393a05397450978507c4ef1",algorithm=AKAv1-MD5',
    'Supported: path',
    'Content-Length: 0',
  ]);
}

/** The registrar's 200 to a REGISTER forwarded with branch `pcBranch`, listing the UE's Contact with `expires`. */
export function registered(cseq: number, pcBranch: string, expires: number, ueBranch = `z9hG4bKue${cseq}`): string {
  return sip([
    'SIP/2.0 200 OK',
    `Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=${pcBranch}`,
    `Via: SIP/2.0/UDP 10.45.0.7:5060;branch=${ueBranch};rport=5060;received=10.45.0.7`,
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>;tag=scscf200',
    'Call-ID: reg@10.45.0.7',
    `CSeq: ${cseq} REGISTER`,
    'Path: <sip:term@pcscf.ims.example.net:5060;lr>',
    'Service-Route: <sip:orig@scscf.ims.example.net:6060;lr>',
    'P-Associated-URI: <sip:alice@ims.example.net>, <tel:+15551234567>',
    `Contact: <sip:alice@10.45.0.7:5060>;expires=${expires};+sip.instance="<urn:gsma:imei:35693803-564889-0>";+g.3gpp.smsip`,
    'Content-Length: 0',
  ]);
}

/** Runs REGISTER / 200 for alice so that the contact table holds her registered binding. */
export function registerAlice(h: Harness, expires = 600000): void {
  const reg = request(authRegister(2, expires), UE, 100);
  const sent = decide(reg, h.ctx);
  assert.is(sent.kind, 'forward');
  if (sent.kind !== 'forward') return;
  const ok = decide(response(registered(2, sent.branch, expires), reg, sent.context), h.ctx);
  assert.is(ok.kind, 'reply');
  assert.is(bindingOf(h)?.state, 'registered');
}
