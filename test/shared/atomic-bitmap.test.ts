import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AtomicBitmap, BITMAP_META_WORDS } from '../../src/shared/atomic-bitmap.js';
import { SharedStateError } from '../../src/shared/errors.js';

function bitmap(size: number): AtomicBitmap {
  const words = new Int32Array(new SharedArrayBuffer(AtomicBitmap.wordsFor(size) * 4));
  const meta = new Int32Array(new SharedArrayBuffer(BITMAP_META_WORDS * 4));
  const b = new AtomicBitmap(words, meta, size);
  b.initialise();
  return b;
}

test('claimOne hands out every bit once, in next-fit order, then reports full', () => {
  const b = bitmap(70);
  const got = Array.from({ length: 70 }, () => b.claimOne());
  assert.equal(got, Array.from({ length: 70 }, (_, i) => i));
  assert.is(b.used, 70);
  assert.is(b.claimOne(), -1, 'padding bits past size are never handed out');
});

test('a released bit is handed out again only after the search has gone round', () => {
  const b = bitmap(64);
  for (let i = 0; i < 10; i++) b.claimOne();
  assert.ok(b.release(3));
  assert.is(b.claimOne(), 10, 'next-fit continues after the last claim');
  for (let i = 11; i < 64; i++) assert.is(b.claimOne(), i);
  assert.is(b.claimOne(), 3, 'the freed bit comes back after wrapping');
});

test('release of a clear bit is refused and changes nothing', () => {
  const b = bitmap(40);
  b.claimOne();
  assert.not.ok(b.release(5));
  assert.is(b.used, 1);
  assert.ok(b.release(0));
  assert.not.ok(b.release(0));
  assert.is(b.used, 0);
});

test('claim takes a given bit once', () => {
  const b = bitmap(40);
  assert.ok(b.claim(33));
  assert.not.ok(b.claim(33));
  assert.is(b.used, 1);
  assert.ok(b.isSet(33));
  assert.not.ok(b.isSet(32));
});

test('claimRun finds runs inside a word, across words, and none when fragmented', () => {
  const b = bitmap(128);
  assert.is(b.claimRun(5), 0);
  assert.is(b.claimRun(40), 5, 'a run spanning two words');
  assert.is(b.claimRun(32), 45);
  assert.is(b.used, 77);
  b.releaseRun(5, 40);
  assert.is(b.used, 37);
  // Fragment the rest: take every other bit of [77, 128).
  for (let i = 77; i < 128; i++) assert.ok(b.claim(i));
  for (let i = 78; i < 128; i += 2) assert.ok(b.release(i));
  assert.is(b.claimRun(41), -1, 'no run of 41 clear bits exists');
  assert.is(b.claimRun(40), 5, 'the freed run fits exactly');
  assert.is(b.claimRun(2), -1, 'only isolated single bits are left');
  assert.is(b.claimRun(1), 78);
});

test('claimRun does not wrap a run around the end of the map', () => {
  const b = bitmap(64);
  assert.is(b.claimRun(60), 0);
  b.releaseRun(0, 2);
  // bits 60..63 and 0..1 are clear: six in a row only if runs wrapped.
  assert.is(b.claimRun(6), -1);
  assert.is(b.claimRun(4), 60);
});

test('releaseRun of bits that are not all taken is reported as corruption', () => {
  const b = bitmap(64);
  b.claimRun(8);
  try {
    b.releaseRun(4, 8);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, SharedStateError);
    assert.is((e as SharedStateError).code, 'SHARED_STATE_CORRUPT');
  }
});

test.run();
