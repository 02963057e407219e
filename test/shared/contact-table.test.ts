import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Transport } from '../../src/engine/plan.js';
import type { Binding, BindingId } from '../../src/shared/binding.js';
import { BINDING_LIMITS } from '../../src/shared/binding.js';
import { BindingPeek, ContactTable } from '../../src/shared/contact-table.js';
import { typicalBinding, typicalSa } from './fixtures.js';
import { throwsCode } from './throws-code.js';

test('a binding comes back exactly as stored, host keys normalised', () => {
  const t = ContactTable.create({ capacity: 8 });
  const b = typicalBinding(1, {
    contactHost: '[2001:DB8::A]', receivedAddr: '2001:db8::a', viaHost: '[2001:DB8::A]', transport: 'tcp',
    previousSa: typicalSa(0x2000, { alg: 'aes-gmac', ealg: 'aes-gcm', confirmedAt: 1_767_225_700.25 }),
    state: 'deregistering', expiresAt: 1_767_229_200.5, path: '', serviceRoute: [], associatedUris: ['tel:+4917012345'],
  });
  const id = t.insert(b);
  assert.is(t.size, 1);
  const got = t.get(id);
  assert.ok(isDeepStrictEqual(got, { ...b, contactHost: '2001:db8::a' }), JSON.stringify(got));
});

test('SEARCH_RECEIVED: received port or Contact port on the transport, or a UE SA port on any', () => {
  const t = ContactTable.create({ capacity: 8 });
  const a = t.insert(typicalBinding(1, { receivedAddr: '10.0.0.1', receivedPort: 40000, contactPort: 5070, sa: typicalSa(0x10, { portUc: 31000, portUs: 31001 }) }));
  const b = t.insert(typicalBinding(2, { receivedAddr: '10.0.0.1', receivedPort: 40001, sa: undefined }));
  assert.is(t.findByReceived('10.0.0.1', 40000, 'udp'), a);
  assert.is(t.findByReceived('10.0.0.1', 40000), a);
  assert.is(t.findByReceived('10.0.0.1', 40000, 'tcp'), undefined, 'the REGISTER came over UDP');
  assert.is(t.findByReceived('10.0.0.1', 5070, 'udp'), a, 'Contact port');
  assert.is(t.findByReceived('10.0.0.1', 31000, 'tcp'), a, 'port-c of the SA set, over TCP');
  assert.is(t.findByReceived('10.0.0.1', 31001, 'udp'), a, 'port-s of the SA set');
  assert.is(t.findByReceived('10.0.0.1', 40001, 'udp'), b);
  assert.is(t.findByReceived('10.0.0.1', 40002), undefined);
  assert.is(t.findByReceived('10.0.0.2', 40000), undefined);
  assert.is(t.findByReceived('x'.repeat(300), 40000), undefined, 'a key longer than any stored one matches nothing');
  assert.is(t.findByReceived('10.0.0.1', 40000, 'sctp' as Transport), undefined, 'an unknown transport matches nothing');
  assert.is(t.findByReceived(7 as unknown as string, 40000), undefined);

  // Re-registration: the old set becomes previousSa and is still found by its UE ports.
  assert.ok(t.update(a, (cur) => ({ ...cur, previousSa: cur.sa, sa: typicalSa(0x20, { portUc: 32000, portUs: 32001 }) })));
  assert.is(t.findByReceived('10.0.0.1', 31000), a);
  assert.is(t.findByReceived('10.0.0.1', 32001), a);
  assert.ok(t.update(a, { previousSa: undefined }));
  assert.is(t.findByReceived('10.0.0.1', 31000), undefined);
  assert.is(t.findByReceived('10.0.0.1', 32000), a);
});

test('address keys too long to keep inline in the record are compared in the arena', () => {
  const t = ContactTable.create({ capacity: 8 });
  const longName = `ue-${'x'.repeat(60)}.example.org`;
  const v6 = '2001:0db8:85a3:0000:0000:8a2e:0370:7334'; // 39 bytes: still inline
  const a = t.insert(typicalBinding(1, { receivedAddr: longName, contactHost: longName }));
  const b = t.insert(typicalBinding(2, { receivedAddr: v6, contactHost: 'ue.example.org' }));
  const c = t.insert(typicalBinding(3, { receivedAddr: `${longName}.`, contactHost: v6.toUpperCase() }));
  assert.is(t.findByReceived(longName.toUpperCase(), 5060), a);
  assert.is(t.findByContact(longName, 5060), a);
  assert.is(t.findByReceived(v6, 5060), b);
  assert.is(t.findByContact('ue.example.org', 5060), b);
  assert.is(t.findByContact(v6, 5060), c, 'a Contact host that differs from the received address');
  assert.is(t.findByReceived(`${longName}.`, 5060), c);
  assert.is(t.findByReceived(longName.slice(0, -1), 5060), undefined);
});

test('SEARCH_NORMAL: Contact host and port, host compared without brackets or case', () => {
  const t = ContactTable.create({ capacity: 8 });
  const a = t.insert(typicalBinding(1, { contactHost: '[2001:DB8::1]', contactPort: 5060 }));
  const b = t.insert(typicalBinding(2, { contactHost: '2001:db8::1', contactPort: 5062 }));
  assert.is(t.findByContact('2001:db8::1', 5060), a);
  assert.is(t.findByContact('[2001:db8::1]', 5062), b);
  assert.is(t.findByContact('2001:DB8::1', 5061), undefined);
  assert.is(t.findByContact('ue.example.com', 5060), undefined);
});

test('by AOR: every binding of the AOR, and only those', () => {
  const t = ContactTable.create({ capacity: 8 });
  const aor = 'sip:+491701111111@ims.mnc001.mcc262.3gppnetwork.org';
  const a = t.insert(typicalBinding(1, { aor }));
  const b = t.insert(typicalBinding(2, { aor }));
  const c = t.insert(typicalBinding(3));
  assert.equal(t.findByAor(aor).sort(), [a, b].sort());
  assert.equal(t.findByAor(typicalBinding(3).aor), [c]);
  assert.equal(t.findByAor('SIP:+491701111111@ims.mnc001.mcc262.3gppnetwork.org'), [], 'AORs compare exactly');
  t.delete(a);
  const out = [c];
  assert.equal(t.findByAor(aor, out), [c, b], 'appends to the given list');
});

test('by P-CSCF SPI: spi_pc and spi_ps of the current and previous sets', () => {
  const t = ContactTable.create({ capacity: 8 });
  const a = t.insert(typicalBinding(1, { sa: typicalSa(0xfffffff0) }));
  const b = t.insert(typicalBinding(2, { sa: typicalSa(0x100) }));
  assert.is(t.findBySpi(0xfffffff0), a);
  assert.is(t.findBySpi(0xfffffff1), a);
  assert.is(t.findBySpi(0x101), b);
  assert.is(t.findBySpi(0x102), undefined);
  assert.is(t.findBySpi(0x5a3c1001), undefined, 'UE SPIs are not P-CSCF SPIs');
  assert.is(t.findBySpi(-1), undefined);
  assert.ok(t.update(a, (cur) => ({ ...cur, previousSa: cur.sa, sa: typicalSa(0x200) })));
  assert.is(t.findBySpi(0xfffffff0), a, 'old set, now previous');
  assert.is(t.findBySpi(0x201), a);
  assert.ok(t.update(a, { previousSa: undefined }));
  assert.is(t.findBySpi(0xfffffff0), undefined);
  assert.is(t.findBySpi(0x200), a);
  assert.ok(t.update(b, { sa: undefined }));
  assert.is(t.findBySpi(0x100), undefined);
});

test('update: patch, function, declined function, re-keyed strings, arena reuse', () => {
  const t = ContactTable.create({ capacity: 8 });
  const id = t.insert(typicalBinding(1));
  const before = t.arenaUsage.usedBytes;
  assert.ok(t.update(id, { expiresAt: 42, state: 'pending' }));
  assert.is(t.arenaUsage.usedBytes, before, 'no string changed: the blob is kept');
  assert.is(t.get(id)!.expiresAt, 42);
  assert.is(t.get(id)!.state, 'pending');

  assert.ok(t.update(id, { receivedAddr: '192.0.2.7', aor: 'sip:moved@example.org', contactUri: 'sip:short' }));
  assert.ok(t.arenaUsage.usedBytes < before, 'shorter strings, new smaller blob, old one freed');
  assert.is(t.findByReceived('192.0.2.7', 5060), id);
  assert.is(t.findByReceived(typicalBinding(1).receivedAddr, 5060), undefined);
  assert.equal(t.findByAor('sip:moved@example.org'), [id]);
  assert.equal(t.findByAor(typicalBinding(1).aor), []);

  assert.not.ok(t.update(id, () => undefined));
  assert.is(t.get(id)!.contactUri, 'sip:short');
  assert.ok(t.update(id, (cur) => ({ ...cur, serviceRoute: [...cur.serviceRoute, '<sip:extra@x;lr>'] })));
  assert.equal(t.get(id)!.serviceRoute.at(-1), '<sip:extra@x;lr>');
});

test('an invalid update throws and leaves the binding as it was', () => {
  const t = ContactTable.create({ capacity: 8 });
  const b = typicalBinding(1);
  const id = t.insert(b);
  throwsCode(() => t.update(id, { aor: 'x'.repeat(BINDING_LIMITS.aorBytes + 1) }), 'FIELD_TOO_LONG');
  throwsCode(() => t.update(id, { receivedPort: -1 }), 'FIELD_INVALID');
  assert.ok(isDeepStrictEqual(t.get(id), b));
});

test('stale ids never reach the slot\'s next binding', () => {
  const t = ContactTable.create({ capacity: 1 });
  const a = t.insert(typicalBinding(1));
  assert.ok(t.delete(a));
  assert.not.ok(t.delete(a), 'already gone');
  const b = t.insert(typicalBinding(2));
  assert.is.not(b, a);
  assert.is(t.get(a), undefined);
  assert.not.ok(t.update(a, { expiresAt: 1 }));
  assert.not.ok(t.delete(a));
  assert.not.ok(t.peek(a, new BindingPeek()));
  assert.is(t.get(b)!.aor, typicalBinding(2).aor);
  for (const bad of [0, 5, -1, 1.5, Number.NaN, 2 ** 60, '16777216']) {
    assert.is(t.get(bad as BindingId), undefined);
    assert.not.ok(t.delete(bad as BindingId));
  }
});

test('a full table says so and leaks nothing', () => {
  const t = ContactTable.create({ capacity: 2 });
  t.insert(typicalBinding(1));
  const b = t.insert(typicalBinding(2));
  const used = t.arenaUsage.usedBytes;
  throwsCode(() => t.insert(typicalBinding(3)), 'CONTACT_TABLE_FULL');
  assert.is(t.size, 2);
  assert.is(t.arenaUsage.usedBytes, used);
  t.delete(b);
  assert.ok(t.insert(typicalBinding(3)));
});

test('a full arena says so, releases the slot, and works again after a delete', () => {
  const t = ContactTable.create({ capacity: 100, arenaBytes: 8192 });
  const ids: BindingId[] = [];
  let full = false;
  for (let i = 0; i < 100 && !full; i++) {
    try {
      ids.push(t.insert(typicalBinding(i)));
    } catch (e) {
      throwsCode(() => { throw e; }, 'ARENA_FULL');
      full = true;
    }
  }
  assert.ok(full, 'the arena filled before the table');
  assert.is(t.size, ids.length);
  const used = t.arenaUsage.usedBytes;
  throwsCode(() => t.update(ids[0]!, { path: 'p'.repeat(1000) }), 'ARENA_FULL');
  assert.is(t.get(ids[0]!)!.path, typicalBinding(0).path);
  assert.is(t.arenaUsage.usedBytes, used);
  t.delete(ids[0]!);
  assert.ok(t.insert(typicalBinding(500)));
});

test('field limits: at the limit is kept, one byte over is refused', () => {
  const t = ContactTable.create({ capacity: 4 });
  const L = BINDING_LIMITS;
  const ok = (patch: Partial<Binding>): void => {
    const id = t.insert(typicalBinding(1, patch));
    const got = t.get(id)!;
    for (const [k, v] of Object.entries(patch)) assert.ok(isDeepStrictEqual(got[k as keyof Binding], v), k);
    t.delete(id);
  };
  ok({ aor: 'a'.repeat(L.aorBytes) });
  ok({ aor: 'é'.repeat(L.aorBytes / 2) });
  ok({ receivedAddr: 'h'.repeat(L.hostBytes) });
  ok({ serviceRoute: Array.from({ length: L.serviceRoutes }, () => 'r'.repeat(L.serviceRouteBytes)) });
  ok({ associatedUris: Array.from({ length: L.associatedUris }, () => 'u'.repeat(L.associatedUriBytes)) });
  ok({ contactUri: 'c'.repeat(L.contactUriBytes), path: 'p'.repeat(L.pathBytes) });
  const tooLong: Partial<Binding>[] = [
    { aor: 'a'.repeat(L.aorBytes + 1) },
    { aor: 'é'.repeat(L.aorBytes / 2) + 'a' },
    { contactUri: 'c'.repeat(L.contactUriBytes + 1) },
    { contactHost: 'h'.repeat(L.hostBytes + 1) },
    { viaHost: 'h'.repeat(L.hostBytes + 1) },
    { path: 'p'.repeat(L.pathBytes + 1) },
    { serviceRoute: Array.from({ length: L.serviceRoutes + 1 }, () => 'r') },
    { serviceRoute: ['r'.repeat(L.serviceRouteBytes + 1)] },
    { associatedUris: Array.from({ length: L.associatedUris + 1 }, () => 'u') },
    { associatedUris: ['u'.repeat(L.associatedUriBytes + 1)] },
  ];
  for (const patch of tooLong) throwsCode(() => t.insert(typicalBinding(1, patch)), 'FIELD_TOO_LONG');
  const invalid: Partial<Binding>[] = [
    { state: 'gone' as Binding['state'] }, { transport: 'sctp' as Transport }, { receivedPort: 65536 }, { viaPort: 1.5 },
    { expiresAt: Number.NaN }, { aor: 7 as unknown as string }, { serviceRoute: 'x' as unknown as string[] },
    { associatedUris: [3 as unknown as string] },
    { sa: typicalSa(1, { spiPc: -1 }) }, { sa: typicalSa(1, { spiPs: 2 ** 32 }) }, { sa: typicalSa(1, { clientDigest: new Uint8Array(16) }) },
    { sa: typicalSa(1, { alg: 'hmac-sha-256' as 'null' }) }, { previousSa: typicalSa(1, { portUc: -5 }) },
  ];
  for (const patch of invalid) throwsCode(() => t.insert(typicalBinding(1, patch)), 'FIELD_INVALID');
  throwsCode(() => t.insert(null as unknown as Binding), 'FIELD_INVALID');
  assert.is(t.size, 0);
  assert.is(t.arenaUsage.usedBytes, 0);
});

test('forEachExpired visits exactly the expired bindings and lets fn delete them', () => {
  const t = ContactTable.create({ capacity: 8 });
  const ids = [100, 200, 300, 400].map((expiresAt, i) => t.insert(typicalBinding(i, { expiresAt })));
  const seen: [BindingId, number][] = [];
  const n = t.forEachExpired(250, (id, expiresAt) => {
    seen.push([id, expiresAt]);
    t.delete(id);
  });
  assert.is(n, 2);
  assert.equal(seen, [[ids[0], 100], [ids[1], 200]]);
  assert.is(t.size, 2);
  assert.is(t.forEachExpired(250, () => assert.unreachable()), 0);
});

test('forEachDue: expired bindings, and current SA sets still temporary (unconfirmed, or beside a previous one) created before the limit', () => {
  const t = ContactTable.create({ capacity: 8 });
  const ids = [
    t.insert(typicalBinding(0, { expiresAt: 100, sa: typicalSa(0x10, { createdAt: 10, confirmedAt: 0 }) })),
    t.insert(typicalBinding(1, { expiresAt: 900, sa: typicalSa(0x20, { createdAt: 10, confirmedAt: 0 }) })),
    t.insert(typicalBinding(2, { expiresAt: 900, sa: typicalSa(0x30, { createdAt: 10, confirmedAt: 11 }) })),
    t.insert(typicalBinding(3, { expiresAt: 900, sa: typicalSa(0x40, { createdAt: 10, confirmedAt: 11 }), previousSa: typicalSa(0x50) })),
    t.insert(typicalBinding(4, { expiresAt: 900, sa: typicalSa(0x60, { createdAt: 50, confirmedAt: 0 }) })),
    t.insert(typicalBinding(5, { expiresAt: 900, sa: undefined })),
  ];
  const seen: [BindingId, string][] = [];
  assert.is(t.forEachDue(200, 20, (id, why) => seen.push([id, why])), 3);
  assert.equal(seen, [[ids[0], 'expired'], [ids[1], 'temporary'], [ids[3], 'temporary']]);
});

test('take: removes and returns the binding as it was, once; with a condition only when it holds', () => {
  const t = ContactTable.create({ capacity: 8 });
  const a = t.insert(typicalBinding(1, { expiresAt: 100 }));
  assert.is(t.take(a, (b) => b.expiresAt > 100), undefined, 'declined');
  assert.is(t.size, 1);
  const taken = t.take(a, (b) => b.expiresAt <= 100)!;
  assert.ok(isDeepStrictEqual(taken, typicalBinding(1, { expiresAt: 100 })));
  assert.equal([t.size, t.get(a), t.take(a), t.findBySpi(taken.sa!.spiPc)], [0, undefined, undefined, undefined]);
  assert.is(t.arenaUsage.usedBytes, 0);
});

test('findAllByReceived: every binding of the address with the port as received, Contact or SA UE port', () => {
  const t = ContactTable.create({ capacity: 8 });
  const a = t.insert(typicalBinding(1, { receivedAddr: '10.0.0.1', receivedPort: 31800, contactHost: '10.0.0.1', sa: typicalSa(0x10) }));
  const b = t.insert(typicalBinding(2, { receivedAddr: '10.0.0.1', receivedPort: 5060, contactHost: '10.0.0.1', contactPort: 31800, sa: undefined }));
  t.insert(typicalBinding(3, { receivedAddr: '10.0.0.2', receivedPort: 31800, contactHost: '10.0.0.2', sa: undefined }));
  assert.equal(t.findAllByReceived('10.0.0.1', 31800).sort(), [a, b].sort());
  assert.equal(t.findAllByReceived('10.0.0.1', 31801), [a], 'the set\'s port-s');
  assert.equal(t.findAllByReceived('10.0.0.1', 1), []);
});

test('entries lists every binding with its id', () => {
  const t = ContactTable.create({ capacity: 8 });
  const ids = [1, 2, 3].map((i) => t.insert(typicalBinding(i)));
  t.delete(ids[1]!);
  const listed = [...t.entries()];
  assert.equal(listed.map(([id]) => id), [ids[0], ids[2]]);
  assert.ok(isDeepStrictEqual(listed[1]![1], typicalBinding(3)));
});

test('peek reads the numbers without the strings', () => {
  const t = ContactTable.create({ capacity: 8 });
  const id = t.insert(typicalBinding(1, { transport: 'tcp', receivedPort: 40000, previousSa: typicalSa(0x500, { portPs: 6109 }) }));
  const p = new BindingPeek();
  assert.ok(t.peek(id, p));
  assert.is(p.state, 'registered');
  assert.is(p.transport, 'tcp');
  assert.is(p.receivedPort, 40000);
  assert.is(p.expiresAt, typicalBinding(1).expiresAt);
  assert.ok(p.hasSa && p.hasPreviousSa);
  assert.is(p.sa.spiPc, typicalBinding(1).sa!.spiPc);
  assert.is(p.sa.alg, 'hmac-sha-1-96');
  assert.is(p.previousSa.portPs, 6109);
  t.update(id, { previousSa: undefined });
  assert.ok(t.peek(id, p));
  assert.not.ok(p.hasPreviousSa);
});

test('a second ContactTable attached to the buffer sees and changes the same bindings', () => {
  const t = ContactTable.create({ capacity: 8 });
  const u = ContactTable.attach(t.buffer);
  const id = t.insert(typicalBinding(1));
  assert.is(u.findBySpi(typicalBinding(1).sa!.spiPc), id);
  assert.ok(u.update(id, { expiresAt: 5 }));
  assert.is(t.get(id)!.expiresAt, 5);
  assert.ok(u.delete(id));
  assert.is(t.size, 0);
  throwsCode(() => ContactTable.attach(new SharedArrayBuffer(64)), 'BAD_SHARED_BUFFER');
  throwsCode(() => ContactTable.create({ capacity: 0 }), 'BAD_OPTIONS');
  throwsCode(() => ContactTable.create(undefined as unknown as { capacity: number }), 'BAD_OPTIONS');
  throwsCode(() => ContactTable.create({ capacity: 8, indexBuckets: 6 }), 'BAD_OPTIONS');
  throwsCode(() => ContactTable.create({ capacity: 4, arenaBytes: 1000 }), 'BAD_OPTIONS');
});

// Model-based: random operations on a small table (every bucket shared, slots reused, chains
// relinked) must answer every lookup as a plain Map of the live bindings would.
test('random operations agree with a model', () => {
  const addrs = ['10.0.0.1', '10.0.0.2', '[2001:db8::1]'];
  const aors = ['sip:a@x', 'sip:b@x', 'tel:+1'];
  const arbBinding = fc.record({
    addr: fc.constantFrom(...addrs), aor: fc.constantFrom(...aors), port: fc.integer({ min: 5060, max: 5063 }),
    spi: fc.integer({ min: 0, max: 7 }), prevSpi: fc.option(fc.integer({ min: 8, max: 15 }), { nil: undefined }),
    tcp: fc.boolean(), routes: fc.integer({ min: 0, max: 4 }),
  }).map(({ addr, aor, port, spi, prevSpi, tcp, routes }) => typicalBinding(spi, {
    receivedAddr: addr, contactHost: addr, aor, receivedPort: port, contactPort: port, transport: tcp ? 'tcp' : 'udp',
    sa: typicalSa(2 * spi, { portUc: 7000 + spi, portUs: 7100 + spi }),
    serviceRoute: Array.from({ length: routes }, (_, i) => `<sip:r${i}@x;lr>`),
    ...(prevSpi === undefined ? {} : { previousSa: typicalSa(2 * prevSpi, { portUc: 7000 + prevSpi, portUs: 7100 + prevSpi }) }),
  }));
  const arbOp = fc.oneof(
    fc.record({ op: fc.constant('insert' as const), b: arbBinding }),
    fc.record({ op: fc.constant('update' as const), pick: fc.nat(), b: arbBinding }),
    fc.record({ op: fc.constant('delete' as const), pick: fc.nat() }),
    fc.record({ op: fc.constant('lookup' as const), addr: fc.constantFrom(...addrs), port: fc.integer({ min: 5060, max: 5063 }), spi: fc.integer({ min: 0, max: 31 }), aor: fc.constantFrom(...aors) }),
  );
  const norm = (h: string): string => h.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  fc.assert(fc.property(fc.array(arbOp, { maxLength: 80 }), (ops) => {
    const t = ContactTable.create({ capacity: 6 });
    const model = new Map<BindingId, Binding>();
    for (const o of ops) {
      const live = [...model.keys()];
      if (o.op === 'insert') {
        if (model.size === t.capacity) {
          throwsCode(() => t.insert(o.b), 'CONTACT_TABLE_FULL');
        } else {
          model.set(t.insert(o.b), o.b);
        }
      } else if (o.op === 'update' && live.length > 0) {
        const id = live[o.pick % live.length]!;
        assert.ok(t.update(id, o.b));
        model.set(id, { ...model.get(id)!, ...o.b }); // a patch keeps what it does not list
      } else if (o.op === 'delete' && live.length > 0) {
        const id = live[o.pick % live.length]!;
        assert.ok(t.delete(id));
        model.delete(id);
      } else if (o.op === 'lookup') {
        const byRecv = [...model].filter(([, b]) => norm(b.receivedAddr) === norm(o.addr) &&
          (b.receivedPort === o.port || b.contactPort === o.port || [b.sa, b.previousSa].some((s) => s && (s.portUc === o.port || s.portUs === o.port)))).map(([id]) => id);
        const got = t.findByReceived(o.addr, o.port);
        assert.ok(got === undefined ? byRecv.length === 0 : byRecv.includes(got), 'findByReceived');
        const byContact = [...model].filter(([, b]) => norm(b.contactHost) === norm(o.addr) && b.contactPort === o.port).map(([id]) => id);
        const gotContact = t.findByContact(o.addr, o.port);
        assert.ok(gotContact === undefined ? byContact.length === 0 : byContact.includes(gotContact), 'findByContact');
        const bySpi = [...model].filter(([, b]) => [b.sa, b.previousSa].some((s) => s && (s.spiPc === o.spi || s.spiPs === o.spi))).map(([id]) => id);
        const gotSpi = t.findBySpi(o.spi);
        assert.ok(gotSpi === undefined ? bySpi.length === 0 : bySpi.includes(gotSpi), 'findBySpi');
        const byAor = [...model].filter(([, b]) => b.aor === o.aor).map(([id]) => id).sort();
        assert.equal(t.findByAor(o.aor).sort(), byAor, 'findByAor');
      }
      assert.is(t.size, model.size);
    }
    for (const [id, b] of model) assert.ok(isDeepStrictEqual(t.get(id), { ...b, contactHost: norm(b.contactHost), receivedAddr: norm(b.receivedAddr) }));
    for (const id of model.keys()) t.delete(id);
    assert.is(t.arenaUsage.usedBytes, 0, 'every blob was freed');
  }), { numRuns: 300 });
});

test.run();
