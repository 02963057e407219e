// CANCEL (RFC 3261 §9, §16.10) and Timer C (§16.6 item 11, §16.8) through the proxy core.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CORE_ADDR, CORE_TARGET, Harness, UE_ADDR, ackFor, methodOf, parse, request, respond, rxFrom, statusOf } from './support.js';

const UE = rxFrom(UE_ADDR, 5060);
const CORE = rxFrom(CORE_ADDR, 5060);

function call(h: Harness, branch = 'z9hG4bKcall'): { invite: Buffer; cancel: Buffer; id: number; fwd: Buffer } {
  const invite = request({ method: 'INVITE', branch });
  h.receive(invite, UE);
  const req = h.take();
  const fwd = h.forward(req);
  return { invite, cancel: request({ method: 'CANCEL', branch }), id: req.id, fwd };
}

const toCore = (h: Harness, method: string): string[] => h.sentTo(CORE_ADDR).filter((s) => methodOf(s.text) === method).map((s) => s.text);
const toUe = (h: Harness): number[] => h.sentTo(UE_ADDR).map((s) => statusOf(s.text));

test('CANCEL after a provisional: 200 at once, CANCEL downstream built from the forwarded INVITE, 487 relayed', () => {
  const h = new Harness();
  const { invite, cancel, fwd } = call(h);
  h.receive(respond(fwd, 180), CORE);
  h.relay(h.take());
  h.receive(cancel, UE);
  const ok = parse(h.sentTo(UE_ADDR).at(-1)!.bytes);
  assert.is(ok.status, 200);
  assert.is(ok.method, 'CANCEL');
  const down = toCore(h, 'CANCEL');
  assert.is(down.length, 1);
  const c = parse(Buffer.from(down[0]!, 'latin1'));
  const f = parse(fwd);
  assert.is(c.requestUri, f.requestUri);
  assert.is(c.topVia().branch, f.topVia().branch, 'the branch of the INVITE it cancels');
  assert.is(c.vias().length, 1);
  assert.equal(c.cseq(), { seq: f.cseq().seq, method: 'CANCEL' });
  assert.equal(h.sentTo(CORE_ADDR).at(-1)!.target, CORE_TARGET, 'same destination as the INVITE (§9.1)');
  assert.equal(h.inbound, [], 'the CANCEL is not for the logic');
  h.receive(respond(Buffer.from(down[0]!, 'latin1'), 200), CORE);
  assert.equal(h.inbound, [], 'the 200 to our CANCEL ends in its client transaction');
  h.receive(respond(fwd, 487), CORE);
  const up = h.relay(h.take());
  assert.equal(toUe(h), [100, 180, 200, 487]);
  h.receive(cancel, UE);
  assert.equal(toUe(h), [100, 180, 200, 487, 200], 'a CANCEL retransmission gets its 200 again');
  h.receive(ackFor(invite, up), UE);
  h.advance(40_000);
  assert.ok(h.empty());
});

test('CANCEL before any provisional: the CANCEL waits for the first provisional (§9.1), even a 100', () => {
  const h = new Harness();
  const { cancel, fwd } = call(h);
  h.receive(cancel, UE);
  assert.equal(toUe(h), [100, 200]);
  assert.equal(toCore(h, 'CANCEL'), []);
  h.receive(respond(fwd, 100), CORE);
  assert.is(toCore(h, 'CANCEL').length, 1);
  h.receive(respond(fwd, 180), CORE);
  assert.is(toCore(h, 'CANCEL').length, 1, 'one CANCEL per branch');
});

test('the 200 to a CANCEL and the 487 the proxy writes share a To tag (§9.2); a late forward is discarded', () => {
  const h = new Harness();
  const invite = request({ method: 'INVITE', branch: 'z9hG4bKearly' });
  h.receive(invite, UE);
  const req = h.take();
  h.receive(request({ method: 'CANCEL', branch: 'z9hG4bKearly' }), UE);
  const [, ok, terminated] = h.sentTo(UE_ADDR).map((s) => parse(s.bytes));
  assert.is(ok!.status, 200);
  assert.is(terminated!.status, 487);
  assert.ok(ok!.to().tag !== undefined);
  assert.is(ok!.to().tag, terminated!.to().tag);
  h.forward(req);
  assert.equal(h.sentTo(CORE_ADDR), [], 'the INVITE was cancelled before it was forwarded');
  assert.is(h.count('plan-discarded'), 1);
  h.receive(ackFor(invite, h.sentTo(UE_ADDR).at(-1)!.bytes), UE);
  h.advance(40_000);
  assert.ok(h.empty());
});

test('a CANCEL that matches nothing is forwarded statelessly (§16.10)', () => {
  const h = new Harness();
  h.receive(request({ method: 'CANCEL', branch: 'z9hG4bKunknown' }), UE);
  const i = h.take();
  assert.is(i.kind, 'request');
  assert.is(i.id, 0);
  assert.equal(h.sent, []);
  assert.ok(h.empty());
});

test('a CANCEL for a non-INVITE: 200, no effect on the request (§9.2)', () => {
  const h = new Harness();
  const msg = request({ method: 'MESSAGE', branch: 'z9hG4bKnoninv' });
  h.receive(msg, UE);
  const req = h.take();
  h.receive(request({ method: 'CANCEL', branch: 'z9hG4bKnoninv' }), UE);
  assert.equal(toUe(h), [200]);
  const fwd = h.forward(req);
  assert.is(toCore(h, 'MESSAGE').length, 1, 'still forwarded');
  h.receive(respond(fwd, 202), CORE);
  h.relay(h.take());
  assert.equal(toUe(h), [200, 202]);
  assert.equal(toCore(h, 'CANCEL'), []);
});

test('CANCEL after the final response: 200 to the CANCEL, nothing else', () => {
  const h = new Harness();
  const { cancel, fwd } = call(h);
  h.receive(respond(fwd, 200, 'callee'), CORE);
  h.relay(h.take());
  h.receive(cancel, UE);
  assert.equal(toUe(h), [100, 200, 200]);
  assert.equal(toCore(h, 'CANCEL'), []);
});

test('a final response sent upstream cancels the pending branch (§16.7 item 10)', () => {
  const h = new Harness();
  const { id, fwd } = call(h);
  h.receive(respond(fwd, 183), CORE);
  h.relay(h.take());
  // The logic answers the server transaction itself (a generated final) while the branch rings.
  h.core.apply(id, { kind: 'reply', bytes: respond(request({ method: 'INVITE', branch: 'z9hG4bKcall' }), 480), status: 480 });
  assert.is(toCore(h, 'CANCEL').length, 1);
});

test('Timer C with a provisional: CANCEL; without a final 64*T1 later the branch ends and the UE gets 408', () => {
  const h = new Harness();
  const { fwd } = call(h);
  h.receive(respond(fwd, 180), CORE);
  h.relay(h.take());
  h.advance(180_999);
  assert.equal(toCore(h, 'CANCEL'), []);
  h.advance(1);
  assert.is(toCore(h, 'CANCEL').length, 1, 'Timer C fired');
  assert.is(h.count('timeout', (e) => e.type === 'timeout' && e.timer === 'C'), 1);
  h.advance(31_999);
  assert.equal(toUe(h), [100, 180]);
  h.advance(1);
  assert.equal(toUe(h), [100, 180, 408]);
  h.advance(40_000);
  assert.ok(h.empty());
});

test('Timer C is reset by provisional responses other than 100', () => {
  const h = new Harness();
  const { fwd } = call(h);
  h.receive(respond(fwd, 180), CORE);
  h.relay(h.take());
  h.advance(120_000);
  h.receive(respond(fwd, 183), CORE);
  h.relay(h.take());
  h.advance(120_000);
  h.receive(respond(fwd, 100), CORE);
  h.advance(60_999);
  assert.equal(toCore(h, 'CANCEL'), []);
  h.advance(1);
  assert.is(toCore(h, 'CANCEL').length, 1);
});

test('Timer C without a provisional behaves as a 408 (§16.8)', () => {
  // T1 = 3 s: Timer B (192 s) is longer than Timer C (181 s).
  const h = new Harness({ t1: 3000, t2: 4000 });
  call(h);
  h.advance(181_000);
  assert.equal(toUe(h), [100, 408]);
  assert.equal(toCore(h, 'CANCEL'), [], 'no CANCEL without a provisional');
  assert.is(h.core.stats().clientTx, 0);
});

test('the upstream CANCEL of a branch that never answers ends in 487 (§9.1 wait, §9.2)', () => {
  const h = new Harness();
  const { cancel, fwd } = call(h);
  h.receive(respond(fwd, 180), CORE);
  h.relay(h.take());
  h.receive(cancel, UE);
  h.advance(32_000);
  assert.equal(toUe(h), [100, 180, 200, 487]);
});

test.run();
