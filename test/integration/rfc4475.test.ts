// The 49 RFC 4475 torture messages through a running P-CSCF (worker pool of 2) over UDP IPv4, as
// ../shared/testdata/rfc4475/README.md describes: a UE that registered first (so its requests are
// originating and go to the core) sends each message from UDP port 5060; a raw sink at the next
// hop answers every request 200 and records what arrives. Each case must end as its index row
// allows (expected_proxy_udp or also_acceptable, or a P-CSCF policy answer listed below), and a
// known-good MESSAGE after it must still get its 200.

import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SipPeer, type Received } from '../helpers/sip-peer.js';
import { RFC4475_DIR, rfc4475 } from '../sip/support.js';
import { closeLab, startLab, stopCleanly, type Lab } from './support.js';

/** RFC 3261 timers of this lab: short, so that a case reusing an earlier case's transaction key can wait for it to end. */
const T1_MS = 50;
const T4_MS = 100;
/** A transaction is gone this long after its final response (Timers J and L are 64*T1; K and I are T4). */
const TX_GONE_MS = 64 * T1_MS + 2 * T4_MS + 300;

type Outcome = { kind: 'FWD' } | { kind: 'DROP' } | { kind: 'status'; test: (status: number) => boolean; text: string };

interface Case {
  name: string;
  section: string;
  request: boolean;
  method: string;
  allowed: Outcome[];
  bytes: Buffer;
  callId: string | undefined;
  /** RFC 3261 §17.2.3: branch, sent-by and method of the top Via; a later case with the same key is a retransmission of this one. */
  txKey: string;
}

/** One outcome of an index column: FWD, DROP, a status, or the prose forms the index uses for sets of statuses. */
function outcome(text: string): Outcome | undefined {
  if (text === '-') return undefined;
  if (text.startsWith('FWD')) return { kind: 'FWD' };
  if (text.startsWith('DROP')) return { kind: 'DROP' };
  if (text.startsWith('any error response')) return { kind: 'status', test: (s) => s >= 400, text };
  if (text.startsWith('non-400 rejection')) return { kind: 'status', test: (s) => s >= 400 && s !== 400, text };
  const status = /^(\d{3})\b/.exec(text);
  if (status !== null) return { kind: 'status', test: (s) => s === Number(status[1]), text: status[1]! };
  throw new Error(`an outcome of the RFC 4475 index this suite does not know: ${text}`);
}

/** RFC 3261 §7.3.3 compact forms included. */
const headerValue = (text: string, long: string, compact: string): string | undefined =>
  new RegExp(`^(?:${long}|${compact})[ \\t]*:[ \\t]*([^\\r\\n]*)`, 'im').exec(text)?.[1]?.trim();

function txKey(text: string, method: string): string {
  const via = (headerValue(text, 'Via', 'v') ?? '').split(',')[0]!;
  const branch = /;\s*branch\s*=\s*([^;\s]+)/i.exec(via)?.[1] ?? '';
  const sentBy = /^SIP\s*\/\s*2\.0\s*\/\s*\S+\s+([^;\s]+)/i.exec(via)?.[1] ?? '';
  return `${method} ${branch} ${sentBy}`.toLowerCase();
}

function loadCases(): Case[] {
  const [head, ...rows] = readFileSync(new URL('index.tsv', RFC4475_DIR), 'utf8').trim().split('\n').map((r) => r.split('\t'));
  const col = (name: string): number => head!.indexOf(name);
  return rows.map((r) => {
    const name = r[col('name')]!;
    const bytes = rfc4475(name);
    const text = bytes.toString('latin1');
    const [kind, method] = r[col('start_line')]!.split(' ') as [string, string];
    const allowed = [outcome(r[col('expected_proxy_udp')]!), outcome(r[col('also_acceptable')]!)].filter((o) => o !== undefined);
    return { name, section: r[col('rfc_section')]!, request: kind === 'request', method, allowed, bytes, callId: headerValue(text, 'Call-ID', 'i'), txKey: txKey(text, method) };
  });
}

/**
 * Valid requests the P-CSCF answers itself, by policy rather than as a parse error (checked by
 * their reason phrase), and why.
 */
const POLICY: Readonly<Record<string, { status: number; phrase: RegExp; why: string }>> = {
  // A REGISTER without Contact (RFC 3261 §10.2.3, fetching bindings) tells the P-CSCF nothing to
  // record; every REGISTER of a UE carries its Contact (TS 24.229 §5.1.1.2), so it is refused.
  regaut01: { status: 400, phrase: /^Bad Request \(REGISTER without Contact\)$/, why: 'a binding query' },
  // The P-CSCF keeps bindings by public user identity, which is a SIP or TEL URI (TS 23.003 §13.4);
  // To: isbn:... cannot be one. The index allows 400 from an element that keeps the registration.
  unksm2: { status: 400, phrase: /^Bad Request \(To is not a SIP or TEL URI\)$/, why: 'an AOR that is not a SIP or TEL URI' },
};

const CASES = loadCases();
const UE_PORTS = [5060, 5050, 5061, 5070];

let lab: Lab | undefined;
let ue: SipPeer | undefined;
let sink: SipPeer | undefined;
const l = (): Lab => lab!;
const u = (): SipPeer => ue!;
const s = (): SipPeer => sink!;
/** When each transaction key was last sent. */
const sentAt = new Map<string, number>();
let probes = 0;

const callIdOf = (text: string): string | undefined => headerValue(text, 'Call-ID', 'i');
const statusOf = (text: string): number => Number(text.slice(8, 11));
const isFinal = (e: Received): boolean => e.text.startsWith('SIP/2.0 ') && statusOf(e.text) >= 200;

/** A regular expression (source) for a final response (or the status given) carrying this Call-ID, in a long or compact header. */
function finalFor(callId: string, status = '[2-6]\\d\\d'): string {
  const id = callId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return `^SIP/2\\.0 ${status} [^\\r]*\\r\\n(?:[^\\r]*\\r\\n)*?(?:Call-ID|i)[ \\t]*:[ \\t]*${id}[ \\t]*\\r`;
}

/** A MESSAGE from the registered UE: it must come back 200 through the sink, or the proxy did not survive. */
async function probe(): Promise<void> {
  const n = ++probes;
  const callId = `probe-${n}@10.41.1.2`;
  const text = [
    'MESSAGE sip:dave@ims.example SIP/2.0', `Via: SIP/2.0/UDP 10.41.1.2:5060;branch=z9hG4bK-probe-${n};rport`, 'Max-Forwards: 70',
    `From: <sip:probe@ims.example>;tag=p${n}`, 'To: <sip:dave@ims.example>', `Call-ID: ${callId}`, 'CSeq: 1 MESSAGE',
    'Content-Type: text/plain', 'Content-Length: 5', '', 'probe',
  ].join('\r\n');
  const since = await u().last();
  await u().send('u5060', l().net.addr.pcscfUe4, 5060, text);
  const answer = await u().wait(finalFor(callId, '200'), since, 5000);
  assert.ok(answer !== undefined, `the known-good MESSAGE ${n} got its 200: the P-CSCF survived (it ${l().pcscf.running ? 'runs' : 'exited'})`);
}

test.before(async () => {
  lab = await startLab('it4475', { poolSize: 2, sip: { timers: { t1_ms: T1_MS, t2_ms: 8 * T1_MS, t4_ms: T4_MS } } });
  [ue, sink] = await Promise.all([SipPeer.start(lab.net.ue), SipPeer.start(lab.net.core)]);
  // Responses go to the sent-by port (RFC 3261 §18.2.2): 5060, 5050 (quotbal), 5061 (a TLS Via);
  // a proxy may also answer a TCP or TLS top Via over TCP (README).
  for (const port of UE_PORTS) await ue.bind(`u${port}`, 'udp', lab.net.addr.ue4, port);
  for (const port of [5060, 5061]) await ue.bind(`t${port}`, 'tcp', lab.net.addr.ue4, port);
  await sink.bind('udp', 'udp', lab.net.addr.core4, 5060);
  await sink.bind('tcp', 'tcp', lab.net.addr.core4, 5060);
  await sink.answer('udp', { '*': 200 });
  const register = [
    'REGISTER sip:ims.example SIP/2.0', 'Via: SIP/2.0/UDP 10.41.1.2:5060;branch=z9hG4bK-probe-reg;rport', 'Max-Forwards: 70',
    'From: <sip:probe@ims.example>;tag=pr', 'To: <sip:probe@ims.example>', 'Call-ID: probe-reg@10.41.1.2', 'CSeq: 1 REGISTER',
    'Contact: <sip:probe@10.41.1.2:5060>', 'Expires: 3600', 'Content-Length: 0', '', '',
  ].join('\r\n');
  await ue.send('u5060', lab.net.addr.pcscfUe4, 5060, register);
  assert.ok(await ue.wait('^SIP/2\\.0 200 ', 0, 5000), 'the UE registered');
});

test.after(async () => {
  ue?.close();
  sink?.close();
  await closeLab(lab);
});

test('the index lists the 49 cases of RFC 4475', () => {
  assert.is(CASES.length, 49);
  assert.is(new Set(CASES.map((c) => c.name)).size, 49);
});

for (const c of CASES) {
  const allowed = [...c.allowed.map((o) => (o.kind === 'status' ? o.text : o.kind)), ...(POLICY[c.name] ? [`${POLICY[c.name]!.status} (policy: ${POLICY[c.name]!.why})`] : [])];
  test(`${c.name} (§${c.section}, ${c.request ? c.method.slice(0, 20) : 'response'}): ${allowed.join(' or ')}`, async () => {
    const earlier = sentAt.get(c.txKey);
    if (c.request && earlier !== undefined) await new Promise((r) => setTimeout(r, Math.max(0, earlier + TX_GONE_MS - Date.now())));
    const ueSince = await u().last();
    const coreSince = await s().last();
    await u().send('u5060', l().net.addr.pcscfUe4, 5060, c.bytes);
    if (c.request) sentAt.set(c.txKey, Date.now());
    const mine = (e: Received): boolean => callIdOf(e.text) === c.callId;
    // Paced by the case's final response when it gets one; the probe follows in any case.
    if (c.request && c.callId !== undefined) await u().wait(finalFor(c.callId), ueSince, 1500);
    else await new Promise((r) => setTimeout(r, 300));
    await probe();
    const atUe = (await u().log(ueSince)).filter(mine);
    const atCore = (await s().log(coreSince)).filter(mine);
    const finals = atUe.filter(isFinal);
    const final = finals[0];
    const forwarded = atCore.filter((e) => !e.text.startsWith('SIP/2.0 ') && !e.text.startsWith('ACK '));
    const seen = `UE got [${atUe.map((e) => e.text.split('\r\n')[0]).join(' | ')}], the core got [${atCore.map((e) => e.text.split('\r\n')[0]!.slice(0, 60)).join(' | ')}]`;

    if (!c.request) {
      assert.equal([atUe.length, atCore.length], [0, 0], `a response matching no transaction is dropped (RFC 3261 §16.7, §18.1.2): ${seen}`);
      return;
    }
    if (forwarded.length > 0) {
      assert.ok(c.allowed.some((o) => o.kind === 'FWD'), `forwarded, which the index does not allow: ${seen}`);
      const branches = new Set(forwarded.map((e) => /^Via: [^\r]*;branch=([^;\r]+)/m.exec(e.text)?.[1]));
      assert.is(branches.size, 1, `one transaction forwarded: ${seen}`);
      for (const e of forwarded) {
        assert.match(e.text, /^\S+ [^\s<>]+ SIP\/2\.0\r\n/, 'a clean request line: no <>, no extra SP (RFC 4475 §3.1.2.7-10)');
        assert.match(e.text, /^Via: SIP\/2\.0\/UDP 10\.41\.2\.1:5060;branch=z9hG4bK/m, 'the P-CSCF\'s Via on top');
        assert.match(e.text, /^Max-Forwards[ \t]*:[ \t]*\d+[ \t]*\r$/im, 'Max-Forwards present (RFC 3261 §16.6 item 3)');
        assert.ok(e.text.startsWith(`${c.method} `), `the method is kept: ${e.text.slice(0, 40)}`);
      }
      if (c.name === 'dblreq') assert.not.ok(forwarded.some((e) => e.text.includes('INVITE')), 'the octets after the REGISTER are not forwarded (RFC 3261 §18.3)');
      assert.equal(finals.map((e) => statusOf(e.text)), [200], `the sink's 200 relayed: ${seen}`);
      return;
    }
    if (final !== undefined) {
      const status = statusOf(final.text);
      const phrase = final.text.slice(12, final.text.indexOf('\r\n'));
      const policy = POLICY[c.name];
      const listed = c.allowed.some((o) => o.kind === 'status' && o.test(status));
      assert.ok(listed || (policy?.status === status && policy.phrase.test(phrase)), `answered ${status} ${phrase}: ${seen}`);
      assert.ok(finals.every((e) => statusOf(e.text) === status), `one answer: ${seen}`);
      return;
    }
    assert.ok(c.allowed.some((o) => o.kind === 'DROP'), `neither answered nor forwarded: ${seen}`);
  });
}

test('SIGTERM after the corpus: exit status 0, nothing left behind', async () => {
  await stopCleanly(l());
});

test.run();
