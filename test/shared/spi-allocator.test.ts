import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SpiAllocator } from '../../src/shared/spi-allocator.js';
import { throwsCode } from './throws-code.js';

test('pairs are (start + 2k, start + 2k + 1) over the range', () => {
  const a = SpiAllocator.create({ spiStart: 100, spiRange: 8 });
  assert.is(a.capacity, 4);
  assert.equal([a.allocate(), a.allocate(), a.allocate(), a.allocate()],
    [{ spiPc: 100, spiPs: 101 }, { spiPc: 102, spiPs: 103 }, { spiPc: 104, spiPs: 105 }, { spiPc: 106, spiPs: 107 }]);
  assert.is(a.inUse, 4);
});

test('an odd range leaves its last SPI unused', () => {
  const a = SpiAllocator.create({ spiStart: 100, spiRange: 7 });
  assert.is(a.capacity, 3);
  const got = [a.allocate(), a.allocate(), a.allocate(), a.allocate()];
  assert.equal(got.map((p) => p?.spiPs), [101, 103, 105, undefined]);
  throwsCode(() => a.release(106), 'SPI_OUT_OF_RANGE');
});

test('exhaustion returns undefined and is counted; release makes room again', () => {
  const a = SpiAllocator.create({ spiStart: 1000, spiRange: 4 });
  a.allocate();
  a.allocate();
  assert.is(a.allocate(), undefined);
  assert.is(a.allocate(), undefined);
  assert.is(a.exhaustedCount, 2);
  a.release(1002);
  assert.equal(a.allocate(), { spiPc: 1002, spiPs: 1003 });
  assert.is(a.inUse, 2);
});

test('a released pair is not handed out again before the others (next-fit)', () => {
  const a = SpiAllocator.create({ spiStart: 100, spiRange: 20 });
  const first = a.allocate()!;
  a.allocate();
  a.release(first.spiPc);
  const next = Array.from({ length: 9 }, () => a.allocate()!.spiPc);
  assert.equal(next, [104, 106, 108, 110, 112, 114, 116, 118, 100]);
});

test('double release, a value never handed out and spi_ps are refused without touching the pool', () => {
  const a = SpiAllocator.create({ spiStart: 100, spiRange: 20 });
  const p = a.allocate()!;
  a.allocate();
  a.release(p.spiPc);
  throwsCode(() => a.release(p.spiPc), 'SPI_NOT_ALLOCATED');
  throwsCode(() => a.release(110), 'SPI_NOT_ALLOCATED');
  throwsCode(() => a.release(103), 'SPI_NOT_PAIR_START');
  throwsCode(() => a.release(99), 'SPI_OUT_OF_RANGE');
  throwsCode(() => a.release(120), 'SPI_OUT_OF_RANGE');
  throwsCode(() => a.release(100.5), 'SPI_OUT_OF_RANGE');
  throwsCode(() => a.release('102' as unknown as number), 'SPI_OUT_OF_RANGE');
  assert.is(a.inUse, 1);
  assert.ok(a.isAllocated(102));
  assert.ok(a.isAllocated(103));
  assert.not.ok(a.isAllocated(100));
  const seen = new Set<number>();
  for (let p2 = a.allocate(); p2 !== undefined; p2 = a.allocate()) seen.add(p2.spiPc);
  assert.is(seen.size, 9, 'every other pair is still allocatable exactly once');
  assert.not.ok(seen.has(102));
});

test('markTaken reserves pairs found in the kernel, by either SPI', () => {
  const a = SpiAllocator.create({ spiStart: 100, spiRange: 8 });
  assert.ok(a.markTaken(101));
  assert.not.ok(a.markTaken(100), 'already taken');
  assert.ok(a.markTaken(104));
  assert.is(a.inUse, 2);
  assert.equal([a.allocate()?.spiPc, a.allocate()?.spiPc, a.allocate()], [102, 106, undefined]);
  throwsCode(() => a.markTaken(108), 'SPI_OUT_OF_RANGE');
  a.release(100);
  assert.is(a.inUse, 3);
});

test('2^24 pairs with SPIs above 2^31 stay exact u32 values', () => {
  const start = 2 ** 32 - 2 ** 25;
  const a = SpiAllocator.create({ spiStart: start, spiRange: 2 ** 25 });
  assert.is(a.capacity, 2 ** 24);
  const p = a.allocate()!;
  assert.equal(p, { spiPc: start, spiPs: start + 1 });
  const last = 2 ** 32 - 2;
  assert.ok(a.markTaken(last + 1));
  assert.ok(a.isAllocated(last));
  a.release(last);
  a.release(start);
  assert.is(a.inUse, 0);
  throwsCode(() => a.release(2 ** 32), 'SPI_OUT_OF_RANGE');
});

test('attach shares the pool; options and foreign buffers are checked', () => {
  const a = SpiAllocator.create({ spiStart: 100, spiRange: 10 });
  const b = SpiAllocator.attach(a.buffer);
  const p = a.allocate()!;
  assert.ok(b.isAllocated(p.spiPc));
  assert.is(b.allocate()!.spiPc, 102);
  b.release(p.spiPc);
  assert.is(a.inUse, 1);
  throwsCode(() => SpiAllocator.attach(new SharedArrayBuffer(64)), 'BAD_SHARED_BUFFER');
  throwsCode(() => SpiAllocator.attach(new ArrayBuffer(64) as unknown as SharedArrayBuffer), 'BAD_SHARED_BUFFER');
  throwsCode(() => SpiAllocator.create({ spiStart: 0, spiRange: 10 }), 'BAD_OPTIONS');
  throwsCode(() => SpiAllocator.create(null as unknown as { spiStart: number; spiRange: number }), 'BAD_OPTIONS');
  throwsCode(() => SpiAllocator.create({ spiStart: 100, spiRange: 1 }), 'BAD_OPTIONS');
  throwsCode(() => SpiAllocator.create({ spiStart: 2 ** 32 - 10, spiRange: 11 }), 'BAD_OPTIONS');
});

test.run();
