import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { ConfigError, formatConfig, loadConfig } from '../../src/config/index.js';
import { MINIMAL, loadError, loadYaml, problemFor } from './helpers.js';

const NEXT_HOP = { PCSCF_SIP__NEXT_HOP: 'sip:10.0.0.20:5060', PCSCF_SIP__ADVERTISED_HOST: 'pcscf.example.net' };

function envError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig({ argv: [], env });
  } catch (e) {
    assert.instance(e, ConfigError);
    return e as ConfigError;
  }
  assert.unreachable(JSON.stringify(env));
  throw new Error('unreachable');
}

test('environment: top-level and nested keys, numbers, booleans, lists, lists of mappings', () => {
  const c = loadConfig({
    argv: [],
    env: {
      ...NEXT_HOP,
      PCSCF_IPSEC_LISTEN_ADDR: '10.0.0.1',
      PCSCF_IPSEC_CLIENT_PORT: '6100',
      PCSCF_IPSEC_SERVER_PORT: '6200',
      PCSCF_SIP__TIMERS__T1_MS: '250',
      PCSCF_SECURITY__DISABLE_DEPRECATED_ALGORITHMS: 'true',
      PCSCF_SECURITY__ALLOWED_ALGORITHMS: '[hmac-sha-1-96, aes-gmac]',
      PCSCF_SIP__TRUSTED_PEERS: '[10.1.0.0/16, "2001:db8::/32"]',
      PCSCF_SIP__LISTEN: '[{transport: tcp, address: "::", port: 5070}]',
      PCSCF_HTTP__LISTEN: '',
      PATH: '/usr/bin',
    },
  });
  assert.is(c.ipsec_listen_addr, '10.0.0.1');
  assert.equal([c.ipsec_client_port, c.ipsec_server_port], [6100, 6200]);
  assert.is(c.sip.timers.t1_ms, 250);
  assert.is(c.sip.timers.t2_ms, 4000);
  assert.is(c.security.disable_deprecated_algorithms, true);
  assert.equal(c.security.allowed_algorithms, ['hmac-sha-1-96', 'aes-gmac']);
  assert.equal(c.sip.trusted_peers, ['10.1.0.0/16', '2001:db8::/32']);
  assert.equal(c.sip.listen, [{ transport: 'tcp', address: '::', port: 5070, side: 'both', advertise: c.sip.advertised_host }]);
  assert.is(c.http.listen, '');
});

test('environment overrides the file, key by key', () => {
  const c = loadYaml(`${MINIMAL}  timers: { t1_ms: 100, t2_ms: 900 }\nlog: { level: debug }\n`, { PCSCF_SIP__TIMERS__T2_MS: '800', PCSCF_LOG__LEVEL: 'warn' });
  assert.equal(c.sip.timers, { t1_ms: 100, t2_ms: 800, t4_ms: 5000 });
  assert.is(c.log.level, 'warn');
});

test('environment values are validated like file values, under the key path', () => {
  const err = envError({ ...NEXT_HOP, PCSCF_IPSEC_CLIENT_PORT: 'abc', PCSCF_SECURITY__ALLOWED_ENCRYPTION: '[aes-cbc, rot13]' });
  problemFor(err, 'ipsec_client_port', 'abc');
  problemFor(err, 'security.allowed_encryption[1]', 'rot13');
});

test('unknown PCSCF_ variables are errors, with the closest real name', () => {
  const err = envError({ ...NEXT_HOP, PCSCF_SIP_NEXT_HOP: 'x', PCSCF_IPSEC_LISTEN_ADR: '10.0.0.1', PCSCF_SIP: '{}', PCSCF_WHATEVER: '1' });
  assert.match(problemFor(err, 'PCSCF_SIP_NEXT_HOP', 'x').message, 'did you mean PCSCF_SIP__NEXT_HOP?');
  assert.match(problemFor(err, 'PCSCF_IPSEC_LISTEN_ADR', '10.0.0.1').message, 'did you mean PCSCF_IPSEC_LISTEN_ADDR?');
  problemFor(err, 'PCSCF_SIP', '{}');
  assert.not.match(problemFor(err, 'PCSCF_WHATEVER', '1').message, 'did you mean');
});

test('an environment value that is not YAML is reported', () => {
  problemFor(envError({ ...NEXT_HOP, PCSCF_SIP__TRUSTED_PEERS: '[10.0.0.1' }), 'PCSCF_SIP__TRUSTED_PEERS', '[10.0.0.1');
});

test('--config=<file> works like --config <file>; opts.file is used without --config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcscf-config-sources-'));
  try {
    const file = join(dir, 'a.yaml');
    writeFileSync(file, `${MINIMAL}ipsec_spi_id_start: 5000\n`);
    assert.is(loadConfig({ argv: [`--config=${file}`], env: {} }).ipsec_spi_id_start, 5000);
    assert.is(loadConfig({ file, env: {} }).ipsec_spi_id_start, 5000);
    assert.is(loadConfig({ argv: ['--print-config', '--config', file], env: {} }).ipsec_spi_id_start, 5000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file problems: no name, unreadable, bad YAML, duplicate keys, not a mapping', () => {
  const argvError = (argv: string[]): ConfigError => {
    try {
      loadConfig({ argv, env: {} });
    } catch (e) {
      assert.instance(e, ConfigError);
      return e as ConfigError;
    }
    assert.unreachable(argv.join(' '));
    throw new Error('unreachable');
  };
  assert.match(problemFor(argvError(['--config']), '--config').message, 'missing its file name');
  assert.match(problemFor(argvError(['--config', '--print-config']), '--config').message, 'missing its file name');
  assert.match(problemFor(argvError(['--config', '/nonexistent/pcscf.yaml']), '--config', '/nonexistent/pcscf.yaml').message, 'cannot be read');
  const only = (err: ConfigError): ConfigError => {
    assert.is(err.problems.length, 1, err.message);
    return err;
  };
  assert.match(problemFor(only(loadError('sip: [unclosed\n')), '--config').message, 'YAML error');
  assert.match(problemFor(only(loadError(`${MINIMAL}log: {level: info}\nlog: {level: warn}\n`)), '--config').message, 'unique');
  assert.match(problemFor(loadError('- a\n- b\n'), '--config').message, 'does not hold a mapping');
});

test('--print-config output loads back to the same configuration', () => {
  const configs = [
    loadYaml(MINIMAL),
    loadConfig({ argv: ['--config', 'config/example.yaml'], env: {} }),
    loadYaml(`${MINIMAL}  listen: [{transport: udp, address: "2001:db8::1", port: 5060}]\n  trusted_peers: ["::/0", 0.0.0.0/0]\nipsec_listen_addr6: "2001:db8::2"\nipsec_preferred_alg: "null"\nipsec_preferred_ealg: aes-gcm\nlog: {level: silent}\n`),
    loadYaml('sip:\n  next_hop: "sip:[2001:db8::20]:5060;transport=tcp"\nipsec_listen_addr6: "2001:db8::2"\n', { PCSCF_IPSEC_SPI_ID_START: '4000000000' }),
  ];
  for (const c of configs) {
    const printed = formatConfig(c);
    assert.equal(loadYaml(printed), c, printed);
    assert.is(formatConfig(loadYaml(printed)), printed);
  }
});

test('pcscf --print-config / --check-config print the effective configuration and report problems with exit status 2', () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 60_000 });
  const ok = run(['--config', 'config/example.yaml', '--print-config']);
  assert.is(ok.status, 0, ok.stderr);
  assert.is(ok.stdout, formatConfig(loadConfig({ argv: ['--config', 'config/example.yaml'], env: {} })));
  const overridden = run(['--config', 'config/example.yaml', '--print-config'], { PCSCF_LOG__LEVEL: 'debug' });
  assert.match(overridden.stdout, /^log:\n {2}level: debug$/m);
  assert.is(run(['--config', 'config/example.yaml', '--check-config']).stdout, 'configuration is valid\n');
  const bad = run(['--config', 'config/example.yaml', '--check-config'], { PCSCF_IPSEC_SERVER_PORT: '5063' });
  assert.is(bad.status, 2);
  assert.match(bad.stderr, 'ipsec_server_port: 5063');
  const usage = run(['--bogus']);
  assert.is(usage.status, 2);
  assert.match(usage.stderr, 'unknown argument');
});

test.run();
