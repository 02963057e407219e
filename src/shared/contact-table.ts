// The contact table: every registration binding, in one SharedArrayBuffer that the main thread and
// every worker read and write, without a global lock.
//
// Parts (each module argues its own lock-free steps):
// - records (contact-record.ts), one per slot, each guarded by a seqlock (seqlock.ts): writers of
//   one record exclude each other with it; readers never lock and retry when a writer overlapped;
// - slots handed out by an AtomicBitmap; a BindingId is slot + generation, bumped at each insert,
//   so a stale id fails the generation check instead of reaching the slot's new binding;
// - strings in a bounded StringArena, one copy-on-write blob per record;
// - four ChainIndex hash indexes: received address (SEARCH_RECEIVED), Contact host
//   (SEARCH_NORMAL), AOR, and P-CSCF SPI.
//
// Operations and their order of steps:
// - insert: encode and validate privately; claim a slot; write the blob; lock the record; write
//   it; link it into the indexes; unlock. Readers that find it early wait for the unlock.
// - update: read a consistent snapshot at version s; build the new binding from it; write a new
//   blob if any string changed; lock the record only if it is still at version s (CAS s -> s+1),
//   otherwise start again: an update is a compare-and-swap of the whole record, so concurrent
//   updates of one binding never lose each other's changes. Then relink what changed, write,
//   unlock, free the old blob.
// - delete: lock; check the generation; unlink; clear; unlock; free the blob and the slot.
// - lookups walk an index (see chain-index.ts) and verify each candidate under its seqlock.
//
// What a concurrent lookup may see: a key that an update keeps is never out of its index (an SPI
// moving from the current to the previous SA set keeps its index entry), so a binding whose key
// does not change is always found. A key that an update adds or removes may be seen either way
// while that update runs.

import type { Transport } from '../engine/plan.js';
import type { Binding, BindingId, BindingPatch } from './binding.js';
import { BINDING_LIMITS, TRANSPORTS } from './binding.js';
import { AtomicBitmap, BITMAP_META_WORDS } from './atomic-bitmap.js';
import { ChainIndex } from './chain-index.js';
import {
  ADDR_BYTES_SHIFT, ADDR_INLINE, ADDR_KEY, ADDR_KEY_WORDS, ARENA_UNIT_BYTES, ARENA_UNIT_WORDS, BindingImage, BindingPeek, BLOB_UNIT, BLOB_WORDS, blobHeaderWords, CONTACT_PORT, corrupt, encodeKey,
  EXPIRES, FLAGS, GEN, HAS_PREV, HAS_SA, HASH_ADDR, HOST_IS_ADDR, HASH_AOR, HASH_HOST, hashWords, IMAGE_RANGES, LIVE, MAX_BLOB_UNITS,
  MAX_BLOB_WORDS, mix32, NEXT_ADDR, NEXT_AOR, NEXT_HOST, PORTS, PREV, PREV_UE_PORTS, RECORD_WORDS, S_ADDR, S_AOR, S_HOST, SA, UE_PORTS,
  SA_CONFIRMED_AT, SA_CREATED_AT, SA_SPI_PC, SA_SPI_PS, SEQ, SNAPSHOT_RANGES, SPI_KEY, SPI_LINKED, SPI_NEXT, stringCount, wordsOf, wordsToTime,
} from './contact-record.js';
import { SharedStateError } from './errors.js';
import { readBegin, readValid, writeLock, writeLockIfUnchanged, writeUnlock } from './seqlock.js';
import { headerBytes, magic, readHeader, RegionPlanner, requireInteger, writeHeader } from './shared-layout.js';
import { StringArena } from './string-arena.js';

export { BindingPeek, SaPeek } from './contact-record.js';

export interface ContactTableOptions {
  /** Most bindings held at once, 1 .. 2^24. */
  readonly capacity: number;
  /** Bytes for the bindings' strings; default capacity * DEFAULT_ARENA_BYTES_PER_BINDING, and at
   * least enough for one binding with every field at its limit (about 7 KiB). */
  readonly arenaBytes?: number;
  /** Buckets of each string index (a power of two); default the power of two >= capacity, for
   * chains of about one entry. The SPI index gets twice as many. Fewer buckets save 8 bytes each
   * per index at the cost of longer chains (the stress test uses few, to make chains collide). */
  readonly indexBuckets?: number;
}

/** A typical IMS binding's strings take ~540 bytes of arena (bench/shared.ts prints the figure);
 * the default leaves ~20% for longer ones and for fragmentation, and keeps the whole buffer under
 * 1 KiB per binding (record 320 bytes, index buckets ~40). Deployments with longer Contacts or
 * more Service-Route entries set arenaBytes; running out is a clear ARENA_FULL. */
export const DEFAULT_ARENA_BYTES_PER_BINDING = 640;

const MAGIC = magic('CTAB');
const SLOT_LIMIT = 2 ** 24;
const GEN_LIMIT = 2 ** 29; // gen * SLOT_LIMIT + slot < 2^53: ids are safe integers
const SPI_ENTRIES = 4;

// Lookup modes (one numeric switch keeps the walk monomorphic).
const BY_RECEIVED = 0;
const BY_CONTACT = 1;
const BY_AOR = 2;
const BY_SPI = 3;

// Words of the table's own meta region.
const SIZE = 0;
const SLOT_META = 1;
const ARENA_META = SLOT_META + BITMAP_META_WORDS;
const META_WORDS = ARENA_META + BITMAP_META_WORDS;

const NOT_FOUND = -1;

export class ContactTable {
  readonly capacity: number;
  private readonly records: Int32Array;
  private readonly meta: Int32Array;
  private readonly slots: AtomicBitmap;
  private readonly arena: StringArena;
  private readonly byAddr: ChainIndex;
  private readonly byHost: ChainIndex;
  private readonly byAor: ChainIndex;
  private readonly bySpi: ChainIndex;

  // Per-thread scratch (each thread has its own ContactTable object over the shared buffer).
  private readonly snap = new BindingImage();
  private readonly image = new BindingImage();
  private readonly peekWords = new Int32Array(RECORD_WORDS);
  private readonly keyWords = new Int32Array(MAX_BLOB_WORDS);
  private readonly keyBytes = new Uint8Array(this.keyWords.buffer);
  private readonly spiWanted = new Float64Array(SPI_ENTRIES);
  // The query being matched by walk()/matches().
  private queryWords = 0;
  private queryBytes = 0;
  private queryPort = 0;
  private queryTransport = -1;
  private querySpi = 0;

  private constructor(readonly buffer: SharedArrayBuffer, capacity: number, arenaUnits: number, keyBuckets: number, fresh: boolean) {
    this.capacity = capacity;
    const l = planLayout(capacity, arenaUnits, keyBuckets);
    this.meta = new Int32Array(buffer, l.meta, META_WORDS);
    this.records = new Int32Array(buffer, l.records, capacity * RECORD_WORDS);
    this.slots = new AtomicBitmap(new Int32Array(buffer, l.slotBits, AtomicBitmap.wordsFor(capacity)), this.meta.subarray(SLOT_META, SLOT_META + BITMAP_META_WORDS), capacity);
    const arenaBits = new AtomicBitmap(new Int32Array(buffer, l.arenaBits, AtomicBitmap.wordsFor(arenaUnits)), this.meta.subarray(ARENA_META, ARENA_META + BITMAP_META_WORDS), arenaUnits);
    this.arena = new StringArena(new Int32Array(buffer, l.arena, arenaUnits * ARENA_UNIT_WORDS), arenaBits);
    const index = (at: number, buckets: number, perRecord: number, linkWord: number): ChainIndex =>
      new ChainIndex(new Int32Array(buffer, at, buckets * 2), buckets, this.records, perRecord, linkWord, capacity);
    this.byAddr = index(l.addrBuckets, l.keyBuckets, 1, NEXT_ADDR);
    this.byHost = index(l.hostBuckets, l.keyBuckets, 1, NEXT_HOST);
    this.byAor = index(l.aorBuckets, l.keyBuckets, 1, NEXT_AOR);
    this.bySpi = index(l.spiBuckets, l.spiBucketCount, SPI_ENTRIES, SPI_NEXT);
    if (fresh) {
      this.slots.initialise();
      arenaBits.initialise();
    }
  }

  static create(options: ContactTableOptions): ContactTable {
    const capacity = requireInteger('contact table capacity', options?.capacity, 1, SLOT_LIMIT);
    const smallest = MAX_BLOB_UNITS * ARENA_UNIT_BYTES; // room for one binding at BINDING_LIMITS
    const arenaBytes = requireInteger('contact table arenaBytes',
      options.arenaBytes ?? Math.max(smallest, capacity * DEFAULT_ARENA_BYTES_PER_BINDING), smallest, 2 ** 33);
    const arenaUnits = Math.floor(arenaBytes / ARENA_UNIT_BYTES);
    const keyBuckets = requireInteger('contact table indexBuckets', options.indexBuckets ?? 2 ** Math.ceil(Math.log2(capacity)), 1, SLOT_LIMIT);
    if ((keyBuckets & (keyBuckets - 1)) !== 0) {
      throw new SharedStateError('BAD_OPTIONS', `contact table indexBuckets must be a power of two, got ${keyBuckets}`);
    }
    const buffer = new SharedArrayBuffer(planLayout(capacity, arenaUnits, keyBuckets).byteLength);
    writeHeader(buffer, MAGIC, [capacity, arenaUnits, keyBuckets]);
    return new ContactTable(buffer, capacity, arenaUnits, keyBuckets, true);
  }

  static attach(buffer: SharedArrayBuffer): ContactTable {
    const [capacity, arenaUnits, keyBuckets] = readHeader(buffer, MAGIC, 3, 'ContactTable') as [number, number, number];
    return new ContactTable(buffer, capacity, arenaUnits, keyBuckets, false);
  }

  /** Bindings held now. */
  get size(): number {
    return Atomics.load(this.meta, SIZE);
  }

  /** Arena bytes in use and in all (for metrics and the benchmark). */
  get arenaUsage(): { usedBytes: number; capacityBytes: number } {
    return { usedBytes: this.arena.usedBytes, capacityBytes: this.arena.capacityBytes };
  }

  /** Stores a new binding. Throws FIELD_INVALID / FIELD_TOO_LONG (nothing stored),
   * CONTACT_TABLE_FULL or ARENA_FULL. */
  insert(binding: Binding): BindingId {
    const img = this.image;
    img.encode(binding);
    const slot = this.slots.claimOne();
    if (slot < 0) throw new SharedStateError('CONTACT_TABLE_FULL', `contact table full: all ${this.capacity} bindings in use`);
    const unit = this.arena.allocate(img.blobWords);
    if (unit < 0) {
      this.slots.release(slot);
      throw this.arenaFull(img.blobWords);
    }
    this.arena.write(unit, img.blob, img.blobWords);
    img.record[BLOB_UNIT] = unit;
    img.record[BLOB_WORDS] = img.blobWords;

    const base = slot * RECORD_WORDS;
    const locked = writeLock(this.records, base + SEQ);
    const gen = (this.records[base + GEN]! % (GEN_LIMIT - 1)) + 1;
    this.records[base + GEN] = gen;
    this.store(base, img);
    this.byAddr.link(this.byAddr.bucketOf(img.record[HASH_ADDR]!), this.byAddr.ref(slot, 0));
    this.byHost.link(this.byHost.bucketOf(img.record[HASH_HOST]!), this.byHost.ref(slot, 0));
    this.byAor.link(this.byAor.bucketOf(img.record[HASH_AOR]!), this.byAor.ref(slot, 0));
    this.relinkSpis(slot, img);
    writeUnlock(this.records, base + SEQ, locked);
    Atomics.add(this.meta, SIZE, 1);
    return (gen * SLOT_LIMIT + slot) as BindingId;
  }

  /**
   * Changes a binding: `change` is either a patch (the fields it lists replace the stored ones) or
   * a function from the current binding to the new one (return undefined to leave it as it is).
   * The function may run more than once when another thread updates the same binding at the same
   * time, so it must be pure; it must not call this table. Returns false when the binding is gone
   * (or the function declined). Throws like insert() for an invalid result or a full arena; the
   * stored binding is then unchanged.
   */
  update(id: BindingId, change: BindingPatch | ((current: Binding) => Binding | undefined)): boolean {
    const slot = this.slotOf(id);
    if (slot < 0) return false;
    const base = slot * RECORD_WORDS;
    for (;;) {
      const s = this.snapshot(slot, this.snap);
      if (s === NOT_FOUND || this.snap.record[GEN] !== genOf(id)) return false;
      const oldUnit = this.snap.record[BLOB_UNIT]!;
      const oldWords = this.snap.record[BLOB_WORDS]!;
      const oldFlags = this.snap.record[FLAGS]!;
      const current = this.snap.decode();
      const next = typeof change === 'function' ? change(current) : { ...current, ...change };
      if (next === undefined) return false;
      const img = this.image;
      img.encode(next);

      // Which blob: the stored one if the strings are the same, else a new one written now. The
      // comparison reads the shared blob of version s: if the record moved on since, the CAS
      // below fails and nothing decided here is used.
      const keep = this.blobEquals(oldUnit, oldWords, oldFlags, img);
      let unit = oldUnit;
      if (!keep) {
        unit = this.arena.allocate(img.blobWords);
        if (unit < 0) throw this.arenaFull(img.blobWords);
        this.arena.write(unit, img.blob, img.blobWords);
      }
      img.record[BLOB_UNIT] = unit;
      img.record[BLOB_WORDS] = keep ? oldWords : img.blobWords;

      if (!writeLockIfUnchanged(this.records, base + SEQ, s)) {
        if (!keep) this.arena.free(unit, img.blobWords);
        continue;
      }
      // Locked at exactly version s: the shared record is the snapshot, and ours until unlock.
      this.rekey(this.byAddr, slot, HASH_ADDR, img);
      this.rekey(this.byHost, slot, HASH_HOST, img);
      this.rekey(this.byAor, slot, HASH_AOR, img);
      this.relinkSpis(slot, img);
      this.store(base, img);
      writeUnlock(this.records, base + SEQ, s + 1);
      if (!keep) this.arena.free(oldUnit, oldWords);
      return true;
    }
  }

  /** Removes a binding; false when it was already gone. */
  delete(id: BindingId): boolean {
    const slot = this.slotOf(id);
    if (slot < 0) return false;
    const base = slot * RECORD_WORDS;
    const r = this.records;
    const locked = writeLock(r, base + SEQ);
    if ((r[base + FLAGS]! & LIVE) === 0 || r[base + GEN]! !== genOf(id)) {
      writeUnlock(r, base + SEQ, locked);
      return false;
    }
    this.unlinkAndFree(slot, locked);
    return true;
  }

  /**
   * Removes a binding and returns it exactly as it was removed (read and removed as one step, so
   * no update slips in between: the caller owns what the binding held, e.g. its SA sets). With
   * `when`, only if it says so of that binding (a conditional delete: a pure function, which may
   * run more than once when another thread changes the binding meanwhile). Undefined when the
   * binding is gone or `when` declined.
   */
  take(id: BindingId, when?: (current: Binding) => boolean): Binding | undefined {
    const slot = this.slotOf(id);
    if (slot < 0) return undefined;
    const base = slot * RECORD_WORDS;
    for (;;) {
      const s = this.snapshot(slot, this.snap);
      if (s === NOT_FOUND || this.snap.record[GEN] !== genOf(id)) return undefined;
      const current = this.snap.decode();
      if (when !== undefined && !when(current)) return undefined;
      if (!writeLockIfUnchanged(this.records, base + SEQ, s)) continue;
      this.unlinkAndFree(slot, (s + 1) | 0);
      return current;
    }
  }

  /** The delete itself, with the record locked as `locked`: out of the indexes, cleared, unlocked, its blob and slot freed. */
  private unlinkAndFree(slot: number, locked: number): void {
    const base = slot * RECORD_WORDS;
    const r = this.records;
    this.byAddr.unlink(this.byAddr.bucketOf(r[base + HASH_ADDR]!), this.byAddr.ref(slot, 0));
    this.byHost.unlink(this.byHost.bucketOf(r[base + HASH_HOST]!), this.byHost.ref(slot, 0));
    this.byAor.unlink(this.byAor.bucketOf(r[base + HASH_AOR]!), this.byAor.ref(slot, 0));
    const linked = r[base + SPI_LINKED]!;
    for (let k = 0; k < SPI_ENTRIES; k++) {
      if ((linked & (1 << k)) !== 0) this.bySpi.unlink(this.spiBucket(r[base + SPI_KEY + k]!), this.bySpi.ref(slot, k));
    }
    const unit = r[base + BLOB_UNIT]!;
    const words = r[base + BLOB_WORDS]!;
    r[base + SPI_LINKED] = 0;
    r[base + FLAGS] = 0;
    writeUnlock(r, base + SEQ, locked);
    this.arena.free(unit, words);
    this.slots.release(slot);
    Atomics.sub(this.meta, SIZE, 1);
  }

  /** The binding, or undefined when the id is stale or was never issued. */
  get(id: BindingId): Binding | undefined {
    const slot = this.slotOf(id);
    if (slot < 0 || this.snapshot(slot, this.snap) === NOT_FOUND || this.snap.record[GEN] !== genOf(id)) return undefined;
    return this.snap.decode();
  }

  /** Fills `out` with the binding's numbers (state, ports, expiry, both SA sets without digests),
   * read consistently without decoding strings. False when the id is stale. */
  peek(id: BindingId, out: BindingPeek): boolean {
    const slot = this.slotOf(id);
    if (slot < 0) return false;
    const base = slot * RECORD_WORDS;
    const w = this.peekWords;
    for (;;) {
      const s = readBegin(this.records, base + SEQ);
      this.copyRecord(base, w);
      if (!readValid(this.records, base + SEQ, s)) continue;
      if ((w[FLAGS]! & LIVE) === 0 || w[GEN] !== genOf(id)) return false;
      out.fill(w);
      return true;
    }
  }

  /**
   * SEARCH_RECEIVED (kamailio-behaviour.md §3.1): the first binding whose receivedAddr is `addr`
   * and where `port` is its receivedPort or its Contact port (on `transport`, if given), or the UE
   * port-c / port-s of its current or previous SA set (any transport: TCP and UDP share the SAs,
   * TS 33.203 §7.1), so a protected request from U:port_uc finds it.
   */
  findByReceived(addr: string, port: number, transport?: Transport): BindingId | undefined {
    if (!this.setReceivedQuery(addr, port, transport)) return undefined;
    return this.first(this.byAddr, hashWords(this.keyWords, 0, this.queryWords), BY_RECEIVED);
  }

  /** Every binding findByReceived() would consider a match, appended to `out` (several bindings
   * of one UE address may share a port: the caller tells them apart, e.g. by SA tuple). */
  findAllByReceived(addr: string, port: number, transport?: Transport, out: BindingId[] = []): BindingId[] {
    if (this.setReceivedQuery(addr, port, transport)) this.walk(this.byAddr, hashWords(this.keyWords, 0, this.queryWords), BY_RECEIVED, out);
    return out;
  }

  private setReceivedQuery(addr: string, port: number, transport: Transport | undefined): boolean {
    const t = transport === undefined ? -1 : TRANSPORTS.indexOf(transport);
    if ((transport !== undefined && t < 0) || !this.setKey(addr, true, BINDING_LIMITS.hostBytes)) return false;
    this.queryPort = port;
    this.queryTransport = t;
    return true;
  }

  /** SEARCH_NORMAL: the first binding whose Contact is at host:port. */
  findByContact(host: string, port: number): BindingId | undefined {
    if (!this.setKey(host, true, BINDING_LIMITS.hostBytes)) return undefined;
    this.queryPort = port;
    return this.first(this.byHost, hashWords(this.keyWords, 0, this.queryWords), BY_CONTACT);
  }

  /** Every binding of an AOR, appended to `out`. AORs compare byte for byte: pass the AOR in the
   * form it was stored in. */
  findByAor(aor: string, out: BindingId[] = []): BindingId[] {
    if (this.setKey(aor, false, BINDING_LIMITS.aorBytes)) this.walk(this.byAor, hashWords(this.keyWords, 0, this.queryWords), BY_AOR, out);
    return out;
  }

  /** The binding whose current or previous SA set has `spi` as its spi_pc or spi_ps. */
  findBySpi(spi: number): BindingId | undefined {
    if (!Number.isInteger(spi) || spi < 0 || spi > 0xffffffff) return undefined;
    this.querySpi = spi | 0;
    return this.first(this.bySpi, mix32(spi | 0), BY_SPI);
  }

  /**
   * Calls fn(id, expiresAt) for every binding with expiresAt <= now, and returns how many. fn runs
   * outside any lock and may delete or update. A full pass over the slots, O(capacity): meant for
   * a periodic sweep.
   */
  forEachExpired(now: number, fn: (id: BindingId, expiresAt: number) => void): number {
    return this.forEachDue(now, -Infinity, (id, why, expiresAt) => fn(id, expiresAt));
  }

  /**
   * One sweep for two kinds of work: fn(id, 'expired', expiresAt) for every binding with
   * expiresAt <= now, and fn(id, 'temporary', expiresAt) for every other binding whose current SA
   * set is still temporary (never confirmed by traffic, or a previous set still kept beside it)
   * and was created at or before `temporaryBefore`. Returns how many calls were made. fn runs
   * outside any lock and may delete or update; each binding is read consistently, numbers only.
   * O(capacity): meant for the periodic sweep of the main thread.
   */
  forEachDue(now: number, temporaryBefore: number, fn: (id: BindingId, why: 'expired' | 'temporary', expiresAt: number) => void): number {
    let n = 0;
    const r = this.records;
    const w = this.peekWords;
    for (let slot = 0; slot < this.capacity; slot++) {
      if (!this.slots.isSet(slot)) continue;
      const base = slot * RECORD_WORDS;
      let flags: number;
      let gen: number;
      for (;;) {
        const s = readBegin(r, base + SEQ);
        flags = r[base + FLAGS]!;
        gen = r[base + GEN]!;
        w[EXPIRES] = r[base + EXPIRES]!;
        w[EXPIRES + 1] = r[base + EXPIRES + 1]!;
        w[SA_CREATED_AT] = r[base + SA_CREATED_AT]!;
        w[SA_CREATED_AT + 1] = r[base + SA_CREATED_AT + 1]!;
        w[SA_CONFIRMED_AT] = r[base + SA_CONFIRMED_AT]!;
        w[SA_CONFIRMED_AT + 1] = r[base + SA_CONFIRMED_AT + 1]!;
        if (readValid(r, base + SEQ, s)) break;
      }
      if ((flags & LIVE) === 0) continue;
      const id = (gen * SLOT_LIMIT + slot) as BindingId;
      const expiresAt = wordsToTime(w, EXPIRES);
      if (expiresAt <= now) {
        n++;
        fn(id, 'expired', expiresAt);
      } else if ((flags & HAS_SA) !== 0 && ((flags & HAS_PREV) !== 0 || wordsToTime(w, SA_CONFIRMED_AT) === 0) && wordsToTime(w, SA_CREATED_AT) <= temporaryBefore) {
        n++;
        fn(id, 'temporary', expiresAt);
      }
    }
    return n;
  }

  /** Every binding, each read consistently (the set may change while the iteration runs). */
  *entries(): IterableIterator<[BindingId, Binding]> {
    for (let slot = 0; slot < this.capacity; slot++) {
      if (!this.slots.isSet(slot) || this.snapshot(slot, this.snap) === NOT_FOUND) continue;
      yield [(this.snap.record[GEN]! * SLOT_LIMIT + slot) as BindingId, this.snap.decode()];
    }
  }

  // ---- internals ----

  private slotOf(id: BindingId): number {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < SLOT_LIMIT) return -1;
    const slot = id % SLOT_LIMIT;
    return slot < this.capacity ? slot : -1;
  }

  /** Copies the record and its blob into `img`, consistently; returns the version read, or
   * NOT_FOUND when the slot holds no binding. */
  private snapshot(slot: number, img: BindingImage): number {
    const base = slot * RECORD_WORDS;
    const r = this.records;
    for (;;) {
      const s = readBegin(r, base + SEQ);
      this.copyRecord(base, img.record);
      const live = (img.record[FLAGS]! & LIVE) !== 0;
      if (live) {
        const unit = img.record[BLOB_UNIT]!;
        const words = img.record[BLOB_WORDS]!;
        if (!this.blobInArena(unit, words, img.record[FLAGS]!)) {
          if (readValid(r, base + SEQ, s)) corrupt(`slot ${slot} refers to blob ${unit}+${words} outside the arena`);
          continue;
        }
        this.arena.copyOut(unit, img.blob, words);
        img.blobWords = words;
      }
      if (readValid(r, base + SEQ, s)) return live ? s : NOT_FOUND;
    }
  }

  private copyRecord(base: number, to: Int32Array): void {
    for (const [from, end] of SNAPSHOT_RANGES) {
      for (let i = from; i < end; i++) to[i] = this.records[base + i]!;
    }
  }

  /** Whether a blob reference read from a record is plausible (a torn read may produce anything). */
  private blobInArena(unit: number, words: number, flags: number): boolean {
    return unit >= 0 && words >= blobHeaderWords(flags) && words <= MAX_BLOB_WORDS && unit * ARENA_UNIT_WORDS + words <= this.arena.words.length;
  }

  private store(base: number, img: BindingImage): void {
    for (const [from, to] of IMAGE_RANGES) {
      for (let i = from; i < to; i++) this.records[base + i] = img.record[i]!;
    }
  }

  private blobEquals(unit: number, words: number, flags: number, img: BindingImage): boolean {
    if (words !== img.blobWords || stringCount(flags) !== stringCount(img.record[FLAGS]!)) return false;
    const a = this.arena.words;
    const at = unit * ARENA_UNIT_WORDS;
    for (let i = 0; i < words; i++) if (a[at + i]! !== img.blob[i]) return false;
    return true;
  }

  /** Moves the record to the bucket of its new key hash, if that is another bucket (record locked). */
  private rekey(index: ChainIndex, slot: number, hashWord: number, img: BindingImage): void {
    const from = index.bucketOf(this.records[slot * RECORD_WORDS + hashWord]!);
    const to = index.bucketOf(img.record[hashWord]!);
    if (from === to) return;
    index.unlink(from, index.ref(slot, 0));
    index.link(to, index.ref(slot, 0));
  }

  /**
   * Makes the record's SPI entries match the P-CSCF SPIs of the image's SA sets (record locked).
   * An SPI present before and after keeps its entry untouched, so it never drops out of the
   * index: when a re-registration moves the current set to previousSa, lookups by its SPIs keep
   * working throughout. Entries of SPIs no longer held are unlinked; new SPIs take free entries.
   */
  private relinkSpis(slot: number, img: BindingImage): void {
    const r = this.records;
    const base = slot * RECORD_WORDS;
    const want = this.spiWanted;
    let wanted = 0;
    const flags = img.record[FLAGS]!;
    if ((flags & HAS_SA) !== 0) {
      wanted = addDistinct(want, wanted, img.record[SA + SA_SPI_PC]!);
      wanted = addDistinct(want, wanted, img.record[SA + SA_SPI_PS]!);
    }
    if ((flags & HAS_PREV) !== 0) {
      wanted = addDistinct(want, wanted, img.record[PREV + SA_SPI_PC]!);
      wanted = addDistinct(want, wanted, img.record[PREV + SA_SPI_PS]!);
    }
    let linked = r[base + SPI_LINKED]!;
    for (let k = 0; k < SPI_ENTRIES; k++) {
      if ((linked & (1 << k)) === 0) continue;
      const spi = r[base + SPI_KEY + k]!;
      let i = 0;
      while (i < wanted && want[i] !== spi) i++;
      if (i < wanted) {
        want[i] = want[--wanted]!; // already linked: keep the entry
      } else {
        this.bySpi.unlink(this.spiBucket(spi), this.bySpi.ref(slot, k));
        linked &= ~(1 << k);
      }
    }
    for (let k = 0; wanted > 0; k++) {
      if ((linked & (1 << k)) !== 0) continue;
      const spi = want[--wanted]!;
      r[base + SPI_KEY + k] = spi;
      this.bySpi.link(this.spiBucket(spi), this.bySpi.ref(slot, k));
      linked |= 1 << k;
    }
    r[base + SPI_LINKED] = linked;
  }

  private spiBucket(spi: number): number {
    return this.bySpi.bucketOf(mix32(spi));
  }

  /** Encodes a lookup key into keyWords; false when it cannot match anything (too long). */
  private setKey(key: string, host: boolean, limit: number): boolean {
    if (typeof key !== 'string') return false;
    const n = encodeKey(this.keyBytes, 0, key, host, limit);
    if (n < 0) return false;
    this.queryBytes = n;
    this.queryWords = wordsOf(n);
    return true;
  }

  private first(index: ChainIndex, hash: number, mode: number): BindingId | undefined {
    const found = this.walk(index, hash, mode, undefined);
    return found === NOT_FOUND ? undefined : (found as BindingId);
  }

  /** Walks the bucket of `hash`: returns the first match, or with `out` collects every match. */
  private walk(index: ChainIndex, hash: number, mode: number, out: BindingId[] | undefined): number {
    const bucket = index.bucketOf(hash);
    const initial = out?.length ?? 0;
    const hashWord = mode === BY_RECEIVED ? HASH_ADDR : mode === BY_CONTACT ? HASH_HOST : HASH_AOR;
    for (;;) {
      const version = index.readBegin(bucket);
      let ref = index.head(bucket);
      let steps = 0;
      while (ref !== 0 && steps++ <= index.maxSteps) {
        const slot = index.slotOf(ref);
        const candidate = mode === BY_SPI
          ? this.records[slot * RECORD_WORDS + SPI_KEY + index.entryOf(ref)]! === this.querySpi
          : this.records[slot * RECORD_WORDS + hashWord]! === hash;
        if (candidate) {
          const id = this.matches(slot, mode, index.entryOf(ref));
          if (id !== NOT_FOUND) {
            if (out === undefined) return id;
            if (!out.includes(id as BindingId)) out.push(id as BindingId);
          }
        }
        ref = index.next(ref);
      }
      if (index.readValid(bucket, version)) {
        if (ref !== 0) corrupt(`index chain of bucket ${bucket} is longer than the table`);
        return NOT_FOUND;
      }
      if (out !== undefined) out.length = initial;
    }
  }

  /** Verifies the record in `slot` (reached through its index entry k) against the current query
   * under its seqlock; its id or NOT_FOUND. */
  private matches(slot: number, mode: number, k: number): number {
    const r = this.records;
    const base = slot * RECORD_WORDS;
    for (;;) {
      const s = readBegin(r, base + SEQ);
      const flags = r[base + FLAGS]!;
      const gen = r[base + GEN]!;
      let ok = (flags & LIVE) !== 0;
      if (ok) {
        switch (mode) {
          case BY_RECEIVED: ok = this.receivedPortMatches(base, flags) && this.keyEquals(base, flags, S_ADDR) === 1; break;
          case BY_CONTACT: ok = r[base + CONTACT_PORT]! === this.queryPort && this.keyEquals(base, flags, S_HOST) === 1; break;
          case BY_AOR: ok = this.keyEquals(base, flags, S_AOR) === 1; break;
          default: ok = this.spiMatches(base, k);
        }
      }
      if (readValid(r, base + SEQ, s)) return ok ? gen * SLOT_LIMIT + slot : NOT_FOUND;
    }
  }

  private receivedPortMatches(base: number, flags: number): boolean {
    const r = this.records;
    const port = this.queryPort;
    const sameTransport = this.queryTransport < 0 || this.queryTransport === ((flags >>> 3) & 1);
    if (sameTransport && ((r[base + PORTS]! & 0xffff) === port || r[base + CONTACT_PORT]! === port)) return true;
    if ((flags & HAS_SA) !== 0) {
      const ue = r[base + UE_PORTS]!;
      if ((ue & 0xffff) === port || ue >>> 16 === port) return true;
    }
    if ((flags & HAS_PREV) !== 0) {
      const ue = r[base + PREV_UE_PORTS]!;
      if ((ue & 0xffff) === port || ue >>> 16 === port) return true;
    }
    return false;
  }

  /** SPI entry k of the record holds the query: the entries are exactly the P-CSCF SPIs of its SA
   * sets, kept so under the record's lock (relinkSpis), hence covered by its seqlock. */
  private spiMatches(base: number, k: number): boolean {
    return (this.records[base + SPI_LINKED]! & (1 << k)) !== 0 && this.records[base + SPI_KEY + k]! === this.querySpi;
  }

  /** Compares string `which` (S_ADDR, S_HOST or S_AOR) of the record with the query key: 1 equal,
   * 0 different or torn (the caller's seqlock check then tells which). The address key, and the
   * Contact host when it is the same, are compared in the record itself when inlined there. */
  private keyEquals(base: number, flags: number, which: number): number {
    const key = this.keyWords;
    const inline = (flags & ADDR_INLINE) !== 0 && (which === S_ADDR || (which === S_HOST && (flags & HOST_IS_ADDR) !== 0));
    if (inline) {
      if (((flags >>> ADDR_BYTES_SHIFT) & 0xff) !== this.queryBytes || this.queryWords > ADDR_KEY_WORDS) return 0;
      for (let i = 0; i < this.queryWords; i++) if (this.records[base + ADDR_KEY + i]! !== key[i]) return 0;
      return 1;
    }
    const r = this.records;
    const a = this.arena.words;
    const unit = r[base + BLOB_UNIT]!;
    const words = r[base + BLOB_WORDS]!;
    if (!this.blobInArena(unit, words, flags)) return 0;
    const blob = unit * ARENA_UNIT_WORDS;
    const lengths01 = a[blob]!;
    let at = blob + blobHeaderWords(flags);
    let bytes = lengths01 & 0xffff;
    if (which >= S_HOST) {
      at += wordsOf(bytes);
      bytes = lengths01 >>> 16;
    }
    if (which === S_AOR) {
      at += wordsOf(bytes);
      bytes = a[blob + 1]! & 0xffff;
    }
    if (bytes !== this.queryBytes || at + this.queryWords > blob + words) return 0;
    for (let i = 0; i < this.queryWords; i++) if (a[at + i]! !== key[i]) return 0;
    return 1;
  }

  private arenaFull(words: number): SharedStateError {
    const { usedBytes, capacityBytes } = this.arenaUsage;
    return new SharedStateError('ARENA_FULL', `contact table string arena: no room for ${words * 4} bytes (${usedBytes} of ${capacityBytes} bytes in use)`);
  }
}

function addDistinct(list: Float64Array, n: number, value: number): number {
  for (let i = 0; i < n; i++) if (list[i] === value) return n;
  list[n] = value;
  return n + 1;
}

function genOf(id: number): number {
  return Math.floor(id / SLOT_LIMIT);
}

interface Layout {
  meta: number; slotBits: number; arenaBits: number; records: number;
  addrBuckets: number; hostBuckets: number; aorBuckets: number; keyBuckets: number;
  spiBuckets: number; spiBucketCount: number; arena: number; byteLength: number;
}

/** The SPI index has twice the buckets of a string index: two SPIs per binding, four during a
 * re-registration. */
function planLayout(capacity: number, arenaUnits: number, keyBuckets: number): Layout {
  const spiBucketCount = keyBuckets * 2;
  const plan = new RegionPlanner();
  plan.take(headerBytes(3));
  const meta = plan.take(META_WORDS * 4);
  const slotBits = plan.take(AtomicBitmap.wordsFor(capacity) * 4);
  const arenaBits = plan.take(AtomicBitmap.wordsFor(arenaUnits) * 4);
  const records = plan.take(capacity * RECORD_WORDS * 4, 64); // cache-line aligned: see contact-record.ts
  const addrBuckets = plan.take(keyBuckets * 8);
  const hostBuckets = plan.take(keyBuckets * 8);
  const aorBuckets = plan.take(keyBuckets * 8);
  const spiBuckets = plan.take(spiBucketCount * 8);
  const arena = plan.take(arenaUnits * ARENA_UNIT_BYTES);
  return { meta, slotBits, arenaBits, records, addrBuckets, hostBuckets, aorBuckets, keyBuckets, spiBuckets, spiBucketCount, arena, byteLength: plan.byteLength };
}
