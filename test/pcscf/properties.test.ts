// decide() never throws and always returns a well-formed Plan, for the RFC 4475 torture messages
// and for mutations of IMS messages (the SIP corpus and this suite's own), arriving from a UE, from
// the core or from a stranger, over UDP or TCP, as requests or as responses.

import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { Endpoint, Inbound, Plan, Transport } from '../../src/engine/plan.js';
import { decide } from '../../src/pcscf/index.js';
import { parseMessage } from '../../src/sip/index.js';
import type { SipMessage } from '../../src/sip/index.js';
import { CHALLENGE, CORE, INITIAL_REGISTER, UE, authRegister, describe, harness, registerAlice, registered, rx, sip } from './fixtures.js';
import type { Harness } from './fixtures.js';

const RFC4475 = new URL('../../../shared/testdata/rfc4475/', import.meta.url);
const CORPUS = new URL('../sip/corpus/', import.meta.url);

const torture = readFileSync(new URL('index.tsv', RFC4475), 'latin1').trim().split('\n').slice(1)
  .map((line) => readFileSync(new URL(`${line.split('\t')[0]!}.dat`, RFC4475)));
const corpus = readdirSync(CORPUS).filter((f) => f.endsWith('.sip')).map((f) => readFileSync(new URL(f, CORPUS)));
const own = [INITIAL_REGISTER, CHALLENGE, authRegister(2), registered(2, 'z9hG4bKpc1', 600), sip([
  'INVITE sip:alice@10.45.0.7:5060 SIP/2.0',
  'Via: SIP/2.0/UDP scscf.ims.example.net:6060;branch=z9hG4bKsc1',
  'Max-Forwards: 68',
  'Route: <sip:term@pcscf.ims.example.net:5060;lr>',
  'From: <sip:bob@ims.example.net>;tag=b1',
  'To: <sip:alice@ims.example.net>',
  'Call-ID: call2@scscf',
  'CSeq: 1 INVITE',
  'Content-Length: 0',
]), sip([
  'MESSAGE sip:bob@ims.example.net SIP/2.0',
  'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKmo1;rport',
  'Max-Forwards: 70',
  'Route: <sip:pcscf.ims.example.net:5060;lr>, <sip:orig@scscf.ims.example.net:6060;lr>',
  'From: <sip:alice@ims.example.net>;tag=m1',
  'To: <sip:bob@ims.example.net>',
  'Call-ID: msg1@10.45.0.7',
  'CSeq: 1 MESSAGE',
  'P-Preferred-Identity: <tel:+15551234567>',
  'Content-Length: 0',
]), sip([
  'ACK sip:bob@10.0.2.9:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKack;rport',
  'Max-Forwards: 70',
  'Route: <sip:mo@pcscf.ims.example.net:5060;lr>, <sip:mo@scscf.ims.example.net:6060;lr>',
  'From: <sip:alice@ims.example.net>;tag=i1',
  'To: <sip:bob@ims.example.net>;tag=b2',
  'Call-ID: call1@10.45.0.7',
  'CSeq: 1 ACK',
  'Content-Length: 0',
])].map((s) => Buffer.from(s, 'latin1'));
const seeds = [...corpus, ...own];

const INTERESTING_LINES = [
  'Route: <tel:+15551234567>', 'Route: <sip:pcscf.ims.example.net;lr>', 'Route: <sip:10.0.1.9:5070;transport=sctp;lr>', 'Route: <sips:192.0.2.9;lr>',
  'Proxy-Require: foo', 'Proxy-Require: sec-agree', 'Require: sec-agree, path', 'Max-Forwards: 0', 'Max-Forwards: 1',
  'P-Preferred-Identity: junk', 'P-Preferred-Identity: <tel:+15551234567>', 'P-Associated-URI: <sip:x@y>, garbage',
  'Contact: *', 'Contact: <sip:alice@10.45.0.7:5060>;expires=0', 'Contact: <tel:+1>', 'Expires: 0', 'Expires: never',
  'Security-Client: ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;spi-s=2;port-c=3;port-s=4', 'Security-Client: ;;', 'Security-Verify: x',
  'Service-Route: <sip:orig@10.0.1.3:6060;lr>', 'Path: <sip:p@x;lr>', 'To: <sip:alice@ims.example.net>;tag=x',
  'Via: SIP/2.0/UDP pcscf.ims.example.net:5060;branch=z9hG4bKpc1', 'Authorization: Digest username="a", integrity-protected="yes"',
  'WWW-Authenticate: Digest nonce="n", ck="00", ik="11"', 'Record-Route: <sip:mo@pcscf.ims.example.net:5060;lr>',
];
const VALUE_CHARS = [...'<>;:@,="~ []/.-+*?&%!aAzZ09 '.split(''), 'sip:', 'tel:', 'lr', 'alias=10.45.0.7~5060~1', 'z9hG4bK', 'expires=', '10.45.0.7', 'tag='];

type Mutation = (lines: string[], rnd: number[]) => void;

/** Header lines are lines[1 .. end of head). */
const MUTATIONS: Mutation[] = [
  (lines, [a = 0, b = 0]) => { const i = 1 + (a % (lines.length - 1)); const colon = lines[i]!.indexOf(':'); if (colon > 0) lines[i] = `${lines[i]!.slice(0, colon + 1)} ${VALUE_CHARS[b % VALUE_CHARS.length]!}${lines[i]!.slice(colon + 1 + (b % 7))}`; },
  (lines, [a = 0]) => { if (lines.length > 2) lines.splice(1 + (a % (lines.length - 1)), 1); },
  (lines, [a = 0]) => { const i = 1 + (a % (lines.length - 1)); lines.splice(i, 0, lines[i]!); },
  (lines, [a = 0, b = 0]) => { lines.splice(1 + (a % lines.length), 0, INTERESTING_LINES[b % INTERESTING_LINES.length]!); },
  (lines, [a = 0, b = 0]) => { const i = a % lines.length; const at = b % (lines[i]!.length + 1); lines[i] = lines[i]!.slice(0, at) + VALUE_CHARS[(a + b) % VALUE_CHARS.length]! + lines[i]!.slice(at); },
];

function mutate(seed: Buffer, ops: [number, number, number][]): Buffer {
  const text = seed.toString('latin1');
  const blank = text.indexOf('\r\n\r\n');
  if (blank < 0) return seed;
  const lines = text.slice(0, blank).split('\r\n');
  for (const [op, a, b] of ops) MUTATIONS[op % MUTATIONS.length]!(lines, [a, b]);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${text.slice(blank + 4)}`, 'latin1');
}

const SOURCES: Endpoint[] = [UE, CORE, { addr: '10.45.0.99', port: 5060 }, { addr: '2001:db8::7', port: 5060 }];

function inbound(bytes: Buffer, source: number, transport: Transport, id: number): Inbound {
  const from = SOURCES[source % SOURCES.length]!;
  if (bytes.subarray(0, 4).toString('latin1') !== 'SIP/') return { kind: 'request', id, bytes, rx: rx(from, transport) };
  const forwarded = Buffer.from(authRegister(2), 'latin1');
  return {
    kind: 'response', id, bytes, rx: rx(from, transport),
    request: { bytes: forwarded, rx: rx(UE) },
    context: id % 3 === 0 ? { flow: 'originating' } : { flow: 'register', ipsec: id % 2 === 0 },
  };
}

const kinds = new Map<string, number>();

function parsed(bytes: Uint8Array): SipMessage | undefined {
  try {
    return parseMessage(Buffer.from(bytes));
  } catch {
    return undefined;
  }
}

/**
 * What every Plan must be: bytes that parse as the right kind of message, a target that names a
 * real socket. The one exception: the best-effort 400 to a request that does not parse copies its
 * header lines as they are (buildErrorFromRaw), so only its status line is checked.
 */
function checkPlan(h: Harness, plan: Plan, input: SipMessage | undefined): void {
  kinds.set(plan.kind, (kinds.get(plan.kind) ?? 0) + 1);
  switch (plan.kind) {
    case 'drop':
      assert.type(plan.reason, 'string');
      assert.ok(plan.reason.length > 0);
      return;
    case 'reply': {
      if (input === undefined) {
        assert.ok(Buffer.from(plan.bytes).toString('latin1').startsWith(`SIP/2.0 ${plan.status} `));
        return;
      }
      const m = parseMessage(Buffer.from(plan.bytes));
      assert.not.ok(m.isRequest);
      assert.is(m.status, plan.status);
      return;
    }
    case 'kernel': {
      // A kernel plan holds an SPI pair until the main thread is done with it: give it back as a
      // failed creation would, and check both answers it may lead to.
      assert.equal(plan.work.release, [plan.commit.set.spiPc]);
      h.ctx.ipsec!.spis.release(plan.commit.set.spiPc);
      checkPlan(h, plan.then, input);
      checkPlan(h, plan.otherwise, input);
      return;
    }
    case 'forward':
    case 'send': {
      // The main thread answers a request that parseMessage refuses and never hands it over
      // (decide only indexes what it is given): for such bytes, only that decide does not throw.
      if (input === undefined) return;
      const m = parseMessage(Buffer.from(plan.bytes));
      assert.ok(m.isRequest);
      const socket = h.ctx.sockets.byId(plan.target.socketId);
      assert.ok(socket !== undefined && socket.transport === plan.target.transport && socket.role === 'unprotected');
      assert.ok(m.topVia().branch?.startsWith('z9hG4bK'));
      assert.ok(h.ctx.us.isOurVia(m.topVia()));
      if (plan.kind === 'forward') assert.is(m.topVia().branch, plan.branch);
      const before = input!.maxForwards();
      assert.is(m.maxForwards(), before === undefined ? 70 : before - 1);
      return;
    }
  }
}

function run(h: Harness, msg: Inbound): void {
  let plan: Plan;
  try {
    plan = decide(msg, h.ctx);
  } catch (e) {
    assert.unreachable(`decide threw ${String(e)} on:\n${Buffer.from(msg.bytes).toString('latin1')}`);
    return;
  }
  try {
    checkPlan(h, plan, parsed(msg.bytes));
  } catch (e) {
    const shown = describe(plan);
    throw new Error(`${String(e)}\n--- ${msg.kind} ${msg.id} from ${msg.rx.remote.addr}/${msg.rx.transport}:\n${Buffer.from(msg.bytes).toString('latin1')}\n--- ${plan.kind}:\n${shown}`);
  }
}

test('RFC 4475 torture messages, from every side, over UDP and TCP', () => {
  for (const ipsec of [false, true]) {
    const h = harness(ipsec ? { PCSCF_IPSEC_LISTEN_ADDR: '10.0.0.1', PCSCF_IPSEC_CLIENT_PORT: '5100', PCSCF_IPSEC_SERVER_PORT: '6100' } : {});
    registerAlice(h);
    for (const bytes of torture) {
      for (let source = 0; source < SOURCES.length; source++) {
        for (const transport of ['udp', 'tcp'] as const) for (const id of [0, 1, 2]) run(h, inbound(bytes, source, transport, id));
      }
    }
  }
});

test('mutated IMS messages never make decide throw, and every plan is well formed', () => {
  const h = harness({ PCSCF_IPSEC_LISTEN_ADDR: '10.0.0.1', PCSCF_IPSEC_CLIENT_PORT: '5100', PCSCF_IPSEC_SERVER_PORT: '6100' });
  registerAlice(h);
  fc.assert(fc.property(
    fc.integer({ min: 0, max: seeds.length - 1 }),
    fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { minLength: 0, maxLength: 4 }),
    fc.nat(), fc.boolean(), fc.integer({ min: 0, max: 4 }),
    (seed, ops, source, tcp, id) => run(h, inbound(mutate(seeds[seed]!, ops), source, tcp ? 'tcp' : 'udp', id)),
  ), { numRuns: 4000 });
  // Not vacuous: the mutations reach every kind of plan.
  for (const kind of ['forward', 'reply', 'send', 'drop']) assert.ok((kinds.get(kind) ?? 0) > 0, `some ${kind} plans`);
});

test.run();
