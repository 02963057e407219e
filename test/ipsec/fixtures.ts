// The P-CSCF with IPsec enabled and a main thread in miniature: decide() as a worker would, then
// the IPsec executor over a fake kernel, delivering to a list instead of a transaction layer. The
// messages of an IMS AKA registration over IPsec (TS 24.228 flows), written out byte for byte.
//
// Addresses: P-CSCF 10.0.0.1 (unprotected 5060; protected client ports 5100-5101, server ports
// 6100-6101), core 10.0.0.20:5060, UE 10.45.0.7 (unprotected 5060; protected client port 5062,
// server port 5064; after a re-registration client port 5066).

import type { Endpoint, Inbound, Plan, RxInfo, SipPlan, Target, Transport, TxContext } from '../../src/engine/plan.js';
import { IpsecExecutor, type XfrmSubmitter } from '../../src/ipsec/executor.js';
import type { ProtectedPorts } from '../../src/shared/protected-ports.js';
import type { SpiAllocator } from '../../src/shared/spi-allocator.js';
import { decide, removeExpired } from '../../src/pcscf/index.js';
import * as assert from 'uvu/assert';

import { bindingOf, CORE, harness, INITIAL_REGISTER, request, rx, sip, text, UE, type Harness } from '../pcscf/fixtures.js';
import { FakeKernel, settle } from './fake-kernel.js';

export const IPSEC_ENV = {
  PCSCF_IPSEC_LISTEN_ADDR: '10.0.0.1',
  PCSCF_IPSEC_CLIENT_PORT: '5100',
  PCSCF_IPSEC_SERVER_PORT: '6100',
  PCSCF_SECURITY__TEMPORARY_SA_TIMEOUT_S: '10',
};

export const P = '10.0.0.1';
export const UE_PC = 5062; // the UE's protected client port
export const UE_PS = 5064; // the UE's protected server port
export const UE_PC2 = 5066; // its client port after a re-registration

export interface IpsecHarness extends Harness {
  /** The fake kernel (unused when the harness runs over a real one). */
  readonly kernel: FakeKernel;
  readonly executor: IpsecExecutor;
  /** Plans handed to the transaction layer, in order. */
  readonly delivered: { id: number; plan: SipPlan }[];
  /** What deliver() answers (false: the server transaction is gone). */
  deliverable: boolean;
  /** Decides as a worker, carries the plan out as the main thread; the plan delivered for this message, if any. */
  run(inbound: Inbound): Promise<SipPlan | undefined>;
  /** The main thread's periodic sweep: expiry, temporary sets, retries. */
  sweep(): Promise<number>;
  /** The decision alone (for byte-exact checks of kernel plans). */
  decide(inbound: Inbound): Plan;
  /** The socket id of a protected port. */
  socket(port: number, transport?: Transport): number;
  /** A message arriving on protected port `local` from `remote`. */
  protectedRx(remote: Endpoint, local: number, transport?: Transport): RxInfo;
}

/** A real netlink client and the shared state it goes with (the ESP suites), instead of the fake kernel. */
export interface RealKernel {
  readonly xfrm: XfrmSubmitter;
  readonly spis: SpiAllocator;
  readonly ports: ProtectedPorts;
}

export function ipsecHarness(env: Record<string, string> = {}, real?: RealKernel): IpsecHarness {
  const h = harness({ ...IPSEC_ENV, ...env }, real === undefined ? {} : { spis: real.spis, ports: real.ports });
  const ipsec = h.ctx.ipsec!;
  const kernel = new FakeKernel();
  const delivered: { id: number; plan: SipPlan }[] = [];
  const self: IpsecHarness = {
    ...h,
    advance: h.advance,
    kernel,
    delivered,
    deliverable: true,
    executor: new IpsecExecutor({
      xfrm: real?.xfrm ?? kernel,
      ipsec,
      deliver: (id, plan) => {
        if (!self.deliverable) return false;
        delivered.push({ id, plan });
        return true;
      },
      outcomes: { relayed: (status) => h.ctx.metrics.relayedResponse(status), refused: () => h.ctx.metrics.rejected('REGISTER', 'ipsec_unavailable') },
      log: (e) => h.events.push(e),
      clockMs: () => h.ctx.now() * 1000,
      teardownDelayMs: 0,
    }),
    async run(inbound) {
      const before = delivered.length;
      self.executor.apply(inbound.id, decide(inbound, h.ctx));
      await settle();
      await self.executor.idle();
      return delivered.slice(before).find((d) => d.id === inbound.id)?.plan;
    },
    async sweep() {
      const removed = removeExpired(h.ctx, (id) => self.executor.creating(id));
      const notes = ipsec.takeTeardown();
      if (notes !== undefined) self.executor.teardown(notes);
      self.executor.retryDue();
      await settle();
      await self.executor.idle();
      return removed;
    },
    decide: (inbound) => decide(inbound, h.ctx),
    socket(port, transport = 'udp') {
      return h.ctx.sockets.protectedSocket(4, transport, port)!.id;
    },
    protectedRx(remote, local, transport = 'udp') {
      return { transport, socketId: self.socket(local, transport), local: { addr: P, port: local }, remote };
    },
  };
  return self;
}

export function protectedRequest(h: IpsecHarness, text: string, from: Endpoint, local: number, id: number, transport: Transport = 'udp'): Extract<Inbound, { kind: 'request' }> {
  return { kind: 'request', id, bytes: Buffer.from(text, 'latin1'), rx: h.protectedRx(from, local, transport) };
}

export function answerTo(text: string, forwarded: Extract<Inbound, { kind: 'request' }>, context: TxContext, from: Endpoint = CORE, respRx?: RxInfo): Inbound {
  return { kind: 'response', id: forwarded.id, bytes: Buffer.from(text, 'latin1'), rx: respRx ?? rx(from), request: { bytes: forwarded.bytes, rx: forwarded.rx }, context };
}

export const CLIENT_1 = 'ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=1111;spi-s=2222;port-c=5062;port-s=5064';
export const SERVER_1 = 'ipsec-3gpp;q=0.1;prot=esp;mod=trans;spi-c=100;spi-s=101;port-c=5100;port-s=6100;alg=hmac-sha-1-96;ealg=aes-cbc';
export const CLIENT_2 = 'ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=3333;spi-s=4444;port-c=5066;port-s=5064';
export const SERVER_2 = 'ipsec-3gpp;q=0.1;prot=esp;mod=trans;spi-c=102;spi-s=103;port-c=5101;port-s=6100;alg=hmac-sha-1-96;ealg=aes-cbc';

/** The REGISTER that answers a challenge over the SA set whose Security-Server was `verify`. */
export function protectedRegister(cseq: number, client: string, verify: string | undefined, from = UE_PC, expires = 600000): string {
  return sip([
    'REGISTER sip:ims.example.net SIP/2.0',
    `Via: SIP/2.0/UDP 10.45.0.7:${from};branch=z9hG4bKue${cseq};rport`,
    'Max-Forwards: 70',
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>',
    `Contact: <sip:alice@10.45.0.7:${UE_PS}>;+sip.instance="<urn:gsma:imei:35693803-564889-0>";expires=${expires}`,
    'Call-ID: reg@10.45.0.7',
    `CSeq: ${cseq} REGISTER`,
    `Expires: ${expires}`,
    'Authorization: Digest username="alice@ims.example.net",realm="ims.example.net",nonce="bm9uY2U=",uri="sip:ims.example.net",response="6629fae49393a05397450978507c4ef1",algorithm=AKAv1-MD5',
    'Require: sec-agree',
    'Proxy-Require: sec-agree',
    `Security-Client: ${client}`,
    ...(verify === undefined ? [] : [`Security-Verify: ${verify}`]),
    'Supported: path, sec-agree',
    'Content-Length: 0',
  ]);
}

/** The registrar's challenge with the AKA keys of round `n`. */
export function challengeFor(cseq: number, pcBranch: string, from = UE_PC, n = 1): string {
  const ck = n === 1 ? '0a1b2c3d4e5f60718293a4b5c6d7e8f9' : 'aabbccddeeff00112233445566778899';
  const ik = n === 1 ? 'f9e8d7c6b5a4938271605f4e3d2c1b0a' : '99887766554433221100ffeeddccbbaa';
  return sip([
    'SIP/2.0 401 Unauthorized',
    `Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=${pcBranch}`,
    `Via: SIP/2.0/UDP 10.45.0.7:${from};branch=z9hG4bKue${cseq};rport=${from};received=10.45.0.7`,
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>;tag=scscf401',
    'Call-ID: reg@10.45.0.7',
    `CSeq: ${cseq} REGISTER`,
    `WWW-Authenticate: Digest realm="ims.example.net", nonce="bm9uY2U${n}", algorithm=AKAv1-MD5, ck="${ck}", ik="${ik}"`,
    'Content-Length: 0',
  ]);
}

/** The registrar's 200 to a protected REGISTER. */
export function registeredOver(cseq: number, pcBranch: string, expires: number, from = UE_PC): string {
  return sip([
    'SIP/2.0 200 OK',
    `Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=${pcBranch}`,
    `Via: SIP/2.0/UDP 10.45.0.7:${from};branch=z9hG4bKue${cseq};rport=${from};received=10.45.0.7`,
    'From: <sip:alice@ims.example.net>;tag=reg1',
    'To: <sip:alice@ims.example.net>;tag=scscf200',
    'Call-ID: reg@10.45.0.7',
    `CSeq: ${cseq} REGISTER`,
    'Path: <sip:term@pcscf.ims.example.net:5060;lr>',
    'Service-Route: <sip:orig@scscf.ims.example.net:6060;lr>',
    'P-Associated-URI: <sip:alice@ims.example.net>',
    ...(expires === 0 ? [] : [`Contact: <sip:alice@10.45.0.7:${UE_PS}>;expires=${expires}`]),
    'Content-Length: 0',
  ]);
}

export const UE_AT = (port: number): Endpoint => ({ addr: UE.addr, port });

export function targetOf(plan: SipPlan | undefined): Target | undefined {
  return plan !== undefined && plan.kind !== 'drop' ? plan.target : undefined;
}

export function replyText(plan: Plan | undefined, status: number): string {
  assert.ok(plan !== undefined, 'a plan was delivered');
  assert.is(plan!.kind, 'reply');
  if (plan!.kind !== 'reply') throw new Error('unreachable');
  assert.is(plan!.status, status);
  return text(plan!.bytes);
}

/** The unprotected REGISTER and its 401 through the executor; the 401 as delivered. */
export async function challenge(h: IpsecHarness): Promise<SipPlan | undefined> {
  const reg = request(INITIAL_REGISTER, UE, 1);
  const sent = h.decide(reg);
  assert.is(sent.kind, 'forward');
  if (sent.kind !== 'forward') throw new Error('unreachable');
  return h.run(answerTo(challengeFor(1, sent.branch, 5060), reg, sent.context));
}

/** Initial registration over IPsec, up to the 200 relayed over the new set. */
export async function registerAlice(h: IpsecHarness, expires = 600000): Promise<void> {
  await challenge(h);
  const reg = protectedRequest(h, protectedRegister(2, CLIENT_1, SERVER_1, UE_PC, expires), UE_AT(UE_PC), 6100, 2);
  const sent = h.decide(reg);
  assert.is(sent.kind, 'forward');
  if (sent.kind !== 'forward') throw new Error('unreachable');
  const ok = await h.run(answerTo(registeredOver(2, sent.branch, expires), reg, sent.context));
  assert.is(ok?.kind, 'reply');
  assert.is(bindingOf(h)?.state, 'registered');
}
