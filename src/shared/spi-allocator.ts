// The SPI-pair pool, shared by every thread (DESIGN.md "Shared memory", kamailio-behaviour.md §9).
//
// Pair k is (spi_pc, spi_ps) = (start + 2k, start + 2k + 1) for k in [0, floor(range / 2)), over the
// configured [ipsec_spi_id_start, ipsec_spi_id_start + ipsec_spi_id_range). With an odd range the
// last SPI, start + range - 1, belongs to no pair and is never used (Kamailio instead lets its last
// pair reach start + range, one past the configured range).
//
// One bit per pair in an AtomicBitmap (see there for the lock-free argument): allocation is a CAS
// on one word, next-fit from a shared cursor, so a pair just released is handed out again only
// after every other free pair has been (the kernel may still hold packets or a late delete for the
// old SAs). Unlike Kamailio's release, which accepts pairs it never handed out (§9), release()
// checks the bit and refuses a double release or a foreign value without touching the pool.
//
// What a bitmap cannot tell: after pair k is released and handed out again, a second, erroneous
// release of the first owner clears the new owner's pair. Next-fit makes that window as long as a
// full turn of the pool; the contact table is the only owner of SPIs, so it cannot happen there.

import { AtomicBitmap, BITMAP_META_WORDS } from './atomic-bitmap.js';
import { SharedStateError } from './errors.js';
import { headerBytes, magic, readHeader, RegionPlanner, requireInteger, writeHeader } from './shared-layout.js';

export interface SpiPair {
  readonly spiPc: number;
  readonly spiPs: number;
}

export interface SpiAllocatorOptions {
  /** ipsec_spi_id_start: first SPI, >= 1 (RFC 4303 §2.1 reserves 1-255 for IANA; the config warns). */
  readonly spiStart: number;
  /** ipsec_spi_id_range: how many SPIs, >= 2; start + range <= 2^32. */
  readonly spiRange: number;
}

const MAGIC = magic('SPIA');
const U32_LIMIT = 2 ** 32;

export class SpiAllocator {
  readonly capacity: number;
  private readonly bitmap: AtomicBitmap;
  private readonly exhausted: BigInt64Array;

  private constructor(readonly buffer: SharedArrayBuffer, readonly spiStart: number, readonly spiRange: number, fresh: boolean) {
    this.capacity = Math.floor(spiRange / 2);
    const layout = planLayout(this.capacity);
    this.exhausted = new BigInt64Array(buffer, layout.exhausted, 1);
    this.bitmap = new AtomicBitmap(
      new Int32Array(buffer, layout.bits, AtomicBitmap.wordsFor(this.capacity)),
      new Int32Array(buffer, layout.meta, BITMAP_META_WORDS),
      this.capacity,
    );
    if (fresh) this.bitmap.initialise();
  }

  static create(options: SpiAllocatorOptions): SpiAllocator {
    const start = requireInteger('ipsec_spi_id_start', options?.spiStart, 1, U32_LIMIT - 2);
    const range = requireInteger('ipsec_spi_id_range', options?.spiRange, 2, U32_LIMIT - start);
    const buffer = new SharedArrayBuffer(planLayout(Math.floor(range / 2)).byteLength);
    writeHeader(buffer, MAGIC, [start | 0, range | 0]);
    return new SpiAllocator(buffer, start, range, true);
  }

  static attach(buffer: SharedArrayBuffer): SpiAllocator {
    const [start, range] = readHeader(buffer, MAGIC, 2, 'SpiAllocator') as [number, number];
    return new SpiAllocator(buffer, start >>> 0, range >>> 0, false);
  }

  /** Pairs handed out and not released (including those marked at start-up). */
  get inUse(): number {
    return this.bitmap.used;
  }

  /** How many allocate() calls found the pool empty. */
  get exhaustedCount(): number {
    return Number(Atomics.load(this.exhausted, 0));
  }

  /** The next free pair, or undefined when every pair is in use (counted in exhaustedCount). */
  allocate(): SpiPair | undefined {
    const k = this.bitmap.claimOne();
    if (k < 0) {
      Atomics.add(this.exhausted, 0, 1n);
      return undefined;
    }
    const spiPc = this.spiStart + 2 * k;
    return { spiPc, spiPs: spiPc + 1 };
  }

  /** Gives back the pair that starts at spiPc. Throws SPI_OUT_OF_RANGE, SPI_NOT_PAIR_START or
   * SPI_NOT_ALLOCATED, in which case the pool is unchanged. */
  release(spiPc: number): void {
    const k = this.pairOf(spiPc);
    if ((spiPc - this.spiStart) % 2 !== 0) {
      throw new SharedStateError('SPI_NOT_PAIR_START', `SPI ${spiPc} is the spi_ps of pair ${spiPc - 1}: release the pair by its spi_pc`);
    }
    if (!this.bitmap.release(k)) {
      throw new SharedStateError('SPI_NOT_ALLOCATED', `SPI pair ${spiPc}/${spiPc + 1} is not allocated (double release, or never handed out)`);
    }
  }

  /** Marks the pair holding `spi` (its spi_pc or spi_ps) as taken, for SAs found in the kernel at
   * start-up. True if it was free; false if already taken. Call before allocation starts: while
   * other threads allocate, a fully reserved pool also answers false. */
  markTaken(spi: number): boolean {
    return this.bitmap.claim(this.pairOf(spi));
  }

  /** Whether the pair holding `spi` is taken. */
  isAllocated(spi: number): boolean {
    return this.bitmap.isSet(this.pairOf(spi));
  }

  private pairOf(spi: number): number {
    const offset = spi - this.spiStart;
    if (typeof spi !== 'number' || !Number.isInteger(spi) || offset < 0 || offset >= 2 * this.capacity) {
      throw new SharedStateError('SPI_OUT_OF_RANGE', `SPI ${String(spi)} is outside the pairs [${this.spiStart}, ${this.spiStart + 2 * this.capacity})`);
    }
    return Math.floor(offset / 2);
  }
}

function planLayout(pairs: number): { meta: number; exhausted: number; bits: number; byteLength: number } {
  const plan = new RegionPlanner();
  plan.take(headerBytes(2));
  const meta = plan.take(BITMAP_META_WORDS * 4);
  const exhausted = plan.take(8);
  const bits = plan.take(AtomicBitmap.wordsFor(pairs) * 4);
  return { meta, exhausted, bits, byteLength: plan.byteLength };
}
