// The lab S-CSCF on real sockets (in this file's own namespace), driven by a bare SIP peer: the 401
// of IMS AKA as an S-CSCF sends it to the P-CSCF, RES checked as the Digest password, resync,
// de-registration, the 200's headers, retransmissions, MESSAGE both ways, UDP / TCP, IPv4 / IPv6.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeAuts, parseNonce, respond } from '../../src/lab/aka.js';
import { credentialsValue, readChallenge } from '../../src/lab/aka-sip.js';
import { digestResponse } from '../../src/lab/digest.js';
import { Scscf, type ScscfEvent } from '../../src/lab/scscf.js';
import { parseSubscriberFile, SubscriberStore } from '../../src/lab/subscribers.js';
import { extractAkaKeys, KeyError } from '../../src/secagree/index.js';
import type { SipMessage } from '../../src/sip/index.js';
import { ownNetns } from '../helpers/own-netns.js';
import { request, TcpPeer, UdpPeer } from './raw-peer.js';
import { IMPI, IMPU, K, OPC, SCSCF_PORT, TEL } from './world.js';

await ownNetns('lab-scscf');

const keys = { k: Buffer.from(K, 'hex'), opc: Buffer.from(OPC, 'hex') };
const PATH = '<sip:term@127.0.0.1:5099;lr>';

interface Lab {
  scscf: Scscf;
  events: ScscfEvent[];
  peer: UdpPeer;
  to: { addr: string; port: number };
  via: string;
}

async function lab(addr = '127.0.0.1', sqn = 1, port = 0): Promise<Lab> {
  const file = parseSubscriberFile({ subscribers: [{ impi: IMPI, impu: [IMPU, TEL], k: K, opc: OPC, sqn }] });
  const events: ScscfEvent[] = [];
  const scscf = await Scscf.start({ addr, port: SCSCF_PORT, realm: file.realm, subscribers: new SubscriberStore(file.subscribers) }, (e) => events.push(e));
  const peer = await UdpPeer.open(addr, port);
  const host = addr.includes(':') ? `[${addr}]` : addr;
  return { scscf, events, peer, to: { addr, port: SCSCF_PORT }, via: `SIP/2.0/UDP ${host}:${peer.port};branch=z9hG4bK` };
}

async function done(l: Lab): Promise<void> {
  l.peer.close();
  await l.scscf.close();
}

const contact = (expires = 600): string => `Contact: <sip:alice@127.0.0.1:7061>;expires=${expires}`;
const emptyAuth = `Authorization: ${credentialsValue({ username: IMPI, realm: 'ims.example', uri: 'sip:ims.example', nonce: '', response: '' })}`;

/** The Authorization answering the challenge in `r401` with `password` (RES, or something else). */
function answer(r401: SipMessage, password: Buffer, extra: { auts?: string; integrity?: string } = {}): string {
  const c = readChallenge(r401)!;
  const base = { username: IMPI, realm: c.realm, uri: 'sip:ims.example', nonce: c.nonce, algorithm: 'AKAv1-MD5', qop: 'auth', nc: '00000001', cnonce: 'c0ffee' } as const;
  const response = digestResponse({ ...base, password, method: 'REGISTER' });
  return `Authorization: ${credentialsValue({ ...base, response, ...(extra.auts === undefined ? {} : { auts: extra.auts }) })}${extra.integrity === undefined ? '' : `, integrity-protected="${extra.integrity}"`}`;
}

async function exchange(l: Lab, branch: string, cseq: number, headers: string[]): Promise<SipMessage> {
  l.peer.send(request('REGISTER', 'sip:ims.example', `${l.via}${branch}`, cseq, headers), l.to);
  return (await l.peer.inbox.next()).msg;
}

test('401: nonce = base64(RAND || AUTN) that the USIM accepts, ck / ik equal to its CK / IK, realm, AKAv1-MD5, qop auth', async () => {
  const l = await lab('127.0.0.1', 42);
  try {
    const r = await exchange(l, 'a1', 1, [contact(), emptyAuth, `Path: ${PATH}`]);
    assert.is(r.status, 401);
    const www = r.fields('www-authenticate');
    assert.is(www.length, 1);
    assert.match(www[0]!.value, /^Digest realm="ims\.example", nonce="[A-Za-z0-9+/=]+", algorithm=AKAv1-MD5, qop="auth", ck="[0-9a-f]{32}", ik="[0-9a-f]{32}"$/);
    const { rand, autn } = parseNonce(readChallenge(r)!.nonce);
    const usim = respond({ ...keys, rand, autn, sqnMs: 41 });
    if (!usim.ok) throw new Error(usim.reason);
    assert.is(usim.sqn, 42, 'the subscriber\'s SQN');
    const k = extractAkaKeys(www[0]!.value);
    if (k instanceof KeyError) throw new Error(k.message);
    assert.equal([k.ck, k.ik], [usim.ck, usim.ik]);
    assert.equal(l.events.filter((e) => e.event === 'challenged'), [{ event: 'challenged', impi: IMPI, impu: IMPU, callId: 'test-call@lab', sqn: 42 }]);
    // The next challenge carries the next SQN (TS 33.102 §6.3.2).
    const r2 = await exchange(l, 'a2', 2, [contact(), emptyAuth]);
    const second = parseNonce(readChallenge(r2)!.nonce);
    const usim2 = respond({ ...keys, ...second, sqnMs: 42 });
    assert.ok(usim2.ok && usim2.sqn === 43);
  } finally {
    await done(l);
  }
});

test('RES as the password: 200 with the binding, the Path received, Service-Route to itself and P-Associated-URI', async () => {
  const l = await lab();
  try {
    const c = await exchange(l, 'b1', 1, [contact(), emptyAuth, `Path: ${PATH}`]);
    const usim = respond({ ...keys, ...parseNonce(readChallenge(c)!.nonce) });
    if (!usim.ok) throw new Error(usim.reason);
    const ok = await exchange(l, 'b2', 2, [contact(300), answer(c, usim.res), `Path: ${PATH}`]);
    assert.is(ok.status, 200);
    assert.equal(ok.values('contact').map((v) => v.text), ['<sip:alice@127.0.0.1:7061>;expires=300']);
    assert.equal(ok.values('path').map((v) => v.text), [PATH]);
    assert.equal(ok.values('service-route').map((v) => v.text), [`<sip:orig@127.0.0.1:${SCSCF_PORT};lr>`]);
    assert.equal(ok.values('p-associated-uri').map((v) => v.text), [`<${IMPU}>`, `<${TEL}>`]);
    assert.equal(l.events.at(-1), { event: 'registered', impi: IMPI, impu: IMPU, contacts: [{ uri: 'sip:alice@127.0.0.1:7061', expires: 300 }], path: [PATH] });
    assert.equal(l.scscf.bindings(TEL), [{ uri: 'sip:alice@127.0.0.1:7061', expires: 300 }], 'every IMPU of the set shares the binding');
    // A nonce answers once: the same credentials again are challenged anew.
    const again = await exchange(l, 'b3', 3, [contact(300), answer(c, usim.res)]);
    assert.is(again.status, 401);
    assert.is.not(readChallenge(again)!.nonce, readChallenge(c)!.nonce);
  } finally {
    await done(l);
  }
});

test('a wrong response is 403; an IMPI that does not own the IMPU, an unknown IMPU and Require: sec-agree are refused', async () => {
  const l = await lab();
  try {
    const c = await exchange(l, 'c1', 1, [contact(), emptyAuth]);
    const wrong = await exchange(l, 'c2', 2, [contact(), answer(c, Buffer.alloc(8, 0x55))]);
    assert.is(wrong.status, 403);
    assert.equal(l.events.at(-1), { event: 'rejected', method: 'REGISTER', status: 403, reason: 'Authentication Failed', impi: IMPI });
    assert.is(l.scscf.bindings(IMPU).length, 0);
    const other = await exchange(l, 'c3', 3, [contact(), emptyAuth.replace(IMPI, 'mallory@ims.example')]);
    assert.is(other.status, 403);
    l.peer.send(request('REGISTER', 'sip:ims.example', `${l.via}c4`, 4, [contact()]).replace('To: <sip:alice@ims.example>', 'To: <sip:nobody@ims.example>'), l.to);
    assert.is((await l.peer.inbox.next()).msg.status, 403);
    const ext = await exchange(l, 'c5', 5, [contact(), emptyAuth, 'Require: sec-agree']);
    assert.is(ext.status, 420);
    assert.equal(ext.values('unsupported').map((v) => v.text), ['sec-agree']);
  } finally {
    await done(l);
  }
});

test('resync: auts from a USIM ahead of the HSS -> a new challenge with SQN above SQN_MS, which the USIM accepts; a bad auts is 403', async () => {
  const l = await lab('127.0.0.1', 5);
  try {
    const c = await exchange(l, 'd1', 1, [contact(), emptyAuth]);
    const stale = respond({ ...keys, ...parseNonce(readChallenge(c)!.nonce), sqnMs: 1000 });
    if (stale.ok || stale.reason !== 'sync-failure') throw new Error('expected a synchronisation failure');
    const fresh = await exchange(l, 'd2', 2, [contact(), answer(c, Buffer.alloc(0), { auts: encodeAuts(stale.auts) })]);
    assert.is(fresh.status, 401);
    assert.ok(l.events.some((e) => e.event === 'resynchronised' && e.sqnMs === 1000));
    const usim = respond({ ...keys, ...parseNonce(readChallenge(fresh)!.nonce), sqnMs: 1000 });
    if (!usim.ok) throw new Error(usim.reason);
    assert.is(usim.sqn, 1001);
    const ok = await exchange(l, 'd3', 3, [contact(), answer(fresh, usim.res)]);
    assert.is(ok.status, 200);
    // AUTS whose MAC-S does not verify.
    const c2 = await exchange(l, 'd4', 4, [contact(), emptyAuth]);
    const bad = await exchange(l, 'd5', 5, [contact(), answer(c2, Buffer.alloc(0), { auts: encodeAuts(Buffer.alloc(14, 7)) })]);
    assert.is(bad.status, 403);
  } finally {
    await done(l);
  }
});

test('de-registration: Expires 0 answered -> 200 without Contact; integrity-protected="yes" needs no challenge, "no" does', async () => {
  const l = await lab();
  const register = async (branch: string, cseq: number): Promise<void> => {
    const c = await exchange(l, `${branch}a`, cseq, [contact(), emptyAuth]);
    const usim = respond({ ...keys, ...parseNonce(readChallenge(c)!.nonce) });
    if (!usim.ok) throw new Error(usim.reason);
    assert.is((await exchange(l, `${branch}b`, cseq + 1, [contact(), answer(c, usim.res)])).status, 200);
  };
  try {
    await register('e1', 1);
    const c = await exchange(l, 'e2', 3, [contact(0), 'Expires: 0', emptyAuth]);
    assert.is(c.status, 401);
    const usim = respond({ ...keys, ...parseNonce(readChallenge(c)!.nonce) });
    if (!usim.ok) throw new Error(usim.reason);
    const ok = await exchange(l, 'e3', 4, [contact(0), 'Expires: 0', answer(c, usim.res)]);
    assert.is(ok.status, 200);
    assert.is(ok.values('contact').length, 0);
    assert.equal(l.events.at(-1), { event: 'deregistered', impi: IMPI, impu: IMPU });
    assert.equal(l.scscf.bindings(IMPU), []);

    await register('e4', 5);
    const unprotected = await exchange(l, 'e5', 7, [contact(0), `${emptyAuth}, integrity-protected="no"`]);
    assert.is(unprotected.status, 401);
    const trusted = await exchange(l, 'e6', 8, [contact(0), `${emptyAuth}, integrity-protected="yes"`]);
    assert.is(trusted.status, 200);
    assert.equal(l.scscf.bindings(IMPU), []);
  } finally {
    await done(l);
  }
});

test('a retransmitted REGISTER gets the same 401 again (server transaction), not a second challenge', async () => {
  const l = await lab();
  try {
    const text = request('REGISTER', 'sip:ims.example', `${l.via}f1`, 1, [contact(), emptyAuth]);
    l.peer.send(text, l.to);
    const first = (await l.peer.inbox.next()).msg;
    l.peer.send(text, l.to);
    const second = (await l.peer.inbox.next()).msg;
    assert.equal(second.raw, first.raw);
    assert.is(l.events.filter((e) => e.event === 'challenged').length, 1);
  } finally {
    await done(l);
  }
});

test('MESSAGE from a UE is answered 200 and reported; a terminating MESSAGE goes to the Path with the contact as Request-URI', async () => {
  const l = await lab();
  const pcscf = await UdpPeer.open('127.0.0.1', 5099);
  try {
    l.peer.send(request('MESSAGE', 'sip:bob@ims.example', `${l.via}g1`, 1, ['Route: <sip:orig@127.0.0.1:6060;lr>', 'Content-Type: text/plain'], 'hello'), l.to);
    assert.is((await l.peer.inbox.next()).msg.status, 200);
    assert.equal(l.events.at(-1), { event: 'message-received', from: IMPU, to: IMPU, requestUri: 'sip:bob@ims.example', text: 'hello', callId: 'test-call@lab' });

    assert.equal(await l.scscf.sendMessage(IMPU, 'nobody home'), { ok: false, reason: 'not-registered', message: `${IMPU} has no registered contact` });
    const c = await exchange(l, 'g2', 2, [contact(), emptyAuth, `Path: ${PATH}`]);
    const usim = respond({ ...keys, ...parseNonce(readChallenge(c)!.nonce) });
    if (!usim.ok) throw new Error(usim.reason);
    assert.is((await exchange(l, 'g3', 3, [contact(), answer(c, usim.res), `Path: ${PATH}`])).status, 200);

    const sent = l.scscf.sendMessage(TEL, 'hi alice');
    const got = await pcscf.inbox.next();
    assert.is(got.msg.method, 'MESSAGE');
    assert.is(got.msg.requestUri, 'sip:alice@127.0.0.1:7061');
    assert.equal(got.msg.values('route').map((v) => v.text), [PATH]);
    assert.is(got.msg.to().uri, TEL);
    assert.is(got.msg.body.toString(), 'hi alice');
    const reply = got.msg.raw.toString('latin1').replace(/^MESSAGE [^\r]+/, 'SIP/2.0 202 Accepted').replace(/Route: [^\r]+\r\n/, '').replace(/Content-Type: [^\r]+\r\n/, '').replace(/Content-Length: \d+\r\n\r\n[\s\S]*$/, 'Content-Length: 0\r\n\r\n');
    pcscf.send(reply, got.from);
    assert.equal(await sent, { ok: true, status: 202, reason: 'Accepted' });
    assert.equal(l.events.at(-1), { event: 'message-answered', to: TEL, status: 202, reason: 'Accepted' });
  } finally {
    pcscf.close();
    await done(l);
  }
});

test('TCP over IPv6: challenge and 200 on the connection the REGISTER came on', async () => {
  const l = await lab('::1');
  const tcp = await TcpPeer.connect({ addr: '::1', port: SCSCF_PORT }, '::1');
  try {
    const via = `SIP/2.0/TCP [::1]:5999;branch=z9hG4bKh`;
    const ct = 'Contact: <sip:alice@[::1]:7061;transport=tcp>';
    tcp.send(request('REGISTER', 'sip:ims.example', `${via}1`, 1, [ct, emptyAuth]));
    const c = (await tcp.inbox.next()).msg;
    assert.is(c.status, 401);
    const usim = respond({ ...keys, ...parseNonce(readChallenge(c)!.nonce) });
    if (!usim.ok) throw new Error(usim.reason);
    tcp.send(request('REGISTER', 'sip:ims.example', `${via}2`, 2, [ct, answer(c, usim.res)]));
    const ok = (await tcp.inbox.next()).msg;
    assert.is(ok.status, 200);
    assert.equal(ok.values('service-route').map((v) => v.text), [`<sip:orig@[::1]:${SCSCF_PORT};lr>`]);
    assert.equal(l.scscf.bindings(IMPU), [{ uri: 'sip:alice@[::1]:7061;transport=tcp', expires: 600 }]);
  } finally {
    tcp.close();
    await done(l);
  }
});

test.run();
