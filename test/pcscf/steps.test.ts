// The steps of the flows on their own: which side a source address is, URI equality, the alias
// parameter, the P-CSCF's own URIs, the metric declarations.

import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { TrustedPeers, ipv4ToNumber, ipv6ToGroups } from '../../src/pcscf/classify.js';
import { parseAlias } from '../../src/pcscf/bindings.js';
import { PCSCF_METRICS, PcscfError } from '../../src/pcscf/index.js';
import { SharedCounters } from '../../src/shared/counters.js';
import { parseUri, parseVia } from '../../src/sip/index.js';
import type { SipUri } from '../../src/sip/index.js';
import { aorOf, sameUri } from '../../src/pcscf/uri-match.js';
import { harness } from './fixtures.js';

test('IPv4 literals: strict dotted quads only', () => {
  assert.is(ipv4ToNumber('10.0.0.20'), 0x0a000014);
  assert.is(ipv4ToNumber('255.255.255.255'), 0xffffffff);
  assert.is(ipv4ToNumber('0.0.0.0'), 0);
  for (const bad of ['', '10.0.0', '10.0.0.0.1', '256.0.0.1', '01.2.3.4', '1.2.3.4 ', 'a.b.c.d', '1..2.3', '1.2.3.']) {
    assert.is(ipv4ToNumber(bad), -1, bad);
  }
});

test('IPv6 literals: groups as node:net reads them, for every form it accepts', () => {
  const g = new Uint16Array(8);
  assert.ok(ipv6ToGroups('2001:db8::a', g));
  assert.equal([...g], [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xa]);
  assert.ok(ipv6ToGroups('::ffff:10.0.0.1', g));
  assert.equal([...g], [0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001]);
  for (const bad of ['', ':', ':::', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'g::1', '[::1]', '1:']) {
    assert.not.ok(ipv6ToGroups(bad, g), bad);
  }
  // Agreement with node:net on addresses built from random groups, written with and without "::".
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 8 }), (groups, at, len) => {
    const full = groups.map((x) => x.toString(16)).join(':');
    assert.ok(ipv6ToGroups(full, g));
    assert.equal([...g], groups);
    const zeroed = groups.map((x, i) => (i >= at && i < at + len ? 0 : x));
    const end = Math.min(8, at + len);
    const short = `${zeroed.slice(0, at).map((x) => x.toString(16)).join(':')}::${zeroed.slice(end).map((x) => x.toString(16)).join(':')}`;
    assert.is(ipv6ToGroups(short, g), isIPv6(short), short);
    if (isIPv6(short)) assert.equal([...g], zeroed);
  }));
});

test('trusted peers: addresses and CIDRs of both families; IPv4-mapped IPv6 counts as IPv4', () => {
  const peers = new TrustedPeers(['10.0.0.20', '10.0.1.0/24', '2001:db8:c0::/48', '2001:db8::5', '192.0.2.0/31', '0.0.0.0/32']);
  for (const yes of ['10.0.0.20', '10.0.1.0', '10.0.1.255', '::ffff:10.0.1.7', '2001:db8:c0:1::9', '2001:db8::5', '192.0.2.1', '0.0.0.0']) assert.ok(peers.has(yes), yes);
  for (const no of ['10.0.0.21', '10.0.2.1', '2001:db8:c1::1', '2001:db8::6', '192.0.2.2', 'not-an-address', '']) assert.not.ok(peers.has(no), no);
  assert.is(peers.sideOf('10.0.0.20'), 'core');
  assert.is(peers.sideOf('10.45.0.7'), 'ue');
  assert.ok(new TrustedPeers(['::/0']).has('2001:db8::1'));
  assert.not.ok(new TrustedPeers(['::/0']).has('10.0.0.1'));
});

const uri = (s: string): SipUri => parseUri(s) as SipUri;

test('URI equality follows RFC 3261 §19.1.4 (the RFC\'s own examples)', () => {
  const equal: [string, string][] = [
    ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
    ['sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;newparam=5'],
    ['sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com'],
    ['sip:alice@[2001:DB8::A]:5060', 'sip:alice@[2001:db8::a]:5060'],
    ['tel:+1-555-123-4567', 'tel:+15551234567'],
  ];
  for (const [a, b] of equal) assert.ok(sameUri(parseUri(a), parseUri(b)), `${a} == ${b}`);
  const different: [string, string][] = [
    ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp;user=phone'],
    ['sip:carol@chicago.com;newparam=5', 'sip:carol@chicago.com;newparam=6'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;maddr=10.0.0.1'],
    ['sip:alice@atlanta.com', 'sips:alice@atlanta.com'],
    ['sip:alice@atlanta.com', 'tel:+15551234567'],
  ];
  for (const [a, b] of different) assert.not.ok(sameUri(parseUri(a), parseUri(b)), `${a} != ${b}`);
});

test('the AOR key: scheme, user, lower-case host and port, no parameters', () => {
  assert.is(aorOf(parseUri('sip:Alice@IMS.Example.NET;user=phone')), 'sip:Alice@ims.example.net');
  assert.is(aorOf(parseUri('sips:alice@ims.example.net:5061')), 'sips:alice@ims.example.net:5061');
  assert.is(aorOf(parseUri('tel:+15551234567;phone-context=x')), 'tel:+15551234567');
});

test('alias=host~port~proto', () => {
  assert.equal(parseAlias('10.45.0.7~5060~1'), { host: '10.45.0.7', port: 5060, transport: 'udp' });
  assert.equal(parseAlias('[2001:db8::7]~40000~2'), { host: '[2001:db8::7]', port: 40000, transport: 'tcp' });
  assert.equal(parseAlias('10.45.0.7~5061~3'), { host: '10.45.0.7', port: 5061, transport: undefined });
  for (const bad of ['10.45.0.7~5060', '10.45.0.7~0~1', '10.45.0.7~70000~1', 'ue.example.net~5060~1', '10.45.0.7~5060~12', 'a@10.45.0.7~5060~1', '~5060~1', '10.45.0.7:5~5060~1']) {
    assert.is(parseAlias(bad), undefined, bad);
  }
});

test('our URIs: Via, Path, Record-Route values and "is this us?"', () => {
  const h = harness({ PCSCF_IPSEC_LISTEN_ADDR: '10.0.0.1', PCSCF_IPSEC_LISTEN_ADDR6: '2001:db8::1', PCSCF_IPSEC_CLIENT_PORT: '5100', PCSCF_IPSEC_SERVER_PORT: '6100' });
  const us = h.ctx.us;
  const udp = h.ctx.sockets.byId(0)!;
  const tcp = h.ctx.sockets.byId(1)!;
  assert.is(us.via(udp, 'z9hG4bKx'), 'SIP/2.0/UDP pcscf.ims.example.net:5060;branch=z9hG4bKx');
  assert.is(us.via(tcp, 'z9hG4bKx'), 'SIP/2.0/TCP pcscf.ims.example.net:5060;branch=z9hG4bKx');
  assert.is(us.routeValue('term', udp), '<sip:term@pcscf.ims.example.net:5060;lr>');
  assert.is(us.routeValue('mt', tcp), '<sip:mt@pcscf.ims.example.net:5060;transport=tcp;lr>');
  const protected6 = h.ctx.sockets.protectedSocket(6, 'udp', 6100)!;
  assert.is(us.via(protected6, 'z9hG4bKx'), 'SIP/2.0/UDP [2001:db8::1]:6100;branch=z9hG4bKx');
  for (const yes of ['sip:pcscf.ims.example.net;lr', 'sip:term@PCSCF.ims.example.net:5060;lr', 'sip:10.0.0.1:6100;lr', 'sip:[2001:DB8::1]:5101']) assert.ok(us.isOurs(uri(yes)), yes);
  for (const no of ['sip:pcscf.ims.example.net:5070;lr', 'sip:scscf.ims.example.net;lr', 'sips:pcscf.ims.example.net;lr', 'sip:10.0.0.2:5060']) assert.not.ok(us.isOurs(uri(no)), no);
  const via = (s: string) => parseVia(s, 0, s.length);
  assert.ok(us.isOurVia(via('SIP/2.0/UDP pcscf.ims.example.net:5060;branch=z9hG4bKx')));
  assert.ok(us.isOurVia(via('SIP/2.0/TCP pcscf.ims.example.net;branch=z9hG4bKx')));
  assert.not.ok(us.isOurVia(via('SIP/2.0/TLS pcscf.ims.example.net;branch=z9hG4bKx')));
  assert.not.ok(us.isOurVia(via('SIP/2.0/UDP 10.45.0.7:5060;branch=z9hG4bKx')));
});

test('a next hop no unprotected socket can reach is refused when the context is built', () => {
  const envs: Record<string, string>[] = [
    { PCSCF_SIP__NEXT_HOP: 'sip:10.0.0.20:5060;transport=tcp', PCSCF_SIP__LISTEN: '[{transport: udp, address: 10.0.0.1, port: 5060}]' },
    { PCSCF_SIP__NEXT_HOP: 'sip:[2001:db8::20]:5060' },
  ];
  for (const env of envs) {
    try {
      harness(env);
      assert.unreachable(JSON.stringify(env));
    } catch (e) {
      assert.instance(e, PcscfError);
      assert.is((e as PcscfError).code, 'PCSCF_NO_CORE_SOCKET');
    }
  }
});

test('the metric declarations are accepted by SharedCounters, every counter at 0', () => {
  const counters = SharedCounters.create(PCSCF_METRICS);
  const names = counters.collect().map((f) => f.name);
  assert.equal(names, ['pcscf_registrations_total', 'pcscf_registrations_rejected_total', 'pcscf_requests_rejected_total', 'pcscf_requests_routed_total',
    'pcscf_responses_relayed_total', 'pcscf_messages_dropped_total', 'pcscf_binding_errors_total',
    'pcscf_security_verify_mismatches_total', 'pcscf_protected_port_rejects_total', 'pcscf_ipsec_create_failures_total',
    'pcscf_ipsec_sets_created_total', 'pcscf_ipsec_sets_removed_total', 'pcscf_ipsec_teardown_failures_total']);
  assert.ok(counters.collect().every((f) => f.kind === 'counter' && f.samples.every((s) => s.value === 0)));
});

test.run();
