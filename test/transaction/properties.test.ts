// Properties of the proxy core under any interleaving of request retransmissions (as a client
// sends them: over UDP, within 64*T1), ACKs, CANCELs, downstream responses, decisions (made,
// dropped, lost), transport errors and timer firings:
// 1. once the longest timers have run, nothing is left (no transaction, context or timer);
// 2. upstream, each request gets at most one final response, resent only as the same bytes, and
//    no provisional response after it.

import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Target } from '../../src/engine/plan.js';
import { CORE_ADDR, CORE_TARGET, Harness, UE_ADDR, ackFor, parse, request, respond, rxFrom, statusOf } from './support.js';

type Action =
  | { a: 'retransmit' }
  | { a: 'ack' }
  | { a: 'cancel' }
  | { a: 'decide' }
  | { a: 'drop' }
  | { a: 'lose' }
  | { a: 'downstream'; status: number }
  | { a: 'answer-cancel' }
  | { a: 'transport-error' }
  | { a: 'advance'; ms: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.constant<Action>({ a: 'retransmit' }),
  fc.constant<Action>({ a: 'ack' }),
  fc.constant<Action>({ a: 'cancel' }),
  { arbitrary: fc.constant<Action>({ a: 'decide' }), weight: 4 },
  fc.constant<Action>({ a: 'drop' }),
  fc.constant<Action>({ a: 'lose' }),
  { arbitrary: fc.constantFrom(100, 180, 183, 200, 486, 487, 503).map((status): Action => ({ a: 'downstream', status })), weight: 4 },
  fc.constant<Action>({ a: 'answer-cancel' }),
  fc.constant<Action>({ a: 'transport-error' }),
  { arbitrary: fc.integer({ min: 1, max: 40_000 }).map((ms): Action => ({ a: 'advance', ms })), weight: 3 },
);

const scenario = fc.record({
  method: fc.constantFrom('INVITE', 'MESSAGE', 'REGISTER'),
  upstream: fc.constantFrom<'udp' | 'tcp'>('udp', 'tcp'),
  downstream: fc.constantFrom<'udp' | 'tcp'>('udp', 'tcp'),
  legacy: fc.boolean(),
  actions: fc.array(action, { maxLength: 40 }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function run(sc: Scenario): Harness {
  const h = new Harness();
  const ue = rxFrom(UE_ADDR, 5060, sc.upstream, 1);
  const core = rxFrom(CORE_ADDR, 5060, sc.downstream, 2);
  const target: Target = { ...CORE_TARGET, transport: sc.downstream, socketId: 2 };
  const branch = sc.legacy ? '' : 'z9hG4bKprop';
  const transport = sc.upstream === 'tcp' ? 'TCP' : 'UDP';
  const req = request({ method: sc.method, branch, transport, callId: 'prop@ue' });
  let forwarded: Buffer | undefined;
  h.receive(req, ue);
  for (const act of sc.actions) {
    switch (act.a) {
      case 'retransmit':
        // A client retransmits only over UDP, gives up after 64*T1 (Timers B and F), and stops
        // once it has a final response (RFC 3261 §17.1.1.2, §17.1.2.2): a copy arriving after the
        // server transaction ended (Timer I, J) would be a new request, with a final response of its own.
        if (sc.upstream === 'udp' && h.time.now() < 32_000 && !h.sentTo(UE_ADDR).some((s) => statusOf(s.text) >= 200 && parse(s.bytes).cseq().method === sc.method)) h.receive(req, ue);
        break;
      case 'ack': {
        const last = h.sentTo(UE_ADDR).map((s) => parse(s.bytes)).filter((m) => m.status >= 200 && m.method === 'INVITE').at(-1);
        if (sc.method === 'INVITE' && last !== undefined) {
          h.receive(last.status >= 300 ? ackFor(req, last.raw) : request({ method: 'ACK', branch: sc.legacy ? '' : 'z9hG4bKack2xx', transport, toTag: last.to().tag ?? 'x', callId: 'prop@ue' }), ue);
        }
        break;
      }
      case 'cancel':
        h.receive(request({ method: 'CANCEL', branch, transport, callId: 'prop@ue' }), ue);
        break;
      case 'decide':
      case 'drop': {
        const i = h.inbound.shift();
        if (i === undefined) break;
        if (act.a === 'drop' || i.id === 0) h.core.apply(i.id, { kind: 'drop', reason: 'test' });
        else if (i.kind === 'request') forwarded = h.forward(i, target);
        else h.relay(i);
        break;
      }
      case 'lose':
        h.inbound.shift();
        break;
      case 'downstream':
        if (forwarded !== undefined) h.receive(respond(forwarded, act.status, `tag${Math.floor(act.status / 100)}`), core);
        break;
      case 'answer-cancel': {
        const cancel = h.sentTo(CORE_ADDR).find((s) => s.text.startsWith('CANCEL'));
        if (cancel !== undefined) h.receive(respond(cancel.bytes, 200), core);
        break;
      }
      case 'transport-error': {
        // Downstream only: after a failed response, a non-INVITE server transaction ends (§17.2.4)
        // and a retransmission is then a new request, with its own final response.
        const last = h.sentTo(CORE_ADDR).at(-1);
        last?.onError?.({ code: 'EPIPE', message: 'broken' });
        break;
      }
      case 'advance':
        h.advance(act.ms);
        break;
    }
  }
  return h;
}

test('whatever happens, the table is empty once the longest timers have run', () => {
  fc.assert(fc.property(scenario, (sc) => {
    const h = run(sc);
    // Timer C (181 s) + the CANCEL wait (32 s) + Timer H / D / L / M (32 s), and the guard.
    for (let i = 0; i < 10; i++) h.advance(60_000);
    const s = h.core.stats();
    assert.equal([s.serverTx, s.clientTx, s.contexts, s.timers], [0, 0, 0, 0], JSON.stringify(sc));
    assert.is(h.time.armed, 0);
  }), { numRuns: 1000 });
});

test('upstream: one final response per request, repeated only as the same bytes, no provisional after it', () => {
  fc.assert(fc.property(scenario, (sc) => {
    const h = run(sc);
    h.advance(600_000);
    const finals = new Map<string, string>();
    for (const sent of h.sentTo(UE_ADDR)) {
      const m = parse(sent.bytes);
      const method = m.cseq().method;
      const first = finals.get(method);
      if (m.status < 200) {
        assert.is(first, undefined, `a ${m.status} after the final response to ${method}: ${JSON.stringify(sc)}`);
      } else if (first === undefined) {
        finals.set(method, sent.text);
      } else {
        assert.is(sent.text, first, `two different final responses to ${method}: ${JSON.stringify(sc)}`);
      }
    }
  }), { numRuns: 1000 });
});

test.run();
