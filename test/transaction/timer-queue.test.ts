// The timer queue on a fake clock: order, stop, restart, re-entrancy, one scheduler timer.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Timer, type TimerName, TimerQueue, TransactionError } from '../../src/transaction/index.js';
import { FakeTime } from './support.js';

function setup(): { time: FakeTime; queue: TimerQueue; fired: string[]; timer: (label: string, onFire?: () => void) => Timer } {
  const time = new FakeTime();
  const queue = new TimerQueue(time, time);
  const fired: string[] = [];
  const timer = (label: string, onFire?: () => void): Timer => new Timer({
    onTimer: (t) => {
      fired.push(`${label}:${t.name}@${time.now()}`);
      onFire?.();
    },
  });
  return { time, queue, fired, timer };
}

test('timers fire at their deadline, in deadline order across durations', () => {
  const { time, queue, fired, timer } = setup();
  queue.start(timer('x'), 'F', 32000);
  queue.start(timer('y'), 'E', 500);
  queue.start(timer('z'), 'K', 5000);
  time.advance(499);
  assert.equal(fired, []);
  time.advance(1);
  assert.equal(fired, ['y:E@500']);
  time.advance(40000);
  assert.equal(fired, ['y:E@500', 'z:K@5000', 'x:F@32000']);
  assert.is(queue.size, 0);
});

test('equal deadlines fire in start order', () => {
  const { time, queue, fired, timer } = setup();
  queue.start(timer('a'), 'A', 1000);
  time.advance(500);
  queue.start(timer('b'), 'E', 500);
  queue.start(timer('c'), 'G', 500);
  time.advance(500);
  assert.equal(fired, ['a:A@1000', 'b:E@1000', 'c:G@1000']);
});

test('a stopped timer never fires; restarting moves it', () => {
  const { time, queue, fired, timer } = setup();
  const t = timer('t');
  queue.start(t, 'E', 500);
  queue.stop(t);
  assert.is(t.running, false);
  time.advance(1000);
  assert.equal(fired, []);
  queue.start(t, 'E', 500);
  time.advance(250);
  queue.start(t, 'F', 1000);
  time.advance(750);
  assert.equal(fired, []);
  time.advance(250);
  assert.equal(fired, ['t:F@2250']);
});

test('a handler may restart its own timer and start others; each fires in a later pass', () => {
  const { time, queue, fired } = setup();
  let n = 0;
  const intervals = [500, 1000, 2000, 4000, 4000];
  const t: Timer = new Timer({
    onTimer: (x) => {
      fired.push(`${x.name}@${time.now()}`);
      if (n < intervals.length - 1) queue.start(t, 'E', intervals[++n]!);
    },
  });
  queue.start(t, 'E', intervals[0]!);
  time.advance(20000);
  assert.equal(fired, ['E@500', 'E@1500', 'E@3500', 'E@7500', 'E@11500']);
});

test('a zero delay started from a handler waits for the next pass (no spin)', () => {
  const { time, queue, fired } = setup();
  let restarts = 0;
  const t: Timer = new Timer({
    onTimer: () => {
      fired.push(`@${time.now()}`);
      if (restarts++ < 3) queue.start(t, 'K', 0);
    },
  });
  queue.start(t, 'K', 0);
  queue.fireDue();
  assert.equal(fired, ['@0']);
  time.advance(1);
  assert.is(fired.length, 2);
  time.advance(10);
  assert.is(fired.length, 4);
});

test('one scheduler timer, armed for the earliest deadline, given back when empty', () => {
  const { time, queue, timer } = setup();
  const a = timer('a');
  const b = timer('b');
  assert.is(time.armed, 0);
  queue.start(a, 'F', 32000);
  queue.start(b, 'E', 500);
  assert.is(time.armed, 1);
  queue.stop(b);
  queue.stop(a);
  assert.is(time.armed, 0, 'an empty queue holds no scheduler timer');
  queue.start(a, 'B', 1000);
  time.advance(1000);
  assert.is(time.armed, 0);
  assert.is(queue.size, 0);
});

test('stopping the earliest timer: the wake-up finds nothing due and re-arms for the next', () => {
  const { time, queue, fired, timer } = setup();
  const a = timer('a');
  queue.start(a, 'E', 500);
  queue.start(timer('b'), 'F', 3000);
  queue.stop(a);
  time.advance(500);
  assert.equal(fired, []);
  assert.is(time.armed, 1);
  time.advance(2500);
  assert.equal(fired, ['b:F@3000']);
});

test('many distinct durations: lists without timers are compacted, order holds', () => {
  const { time, queue, fired, timer } = setup();
  for (let d = 1; d <= 100; d++) queue.start(timer(`d${d}`), 'A', d * 10);
  time.advance(1000);
  assert.is(fired.length, 100);
  for (let i = 0; i < 100; i++) assert.is(fired[i], `d${i + 1}:A@${(i + 1) * 10}`);
  for (let d = 101; d <= 140; d++) queue.start(timer(`e${d}`), 'A', d);
  time.advance(200);
  assert.is(fired.length, 140);
  assert.is(queue.size, 0);
});

test('a scheduler that wakes up early: nothing fires before its deadline, the queue re-arms', () => {
  const time = new FakeTime();
  // Calls back 0.6 ms before the delay asked for, as a coarse timer against a finer clock may.
  const early = { schedule: (cb: () => void, ms: number) => time.schedule(cb, ms - 0.6), cancel: (h: unknown) => time.cancel(h) };
  const queue = new TimerQueue(time, early);
  const fired: number[] = [];
  time.t = 0.3;
  queue.start(new Timer({ onTimer: () => fired.push(time.now()) }), 'E', 500);
  time.advance(499.9);
  assert.equal(fired, [], 'woke up at 499.7, before the deadline 500.3');
  assert.is(time.armed, 1, 're-armed');
  time.advance(1);
  assert.is(fired.length, 1);
  assert.ok(fired[0]! >= 500.3);
});

test('a bad delay is a TransactionError TX_BAD_TIMER', () => {
  const { queue, timer } = setup();
  for (const bad of [-1, Number.NaN, Infinity]) {
    try {
      queue.start(timer('x'), 'A' as TimerName, bad);
      assert.unreachable('no error');
    } catch (e) {
      assert.instance(e, TransactionError);
      assert.is((e as TransactionError).code, 'TX_BAD_TIMER');
    }
  }
  assert.is(queue.size, 0);
});

test.run();
