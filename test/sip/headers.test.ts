// Header value grammars: Via, name-addr, Contact, auth headers, generic parameters.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getParam, parseAuth, parseContact, parseNameAddr, parseParams, parseVia, authParam, unquote } from '../../src/sip/index.js';
import type { Param } from '../../src/sip/index.js';
import { throwsSip } from './support.js';

const via = (text: string) => parseVia(text, 0, text.length);
const nameAddr = (text: string, brackets = false) => parseNameAddr(text, 0, text.length, 'To', brackets);
const contact = (text: string) => parseContact(text, 0, text.length);
const auth = (text: string) => parseAuth(text, 0, text.length, 'WWW-Authenticate');

test('Via: protocol, transport, sent-by, known parameters', () => {
  const v = via('SIP/2.0/udp 192.0.2.4:5062;branch=z9hG4bKnashds8;received=192.0.2.99;rport=5063;ttl=16;maddr=224.2.0.1;x');
  assert.is(v.protocol, 'SIP/2.0');
  assert.is(v.transport, 'UDP');
  assert.is(v.host, '192.0.2.4');
  assert.is(v.hostKind, 'ipv4');
  assert.is(v.port, 5062);
  assert.is(v.branch, 'z9hG4bKnashds8');
  assert.is(v.received, '192.0.2.99');
  assert.is(v.rport, 5063);
  assert.is(getParam(v.params, 'MADDR'), '224.2.0.1');
  assert.is(getParam(v.params, 'x'), null);
  assert.is(v.raw, 'SIP/2.0/udp 192.0.2.4:5062;branch=z9hG4bKnashds8;received=192.0.2.99;rport=5063;ttl=16;maddr=224.2.0.1;x');
});

test('Via: rport absent, empty, with a value (RFC 3581)', () => {
  assert.is(via('SIP/2.0/UDP h').rport, undefined);
  assert.is(via('SIP/2.0/UDP h;rport').rport, null);
  assert.is(via('SIP/2.0/UDP h;rport=0').rport, 0);
  throwsSip(() => via('SIP/2.0/UDP h;rport=x'), 400);
  throwsSip(() => via('SIP/2.0/UDP h;rport=70000'), 400);
});

test('Via: IPv6 sent-by and received, with and without brackets', () => {
  const v = via('SIP/2.0/TCP [2001:db8::9:1]:5070;received=2001:db8::9:255;branch=z9hG4bK1');
  assert.equal([v.host, v.hostKind, v.port, v.received], ['[2001:db8::9:1]', 'ipv6', 5070, '2001:db8::9:255']);
  assert.is(via('SIP/2.0/UDP [::1];received=[2001:db8::9:255]').received, '[2001:db8::9:255]');
  throwsSip(() => via('SIP/2.0/UDP 2001:db8::1'), 400);
  throwsSip(() => via('SIP/2.0/UDP h;received=example.com'), 400);
  throwsSip(() => via('SIP/2.0/UDP h;received'), 400);
});

test('Via: LWS around "/" ":" ";" "=" and folds, protocol names other than SIP/2.0', () => {
  const v = via('SIP / 2.0 /\r\n TLS  host.example.com : 5061 ;\r\n branch = z9hG4bKx');
  assert.equal([v.protocol, v.transport, v.host, v.port, v.branch], ['SIP/2.0', 'TLS', 'host.example.com', 5061, 'z9hG4bKx']);
  assert.is(v.raw, 'SIP / 2.0 / TLS  host.example.com : 5061 ; branch = z9hG4bKx');
  assert.is(via('sip/2.0/ws h').protocol, 'SIP/2.0');
  assert.is(via('SIP/3.0/UDP h').protocol, 'SIP/3.0');
  assert.is(via('SIP/2.0/FOO h').transport, 'FOO');
});

test('Via: malformed values are 400 naming Via', () => {
  for (const bad of ['', 'SIP/2.0/UDP', 'SIP/2.0 UDP h', 'SIP/2.0/UDPh', 'SIP/2.0/UDP h:', 'SIP/2.0/UDP h:65536', 'SIP/2.0/UDP h;',
    'SIP/2.0/UDP h;branch', 'SIP/2.0/UDP h;ttl=256', 'SIP/2.0/UDP h garbage', 'SIP/2.0/UDP h;a=b c', '/2.0/UDP h']) {
    assert.is(throwsSip(() => via(bad), 400, 'SIP_BAD_HEADER').header, 'Via', bad);
  }
});

test('name-addr: display names quoted and of tokens, addr-spec, parameters and tag', () => {
  const a = nameAddr('"Alice \\"A\\" Smith" <sip:alice@example.com>;tag=88sja8x;x=y');
  assert.equal([a.displayName, a.uri, a.tag], ['Alice "A" Smith', 'sip:alice@example.com', '88sja8x']);
  assert.equal(a.params, [{ name: 'tag', value: '88sja8x' }, { name: 'x', value: 'y' }]);
  assert.is(nameAddr('Bob  Smith <sip:bob@example.com>').displayName, 'Bob  Smith');
  assert.is(nameAddr('<sip:bob@example.com>').displayName, undefined);
  const s = nameAddr('sip:bob@example.com;tag=1;lr');
  assert.equal([s.displayName, s.uri, s.tag, s.params.length], [undefined, 'sip:bob@example.com', '1', 2]);
  assert.is(nameAddr('"" <tel:+1555>').displayName, '');
  assert.is(nameAddr('<urn:service:sos>').uri, 'urn:service:sos');
});

test('name-addr: malformed values', () => {
  for (const bad of ['"unterminated <sip:a@b>', '<sip:a@b', '< sip:a@b>', '<sip:a@b >', 'Bell, Alexander <sip:a@b>', 'sip:a@b?x=y',
    '<sip:a@b>;tag', '<sip:a@b> junk', '<>', '<nourl>', '"a" sip:a@b', 'a@b', '']) {
    assert.is(throwsSip(() => nameAddr(bad), 400, 'SIP_BAD_HEADER').header, 'To', bad);
  }
  throwsSip(() => nameAddr('sip:a@b', true), 400);
  assert.is(nameAddr('<sip:a@b;lr>', true).uri, 'sip:a@b;lr');
});

test('Contact: expires, q, +sip.instance, reg-id', () => {
  const c = contact('<sip:ue@[2001:db8::1]:5060>;expires=600000;q=0.7;+sip.instance="<urn:gsma:imei:35693803-564889-0>";reg-id=1;+g.3gpp.smsip');
  assert.equal([c.uri, c.expires, c.q, c.instance, c.regId], ['sip:ue@[2001:db8::1]:5060', 600000, 0.7, 'urn:gsma:imei:35693803-564889-0', 1]);
  assert.is(getParam(c.params, '+g.3gpp.smsip'), null);
  assert.is(getParam(c.params, '+sip.instance'), '"<urn:gsma:imei:35693803-564889-0>"');
  const plain = contact('sip:ue@example.com');
  assert.equal([plain.expires, plain.q, plain.instance, plain.regId], [undefined, undefined, undefined, undefined]);
  assert.is(contact(`<sip:a@b>;expires=${'9'.repeat(30)}`).expires, 4294967295);
  assert.is(contact('<sip:a@b>;q=1.000').q, 1);
  assert.is(contact('<sip:a@b>;q=0').q, 0);
  for (const bad of ['<sip:a@b>;q=1.001', '<sip:a@b>;q=0.1234', '<sip:a@b>;q=.5', '<sip:a@b>;expires', '<sip:a@b>;expires=-1',
    '<sip:a@b>;reg-id=0', '<sip:a@b>;reg-id=2147483648', '<sip:a@b>;reg-id', '<sip:a@b>;+sip.instance']) {
    assert.is(throwsSip(() => contact(bad), 400).header, 'Contact', bad);
  }
});

test('auth: Digest challenge with quoted and token values, and their offsets', () => {
  const text = 'Digest realm="ims.example.net", nonce="a\\"b,c", algorithm=AKAv1-MD5,qop="auth,auth-int",  ck="00112233445566778899aabbccddeeff"';
  const h = auth(text);
  assert.is(h.scheme, 'Digest');
  assert.equal(h.params.map((p) => [p.name, p.value, p.quoted]), [
    ['realm', 'ims.example.net', true], ['nonce', 'a"b,c', true], ['algorithm', 'AKAv1-MD5', false],
    ['qop', 'auth,auth-int', true], ['ck', '00112233445566778899aabbccddeeff', true],
  ]);
  for (const p of h.params) assert.ok(text.slice(p.start, p.end).startsWith(`${p.name}=`) && text.slice(p.start, p.end).length > p.name.length + 1);
  assert.is(text.slice(h.params[4]!.start, h.params[4]!.end), 'ck="00112233445566778899aabbccddeeff"');
  assert.is(authParam(h, 'CK')!.value, '00112233445566778899aabbccddeeff');
  assert.is(authParam(h, 'ik'), undefined);
});

test('auth: LWS and folds around "=" and ",", other schemes, a scheme alone', () => {
  const h = auth('Digest\r\n realm = "r" ,\r\n\tnonce\t=\t"n"');
  assert.equal(h.params.map((p) => [p.name, p.value]), [['realm', 'r'], ['nonce', 'n']]);
  assert.is(h.raw, 'Digest realm = "r" , nonce\t=\t"n"');
  assert.equal(auth('NoOneKnowsThisScheme opaque-data=here').params.map((p) => p.value), ['here']);
  assert.equal(auth('Basic').params, []);
  for (const bad of ['', 'Digest realm', 'Digest realm=', 'Digest realm="x', 'Digest realm="x" nonce="y"', 'Digest ,realm="x"', 'Digest realm="x",', 'Digest a=b c']) {
    assert.is(throwsSip(() => auth(bad), 400).header, 'WWW-Authenticate', bad);
  }
});

test('generic parameters: values as written, spans, where parsing stops', () => {
  const text = ' ; a = b ;flag; q="x;y" ;h=[2001:db8::1] rest';
  const params: Param[] = [];
  const spans: number[] = [];
  const stop = parseParams(text, 0, text.length, params, 'X', spans);
  assert.equal(params, [{ name: 'a', value: 'b' }, { name: 'flag', value: null }, { name: 'q', value: '"x;y"' }, { name: 'h', value: '[2001:db8::1]' }]);
  assert.equal([0, 1, 2, 3].map((k) => text.slice(spans[2 * k], spans[2 * k + 1])), ['a = b', 'flag', 'q="x;y"', 'h=[2001:db8::1]']);
  assert.is(text.slice(stop), 'rest');
  assert.is(getParam(params, 'A'), 'b');
  throwsSip(() => parseParams(';=x', 0, 3, [], 'X'), 400);
  throwsSip(() => parseParams(';a="x', 0, 5, [], 'X'), 400);
});

test('unquote', () => {
  assert.is(unquote('"a \\"b\\" \\\\ c"'), 'a "b" \\ c');
  assert.is(unquote('"folded\r\n value"'), 'folded value');
  assert.is(unquote('bare'), 'bare');
});

test.run();
