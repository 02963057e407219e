// The bounded, reused store of the contact table's strings: fixed 16-byte units handed out as
// contiguous runs by an AtomicBitmap (next-fit, lock-free; see there). A binding's strings form one
// blob (contact-record.ts), so a record costs one allocation and one reference, and the waste per
// binding is under one unit. A blob is freed when its binding is deleted or its strings change.
//
// Blob words are copied in and out with plain accesses (memcpy). A reader holding a stale blob
// reference may copy a unit while its new owner writes it; its seqlock validation (seqlock.ts)
// then rejects the copy: the owner's writes come after the free, which comes after a write of the
// reader's record, which the reader's closing read-modify-write orders after its reads.

import { AtomicBitmap } from './atomic-bitmap.js';
import { ARENA_UNIT_BYTES, ARENA_UNIT_WORDS } from './contact-record.js';

export class StringArena {
  /** Units in the arena. */
  readonly units: number;

  constructor(readonly words: Int32Array, private readonly bitmap: AtomicBitmap) {
    this.units = bitmap.size;
  }

  /** First unit of a run holding `count` words, or -1 when no run that long is free. */
  allocate(count: number): number {
    return this.bitmap.claimRun(unitsFor(count));
  }

  free(unit: number, count: number): void {
    this.bitmap.releaseRun(unit, unitsFor(count));
  }

  write(unit: number, from: Int32Array, count: number): void {
    this.words.set(from.subarray(0, count), unit * ARENA_UNIT_WORDS);
  }

  copyOut(unit: number, to: Int32Array, count: number): void {
    const base = unit * ARENA_UNIT_WORDS;
    to.set(this.words.subarray(base, base + count));
  }

  get usedBytes(): number {
    return this.bitmap.used * ARENA_UNIT_BYTES;
  }

  get capacityBytes(): number {
    return this.units * ARENA_UNIT_BYTES;
  }
}

function unitsFor(words: number): number {
  return Math.ceil(words / ARENA_UNIT_WORDS);
}
