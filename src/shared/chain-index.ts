// One hash index of the contact table: buckets of singly linked chains threaded through the
// records themselves (each record has one link word per index entry it can be in), so an index
// costs no memory besides its buckets.
//
// Each bucket is two words: a seqlock (seqlock.ts) and the head reference. A reference is
// entry + 1 (0 ends a chain), where entry = slot * perRecord + k (k < perRecord: the SPI index
// gives each record four entries, one per SPI it can be found by).
//
// Writers change a chain only under its bucket's lock (link at the head, unlink anywhere), and
// never hold two bucket locks at once; they may hold their record's lock while they do (order:
// record, then bucket), and nothing takes a record lock while holding a bucket lock: no deadlock.
//
// Links are read and written with plain accesses, under the seqlock argument of seqlock.ts: a
// writer changes them only while holding the bucket's lock, and a reader's walk counts only if the
// bucket's version is unchanged at its end. Each link value a reader may see was once written
// there, so it is always a valid reference (or 0), whatever the walk's outcome.
//
// Readers take no lock. They read the bucket's version, walk the chain, and read the version again.
// A walk can go astray only when a writer changes this chain meanwhile (an entry unlinked while
// the reader stands on it keeps its link, which may by then lead into another chain after the
// record's slot is reused), and every such change moves the bucket's version, so a reader that
// must trust its walk (a negative answer, or the full list of an AOR) retries until it reads the
// same version on both sides. A positive answer needs no such check: the candidate record itself
// is then verified under its own seqlock against the query. A walk is cut off after more steps
// than there are entries, so a reader can never loop while a writer reshapes the chain.

import { corrupt, RECORD_WORDS } from './contact-record.js';
import { readBegin, readValid, writeLock, writeUnlock } from './seqlock.js';

export class ChainIndex {
  readonly mask: number;
  /** More steps than this on one walk means the chain was changed under the reader. */
  readonly maxSteps: number;

  /**
   * @param buckets 2 words per bucket; bucketCount a power of two
   * @param records the contact records (RECORD_WORDS each)
   * @param linkWord offset in a record of the first link word of this index
   */
  constructor(
    private readonly buckets: Int32Array,
    bucketCount: number,
    private readonly records: Int32Array,
    private readonly perRecord: number,
    private readonly linkWord: number,
    capacity: number,
  ) {
    this.mask = bucketCount - 1;
    this.maxSteps = capacity * perRecord;
  }

  bucketOf(hash: number): number {
    return hash & this.mask;
  }

  ref(slot: number, k: number): number {
    return slot * this.perRecord + k + 1;
  }

  slotOf(ref: number): number {
    return Math.floor((ref - 1) / this.perRecord);
  }

  entryOf(ref: number): number {
    return (ref - 1) % this.perRecord;
  }

  readBegin(bucket: number): number {
    return readBegin(this.buckets, bucket * 2);
  }

  readValid(bucket: number, version: number): boolean {
    return readValid(this.buckets, bucket * 2, version);
  }

  head(bucket: number): number {
    return this.buckets[bucket * 2 + 1]!;
  }

  next(ref: number): number {
    return this.records[this.linkAt(ref)]!;
  }

  /** Puts `ref` at the head of the bucket's chain. */
  link(bucket: number, ref: number): void {
    const locked = writeLock(this.buckets, bucket * 2);
    this.records[this.linkAt(ref)] = this.buckets[bucket * 2 + 1]!;
    this.buckets[bucket * 2 + 1] = ref;
    writeUnlock(this.buckets, bucket * 2, locked);
  }

  /** Takes `ref` out of the bucket's chain; it must be there. Its own link is left as it is, so a
   * reader standing on it can walk on (and will then find the bucket's version changed). */
  unlink(bucket: number, ref: number): void {
    const locked = writeLock(this.buckets, bucket * 2);
    let at = bucket * 2 + 1; // the word that points at `cur`: the head, then a link
    let where = this.buckets;
    let cur = where[at]!;
    while (cur !== ref) {
      if (cur === 0) {
        writeUnlock(this.buckets, bucket * 2, locked);
        corrupt(`index entry ${ref} is not in bucket ${bucket}`);
      }
      where = this.records;
      at = this.linkAt(cur);
      cur = where[at]!;
    }
    where[at] = this.records[this.linkAt(ref)]!;
    writeUnlock(this.buckets, bucket * 2, locked);
  }

  private linkAt(ref: number): number {
    const entry = ref - 1;
    const slot = Math.floor(entry / this.perRecord);
    return slot * RECORD_WORDS + this.linkWord + (entry - slot * this.perRecord);
  }
}
