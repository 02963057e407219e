// The main thread's executor on every failure path of DESIGN.md invariant 1 (a fake kernel): the
// kernel refuses an SA, the netlink queue is full, the kernel does not answer and the rollback does
// not finish either, the binding is gone when the kernel answers, the 401's transaction ended
// meanwhile, a delete fails. Each time: the UE gets create_failure_status (or nothing), and
// nothing is left: no SA, no policy, no SPI pair, no set in the binding.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { XfrmOp } from '../../src/netlink/xfrm-types.js';
import { AOR, INITIAL_REGISTER, UE, bindingOf, count, request } from '../pcscf/fixtures.js';
import { settle } from './fake-kernel.js';
import { answerTo, challengeFor, ipsecHarness, registerAlice, replyText, type IpsecHarness } from './fixtures.js';

/** The kernel plan of alice's first challenge, decided but not carried out. */
function challengePlan(h: IpsecHarness): { id: number; plan: ReturnType<IpsecHarness['decide']> } {
  const reg = request(INITIAL_REGISTER, UE, 1);
  const sent = h.decide(reg);
  if (sent.kind !== 'forward') throw new Error(`got ${sent.kind}`);
  return { id: 1, plan: h.decide(answerTo(challengeFor(1, sent.branch, 5060), reg, sent.context)) };
}

function nothingLeft(h: IpsecHarness, foreign = 0): void {
  assert.is(h.kernel.objects.size, foreign, `kernel objects: ${[...h.kernel.objects].join(', ')}`);
  assert.is(h.ctx.ipsec!.spis.inUse, 0, 'SPI pairs in use');
  assert.is(bindingOf(h)?.sa, undefined, 'no set in the binding');
  assert.is(h.executor.stats().setsInstalled, 0);
}

const isNewSa = (spi: number) => (op: XfrmOp): boolean => op.op === 'newsa' && op.sa.spi === spi;

test('the kernel refuses an SA (a foreign SA holds spi_pc): 503, the group rolled back, the SPI pair released, the binding as it was', async () => {
  const h = ipsecHarness();
  const { id, plan } = challengePlan(h);
  if (plan.kind !== 'kernel') return assert.unreachable();
  const foreign = plan.work.ops.find(isNewSa(100))!;
  h.kernel.add(foreign);
  h.executor.apply(id, plan);
  await settle();
  assert.match(replyText(h.delivered.at(-1)?.plan, 503), /^SIP\/2.0 503 Service Unavailable \(IPsec SAs could not be created\)\r\n/);
  nothingLeft(h, 1);
  assert.is(bindingOf(h)?.state, 'pending', 'the pending binding is untouched');
  assert.is(count(h, 'pcscf_ipsec_create_failures_total', { reason: 'kernel' }), 1);
  assert.is(count(h, 'pcscf_registrations_rejected_total', { reason: 'ipsec_unavailable' }), 1);
  assert.is(count(h, 'pcscf_responses_relayed_total', { class: '4xx' }), 0, 'no 401 reached the UE');
  assert.ok(h.events.some((e) => e.level === 'warn' && e.fields?.errno === 'EEXIST'));
});

test('the netlink queue is full: 503 and the pair released at once', async () => {
  const h = ipsecHarness();
  const { id, plan } = challengePlan(h);
  h.kernel.faults.push({ when: () => true, fault: { kind: 'reject', code: 'NETLINK_QUEUE_FULL' } });
  h.executor.apply(id, plan);
  await settle();
  replyText(h.delivered.at(-1)?.plan, 503);
  nothingLeft(h);
  assert.is(count(h, 'pcscf_ipsec_create_failures_total', { reason: 'netlink' }), 1);
});

test('no answer from the kernel and the rollback times out too: 503; the set\'s own deletes remove what may be left, and only then the pair is released', async () => {
  const h = ipsecHarness();
  const { id, plan } = challengePlan(h);
  if (plan.kind !== 'kernel') return assert.unreachable();
  h.kernel.faults.push({ when: (op) => op.op === 'newpolicy', fault: { kind: 'timeout' } });
  h.kernel.rollbackTimesOut = true;
  h.executor.apply(id, plan);
  await settle();
  replyText(h.delivered.at(-1)?.plan, 503);
  h.kernel.rollbackTimesOut = false;
  // The undo ran once already (the fake's deletes succeed): nothing of the set is left.
  await settle();
  nothingLeft(h);
  assert.is(count(h, 'pcscf_ipsec_sets_removed_total', { why: 'undo' }), 1);
});

test('a delete that fails keeps the pair allocated and is retried with back-off until it succeeds', async () => {
  const h = ipsecHarness();
  await registerAlice(h, 3600);
  h.kernel.faults.push({ when: (op) => op.op === 'delsa', fault: { kind: 'errno', errnoName: 'EPERM' } });
  h.advance(3600);
  await h.sweep();
  assert.is(h.kernel.sas, 1, 'the one delete that failed');
  assert.is(h.kernel.policies, 0);
  assert.is(h.ctx.ipsec!.spis.inUse, 1, 'not released while an SA may still use it');
  assert.equal(h.executor.stats().retrying, 1);
  assert.is(count(h, 'pcscf_ipsec_teardown_failures_total'), 1);
  await h.sweep();
  assert.is(h.kernel.sas, 1, 'not due yet (1 s back-off)');
  h.advance(1);
  await h.sweep();
  assert.equal([h.kernel.sas, h.ctx.ipsec!.spis.inUse, h.executor.stats().retrying, h.executor.stats().setsInstalled], [0, 0, 0, 0]);
});

test('the 401\'s transaction ended while the kernel worked: the set is taken out again, nothing left', async () => {
  const h = ipsecHarness();
  const { id, plan } = challengePlan(h);
  h.deliverable = false;
  h.executor.apply(id, plan);
  await settle();
  nothingLeft(h);
  assert.is(count(h, 'pcscf_ipsec_create_failures_total', { reason: 'undelivered' }), 1);
});

test('the binding is gone (or moved) when the kernel answers: the set is removed, 503', async () => {
  const h = ipsecHarness();
  const { id, plan } = challengePlan(h);
  h.contacts.delete(h.contacts.findByAor(AOR)[0]!);
  h.executor.apply(id, plan);
  await settle();
  replyText(h.delivered.at(-1)?.plan, 503);
  assert.equal([h.kernel.objects.size, h.ctx.ipsec!.spis.inUse], [0, 0]);
  assert.is(count(h, 'pcscf_ipsec_create_failures_total', { reason: 'binding_changed' }), 1);

  const m = ipsecHarness();
  const moved = challengePlan(m);
  m.contacts.update(m.contacts.findByAor(AOR)[0]!, { receivedAddr: '10.45.0.99' });
  m.executor.apply(moved.id, moved.plan);
  await settle();
  replyText(m.delivered.at(-1)?.plan, 503);
  assert.equal([m.kernel.objects.size, m.ctx.ipsec!.spis.inUse], [0, 0]);
});

test('no usable ck / ik in the challenge, or no SPI pair left: 503 at once, nothing allocated', () => {
  const h = ipsecHarness();
  const reg = request(INITIAL_REGISTER, UE, 1);
  const sent = h.decide(reg);
  if (sent.kind !== 'forward') return assert.unreachable();
  const noKeys = challengeFor(1, sent.branch, 5060).replace(/, ck="[^"]*", ik="[^"]*"/, '');
  assert.match(replyText(h.decide(answerTo(noKeys, reg, sent.context)), 503), /^SIP\/2.0 503 /);
  assert.is(count(h, 'pcscf_ipsec_create_failures_total', { reason: 'aka_keys' }), 1);
  assert.is(h.ctx.ipsec!.spis.inUse, 0);

  const full = ipsecHarness({ PCSCF_IPSEC_SPI_ID_RANGE: '2' });
  full.ctx.ipsec!.spis.allocate();
  const reg2 = request(INITIAL_REGISTER, UE, 1);
  const sent2 = full.decide(reg2);
  if (sent2.kind !== 'forward') return assert.unreachable();
  replyText(full.decide(answerTo(challengeFor(1, sent2.branch, 5060), reg2, sent2.context)), 503);
  assert.is(count(full, 'pcscf_ipsec_create_failures_total', { reason: 'spi_exhausted' }), 1);
});

test('idle() waits for the kernel work in flight; a drop plan\'s teardown still runs', async () => {
  const h = ipsecHarness();
  await registerAlice(h);
  const id = h.contacts.findByAor(AOR)[0]!;
  const b = h.contacts.take(id)!;
  h.ctx.ipsec!.teardown(b.receivedAddr, b.sa!, 'admin');
  h.executor.apply(0, { kind: 'drop', reason: 'test', after: h.ctx.ipsec!.takeTeardown()! });
  assert.is(h.executor.stats().inFlight, 1);
  await h.executor.idle();
  assert.equal([h.kernel.objects.size, h.ctx.ipsec!.spis.inUse, h.executor.stats().inFlight], [0, 0, 0]);
});

test.run();
