// URIs: SIP/SIPS (RFC 3261 §19.1), TEL (RFC 3966), other schemes carried as written.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type TelUri, formatUri, isSipUri, isTelUri, parseUri, unescapeUri, uriParam } from '../../src/sip/index.js';
import { sipUri, throwsSip } from './support.js';

test('SIP URI components', () => {
  const u = sipUri('sips:alice:secret@atlanta.example.com:5061;transport=tls;lr;maddr=[2001:db8::1]?subject=project%20x&priority=urgent');
  assert.is(u.scheme, 'sips');
  assert.is(u.user, 'alice');
  assert.is(u.password, 'secret');
  assert.is(u.host, 'atlanta.example.com');
  assert.is(u.hostKind, 'domain');
  assert.is(u.port, 5061);
  assert.equal(u.params, [{ name: 'transport', value: 'tls' }, { name: 'lr', value: null }, { name: 'maddr', value: '[2001:db8::1]' }]);
  assert.is(u.headers, 'subject=project%20x&priority=urgent');
  assert.is(u.raw, 'sips:alice:secret@atlanta.example.com:5061;transport=tls;lr;maddr=[2001:db8::1]?subject=project%20x&priority=urgent');
});

test('absent components are undefined; the scheme is read case-insensitively', () => {
  const u = sipUri('SIP:example.com');
  assert.is(u.scheme, 'sip');
  assert.is(u.user, undefined);
  assert.is(u.password, undefined);
  assert.is(u.port, undefined);
  assert.equal(u.params, []);
  assert.is(u.headers, '');
  assert.is(u.raw, 'SIP:example.com');
});

test('hosts: IPv4, IPv6 references, names', () => {
  assert.equal([sipUri('sip:192.0.2.1').host, sipUri('sip:192.0.2.1').hostKind], ['192.0.2.1', 'ipv4']);
  for (const v6 of ['[2001:db8::1]', '[::1]', '[::]', '[2001:db8:0:0:0:0:0:1]', '[::ffff:192.0.2.1]', '[fe80::1:2:3:4]', '[1::]']) {
    const u = sipUri(`sip:bob@${v6}:5060`);
    assert.is(u.host, v6);
    assert.is(u.hostKind, 'ipv6');
    assert.is(u.port, 5060);
  }
  for (const name of ['example.com', 'example.com.', 'a-b.example.com', 'host1', '1and1.example', 'x']) {
    assert.is(sipUri(`sip:${name}`).hostKind, 'domain', name);
  }
  for (const bad of ['sip:192.0.2.300', 'sip:[2001:db8:::1]', 'sip:[2001:db8::1', 'sip:[1:2:3:4:5:6:7:8:9]', 'sip:[12345::1]',
    'sip:-a.example.com', 'sip:a-.example.com', 'sip:a..example.com', 'sip:exa_mple.com', 'sip:', 'sip:@example.com', 'sip:[::1]x']) {
    throwsSip(() => parseUri(bad), 400, 'SIP_BAD_URI');
  }
});

test('ports: 0 to 65535', () => {
  assert.is(sipUri('sip:h:65535').port, 65535);
  throwsSip(() => parseUri('sip:h:65536'), 400);
  throwsSip(() => parseUri('sip:h:'), 400);
  throwsSip(() => parseUri('sip:h:5a'), 400);
});

test('user parts: user-unreserved octets, escapes validated not decoded, "@" ends the userinfo', () => {
  assert.is(sipUri('sip:+1-212-555-1212;phone-context=example.com@gw.example.com;user=phone').user, '+1-212-555-1212;phone-context=example.com');
  assert.is(sipUri("sip:a&=+$,;?/-_.!~*'()b@h").user, "a&=+$,;?/-_.!~*'()b");
  assert.is(sipUri('sip:%40home@h').user, '%40home');
  throwsSip(() => parseUri('sip:a b@h'), 400);
  throwsSip(() => parseUri('sip:a%4@h'), 400);
  throwsSip(() => parseUri('sip:a#b@h'), 400);
  throwsSip(() => parseUri('sip:a:p@ss@h'), 400);
});

test('parameters and headers: grammar and lookup', () => {
  const u = sipUri('sip:h;TRANSPORT=TCP;lr;x=%41');
  assert.is(uriParam(u, 'transport'), 'TCP');
  assert.is(uriParam(u, 'LR'), null);
  assert.is(uriParam(u, 'x'), '%41');
  assert.is(uriParam(u, 'absent'), undefined);
  for (const bad of ['sip:h;;lr', 'sip:h;=x', 'sip:h;a=', 'sip:h;a b', 'sip:h?', 'sip:h?a', 'sip:h?a=b&', 'sip:h?=b']) {
    throwsSip(() => parseUri(bad), 400);
  }
  assert.is(sipUri('sip:h?a=').headers, 'a=');
});

test('TEL URIs (RFC 3966)', () => {
  const g = parseUri('tel:+1-201-555-0123;ext=1234;phone-context=example.com') as TelUri;
  assert.ok(isTelUri(g));
  assert.is(g.number, '+1-201-555-0123');
  assert.equal(g.params, [{ name: 'ext', value: '1234' }, { name: 'phone-context', value: 'example.com' }]);
  assert.is(uriParam(g, 'EXT'), '1234');
  assert.is((parseUri('tel:*31#;phone-context=ims.example.net') as TelUri).number, '*31#');
  assert.is((parseUri('TEL:7042') as TelUri).number, '7042');
  for (const bad of ['tel:', 'tel:+', 'tel:+1 555', 'tel:abc;', 'tel:+1a']) throwsSip(() => parseUri(bad), 400);
});

test('other schemes are carried as written', () => {
  for (const [text, scheme] of [['urn:service:sos', 'urn'], ['http://www.example.com/a?b=c', 'http'], ['isbn:2983792873', 'isbn'], ['Mailto:a@b', 'mailto']] as const) {
    const u = parseUri(text);
    assert.ok(!isSipUri(u) && !isTelUri(u));
    assert.is(u.scheme, scheme);
    assert.is(u.raw, text);
    assert.is(uriParam(u, 'x'), undefined);
    assert.is(formatUri(u), text);
  }
  for (const bad of ['', ':x', '1abc:x', 'urn:', 'urn:a b', 'urn:a%zz', 'no-colon', 'urn:<x>']) throwsSip(() => parseUri(bad), 400, 'SIP_BAD_URI');
});

test('parse and format are inverses on written URIs', () => {
  for (const text of ['sip:alice@atlanta.example.com', 'sips:a:b@[2001:db8::1]:5061;transport=tcp;lr?x=y', 'sip:h;lr', 'tel:+15551234;ext=1']) {
    assert.is(formatUri(parseUri(text)), text);
  }
  const u = sipUri('sip:bob@example.com');
  assert.is(formatUri({ ...u, port: 5070, params: [...u.params, { name: 'transport', value: 'tcp' }] }), 'sip:bob@example.com:5070;transport=tcp');
});

test('a substring of a longer text is parsed in place', () => {
  const text = '<sip:bob@example.com;lr>';
  const u = sipUri(parseUri(text, 1, text.length - 1).raw);
  assert.is(u.host, 'example.com');
  assert.is(parseUri(text, 1, text.length - 1).raw, 'sip:bob@example.com;lr');
});

test('unescapeUri decodes only valid escapes', () => {
  assert.is(unescapeUri('%61lice%20%40%2x%'), 'alice @%2x%');
  assert.is(unescapeUri('null-%00-null'), 'null-\x00-null');
  assert.is(unescapeUri('%C3%A9'), '\u00c3\u00a9');
  assert.is(unescapeUri('plain'), 'plain');
});

test.run();
