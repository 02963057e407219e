import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../src/config/index.js';
import { planSockets, SocketTable } from '../../src/transport/sockets.js';

const config = (env: Record<string, string>) => loadConfig({ argv: [], env: { PCSCF_SIP__NEXT_HOP: 'sip:192.0.2.20:5060', ...env } });

test('without IPsec only the unprotected listeners are planned, in configuration order', () => {
  const list = planSockets(config({ PCSCF_SIP__LISTEN: '[{transport: udp, address: 192.0.2.1, port: 5060}, {transport: tcp, address: "2001:db8::1", port: 5070}]' }));
  assert.equal(list.map((s) => [s.id, s.transport, s.family, s.local.addr, s.local.port, s.role, s.listening]), [
    [0, 'udp', 4, '192.0.2.1', 5060, 'unprotected', true],
    [1, 'tcp', 6, '2001:db8::1', 5070, 'unprotected', true],
  ]);
});

test('protected ranges: UDP on both, TCP listening on the server range only, client TCP endpoints not listening', () => {
  const c = config({
    PCSCF_SIP__LISTEN: '[{transport: udp, address: 192.0.2.1, port: 5060}]',
    PCSCF_IPSEC_LISTEN_ADDR: '192.0.2.1', PCSCF_IPSEC_LISTEN_ADDR6: '2001:db8::1',
    PCSCF_IPSEC_CLIENT_PORT: '6100', PCSCF_IPSEC_SERVER_PORT: '6200', PCSCF_IPSEC_MAX_CONNECTIONS: '3',
  });
  const list = planSockets(c);
  assert.is(list.length, 1 + 2 * (3 * 2 + 3 * 2));
  list.forEach((s, i) => assert.is(s.id, i));
  for (const family of [4, 6] as const) {
    const mine = list.filter((s) => s.family === family && s.role !== 'unprotected');
    const client = mine.filter((s) => s.role === 'protected-client');
    const server = mine.filter((s) => s.role === 'protected-server');
    assert.equal([...new Set(client.map((s) => s.local.port))], [6100, 6101, 6102]);
    assert.equal([...new Set(server.map((s) => s.local.port))], [6200, 6201, 6202]);
    assert.ok(client.every((s) => (s.transport === 'udp') === s.listening), 'client range: UDP listens, TCP does not');
    assert.ok(server.every((s) => s.listening), 'server range: UDP and TCP listen');
  }
  const table = new SocketTable(list);
  assert.is(table.protectedAddress(6), '2001:db8::1');
  assert.is(table.protectedSocket(4, 'tcp', 6101)?.listening, false);
  assert.is(table.protectedSocket(6, 'udp', 6202)?.local.addr, '2001:db8::1');
  assert.is(table.protectedSocket(4, 'udp', 6300), undefined);
  assert.is(table.unprotected('udp', 4, 'access')?.id, 0);
  assert.is(table.unprotected('udp', 4, 'core')?.id, 0);
  assert.is(table.unprotected('tcp', 4, 'core'), undefined);
  assert.ok(list.filter((s) => s.role !== 'unprotected').every((s) => s.side === 'access' && s.advertised === (s.family === 6 ? '[2001:db8::1]' : '192.0.2.1')),
    'protected sockets face UEs and announce their own address');
  assert.is(table.find('udp', '192.0.2.1', 5060)?.role, 'unprotected');
  assert.is(table.byId(list.length), undefined);
});

test('listeners facing one side: requests to the core and to UEs leave from the socket of their side, each announcing its own host', () => {
  const list = planSockets(config({
    PCSCF_SIP__LISTEN: '[{transport: udp, address: 192.0.2.1, port: 5060, side: access}, {transport: udp, address: 198.51.100.1, port: 5060, side: core, advertise: pcscf.core.example}, {transport: udp, address: 203.0.113.1, port: 5070}]',
  }));
  const table = new SocketTable(list);
  assert.equal(list.map((s) => [s.side, s.advertised]), [['access', '192.0.2.1'], ['core', 'pcscf.core.example'], ['both', '203.0.113.1']]);
  assert.is(table.unprotected('udp', 4, 'access')?.id, 0);
  assert.is(table.unprotected('udp', 4, 'core')?.id, 1);
  assert.throws(() => config({ PCSCF_SIP__LISTEN: '[{transport: udp, address: 192.0.2.1, port: 5060, side: access}]' }), /sip.listen.*towards the IMS core/s);
  assert.throws(() => config({ PCSCF_SIP__LISTEN: '[{transport: udp, address: 192.0.2.1, port: 5060, side: up}]' }), /sip\.listen\[0\]\.side/);
});

test('the example configuration: unprotected UDP and TCP on 5060, and the default protected ranges of ipsec_listen_addr', () => {
  const list = planSockets(loadConfig({ argv: ['--config', 'config/example.yaml'], env: {} }));
  const show = list.map((s) => `${s.transport} ${s.local.addr}:${s.local.port} ${s.role}${s.listening ? '' : ' (not listening)'}`);
  assert.equal(show, [
    'udp 0.0.0.0:5060 unprotected',
    'tcp 0.0.0.0:5060 unprotected',
    'udp 10.0.0.1:5062 protected-client',
    'tcp 10.0.0.1:5062 protected-client (not listening)',
    'udp 10.0.0.1:5063 protected-client',
    'tcp 10.0.0.1:5063 protected-client (not listening)',
    'udp 10.0.0.1:5064 protected-server',
    'tcp 10.0.0.1:5064 protected-server',
    'udp 10.0.0.1:5065 protected-server',
    'tcp 10.0.0.1:5065 protected-server',
  ]);
  const table = new SocketTable(list);
  assert.is(table.unprotected('tcp', 4, 'access')?.id, 1);
  assert.is(table.unprotected('udp', 6, 'core'), undefined);
  assert.equal(list.slice(0, 2).map((s) => [s.side, s.advertised]), [['both', '10.0.0.1'], ['both', '10.0.0.1']], 'wildcard listeners announce sip.advertised_host');
  assert.is(table.protectedAddress(6), undefined);
});

test.run();
