// The pcscf command with IPsec enabled on a kernel without ESP (this machine's and CI's: DESIGN.md
// "The kernel problem") refuses to start: exit status 1, and a message that says what is missing
// and how to check, before any socket opens; the probe leaves nothing in the kernel. Run in a
// namespace of its own. On a kernel with ESP there is nothing to refuse: the file says so and
// skips (the ESP suites cover start-up there).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { createNetns } from '../helpers/netns.js';

if (process.env.TEST_ESP_KERNEL === 'host') {
  console.log('# skipped: this kernel has ESP, so the P-CSCF does not refuse to start');
  process.exit(0);
}

test('IPsec enabled without ESP in the kernel: exit status 1 with what is missing and how to check; nothing left in the kernel', () => {
  const ns = createNetns('ipsec-start');
  const dir = mkdtempSync(join(tmpdir(), 'pcscf-ipsec-start-'));
  try {
    const config = join(dir, 'pcscf.yaml');
    writeFileSync(config, [
      'ipsec_listen_addr: 127.0.0.1',
      'ipsec_client_port: 15100',
      'ipsec_server_port: 16100',
      'sip:',
      '  listen: [{transport: udp, address: 127.0.0.1, port: 15060}]',
      '  next_hop: "sip:127.0.0.1:15070"',
      'workers: {pool_size: 0}',
      'http: {listen: ""}',
      'log: {level: fatal}',
    ].join('\n'));
    const r = spawnSync('ip', ['netns', 'exec', ns.name, process.execPath, '--import', 'tsx', 'src/main.ts', '--config', config], { encoding: 'utf8', timeout: 120_000 });
    assert.is(r.status, 1, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.match(r.stderr, /IPsec is enabled, but this kernel cannot create ESP for IPv4 \(ipsec_listen_addr 127\.0\.0\.1\)/);
    assert.match(r.stderr, 'modprobe esp4 esp6');
    assert.match(r.stderr, 'ip -n espcheck xfrm state add');
    assert.match(r.stderr, '/proc/crypto');
    assert.match(r.stderr, 'set ipsec_listen_addr and ipsec_listen_addr6 to ""');
    assert.is(ns.ip('xfrm', 'state', 'list').trim(), '');
    assert.is(ns.ip('xfrm', 'policy', 'list').trim(), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    ns.delete();
  }
});

test.run();
