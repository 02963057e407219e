import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProtectedPorts } from '../../src/shared/protected-ports.js';
import { throwsCode } from './throws-code.js';

test('ports go round-robin over both ranges', () => {
  const p = ProtectedPorts.create({ clientPort: 5100, serverPort: 6100, maxConnections: 3 });
  const got = Array.from({ length: 4 }, () => p.choose());
  assert.equal(got, [
    { portPc: 5100, portPs: 6100 }, { portPc: 5101, portPs: 6101 }, { portPc: 5102, portPs: 6102 }, { portPc: 5100, portPs: 6100 },
  ]);
});

test('re-registration keeps port_ps and picks another port_pc (TS 33.203 §7.4)', () => {
  const p = ProtectedPorts.create({ clientPort: 5100, serverPort: 6100, maxConnections: 2 });
  const first = p.choose(); // 5100 / 6100; the client cursor now points at 5101
  p.choose();               // cursors back at 5100 / 6100
  const again = p.choose(first);
  assert.is(again.portPs, first.portPs);
  assert.is.not(again.portPc, first.portPc, 'the cursor offered 5100 again; the old port is skipped');
  assert.is(again.portPc, 5101);
  for (let i = 0; i < 10; i++) assert.is.not(p.choose(first).portPc, first.portPc);
});

test('without server-port reuse both ports differ from the old set', () => {
  const p = ProtectedPorts.create({ clientPort: 5100, serverPort: 6100, maxConnections: 4 });
  const old = { portPc: 5100, portPs: 6100 };
  for (let i = 0; i < 12; i++) {
    const next = p.choose(old, false);
    assert.is.not(next.portPs, old.portPs);
    assert.is.not(next.portPc, old.portPc);
  }
});

test('an old server port outside the configured range is not kept', () => {
  const p = ProtectedPorts.create({ clientPort: 5100, serverPort: 6100, maxConnections: 4 });
  assert.is(p.choose({ portPc: 5100, portPs: 7000 }).portPs, 6100);
});

test('a one-port range gives the same ports every time, also on re-registration', () => {
  const p = ProtectedPorts.create({ clientPort: 5062, serverPort: 5064, maxConnections: 1 });
  const first = p.choose();
  assert.equal(first, { portPc: 5062, portPs: 5064 });
  assert.equal(p.choose(first), first);
  assert.equal(p.choose(first, false), first);
});

test('overlapping client and server ranges are refused', () => {
  // Kamailio's defaults: client 5062-5063, server 5063-5064.
  throwsCode(() => ProtectedPorts.create({ clientPort: 5062, serverPort: 5063, maxConnections: 2 }), 'PORT_RANGES_OVERLAP');
  throwsCode(() => ProtectedPorts.create({ clientPort: 6100, serverPort: 6000, maxConnections: 101 }), 'PORT_RANGES_OVERLAP');
  throwsCode(() => ProtectedPorts.create({ clientPort: 5100, serverPort: 5100, maxConnections: 1 }), 'PORT_RANGES_OVERLAP');
  assert.ok(ProtectedPorts.create({ clientPort: 6000, serverPort: 6100, maxConnections: 100 }));
});

test('invalid options are refused', () => {
  throwsCode(() => ProtectedPorts.create({ clientPort: 0, serverPort: 6100, maxConnections: 1 }), 'BAD_OPTIONS');
  throwsCode(() => ProtectedPorts.create({ clientPort: 65530, serverPort: 6100, maxConnections: 10 }), 'BAD_OPTIONS');
  throwsCode(() => ProtectedPorts.create({ clientPort: 5100, serverPort: 6100, maxConnections: 0 }), 'BAD_OPTIONS');
  throwsCode(() => ProtectedPorts.create({ clientPort: 5100, serverPort: 6100, maxConnections: 2.5 }), 'BAD_OPTIONS');
  throwsCode(() => ProtectedPorts.create(undefined as unknown as { clientPort: number; serverPort: number; maxConnections: number }), 'BAD_OPTIONS');
});

test('attached copies share the round-robin cursors', () => {
  const p = ProtectedPorts.create({ clientPort: 5100, serverPort: 6100, maxConnections: 10 });
  const q = ProtectedPorts.attach(p.buffer);
  assert.is(p.choose().portPc, 5100);
  assert.is(q.choose().portPc, 5101);
  assert.is(p.choose().portPs, 6102);
  throwsCode(() => ProtectedPorts.attach(new SharedArrayBuffer(8)), 'BAD_SHARED_BUFFER');
});

test.run();
