// What the UE puts on the wire, read by a bare peer that plays the P-CSCF: the unprotected REGISTER
// of TS 24.229 §5.1.1.2.1 and, after a 401 written here, the protected REGISTER of TS 33.203 §7.2
// (its response verifies against digest.ts with XRES, Security-Verify is the Security-Server sent,
// Security-Client is the first one). Also the request builder on its own.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateVector, makeNonce } from '../../src/lab/aka.js';
import { readCredentials } from '../../src/lab/aka-sip.js';
import { digestResponse } from '../../src/lab/digest.js';
import { buildRequest, nextHopOf } from '../../src/lab/requests.js';
import { Ue, type UeEvent } from '../../src/lab/ue.js';
import { buildSecurityServer, sameSecurityClient } from '../../src/secagree/index.js';
import { parseMessage, type SipMessage } from '../../src/sip/index.js';
import { ownNetns } from '../helpers/own-netns.js';
import { throwsLabInput } from './input-error.js';
import { UdpPeer } from './raw-peer.js';
import { FakeXfrm, IMPI, IMPU, K, OPC, UE_MARKER, UE_PORTS, UE_SPI_BASE } from './world.js';

await ownNetns('lab-uemsg');

const ADDR = '127.0.0.1';
const keys = { k: Buffer.from(K, 'hex'), opc: Buffer.from(OPC, 'hex') };

/** A response to `req` with the given status line and extra header lines, Via..CSeq copied. */
function answer(req: SipMessage, status: string, headers: string[]): string {
  const copy = ['via', 'from', 'to', 'call-id', 'cseq'].flatMap((h) => req.fields(h).map((f) => req.head.slice(f.start, f.end).trimEnd()));
  return [`SIP/2.0 ${status}`, ...copy, ...headers, 'Content-Length: 0', '', ''].join('\r\n');
}

const header = (m: SipMessage, name: string): string[] => m.fieldValues(name);

test('the unprotected REGISTER and, after the 401, the protected one: every header TS 24.229 §5.1.1.2 and TS 33.203 §7 ask for', async () => {
  const pcscf = await UdpPeer.open(ADDR, 5060);
  const protectedPort = await UdpPeer.open(ADDR, 5064);
  const xfrm = new FakeXfrm();
  const events: UeEvent[] = [];
  const ue = new Ue({
    impi: IMPI, impu: IMPU, ...keys, addr: ADDR, pcscf: { addr: ADDR, port: 5060 }, ports: UE_PORTS, spiBase: UE_SPI_BASE, marker: UE_MARKER,
    offers: [['hmac-sha-1-96', 'aes-cbc'], ['hmac-md5-96', 'null']], expires: 1200,
  }, { xfrm, onEvent: (e) => events.push(e) });
  try {
    const registering = ue.register();
    const first = await pcscf.inbox.next();
    const r1 = first.msg;
    assert.equal(first.from, { addr: ADDR, port: UE_PORTS.unprotected });
    assert.is(r1.requestUri, 'sip:ims.example');
    assert.match(header(r1, 'via')[0]!, new RegExp(`^SIP/2\\.0/UDP 127\\.0\\.0\\.1:${UE_PORTS.unprotected};branch=z9hG4bK\\w+;rport$`));
    assert.equal([r1.from().uri, r1.to().uri, r1.to().tag], [IMPU, IMPU, undefined]);
    assert.ok(r1.from().tag !== undefined);
    assert.equal(header(r1, 'contact'), [`<sip:alice@127.0.0.1:${UE_PORTS.server}>;expires=1200`], 'the contact carries port_us');
    assert.equal(header(r1, 'expires'), ['1200']);
    assert.equal(readCredentials(r1), { username: IMPI, realm: 'ims.example', uri: 'sip:ims.example', nonce: '', response: '' });
    const client = header(r1, 'security-client');
    assert.equal(client, [`ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=trans;spi-c=${UE_SPI_BASE};spi-s=${UE_SPI_BASE + 1};port-c=${UE_PORTS.clients[0]};port-s=${UE_PORTS.server}, ipsec-3gpp;alg=hmac-md5-96;ealg=null;prot=esp;mod=trans;spi-c=${UE_SPI_BASE};spi-s=${UE_SPI_BASE + 1};port-c=${UE_PORTS.clients[0]};port-s=${UE_PORTS.server}`]);
    assert.equal([r1.optionTags('require'), r1.optionTags('proxy-require'), r1.optionTags('supported')], [['sec-agree'], ['sec-agree'], ['path', 'sec-agree']]);
    assert.not.ok(r1.has('security-verify'));

    const v = generateVector({ ...keys, sqn: 9, amf: Buffer.from('8000', 'hex') });
    const nonce = makeNonce(v.rand, v.autn);
    const server = buildSecurityServer({ spiPc: 4000, spiPs: 4001, portPc: 5062, portPs: 5064, alg: 'hmac-md5-96', ealg: 'null' });
    pcscf.send(answer(r1, '401 Unauthorized', [`WWW-Authenticate: Digest realm="ims.example", nonce="${nonce}", algorithm=AKAv1-MD5, qop="auth"`, 'Supported: sec-agree', `Security-Server: ${server}`]), first.from);

    const second = await protectedPort.inbox.next();
    const r2 = second.msg;
    assert.equal(second.from, { addr: ADDR, port: UE_PORTS.clients[0] }, 'from port_uc to port_ps');
    assert.match(header(r2, 'via')[0]!, new RegExp(`^SIP/2\\.0/UDP 127\\.0\\.0\\.1:${UE_PORTS.server};branch=z9hG4bK\\w+$`), 'sent-by port_us, no rport');
    assert.equal([r2.callId(), r2.cseq().seq, r2.from().tag], [r1.callId(), r1.cseq().seq + 1, r1.from().tag]);
    const cred = readCredentials(r2)!;
    assert.equal([cred.username, cred.realm, cred.uri, cred.nonce, cred.algorithm, cred.qop, cred.nc], [IMPI, 'ims.example', 'sip:ims.example', nonce, 'AKAv1-MD5', 'auth', '00000001']);
    assert.is(cred.response, digestResponse({ username: IMPI, realm: 'ims.example', password: v.xres, method: 'REGISTER', uri: 'sip:ims.example', nonce, qop: 'auth', nc: '00000001', cnonce: cred.cnonce! }));
    assert.equal(header(r2, 'security-verify'), [server], 'Security-Verify = the Security-Server received');
    assert.is(sameSecurityClient(client, header(r2, 'security-client')), true, 'Security-Client = the first one');
    assert.equal(header(r2, 'contact'), header(r1, 'contact'));
    // The SAs went in before the protected REGISTER left.
    assert.is(xfrm.groups.length, 1);
    protectedPort.send(answer(r2, '200 OK', [`Contact: <sip:alice@127.0.0.1:${UE_PORTS.server}>;expires=900`, 'Service-Route: <sip:orig@10.9.9.9;lr>', `P-Associated-URI: <${IMPU}>`]), second.from);
    await registering;
    assert.equal(ue.tunnel, {
      family: 4, ueAddr: ADDR, pcscfAddr: ADDR, spiUc: UE_SPI_BASE, spiUs: UE_SPI_BASE + 1, portUc: UE_PORTS.clients[0], portUs: UE_PORTS.server,
      spiPc: 4000, spiPs: 4001, portPc: 5062, portPs: 5064, alg: 'hmac-md5-96', ealg: 'null', ck: v.ck, ik: v.ik, marker: UE_MARKER,
    });
    assert.equal(events.at(-1), { event: 'registered', impu: IMPU, expires: 900, serviceRoute: ['<sip:orig@10.9.9.9;lr>'], associatedUris: [`<${IMPU}>`], afterMs: (events.at(-1) as { afterMs: number }).afterMs });

    // A MESSAGE: Route = the protected server port, then the Service-Route.
    const sending = ue.sendMessage('sip:bob@ims.example', 'héllo');
    const m = (await protectedPort.inbox.next()).msg;
    assert.equal([m.method, m.requestUri, header(m, 'route'), header(m, 'content-type'), m.body.toString('utf8')],
      ['MESSAGE', 'sip:bob@ims.example', ['<sip:127.0.0.1:5064;lr>, <sip:orig@10.9.9.9;lr>'], ['text/plain;charset=UTF-8'], 'héllo']);
    protectedPort.send(answer(m, '202 Accepted', []), { addr: ADDR, port: UE_PORTS.clients[0] });
    assert.equal(await sending, { status: 202, reason: 'Accepted' });
  } finally {
    await ue.close();
    pcscf.close();
    protectedPort.close();
  }
});

test('the request builder: the RFC 3261 §8.1.1 header order, Content-Length of the body, and no line breaks smuggled in', () => {
  const r = buildRequest({
    method: 'MESSAGE', uri: 'sip:bob@[fd00::1]:5062', via: { transport: 'tcp', addr: 'fd00::2', port: 7061 }, from: '<sip:a@x>;tag=1', to: '<sip:bob@x>',
    callId: 'c@x', cseq: 7, route: ['<sip:p;lr>', '<sip:s;lr>'], headers: [['P-Preferred-Identity', '<sip:a@x>']], body: { type: 'text/plain', bytes: Buffer.from('hi') },
  });
  const m = parseMessage(r.bytes);
  assert.is(r.method, 'MESSAGE');
  assert.is(m.topVia().branch, r.branch);
  assert.match(r.branch, /^z9hG4bK/);
  assert.equal(m.allFields().map((f) => f.name), ['Via', 'Max-Forwards', 'Route', 'From', 'To', 'Call-ID', 'CSeq', 'P-Preferred-Identity', 'Content-Type', 'Content-Length']);
  assert.equal([m.topVia().host, m.topVia().port, m.topVia().transport, m.contentLength(), m.body.toString()], ['[fd00::2]', 7061, 'TCP', 2, 'hi']);
  assert.is.not(buildRequest({ method: 'OPTIONS', uri: 'sip:x', via: { transport: 'udp', addr: '1.2.3.4', port: 5 }, from: '<sip:a@x>;tag=1', to: '<sip:x>', callId: 'c', cseq: 1 }).branch, r.branch);
  throwsLabInput(() => buildRequest({ method: 'MESSAGE', uri: 'sip:bob@x\r\nX: y', via: { transport: 'udp', addr: '1.2.3.4', port: 5 }, from: '<sip:a@x>;tag=1', to: '<sip:x>', callId: 'c', cseq: 1 }), 'ERR_LAB_CONFIG', 'uri');
  throwsLabInput(() => buildRequest({ method: 'MESSAGE', uri: 'not a uri', via: { transport: 'udp', addr: '1.2.3.4', port: 5 }, from: '<sip:a@x>;tag=1', to: '<sip:x>', callId: 'c', cseq: 1 }), 'ERR_LAB_CONFIG', 'uri');
  throwsLabInput(() => buildRequest({ method: 'MESSAGE', uri: 'sip:x', via: { transport: 'udp', addr: '1.2.3.4', port: 5 }, from: '<sip:a@x>;tag=1', to: '<sip:x>\nVia: evil', callId: 'c', cseq: 1 }), 'ERR_LAB_CONFIG', 'to');
});

test('the next hop of a URI: IP literals only, UDP unless transport=tcp, 5060 by default', () => {
  assert.equal(nextHopOf('sip:term@10.0.0.1:5062;lr'), { transport: 'udp', addr: '10.0.0.1', port: 5062 });
  assert.equal(nextHopOf('sip:alice@[fd00::2]:7061;transport=TCP'), { transport: 'tcp', addr: 'fd00::2', port: 7061 });
  assert.equal(nextHopOf('sip:10.0.0.1'), { transport: 'udp', addr: '10.0.0.1', port: 5060 });
  assert.is(nextHopOf('sip:pcscf.ims.example;lr'), undefined);
  assert.is(nextHopOf('tel:+15550100'), undefined);
  assert.is(nextHopOf('<garbage'), undefined);
});

test.run();
