// The client's table of requests in flight: ids in order, settled in any order, growing past its
// first capacity while old requests still wait, unknown and settled ids ignored, the ops waiting
// counted (backpressure).

import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InFlight } from '../../src/netlink/in-flight.js';

interface Entry {
  id: number;
  ops: number;
  outcome: string | undefined;
}

function add(t: InFlight, ops: number): Entry {
  const e: Entry = { id: 0, ops, outcome: undefined };
  e.id = t.add((v: never) => { e.outcome = `resolved ${String(v)}`; }, (err) => { e.outcome = `rejected ${err.message}`; }, ops);
  return e;
}

test('ids count up from 1; each request is settled once, with its own value', () => {
  const t = new InFlight();
  const a = add(t, 1);
  const b = add(t, 4);
  assert.equal([a.id, b.id, t.lastId], [1, 2, 2]);
  assert.is(t.ops(b.id), 4);
  assert.is(t.waitingOps, 5);
  assert.ok(t.resolve(b.id, 'B'));
  assert.is(b.outcome, 'resolved B');
  assert.is(t.ops(b.id), -1, 'forgotten once settled');
  assert.is(t.waitingOps, 1);
  assert.not.ok(t.resolve(b.id, 'again'));
  assert.is(b.outcome, 'resolved B');
  assert.ok(t.reject(a.id, new Error('gone')));
  assert.is(a.outcome, 'rejected gone');
  assert.not.ok(t.resolve(99, 'never given'));
  assert.not.ok(t.resolve(0, 'never given'));
  assert.is(t.ops(99), -1);
});

test('model check: any order of adds and settles, across growth, matches a Map', () => {
  fc.assert(fc.property(
    fc.array(fc.oneof(fc.constant<'add'>('add'), fc.nat(5000)), { maxLength: 6000 }),
    (steps) => {
      const t = new InFlight();
      const model = new Map<number, Entry>();
      const all: Entry[] = [];
      for (const s of steps) {
        if (s === 'add') {
          const e = add(t, all.length % 7);
          assert.is(e.id, all.length + 1);
          all.push(e);
          model.set(e.id, e);
        } else if (all.length > 0) {
          const e = all[s % all.length]!;
          assert.is(t.ops(e.id), model.has(e.id) ? e.ops : -1);
          assert.is(t.resolve(e.id, e.id), model.delete(e.id));
        }
      }
      for (const e of all) assert.is(e.outcome, model.has(e.id) ? undefined : `resolved ${e.id}`);
      assert.is(t.waitingOps, [...model.values()].reduce((n, e) => n + e.ops, 0));
      t.rejectAll(new Error('closed'));
      for (const e of model.values()) assert.is(e.outcome, 'rejected closed');
      assert.is(t.waitingOps, 0);
    },
  ), { numRuns: 50 });
});

test('a request that waits while thousands after it come and go keeps its slot', () => {
  const t = new InFlight();
  const old = add(t, 3);
  for (let i = 0; i < 10_000; i++) {
    const e = add(t, 1);
    if (i % 3 !== 0) t.resolve(e.id, i);
  }
  assert.is(t.ops(old.id), 3);
  assert.ok(t.resolve(old.id, 'late'));
  assert.is(old.outcome, 'resolved late');
});

test.run();
