// The encoders' integer writers: the same bytes as Buffer's own writers for every value in range,
// a RangeError for anything else (so a bad record still fails as a typed XfrmRecordError).

import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeI32LE, writeU16BE, writeU16LE, writeU32BE, writeU32LE, writeU8, zeroBytes } from '../../src/netlink/wire.js';

type Writer = (buf: Buffer, off: number, v: number) => void;

const cases: [string, Writer, (b: Buffer, v: number, off: number) => number, number, number][] = [
  ['writeU8', writeU8, (b, v, o) => b.writeUInt8(v, o), 0, 0xff],
  ['writeU16LE', writeU16LE, (b, v, o) => b.writeUInt16LE(v, o), 0, 0xffff],
  ['writeU16BE', writeU16BE, (b, v, o) => b.writeUInt16BE(v, o), 0, 0xffff],
  ['writeU32LE', writeU32LE, (b, v, o) => b.writeUInt32LE(v, o), 0, 0xffffffff],
  ['writeU32BE', writeU32BE, (b, v, o) => b.writeUInt32BE(v, o), 0, 0xffffffff],
  ['writeI32LE', writeI32LE, (b, v, o) => b.writeInt32LE(v, o), -0x80000000, 0x7fffffff],
];

for (const [name, ours, node, min, max] of cases) {
  test(`${name}: Buffer's bytes in range, RangeError outside`, () => {
    fc.assert(fc.property(fc.integer({ min, max }), fc.nat(3), (v, off) => {
      const a = Buffer.alloc(8, 0xa5);
      const b = Buffer.alloc(8, 0xa5);
      ours(a, off, v);
      node(b, v, off);
      assert.equal(a, b);
    }));
    for (const bad of [min - 1, max + 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => ours(Buffer.alloc(8), 0, bad), (e: unknown) => e instanceof RangeError, `${name}(${bad})`);
    }
    assert.throws(() => ours(Buffer.alloc(8), 0, '1' as unknown as number), (e: unknown) => e instanceof RangeError, 'a string is not a number');
  });
}

test('zeroBytes clears exactly [from, to)', () => {
  const b = Buffer.alloc(8, 0xff);
  zeroBytes(b, 2, 5);
  assert.equal([...b], [0xff, 0xff, 0, 0, 0, 0xff, 0xff, 0xff]);
});

test.run();
