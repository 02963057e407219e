import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';

import { MINIMAL, loadError, loadYaml, problemFor } from './helpers.js';

// key path, YAML for the bad value, the value as loaded, a piece of the "allowed" text
const LEAF_CASES: [string, string, unknown, string][] = [
  ['ipsec_listen_addr', '"::1"', '::1', 'IPv4 literal'],
  ['ipsec_listen_addr', 'abc', 'abc', 'IPv4 literal'],
  ['ipsec_listen_addr6', '10.0.0.1', '10.0.0.1', 'IPv6 literal'],
  ['ipsec_client_port', '0', 0, '1 to 65535'],
  ['ipsec_client_port', '"5062"', '5062', '1 to 65535'],
  ['ipsec_client_port', '5062.5', 5062.5, '1 to 65535'],
  ['ipsec_server_port', '70000', 70000, '1 to 65535'],
  ['ipsec_max_connections', '0', 0, '1 to 65535'],
  ['ipsec_reuse_server_port', '2', 2, '0 | 1'],
  ['ipsec_reuse_server_port', 'true', true, '0 | 1'],
  ['ipsec_spi_id_start', '0', 0, 'from 1 to'],
  ['ipsec_spi_id_range', '1', 1, 'from 2 to 2147483648'],
  ['ipsec_spi_id_range', '2147483649', 2147483649, 'from 2 to 2147483648'],
  ['ipsec_preferred_alg', 'hmac-sha256', 'hmac-sha256', '"hmac-sha-1-96"'],
  ['ipsec_preferred_alg', 'HMAC-SHA-1-96', 'HMAC-SHA-1-96', '"hmac-sha-1-96"'],
  ['ipsec_preferred_ealg', 'aes', 'aes', '"aes-gcm"'],
  ['sip.listen', '[]', [], 'non-empty list'],
  ['sip.listen', 'udp', 'udp', 'non-empty list'],
  ['sip.advertised_host', '"bad host!"', 'bad host!', 'hostname'],
  ['sip.next_hop', '"sip:host.example:5060"', 'sip:host.example:5060', 'sip:<IPv4 or [IPv6]>:<port>'],
  ['sip.next_hop', '"sip:10.0.0.1"', 'sip:10.0.0.1', 'sip:<IPv4 or [IPv6]>:<port>'],
  ['sip.next_hop', '"sips:10.0.0.1:5061"', 'sips:10.0.0.1:5061', 'sip:<IPv4'],
  ['sip.next_hop', '"sip:10.0.0.1:5060;transport=tls"', 'sip:10.0.0.1:5060;transport=tls', 'transport=udp|tcp'],
  ['sip.next_hop', '"sip:[::1]:5060;lr"', 'sip:[::1]:5060;lr', 'sip:<IPv4'],
  ['sip.next_hop', '"sip:10.0.0.1:0"', 'sip:10.0.0.1:0', 'sip:<IPv4'],
  ['sip.next_hop', '"sip:[10.0.0.1]:5060"', 'sip:[10.0.0.1]:5060', 'sip:<IPv4'],
  ['sip.trusted_peers', '10.0.0.1', '10.0.0.1', 'a list of IPv4'],
  ['sip.trusted_peers[1]', '[10.0.0.1, 10.0.0.0/33]', '10.0.0.0/33', 'CIDRs'],
  ['sip.trusted_peers[0]', '["2001:db8::/129"]', '2001:db8::/129', 'CIDRs'],
  ['sip.trusted_peers[0]', '[peer.example]', 'peer.example', 'CIDRs'],
  ['sip.unregistered_status', '200', 200, '400 to 699'],
  ['sip.unregistered_status', '700', 700, '400 to 699'],
  ['sip.timers.t1_ms', '0', 0, '1 to 60000'],
  ['sip.timers.t2_ms', '0', 0, '1 to 600000'],
  ['sip.timers.t4_ms', '-1', -1, '1 to 600000'],
  ['sip.tcp.idle_timeout_s', '0', 0, '1 to 604800'],
  ['sip.tcp.max_connections', '0', 0, '1 to 1048576'],
  ['sip.tcp.connect_timeout_ms', '0', 0, '1 to 600000'],
  ['sip.limits.max_udp_bytes', '70000', 70000, '512 to 65535'],
  ['sip.limits.max_tcp_message_bytes', '100', 100, '512 to 16777216'],
  ['sip.limits.max_headers', '0', 0, '1 to 10000'],
  ['sip.limits.max_line_bytes', '10', 10, '64 to 16777216'],
  ['security.require_sec_agree', 'yes', 'yes', 'true or false'],
  ['security.allowed_algorithms', '[]', [], 'at least 1'],
  ['security.allowed_algorithms', 'hmac-sha-1-96', 'hmac-sha-1-96', 'a list of distinct values'],
  ['security.allowed_algorithms[0]', '[md5]', 'md5', 'hmac-md5-96, hmac-sha-1-96, aes-gmac, null'],
  ['security.allowed_algorithms[1]', '[hmac-sha-1-96, hmac-sha-1-96]', 'hmac-sha-1-96', 'distinct'],
  ['security.allowed_encryption[0]', '[3des]', '3des', 'des-ede3-cbc, aes-cbc, aes-gcm, null'],
  ['security.disable_deprecated_algorithms', '1', 1, 'true or false'],
  ['security.xfrm_user_marker', '0', 0, '1 to 4294967295'],
  ['security.xfrm_user_marker', '4294967296', 4294967296, '1 to 4294967295'],
  ['security.temporary_sa_timeout_s', '0', 0, '1 to 3600'],
  ['security.create_failure_status', '399', 399, '400 to 699'],
  ['workers.pool_size', '-1', -1, '0 to 256'],
  ['workers.pool_size', '257', 257, '0 to 256'],
  ['workers.batch_max', '0', 0, '1 to 4096'],
  ['workers.handoff_min', '0', 0, '1 to 4096'],
  ['workers.scheduling', 'idle', 'idle', '"batch"'],
  ['netlink.queue_max', '0', 0, '1 to 1048576'],
  ['netlink.timeout_ms', '0', 0, '1 to 600000'],
  ['http.listen', '"9090"', '9090', 'host:port'],
  ['http.listen', '"::1:9090"', '::1:9090', '[IPv6]'],
  ['http.listen', '"localhost:0"', 'localhost:0', 'port 1-65535'],
  ['log.level', 'verbose', 'verbose', '"info"'],
];

/** MINIMAL with `path` (a trailing [i] dropped) set to the YAML text `value`. */
function yamlSetting(path: string, value: string): string {
  const input = parse(MINIMAL) as Record<string, unknown>;
  const parts = path.replace(/\[\d+\]$/, '').split('.');
  let at = input;
  for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
  at[parts[parts.length - 1]!] = parse(value);
  return stringify(input);
}

test('every leaf: the error names the key, the bad value and what is allowed', () => {
  for (const [key, yaml, value, allowed] of LEAF_CASES) {
    const text = yamlSetting(key, yaml);
    const err = loadError(text);
    const p = problemFor(err, key, value);
    assert.ok(p.allowed.includes(allowed), `${key}: "${p.allowed}" should mention "${allowed}"`);
  }
});

test('listener entries are checked field by field', () => {
  const err = loadError(`${MINIMAL}  listen:\n    - { transport: udp, address: 0.0.0.0, port: 5060 }\n    - { transport: sctp, address: pcscf.example, port: 70000, tls: true }\n    - 5060\n`);
  problemFor(err, 'sip.listen[1].transport', 'sctp');
  problemFor(err, 'sip.listen[1].address', 'pcscf.example');
  problemFor(err, 'sip.listen[1].port', 70000);
  problemFor(err, 'sip.listen[1].tls', true);
  problemFor(err, 'sip.listen[2]', 5060);
  assert.is(err.problems.length, 5);
});

test('a section that is not a mapping', () => {
  problemFor(loadError(`${MINIMAL}log: info\n`), 'log', 'info');
  problemFor(loadError(`${MINIMAL}security: [a]\n`), 'security', ['a']);
});

test('unknown keys, with "did you mean" when close to a real one', () => {
  const err = loadError(`${MINIMAL}  nexthop: x\n  timers: { t1: 500 }\nipsec_listen_adr: 10.0.0.1\nfoo: 1\n`);
  assert.match(problemFor(err, 'ipsec_listen_adr', '10.0.0.1').message, 'did you mean "ipsec_listen_addr"?');
  assert.match(problemFor(err, 'sip.nexthop', 'x').message, 'did you mean "next_hop"?');
  assert.match(problemFor(err, 'sip.timers.t1', 500).message, 'did you mean "t1_ms"?');
  assert.not.match(problemFor(err, 'foo', 1).message, 'did you mean');
});

test('several problems are all reported, the first one on the error itself', () => {
  const err = loadError(`${MINIMAL}ipsec_client_port: 0\nlog: { level: loud }\nworkers: { pool_size: -3 }\n`);
  assert.is(err.problems.length, 3);
  assert.equal([err.key, err.value], ['ipsec_client_port', 0]);
  assert.match(err.allowed, '1 to 65535');
  assert.match(err.message, '3 problems');
  for (const p of err.problems) assert.ok(err.message.includes(p.message));
});

test('protected port ranges must not overlap (Kamailio defaults 5062 / 5063 / 2 do)', () => {
  let p = problemFor(loadError(`${MINIMAL}ipsec_server_port: 5063\n`), 'ipsec_server_port', 5063);
  assert.match(p.allowed, '[5062, 5064)');
  problemFor(loadError(`${MINIMAL}ipsec_server_port: 5062\n`), 'ipsec_server_port', 5062);
  problemFor(loadError(`${MINIMAL}ipsec_server_port: 5061\n`), 'ipsec_server_port', 5061);
  p = problemFor(loadError(`${MINIMAL}ipsec_client_port: 5100\nipsec_server_port: 5105\nipsec_max_connections: 10\n`), 'ipsec_server_port', 5105);
  assert.match(p.allowed, 'outside 5091..5109');
  // adjacent ranges are fine, on either side
  assert.is(loadYaml(`${MINIMAL}  listen: [{transport: udp, address: 0.0.0.0, port: 6000}]\nipsec_server_port: 5060\n`).ipsec_server_port, 5060);
  assert.is(loadYaml(`${MINIMAL}ipsec_client_port: 5100\nipsec_server_port: 6100\nipsec_max_connections: 10\n`).ipsec_max_connections, 10);
  assert.is(loadYaml(`${MINIMAL}ipsec_max_connections: 1\nipsec_server_port: 5063\n`).ipsec_server_port, 5063);
});

test('protected port ranges must end at or below 65535', () => {
  const p = problemFor(loadError(`${MINIMAL}ipsec_client_port: 65535\nipsec_server_port: 6000\n`), 'ipsec_max_connections', 2);
  assert.match(p.allowed, 'at most 1');
});

test('SPI start + range must fit in 32 bits', () => {
  const p = problemFor(loadError(`${MINIMAL}ipsec_spi_id_start: 4294967000\nipsec_spi_id_range: 1000\n`), 'ipsec_spi_id_range', 1000);
  assert.match(p.allowed, 'at most 295');
  assert.is(loadYaml(`${MINIMAL}ipsec_spi_id_start: 4294966295\nipsec_spi_id_range: 1000\n`).ipsec_spi_id_range, 1000);
});

test('preferred algorithms must be allowed, and not deprecated when deprecated ones are off', () => {
  let p = problemFor(loadError(`${MINIMAL}ipsec_preferred_alg: aes-gmac\nsecurity: { allowed_algorithms: [hmac-sha-1-96] }\n`), 'ipsec_preferred_alg', 'aes-gmac');
  assert.match(p.allowed, 'hmac-sha-1-96');
  p = problemFor(loadError(`${MINIMAL}ipsec_preferred_alg: hmac-md5-96\nsecurity: { disable_deprecated_algorithms: true }\n`), 'ipsec_preferred_alg', 'hmac-md5-96');
  assert.match(p.allowed, 'minus the deprecated ones');
  assert.not.match(p.allowed, 'hmac-md5-96');
  problemFor(loadError(`${MINIMAL}ipsec_preferred_ealg: des-ede3-cbc\nsecurity: { disable_deprecated_algorithms: true }\n`), 'ipsec_preferred_ealg', 'des-ede3-cbc');
  problemFor(loadError(`${MINIMAL}ipsec_preferred_ealg: aes-gcm\nsecurity: { allowed_encryption: [aes-cbc, "null"] }\n`), 'ipsec_preferred_ealg', 'aes-gcm');
  assert.is(loadYaml(`${MINIMAL}ipsec_preferred_alg: hmac-md5-96\n`).ipsec_preferred_alg, 'hmac-md5-96');
});

test('YAML null: the algorithm null in a list, an error with a hint for a preferred algorithm', () => {
  assert.equal(loadYaml(`${MINIMAL}security: { allowed_encryption: [aes-cbc, null] }\n`).security.allowed_encryption, ['aes-cbc', 'null']);
  assert.match(problemFor(loadError(`${MINIMAL}ipsec_preferred_ealg: null\n`), 'ipsec_preferred_ealg', null).message, 'write "null" in quotes');
  assert.is(loadYaml(`${MINIMAL}ipsec_preferred_ealg: "null"\n`).ipsec_preferred_ealg, 'null');
});

test('the allow-lists must leave a pair TS 33.203 permits', () => {
  problemFor(loadError(`${MINIMAL}security: { allowed_algorithms: ["null"], allowed_encryption: [aes-cbc] }\n`), 'security.allowed_algorithms', ['null']);
  problemFor(loadError(`${MINIMAL}security: { allowed_algorithms: [aes-gmac], allowed_encryption: [aes-gcm] }\n`), 'security.allowed_algorithms', ['aes-gmac']);
  problemFor(loadError(`${MINIMAL}security: { allowed_algorithms: [hmac-md5-96], disable_deprecated_algorithms: true }\n`), 'security.allowed_algorithms', ['hmac-md5-96']);
  assert.equal(loadYaml(`${MINIMAL}security: { allowed_algorithms: ["null"], allowed_encryption: [aes-gcm] }\n`).security.allowed_encryption, ['aes-gcm']);
});

test('T2 may not be below T1', () => {
  const p = problemFor(loadError(`${MINIMAL}  timers: { t1_ms: 500, t2_ms: 400 }\n`), 'sip.timers.t2_ms', 400);
  assert.match(p.allowed, 'sip.timers.t1_ms (500)');
});

test('handoff_min may not be above batch_max', () => {
  const p = problemFor(loadError(`${MINIMAL}workers: { batch_max: 32, handoff_min: 33 }\n`), 'workers.handoff_min', 33);
  assert.match(p.allowed, 'workers.batch_max (32)');
  assert.is(loadYaml(`${MINIMAL}workers: { batch_max: 32, handoff_min: 32 }\n`).workers.handoff_min, 32);
});

test('require_sec_agree needs IPsec enabled', () => {
  const p = problemFor(loadError(`${MINIMAL}security: { require_sec_agree: true }\n`), 'security.require_sec_agree', true);
  assert.match(p.allowed, 'IPsec disabled');
  assert.is(loadYaml(`${MINIMAL}ipsec_listen_addr: 10.0.0.1\nsecurity: { require_sec_agree: true }\n`).security.require_sec_agree, true);
});

test('advertised_host must be derivable when left empty', () => {
  const p = problemFor(loadError('sip:\n  next_hop: "sip:10.0.0.20:5060"\n'), 'sip.advertised_host', '');
  assert.match(p.message, 'cannot be derived');
});

test('unprotected listeners: no duplicates, none on a protected port of the IPsec address', () => {
  const base = 'ipsec_listen_addr: 10.0.0.1\nsip:\n  next_hop: "sip:10.0.0.20:5060"\n';
  let err = loadError(`${base}  listen: [{transport: udp, address: 0.0.0.0, port: 5063}]\n`);
  let p = problemFor(err, 'sip.listen[0].port', 5063);
  assert.match(p.allowed, '[5062, 5064) and [5064, 5066)');
  err = loadError(`${base}  listen: [{transport: tcp, address: 10.0.0.1, port: 5065}]\n`);
  problemFor(err, 'sip.listen[0].port', 5065);
  // another address, or IPsec disabled: no conflict
  assert.is(loadYaml(`${base}  listen: [{transport: udp, address: 10.0.0.2, port: 5062}]\n`).sip.listen[0]!.port, 5062);
  assert.is(loadYaml(`sip:\n  next_hop: "sip:10.0.0.20:5060"\n  listen: [{transport: udp, address: 10.0.0.2, port: 5062}]\n`).sip.listen[0]!.port, 5062);
  err = loadError(`${base}  listen: [{transport: udp, address: 10.0.0.2, port: 5060}, {transport: udp, address: 10.0.0.2, port: 5060}]\n`);
  p = problemFor(err, 'sip.listen[1]');
  assert.match(p.message, 'listed twice');
});

test.run();
