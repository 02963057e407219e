import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { ipsecEnabled, loadConfig, selectionPolicyOf } from '../../src/config/index.js';
import { SCHEMA, defaultPoolSize, isLeaf } from '../../src/config/schema.js';
import type { Node } from '../../src/config/schema.js';
import { MINIMAL, loadYaml } from './helpers.js';

test('every key has the documented default', () => {
  const c = loadYaml(MINIMAL);
  assert.equal(c, {
    ipsec_listen_addr: '',
    ipsec_listen_addr6: '',
    ipsec_client_port: 5062,
    ipsec_server_port: 5064,
    ipsec_max_connections: 2,
    ipsec_reuse_server_port: 1,
    ipsec_spi_id_start: 100,
    ipsec_spi_id_range: 1000,
    ipsec_preferred_alg: '',
    ipsec_preferred_ealg: '',
    sip: {
      listen: [
        { transport: 'udp', address: '0.0.0.0', port: 5060, side: 'both', advertise: 'pcscf.example.net' },
        { transport: 'tcp', address: '0.0.0.0', port: 5060, side: 'both', advertise: 'pcscf.example.net' },
      ],
      advertised_host: 'pcscf.example.net',
      next_hop: 'sip:10.0.0.20:5060',
      trusted_peers: [],
      unregistered_status: 403,
      timers: { t1_ms: 500, t2_ms: 4000, t4_ms: 5000 },
      tcp: { idle_timeout_s: 3600, max_connections: 65536, connect_timeout_ms: 3000 },
      limits: { max_udp_bytes: 65535, max_tcp_message_bytes: 65536, max_headers: 200, max_line_bytes: 16384 },
    },
    security: {
      require_sec_agree: false,
      allowed_algorithms: ['hmac-sha-1-96', 'hmac-md5-96', 'aes-gmac', 'null'],
      allowed_encryption: ['aes-gcm', 'aes-cbc', 'des-ede3-cbc', 'null'],
      disable_deprecated_algorithms: false,
      xfrm_user_marker: 143956232,
      temporary_sa_timeout_s: 30,
      create_failure_status: 503,
      teardown_delay_ms: 1000,
      forward_flags: 1024,
    },
    workers: { pool_size: defaultPoolSize(availableParallelism()), batch_max: 64, handoff_min: 16, scheduling: 'batch', max_in_flight: 8192 },
    contacts: { capacity: 20000, domain: 'location' },
    netlink: { queue_max: 4096, timeout_ms: 2000 },
    http: { listen: '127.0.0.1:9090' },
    log: { level: 'info' },
    shutdown: { grace_s: 5 },
  });
  assert.is(ipsecEnabled(c), false);
});

test('the result is deeply frozen', () => {
  const c = loadYaml(MINIMAL);
  for (const obj of [c, c.sip, c.sip.listen, c.sip.listen[0], c.sip.timers, c.security.allowed_algorithms, c.log]) assert.ok(Object.isFrozen(obj));
  assert.throws(() => { (c.sip.timers as { t1_ms: number }).t1_ms = 1; }, TypeError);
  assert.throws(() => { (c.security.allowed_algorithms as string[]).push('x'); }, TypeError);
  // a second load is not affected by anything done to the first
  assert.is(loadYaml(MINIMAL).sip.timers.t1_ms, 500);
});

test('no --config and no environment: next_hop is missing and advertised_host cannot be derived', () => {
  try {
    loadConfig({ argv: [], env: {} });
    assert.unreachable();
  } catch (e) {
    const keys = (e as { problems: { key: string }[] }).problems.map((p) => p.key);
    assert.equal(keys, ['sip.next_hop', 'sip.advertised_host']);
  }
});

test('advertised_host is derived from a specific listener, else the IPsec addresses', () => {
  const base = 'sip:\n  next_hop: "sip:10.0.0.20:5060"\n';
  assert.is(loadYaml(`${base}  listen: [{transport: udp, address: 0.0.0.0, port: 5060}, {transport: tcp, address: 192.0.2.7, port: 5060}]\nipsec_listen_addr: 10.0.0.1\n`).sip.advertised_host, '192.0.2.7');
  assert.is(loadYaml(`${base}ipsec_listen_addr: 10.0.0.1\nipsec_listen_addr6: "2001:db8::1"\n`).sip.advertised_host, '10.0.0.1');
  assert.is(loadYaml(`${base}ipsec_listen_addr6: "2001:db8::1"\n`).sip.advertised_host, '[2001:db8::1]');
  assert.is(loadYaml(`${base}  listen: [{transport: udp, address: "2001:db8::5", port: 5060}]\n`).sip.advertised_host, '[2001:db8::5]');
  assert.is(loadYaml(`${base}  advertised_host: "2001:db8::9"\n`).sip.advertised_host, '[2001:db8::9]');
});

test('IPsec is enabled by either protected address', () => {
  assert.is(ipsecEnabled(loadYaml(`${MINIMAL}ipsec_listen_addr6: "::1"\n`)), true);
  assert.is(ipsecEnabled(loadYaml(`${MINIMAL}ipsec_listen_addr: 10.0.0.1\n`)), true);
});

test('selectionPolicyOf carries the allow-lists, the deprecated switch and the preferences', () => {
  const plain = selectionPolicyOf(loadYaml(MINIMAL));
  assert.equal(plain, {
    allowedAuth: ['hmac-sha-1-96', 'hmac-md5-96', 'aes-gmac', 'null'],
    allowedEnc: ['aes-gcm', 'aes-cbc', 'des-ede3-cbc', 'null'],
    disableDeprecated: false,
  });
  const pref = selectionPolicyOf(loadYaml(`${MINIMAL}ipsec_preferred_alg: hmac-sha-1-96\nipsec_preferred_ealg: aes-cbc\nsecurity: {disable_deprecated_algorithms: true}\n`));
  assert.is(pref.preferredAlg, 'hmac-sha-1-96');
  assert.is(pref.preferredEalg, 'aes-cbc');
  assert.is(pref.disableDeprecated, true);
});

test('the default pool leaves the main thread a CPU: none on one CPU, one on two, at most 256', () => {
  assert.equal([1, 2, 3, 8, 64, 1000].map(defaultPoolSize), [0, 1, 2, 7, 63, 256]);
});

test('config/example.yaml is valid and documents every key', () => {
  const c = loadConfig({ argv: ['--config', 'config/example.yaml'], env: {} });
  assert.is(c.ipsec_listen_addr, '10.0.0.1');
  const text = readFileSync('config/example.yaml', 'utf8');
  const missing: string[] = [];
  const walk = (node: Node, path: string): void => {
    for (const [k, child] of Object.entries(node as Record<string, Node>)) {
      if (!new RegExp(`(^|[\\s{,])${k}:`, 'm').test(text)) missing.push(`${path}${k}`);
      if (!isLeaf(child)) walk(child, `${path}${k}.`);
    }
  };
  walk(SCHEMA as unknown as Node, '');
  assert.equal(missing, []);
  // each key is preceded by a comment that states its default
  for (const key of ['ipsec_spi_id_start', 'temporary_sa_timeout_s', 'xfrm_user_marker', 'pool_size']) {
    const at = text.indexOf(`${key}:`);
    const comment = text.slice(text.lastIndexOf('\n\n', at), at);
    assert.match(comment, /Default:/, key);
  }
});

test.run();
