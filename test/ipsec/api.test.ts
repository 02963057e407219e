// ipsecDestroy and ipsecDestroyByContact (admin guide §4.3, §4.4): the bindings go with their SA
// sets, the teardown is noted for the main thread, and only the SPI pairs the P-CSCF recorded are
// released; unknown domains are typed errors.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { IpsecError, ipsecDestroy, ipsecDestroyByContact } from '../../src/ipsec/index.js';
import { AOR, count } from '../pcscf/fixtures.js';
import { UE_PC, UE_PS, ipsecHarness, registerAlice } from './fixtures.js';

test('ipsecDestroy(domain, aor): every binding of the AOR and its SAs; other AORs untouched', async () => {
  const h = ipsecHarness();
  await registerAlice(h);
  const ctx = h.ctx.ipsec!;
  assert.is(ipsecDestroy(ctx, 'location', 'sip:bob@ims.example.net'), 0);
  assert.is(ctx.takeTeardown(), undefined);
  assert.is(ipsecDestroy(ctx, 'location', AOR), 1);
  const notes = ctx.takeTeardown()!;
  assert.equal(notes.map((w) => [w.what, w.release, w.ops.length]), [['admin', [100], 8]]);
  assert.is(h.contacts.size, 0);
  h.executor.teardown(notes);
  await h.executor.idle();
  assert.equal([h.kernel.objects.size, ctx.spis.inUse], [0, 0]);
  assert.is(count(h, 'pcscf_ipsec_sets_removed_total', { why: 'admin' }), 1);
});

test('ipsecDestroyByContact(domain, aor, host, port): only the binding received from host with that received or Contact port', async () => {
  const h = ipsecHarness();
  await registerAlice(h);
  const ctx = h.ctx.ipsec!;
  assert.is(ipsecDestroyByContact(ctx, 'location', AOR, '10.45.0.8', UE_PC), 0, 'another host');
  assert.is(ipsecDestroyByContact(ctx, 'location', AOR, '10.45.0.7', 5099), 0, 'another port');
  assert.is(ipsecDestroyByContact(ctx, 'location', 'sip:bob@ims.example.net', '10.45.0.7', UE_PC), 0, 'another AOR');
  assert.is(h.contacts.size, 1);
  assert.is(ipsecDestroyByContact(ctx, 'location', AOR, '10.45.0.7', UE_PS), 1, 'the Contact port');
  assert.is(h.contacts.size, 0);
  h.executor.teardown(ctx.takeTeardown()!);
  await h.executor.idle();
  assert.equal([h.kernel.objects.size, ctx.spis.inUse], [0, 0]);

  const g = ipsecHarness();
  await registerAlice(g);
  assert.is(ipsecDestroyByContact(g.ctx.ipsec!, 'location', AOR, '[10.45.0.7]', UE_PC), 1, 'the received port; brackets tolerated');
});

test('the destroy functions refuse another domain', () => {
  const h = ipsecHarness();
  for (const call of [() => ipsecDestroy(h.ctx.ipsec!, 'usrloc', AOR), () => ipsecDestroyByContact(h.ctx.ipsec!, 'usrloc', AOR, '10.45.0.7', 1)]) {
    try {
      call();
      assert.unreachable();
    } catch (e) {
      assert.instance(e, IpsecError);
      assert.is((e as IpsecError).code, 'IPSEC_UNKNOWN_DOMAIN');
    }
  }
});

test.run();
