// A lock-free allocation bitmap in shared memory: bit i set = unit i is taken. It backs the SPI-pair
// pool (one bit per pair), the contact-table slots (one bit per record) and the string arena
// (runs of bits, one per 16-byte unit).
//
// Two shared words sit beside the bits: `cursor` (where the next search starts: next-fit, so a
// unit freed just now is handed out again only after the search has gone round the whole map) and
// `used` (units taken, counting claims in flight).
//
// Lock-freedom and correctness, step by step:
// - A bit is taken or given back only by Atomics.compareExchange on its word, from the exact word
//   value just loaded. Two claimers of the same bit cannot both succeed: the second CAS sees a word
//   that differs from the value it loaded and fails, so it reloads and looks again. A failing CAS
//   means another thread changed the word, i.e. made progress: the bitmap is lock-free.
// - `used` is a reservation counter: a claimer first raises it by n with a CAS loop that never goes
//   above `size`, then looks for bits; a releaser clears bits first and lowers `used` afterwards.
//   So at every moment: set bits + bits reserved but not yet set + bits cleared but not yet
//   subtracted == used <= size. For single-bit claims this means a reserved claimer always has a
//   clear bit somewhere (free bits = size - set bits >= pending claims), so its search terminates
//   without a "full" verdict, and `exhausted` is decided in O(1) from `used` alone, exactly
//   (no false "full" while a bit is free, except for a release still between its two steps).
// - The cursor is only a hint: it is read with Atomics.load and moved with a CAS from the value
//   this claimer started from, so two claimers racing never move it backwards over each other.
// - Bits past `size` in the last word are set once at creation and never cleared, so searches
//   need no bounds test.

import { SharedStateError } from './errors.js';

const CURSOR = 0;
const USED = 1;
export const BITMAP_META_WORDS = 2;

export class AtomicBitmap {
  private readonly wordCount: number;

  /**
   * @param words the bit words (AtomicBitmap.wordsFor(size) of them), zeroed or as left by another thread
   * @param meta two words: cursor and used
   */
  constructor(private readonly words: Int32Array, private readonly meta: Int32Array, readonly size: number) {
    this.wordCount = AtomicBitmap.wordsFor(size);
  }

  static wordsFor(size: number): number {
    return Math.ceil(size / 32);
  }

  /** Marks the padding bits past `size` as taken; called once, by create(), before any sharing. */
  initialise(): void {
    const tail = this.size & 31;
    if (tail !== 0) this.words[this.wordCount - 1] = -1 << tail;
  }

  get used(): number {
    return Atomics.load(this.meta, USED);
  }

  isSet(bit: number): boolean {
    return (Atomics.load(this.words, bit >>> 5) & (1 << (bit & 31))) !== 0;
  }

  /** Claims one clear bit, next-fit from the cursor; -1 when every bit is taken. */
  claimOne(): number {
    if (!this.reserve(1)) return -1;
    const start = Atomics.load(this.meta, CURSOR);
    let wi = start >>> 5;
    // On the first word only the bits at and after the cursor count; the ones before it are looked
    // at last, when the search comes round again.
    let mask = -1 << (start & 31);
    for (;;) {
      const w = Atomics.load(this.words, wi);
      const free = ~w & mask;
      if (free === 0) {
        mask = -1;
        wi = wi + 1 === this.wordCount ? 0 : wi + 1;
        continue;
      }
      const lowest = free & -free;
      if (Atomics.compareExchange(this.words, wi, w, w | lowest) !== w) continue; // word changed: look again
      const bit = wi * 32 + 31 - Math.clz32(lowest);
      this.advanceCursor(start, bit + 1);
      return bit;
    }
  }

  /** Claims the given bit; false if it was already taken (or the map is fully reserved). */
  claim(bit: number): boolean {
    if (!this.reserve(1)) return false;
    const at = bit >>> 5;
    const m = 1 << (bit & 31);
    for (;;) {
      const w = Atomics.load(this.words, at);
      if ((w & m) !== 0) {
        this.unreserve(1);
        return false;
      }
      if (Atomics.compareExchange(this.words, at, w, w | m) === w) return true;
    }
  }

  /** Clears the given bit; false (and nothing changed) if it was clear. */
  release(bit: number): boolean {
    const at = bit >>> 5;
    const m = 1 << (bit & 31);
    for (;;) {
      const w = Atomics.load(this.words, at);
      if ((w & m) === 0) return false;
      if (Atomics.compareExchange(this.words, at, w, w & ~m) === w) break;
    }
    // Only after the bit is clear: see the reservation invariant above.
    Atomics.sub(this.meta, USED, 1);
    return true;
  }

  /**
   * Claims n (1..size) contiguous clear bits, next-fit from the cursor; returns the first bit, or
   * -1 when no such run was found in one pass over the map (full, or too fragmented).
   *
   * A run may span several words. Its words are claimed in ascending order, each with a CAS that
   * requires the run's bits in that word to be clear; if one fails, the words already claimed are
   * given back and the search goes on. Another claimer may meanwhile see a half-claimed run as
   * taken, which only makes it look elsewhere. Two claimers cannot livelock: both claim in
   * ascending order, so the one that owns the lower contested word wins.
   */
  claimRun(n: number): number {
    if (!this.reserve(n)) return -1;
    const start = Atomics.load(this.meta, CURSOR);
    let wi = start >>> 5;
    let runStart = 0;
    let runLength = 0;
    // One pass over every word, plus the words a run starting just before the cursor may need.
    for (let visited = 0; visited <= this.wordCount + 1; visited++) {
      const w = Atomics.load(this.words, wi);
      const base = wi * 32;
      let found = -1;
      if (w === 0) {
        if (runLength === 0) runStart = base;
        runLength += 32;
        if (runLength >= n) found = runStart;
      } else {
        const lowFree = 31 - Math.clz32(w & -w); // clear bits below the lowest set bit
        if (runLength > 0 && runLength + lowFree >= n) found = runStart;
        else if (n <= 32) {
          const inside = runInside(w, n);
          if (inside !== 0) found = base + 31 - Math.clz32(inside & -inside);
        }
        runLength = Math.clz32(w); // clear bits above the highest set bit start a new run
        runStart = base + 32 - runLength;
      }
      if (found >= 0) {
        if (this.claimSpan(found, n)) {
          this.advanceCursor(start, found + n);
          return found;
        }
        // Lost a race for part of the run: rescan this word from a clean state.
        runLength = 0;
        visited--;
        continue;
      }
      wi++;
      if (wi === this.wordCount) {
        wi = 0;
        runLength = 0; // runs do not wrap around the end of the map
      }
    }
    this.unreserve(n);
    return -1;
  }

  /** Clears bits [first, first + n), which must all be set (they are a run this map handed out). */
  releaseRun(first: number, n: number): void {
    const end = first + n;
    const stop = this.changeSpan(first, end, false, true);
    if (stop !== end) {
      throw new SharedStateError('SHARED_STATE_CORRUPT', `bitmap: releasing run [${first}, ${end}) that is not wholly taken (word ${stop >>> 5})`);
    }
    Atomics.sub(this.meta, USED, n);
  }

  /** Sets bits [first, first + n), all of which must be clear; on a lost race, gives back the part
   * already set and returns false (no `used` change either way). */
  private claimSpan(first: number, n: number): boolean {
    const stop = this.changeSpan(first, first + n, true, true);
    if (stop === first + n) return true;
    this.changeSpan(first, stop, false, false);
    return false;
  }

  /**
   * Sets (or clears) bits [first, end) a word at a time, each word with a CAS from the value just
   * loaded. With `strict`, the span's bits in each word must all be in the opposite state first;
   * at the first word where they are not, it stops. Returns `end`, or the first bit of the word
   * where it stopped (the words before it are changed).
   */
  private changeSpan(first: number, end: number, set: boolean, strict: boolean): number {
    for (let bit = first; bit < end; ) {
      const at = bit >>> 5;
      const upto = Math.min(end, (at + 1) * 32);
      const m = spanMask(bit & 31, upto - bit);
      for (;;) {
        const w = Atomics.load(this.words, at);
        if (strict && (w & m) !== (set ? 0 : m)) return bit;
        if (Atomics.compareExchange(this.words, at, w, set ? w | m : w & ~m) === w) break;
      }
      bit = upto;
    }
    return end;
  }

  private reserve(n: number): boolean {
    for (;;) {
      const u = Atomics.load(this.meta, USED);
      if (u + n > this.size) return false;
      if (Atomics.compareExchange(this.meta, USED, u, u + n) === u) return true;
    }
  }

  private unreserve(n: number): void {
    Atomics.sub(this.meta, USED, n);
  }

  private advanceCursor(seen: number, next: number): void {
    Atomics.compareExchange(this.meta, CURSOR, seen, next >= this.size ? 0 : next);
  }
}

/** Mask of `count` bits starting at bit `from` of a word (count 1..32). */
function spanMask(from: number, count: number): number {
  return (count === 32 ? -1 : ((1 << count) - 1)) << from;
}

/** Bit i set in the result iff bits i .. i+n-1 of `w` are all clear (1 <= n <= 32). */
function runInside(w: number, n: number): number {
  let x = ~w;
  // Doubling: after each step x marks starts of clear runs of length `have`. The unsigned shift
  // brings in zeros, so no run is reported across the top of the word.
  for (let have = 1; have < n; ) {
    const step = Math.min(have, n - have);
    x &= x >>> step;
    have += step;
  }
  return x;
}
