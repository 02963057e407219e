// What keeps the proxy core from leaking or hanging: the decision guard, plans that come late or
// are wrong, transport errors, drop, and shutdown.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Plan, RxInfo, Target } from '../../src/engine/plan.js';
import { ProxyCore, TimerQueue, TransactionError } from '../../src/transaction/index.js';
import { CORE_ADDR, CORE_TARGET, FakeTime, Harness, UE_ADDR, ackFor, methodOf, parse, request, respond, rxFrom, statusOf } from './support.js';

const UE = rxFrom(UE_ADDR, 5060);
const CORE = rxFrom(CORE_ADDR, 5060);
const toUe = (h: Harness): number[] => h.sentTo(UE_ADDR).map((s) => statusOf(s.text));

test('a decision that never comes: 500 after 64*T1 (the guard), then the transaction ends; the late plan is discarded', () => {
  for (const method of ['REGISTER', 'INVITE']) {
    const h = new Harness();
    const req = request({ method, branch: `z9hG4bKg-${method}` });
    h.receive(req, UE);
    const inbound = h.take();
    h.advance(31_999);
    assert.equal(toUe(h).filter((s) => s !== 100), [], method);
    h.advance(1);
    assert.equal(toUe(h).filter((s) => s !== 100), [500], method);
    assert.is(h.count('timeout', (e) => e.type === 'timeout' && e.timer === 'decision-guard'), 1);
    h.forward(inbound);
    assert.equal(h.sentTo(CORE_ADDR), [], 'answered already');
    if (method === 'INVITE') h.receive(ackFor(req, h.sentTo(UE_ADDR).at(-1)!.bytes), UE);
    h.advance(40_000);
    assert.ok(h.empty(), method);
  }
});

test('a lost decision about a provisional does not end a ringing call', () => {
  const h = new Harness();
  const inv = request({ method: 'INVITE', branch: 'z9hG4bKring' });
  h.receive(inv, UE);
  const fwd = h.forward(h.take());
  h.receive(respond(fwd, 180), CORE);
  h.take(); // lost
  h.advance(60_000);
  assert.equal(toUe(h), [100], 'no 500 while the branch may still answer');
  h.receive(respond(fwd, 200, 'x'), CORE);
  h.relay(h.take());
  assert.equal(toUe(h), [100, 200]);
});

test('a final response whose decision is lost: 500 after the guard', () => {
  const h = new Harness();
  h.receive(request({ method: 'MESSAGE', branch: 'z9hG4bKlost' }), UE);
  const fwd = h.forward(h.take());
  h.receive(respond(fwd, 200), CORE);
  h.take(); // lost
  h.advance(32_000);
  assert.equal(toUe(h), [500]);
});

test('drop: the server transaction ends without a response; for a response, only that response is not relayed', () => {
  const h = new Harness();
  const msg = request({ method: 'MESSAGE', branch: 'z9hG4bKdrop' });
  h.receive(msg, UE);
  h.core.apply(h.take().id, { kind: 'drop', reason: 'policy' });
  assert.equal(h.sent, []);
  assert.ok(h.empty());
  assert.equal(h.events.filter((e) => e.type === 'plan-dropped'), [{ type: 'plan-dropped', reason: 'policy' }]);
  h.receive(msg, UE);
  assert.is(h.inbound.length, 1, 'a retransmission after the drop is a new request');

  const g = new Harness();
  const inv = request({ method: 'INVITE', branch: 'z9hG4bKdrop2' });
  g.receive(inv, UE);
  const fwd = g.forward(g.take());
  g.receive(respond(fwd, 183), CORE);
  g.core.apply(g.take().id, { kind: 'drop', reason: 'no early media' });
  g.receive(respond(fwd, 200, 'ok'), CORE);
  g.relay(g.take());
  assert.equal(toUe(g), [100, 200]);
});

test('a plan for an unknown or finished transaction is discarded; id 0 send plans are sent', () => {
  const h = new Harness();
  h.core.apply(4242, { kind: 'reply', bytes: respond(request({ method: 'MESSAGE' }), 200), status: 200 });
  h.core.apply(0, { kind: 'forward', bytes: request({ method: 'MESSAGE' }), target: CORE_TARGET, branch: 'z9hG4bKx', context: {} });
  assert.equal(h.sent, []);
  assert.is(h.count('plan-discarded'), 2);
  const ack = request({ method: 'ACK', branch: 'z9hG4bKack' });
  h.core.apply(0, { kind: 'send', bytes: ack, target: CORE_TARGET });
  assert.is(h.sent.length, 1);
  assert.ok(h.empty());
});

test('invalid plans: counted; a forward the core cannot carry out is answered 500', () => {
  const h = new Harness();
  const msg = request({ method: 'MESSAGE', branch: 'z9hG4bKinv' });
  h.receive(msg, UE);
  const req = h.take();
  h.core.apply(req.id, { kind: 'reply', bytes: respond(msg, 200), status: 99 });
  h.core.apply(req.id, { kind: 'teleport' } as unknown as Plan);
  h.core.apply(req.id, null as unknown as Plan);
  assert.is(h.count('plan-invalid'), 3);
  assert.equal(toUe(h), [500], 'the first bad decision is answered 500; the transaction has its final response');

  const g = new Harness();
  g.receive(request({ method: 'MESSAGE', branch: 'z9hG4bKdup1' }), UE);
  g.receive(request({ method: 'MESSAGE', branch: 'z9hG4bKdup2' }), UE);
  const a = g.take();
  const b = g.take();
  const bytes = request({ method: 'MESSAGE', branch: 'z9hG4bKsame', sentBy: '192.0.2.10' });
  g.core.apply(a.id, { kind: 'forward', bytes, target: CORE_TARGET, branch: 'z9hG4bKsame', context: {} });
  g.core.apply(b.id, { kind: 'forward', bytes, target: CORE_TARGET, branch: 'z9hG4bKsame', context: {} });
  assert.equal(toUe(g), [500], 'the branch is in use: the second request is answered 500');
  g.core.apply(0, { kind: 'forward', bytes: Buffer.from('garbage'), target: CORE_TARGET, branch: 'z9hG4bKg', context: {} });
  assert.is(g.count('plan-discarded'), 1);
});

test('a transport error on the forwarded request: the UE gets 500 (§16.9 + §16.7 item 6)', () => {
  const h = new Harness({ failTo: [CORE_ADDR] });
  for (const method of ['MESSAGE', 'INVITE']) {
    h.receive(request({ method, branch: `z9hG4bKte-${method}` }), UE);
    h.forward(h.take());
  }
  assert.equal(toUe(h), [500, 100, 500]);
  assert.is(h.count('transport-error', (e) => e.type === 'transport-error' && e.side === 'client'), 2);
  assert.is(h.core.stats().clientTx, 0);
});

test('a transport error after the send (async): the same, and nothing left behind', () => {
  const h = new Harness();
  h.receive(request({ method: 'OPTIONS', branch: 'z9hG4bKasync' }), UE);
  h.forward(h.take());
  h.advance(300);
  h.sentTo(CORE_ADDR)[0]!.onError!({ code: 'ECONNREFUSED', message: 'refused' });
  assert.equal(toUe(h), [500]);
  h.sentTo(CORE_ADDR)[0]!.onError!({ code: 'ECONNREFUSED', message: 'again' });
  assert.equal(toUe(h), [500], 'a second report changes nothing');
  h.advance(40_000);
  assert.ok(h.empty());
});

test('a transport error on a response: non-INVITE ends (§17.2.4), INVITE stays (RFC 6026)', () => {
  const h = new Harness({ failTo: [UE_ADDR] });
  const msg = request({ method: 'MESSAGE', branch: 'z9hG4bKre' });
  h.receive(msg, UE);
  h.core.apply(h.take().id, { kind: 'reply', bytes: respond(msg, 200), status: 200 });
  assert.is(h.core.stats().serverTx, 0);
  h.receive(request({ method: 'INVITE', branch: 'z9hG4bKre2' }), UE);
  assert.is(h.core.stats().serverTx, 1, 'the 100 could not be sent; the INVITE transaction goes on');
  assert.is(h.count('transport-error', (e) => e.type === 'transport-error' && e.side === 'server'), 2);
});

test('drain: new requests get 503 with Retry-After; live transactions finish; the promise resolves when none is left', async () => {
  const h = new Harness();
  const msg = request({ method: 'MESSAGE', branch: 'z9hG4bKlive' });
  h.receive(msg, UE);
  const req = h.take();
  let done = false;
  const drained = h.core.drain(60_000, 30).then(() => { done = true; });
  h.receive(request({ method: 'REGISTER', branch: 'z9hG4bKnew' }), UE);
  const refused = parse(h.sentTo(UE_ADDR)[0]!.bytes);
  assert.is(refused.status, 503);
  assert.is(refused.first('retry-after')?.value, '30');
  assert.equal(h.inbound, [], 'refused requests never reach the logic');
  assert.ok(h.core.stats().draining);
  h.receive(msg, UE);
  assert.is(h.sentTo(UE_ADDR).length, 1, 'a retransmission of a live request is still absorbed');
  const fwd = h.forward(req);
  h.receive(respond(fwd, 200), CORE);
  h.relay(h.take());
  await Promise.resolve();
  assert.not.ok(done);
  h.advance(32_000);
  await drained;
  assert.ok(done);
  assert.ok(h.empty());
});

test('drain deadline: unanswered requests get 503, ringing branches a CANCEL, everything ends', async () => {
  const h = new Harness();
  const inv = request({ method: 'INVITE', branch: 'z9hG4bKring2' });
  h.receive(inv, UE);
  const fwd = h.forward(h.take());
  h.receive(respond(fwd, 180), CORE);
  h.relay(h.take());
  h.receive(request({ method: 'MESSAGE', branch: 'z9hG4bKwait' }), UE);
  h.take();
  const drained = h.core.drain(10_000);
  h.advance(10_000);
  await drained;
  assert.equal(toUe(h), [100, 180, 503, 503]);
  assert.equal(h.sentTo(CORE_ADDR).map((s) => methodOf(s.text)), ['INVITE', 'CANCEL']);
  assert.ok(h.empty());
  assert.is(h.time.armed, 0);
});

test('drain with nothing live resolves at once', async () => {
  const h = new Harness();
  await h.core.drain(1000);
  assert.ok(h.core.stats().draining);
});

test('timers out of range are a TransactionError TX_BAD_CONFIG', () => {
  const time = new FakeTime();
  const base = { send: () => {}, decide: () => {}, timers: new TimerQueue(time, time), t1Ms: 500, t2Ms: 4000, t4Ms: 5000 };
  for (const bad of [{ t1Ms: 0 }, { t2Ms: 100 }, { t4Ms: Number.NaN }, { timerCMs: 180_000 }]) {
    try {
      new ProxyCore({ ...base, ...bad });
      assert.unreachable(JSON.stringify(bad));
    } catch (e) {
      assert.instance(e, TransactionError);
      assert.is((e as TransactionError).code, 'TX_BAD_CONFIG');
    }
  }
});

test('inline logic: apply() called from inside decide()', () => {
  const time = new FakeTime();
  const sent: string[] = [];
  const target: Target = CORE_TARGET;
  let n = 0;
  const core: ProxyCore = new ProxyCore({
    send: (bytes) => sent.push(Buffer.from(bytes).toString('latin1')),
    decide: (i) => {
      const msg = parse(i.bytes);
      if (i.kind === 'request') {
        const ed = msg.edit();
        const branch = `z9hG4bKinline${++n}`;
        ed.prependVia(`SIP/2.0/UDP 192.0.2.10;branch=${branch}`);
        core.apply(i.id, { kind: 'forward', bytes: ed.serialize(), target, branch, context: {} });
      } else {
        const ed = msg.edit();
        ed.removeTopVia();
        core.apply(i.id, { kind: 'reply', bytes: ed.serialize(), status: msg.status });
      }
    },
    timers: new TimerQueue(time, time),
    t1Ms: 500, t2Ms: 4000, t4Ms: 5000,
  });
  core.receive(parse(request({ method: 'INVITE', branch: 'z9hG4bKin' })), UE);
  const fwd = Buffer.from(sent.at(-1)!, 'latin1');
  core.receive(parse(respond(fwd, 180)), CORE);
  core.receive(parse(respond(fwd, 200, 'c')), CORE);
  assert.equal(sent.map((s) => s.slice(0, 11)), ['SIP/2.0 100', 'INVITE sip:', 'SIP/2.0 180', 'SIP/2.0 200']);
  time.advance(40_000);
  const s = core.stats();
  assert.equal([s.serverTx, s.clientTx, s.contexts, s.timers], [0, 0, 0, 0]);
});

test('apply() says whether a plan was carried out; a kernel plan is never the core\'s to carry out', () => {
  const h = new Harness();
  const msg = request({ method: 'MESSAGE', branch: 'z9hG4bKapply' });
  h.receive(msg, UE);
  const req = h.take();
  assert.is(h.core.apply(req.id, { kind: 'reply', bytes: respond(msg, 200), status: 200 }), true);
  assert.is(h.core.apply(req.id, { kind: 'reply', bytes: respond(msg, 404), status: 404 }), false, 'the transaction has its final response');
  assert.is(h.core.apply(9999, { kind: 'reply', bytes: respond(msg, 200), status: 200 }), false, 'no such transaction');
  const other = request({ method: 'MESSAGE', branch: 'z9hG4bKapply2' });
  h.receive(other, UE);
  const req2 = h.take();
  const kernel = { kind: 'kernel', work: { ops: [], release: [], what: 'register' }, undo: [], commit: {}, then: { kind: 'drop', reason: 'x' }, otherwise: { kind: 'drop', reason: 'x' } };
  assert.is(h.core.apply(req2.id, kernel as unknown as Plan), false);
  assert.is(h.count('plan-invalid'), 1);
});

test('responseTarget: the responses the core writes itself go where the service says (the way a protected request came)', () => {
  const sameWay = (_: unknown, rx: RxInfo): Target => ({ transport: rx.transport, socketId: 9, remote: rx.remote });
  const h = new Harness({ responseTarget: sameWay });
  const msg = request({ method: 'MESSAGE', branch: 'z9hG4bKrt', sentBy: `${UE.remote.addr}:5064` });
  h.receive(msg, UE);
  const req = h.take();
  h.forward(req);
  h.advance(64 * 500 + 1);
  const generated = h.sentTo(UE.remote.addr);
  assert.is(generated.length, 1);
  assert.is(statusOf(generated[0]!.text), 408);
  assert.equal(generated[0]!.target, { transport: 'udp', socketId: 9, remote: UE.remote }, 'not to the Via\'s port 5064');
});

test.run();
