// The bounded, reused store of the contact table's strings: fixed 16-byte units handed out as
// contiguous runs by an AtomicBitmap (next-fit, lock-free; see there). A binding's strings form one
// blob (contact-record.ts), so a record costs one allocation and one reference, and the waste per
// binding is under one unit. A blob is freed when its binding is deleted or its strings change.
//
// Every access to a unit's words is an Atomics operation, because a reader holding a stale blob
// reference may read a unit while its new owner writes it: the reader's seqlock validation
// (seqlock.ts) then rejects what it read, and that argument needs SeqCst accesses on both sides.

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
    const base = unit * ARENA_UNIT_WORDS;
    for (let i = 0; i < count; i++) Atomics.store(this.words, base + i, from[i]!);
  }

  copyOut(unit: number, to: Int32Array, count: number): void {
    const base = unit * ARENA_UNIT_WORDS;
    for (let i = 0; i < count; i++) to[i] = Atomics.load(this.words, base + i);
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
