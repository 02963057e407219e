// The layout of one contact record in shared memory, and its private "image": the words a writer
// prepares before publishing them, or a reader copies out before decoding them. Encoding validates
// a Binding against BINDING_LIMITS; decoding turns a consistent copy back into a Binding.
//
// A record is RECORD_WORDS int32 words. Its strings live in one blob in the string arena
// (copy-on-write: a change of any string writes a new blob), so a record holds a single reference.
//
// Blob: a table of u16 byte lengths, two per word, for the strings in the order ADDR, HOST, AOR,
// VIA, CONTACT, PATH, each Service-Route, each P-Associated-URI; then the UTF-8 bytes of each
// string, each padded with zeros to a word boundary, so that key comparison and hashing work on
// whole words. The lookup keys come first so a reader finds them without walking the table.
//
// Host keys (receivedAddr, contactHost) are stored normalised: lower case, IPv6 without brackets.
// Kamailio compares them as parsed IP addresses (§3.1); here the caller passes addresses as the
// socket layer prints them (already canonical) and URI hosts as written, and both sides of every
// comparison go through the same normalisation.

import { Buffer } from 'node:buffer';
import { AUTH_ALGS, ENC_ALGS, type AuthAlg, type EncAlg } from '../ipsec/algorithms.js';
import { BINDING_LIMITS, BINDING_STATES, TRANSPORTS } from './binding.js';
import type { Binding, BindingState, SaSet } from './binding.js';
import { SharedStateError } from './errors.js';

// Record words, laid out by cache line (records are 64-byte aligned, RECORD_WORDS a multiple of
// 16) so that a lookup touches few lines: a lookup by address, Contact or AOR reads line 0 (and
// the key in the arena), a lookup by SPI lines 0 and 1.
// Line 0.
export const SEQ = 0;            // seqlock (seqlock.ts); odd while a writer holds the record
export const GEN = 1;            // generation of the binding in this slot (part of its BindingId)
export const FLAGS = 2;
export const PORTS = 3;          // receivedPort | viaPort << 16
export const CONTACT_PORT = 4;
export const UE_PORTS = 5;       // current SA set's portUc | portUs << 16
export const PREV_UE_PORTS = 6;  // previous SA set's
export const BLOB_UNIT = 7;      // first arena unit of the blob
export const BLOB_WORDS = 8;     // words of the blob in use
export const HASH_ADDR = 9;      // hashes of the three string keys (pick the bucket, filter chains)
export const HASH_HOST = 10;
export const HASH_AOR = 11;
export const NEXT_ADDR = 12;     // index chain links: owned by the index buckets' locks
export const NEXT_HOST = 13;
export const NEXT_AOR = 14;
// Line 1.
export const SPI_LINKED = 16;    // bit k: SPI entry k is linked (written under the record's lock)
export const SPI_KEY = 17;       // four SPI index entries: the SPI each one is linked under
export const SPI_NEXT = 21;
export const EXPIRES = 25;       // float64 in two words
export const CREATED = 27;
export const UPDATED = 29;
// Lines 2-4: the SA sets (their UE ports are in line 0).
export const SA = 32;
export const PREV = SA + 18;
// End of line 4: a copy of the receivedAddr key when it fits (ADDR_INLINE), so that the hottest
// lookup (a request arriving from U:port) compares it without a third dependent cache miss into the
// arena: its address is known as soon as line 0's, so both loads overlap.
export const ADDR_KEY = PREV + 18;
export const ADDR_KEY_WORDS = 12;
export const RECORD_WORDS = ADDR_KEY + ADDR_KEY_WORDS; // 80: five cache lines

/** The words an image carries to the shared record (the rest belong to the table and indexes). */
export const IMAGE_RANGES: readonly (readonly [number, number])[] = [[FLAGS, HASH_AOR + 1], [EXPIRES, UPDATED + 2], [SA, RECORD_WORDS]];
/** The words a reader copies to decode a binding or peek at it (no more than needed). */
export const SNAPSHOT_RANGES: readonly (readonly [number, number])[] = [[GEN, BLOB_WORDS + 1], [EXPIRES, UPDATED + 2], [SA, PREV + 18]];

// FLAGS bits.
export const LIVE = 1;
const STATE_SHIFT = 1;           // 2 bits
const TCP = 1 << 3;
export const HAS_SA = 1 << 4;
export const HAS_PREV = 1 << 5;
const SR_SHIFT = 8;              // 4 bits: Service-Route count
const PAU_SHIFT = 12;            // 4 bits: P-Associated-URI count
export const ADDR_INLINE = 1 << 6;   // ADDR_KEY holds the receivedAddr key
export const HOST_IS_ADDR = 1 << 7;  // the contactHost key equals the receivedAddr key
export const ADDR_BYTES_SHIFT = 16;  // 8 bits: byte length of the inline key

// Words inside an SA set.
const SA_SPI_UC = 0;
const SA_SPI_US = 1;
export const SA_SPI_PC = 2;
export const SA_SPI_PS = 3;
const SA_PORTS_P = 4;            // portPc | portPs << 16
const SA_ALGS = 5;               // alg | ealg << 8
const SA_DIGEST = 6;             // 8 words: SaSet.clientDigest
const SA_CREATED = 14;
const SA_CONFIRMED = 16;
/** Where the current set's createdAt / confirmedAt live in a record (the expiry sweep reads them). */
export const SA_CREATED_AT = SA + SA_CREATED;
export const SA_CONFIRMED_AT = SA + SA_CONFIRMED;

/** Where the UE ports of the SA set at `at` live. */
const uePortsOf = (at: number): number => (at === SA ? UE_PORTS : PREV_UE_PORTS);

// Strings of the blob.
export const S_ADDR = 0;
export const S_HOST = 1;
export const S_AOR = 2;
const S_VIA = 3;
const S_CONTACT = 4;
const S_PATH = 5;
const FIXED_STRINGS = 6;

export const ARENA_UNIT_BYTES = 16;
export const ARENA_UNIT_WORDS = ARENA_UNIT_BYTES / 4;
const MAX_STRINGS = FIXED_STRINGS + BINDING_LIMITS.serviceRoutes + BINDING_LIMITS.associatedUris;
/** Largest blob BINDING_LIMITS allow: headers plus every string at its limit plus padding. */
export const MAX_BLOB_WORDS = Math.ceil(MAX_STRINGS / 2) + MAX_STRINGS + Math.ceil((
  3 * BINDING_LIMITS.hostBytes + BINDING_LIMITS.aorBytes + BINDING_LIMITS.contactUriBytes + BINDING_LIMITS.pathBytes +
  BINDING_LIMITS.serviceRoutes * BINDING_LIMITS.serviceRouteBytes + BINDING_LIMITS.associatedUris * BINDING_LIMITS.associatedUriBytes) / 4);
export const MAX_BLOB_UNITS = Math.ceil(MAX_BLOB_WORDS / ARENA_UNIT_WORDS);

export const wordsOf = (bytes: number): number => (bytes + 3) >>> 2;

export function stringCount(flags: number): number {
  return FIXED_STRINGS + ((flags >>> SR_SHIFT) & 15) + ((flags >>> PAU_SHIFT) & 15);
}

/** Words of the blob's length table for a record with these flags. */
export function blobHeaderWords(flags: number): number {
  return (stringCount(flags) + 1) >>> 1;
}

const f64 = new Float64Array(1);
const f64Words = new Int32Array(f64.buffer);
const utf8 = new TextEncoder();

/** A private copy of one record and its blob. */
export class BindingImage {
  readonly record = new Int32Array(RECORD_WORDS);
  readonly blob = new Int32Array(MAX_BLOB_WORDS);
  /** Words of `blob` in use. */
  blobWords = 0;
  private readonly recordBytes = new Uint8Array(this.record.buffer);
  private readonly numbers = new BindingPeek();
  private readonly blobBytes = Buffer.from(this.blob.buffer);

  /** Fills the image from a binding (record words of IMAGE_RANGES, blob); throws FIELD_INVALID or
   * FIELD_TOO_LONG naming the field. */
  encode(b: Binding): void {
    if (typeof b !== 'object' || b === null) invalid('binding', 'must be an object');
    const r = this.record;
    const sr = stringList('serviceRoute', b.serviceRoute, BINDING_LIMITS.serviceRoutes);
    const pau = stringList('associatedUris', b.associatedUris, BINDING_LIMITS.associatedUris);
    let flags = LIVE | (enumIndex('state', BINDING_STATES, b.state) << STATE_SHIFT) | (sr.length << SR_SHIFT) | (pau.length << PAU_SHIFT);
    if (enumIndex('transport', TRANSPORTS, b.transport) === 1) flags |= TCP;
    if (b.sa !== undefined) flags |= HAS_SA;
    if (b.previousSa !== undefined) flags |= HAS_PREV;
    r[FLAGS] = flags;
    r[PORTS] = port('receivedPort', b.receivedPort) | (port('viaPort', b.viaPort) << 16);
    r[CONTACT_PORT] = port('contactPort', b.contactPort);
    this.putTime(EXPIRES, 'expiresAt', b.expiresAt);
    this.putTime(CREATED, 'createdAt', b.createdAt);
    this.putTime(UPDATED, 'updatedAt', b.updatedAt);
    this.putSa(SA, 'sa', b.sa);
    this.putSa(PREV, 'previousSa', b.previousSa);

    const count = FIXED_STRINGS + sr.length + pau.length;
    let at = (count + 1) >>> 1;
    this.blob.fill(0, 0, at);
    at = this.putString(S_ADDR, at, 'receivedAddr', b.receivedAddr, BINDING_LIMITS.hostBytes, true);
    at = this.putString(S_HOST, at, 'contactHost', b.contactHost, BINDING_LIMITS.hostBytes, true);
    at = this.putString(S_AOR, at, 'aor', b.aor, BINDING_LIMITS.aorBytes, false);
    at = this.putString(S_VIA, at, 'viaHost', b.viaHost, BINDING_LIMITS.hostBytes, false);
    at = this.putString(S_CONTACT, at, 'contactUri', b.contactUri, BINDING_LIMITS.contactUriBytes, false);
    at = this.putString(S_PATH, at, 'path', b.path, BINDING_LIMITS.pathBytes, false);
    for (let i = 0; i < sr.length; i++) {
      at = this.putString(FIXED_STRINGS + i, at, `serviceRoute[${i}]`, sr[i], BINDING_LIMITS.serviceRouteBytes, false);
    }
    for (let i = 0; i < pau.length; i++) {
      at = this.putString(FIXED_STRINGS + sr.length + i, at, `associatedUris[${i}]`, pau[i], BINDING_LIMITS.associatedUriBytes, false);
    }
    this.blobWords = at;
    r[HASH_ADDR] = this.keyHash(S_ADDR);
    r[HASH_HOST] = this.keyHash(S_HOST);
    r[HASH_AOR] = this.keyHash(S_AOR);
    this.inlineAddress();
  }

  /** The binding in this image; throws SHARED_STATE_CORRUPT if the blob does not fit its table. */
  decode(): Binding {
    const n = this.numbers;
    n.fill(this.record);
    const flags = this.record[FLAGS]!;
    const nSr = (flags >>> SR_SHIFT) & 15;
    const nPau = (flags >>> PAU_SHIFT) & 15;
    const b: Binding = {
      state: n.state,
      aor: this.string(S_AOR),
      contactUri: this.string(S_CONTACT),
      contactHost: this.string(S_HOST),
      contactPort: n.contactPort,
      receivedAddr: this.string(S_ADDR),
      receivedPort: n.receivedPort,
      transport: n.transport,
      viaHost: this.string(S_VIA),
      viaPort: n.viaPort,
      expiresAt: n.expiresAt,
      path: this.string(S_PATH),
      serviceRoute: [],
      associatedUris: [],
      createdAt: n.createdAt,
      updatedAt: n.updatedAt,
    };
    for (let i = 0; i < nSr; i++) b.serviceRoute.push(this.string(FIXED_STRINGS + i));
    for (let i = 0; i < nPau; i++) b.associatedUris.push(this.string(FIXED_STRINGS + nSr + i));
    if (n.hasSa) b.sa = this.sa(SA);
    if (n.hasPreviousSa) b.previousSa = this.sa(PREV);
    return b;
  }

  /** Copies the receivedAddr key into ADDR_KEY when it fits, and notes whether contactHost is the
   * same key (the usual case: a UE's Contact carries its own address). */
  private inlineAddress(): void {
    const r = this.record;
    const addrBytes = this.stringBytes(S_ADDR);
    const addrWords = wordsOf(addrBytes);
    r.fill(0, ADDR_KEY, ADDR_KEY + ADDR_KEY_WORDS);
    if (addrWords > ADDR_KEY_WORDS) return;
    const from = this.stringWord(S_ADDR);
    for (let i = 0; i < addrWords; i++) r[ADDR_KEY + i] = this.blob[from + i]!;
    let flags = r[FLAGS]! | ADDR_INLINE | (addrBytes << ADDR_BYTES_SHIFT);
    if (this.stringBytes(S_HOST) === addrBytes) {
      const host = this.stringWord(S_HOST);
      let same = true;
      for (let i = 0; i < addrWords && same; i++) same = this.blob[host + i] === this.blob[from + i];
      if (same) flags |= HOST_IS_ADDR;
    }
    r[FLAGS] = flags;
  }

  /** Byte length of string i, from the blob's length table. */
  private stringBytes(i: number): number {
    return (this.blob[i >>> 1]! >>> ((i & 1) * 16)) & 0xffff;
  }

  /** Word offset in the blob of string i. */
  private stringWord(i: number): number {
    let at = blobHeaderWords(this.record[FLAGS]!);
    for (let j = 0; j < i; j++) at += wordsOf(this.stringBytes(j));
    return at;
  }

  private keyHash(i: number): number {
    return hashWords(this.blob, this.stringWord(i), wordsOf(this.stringBytes(i)));
  }

  private string(i: number): string {
    const start = this.stringWord(i) * 4;
    const end = start + this.stringBytes(i);
    if (end > this.blobWords * 4) corrupt(`string ${i} ends at byte ${end}, past its blob of ${this.blobWords * 4}`);
    return this.blobBytes.toString('utf8', start, end);
  }

  private putString(i: number, atWord: number, field: string, value: unknown, limit: number, host: boolean): number {
    if (typeof value !== 'string') invalid(field, 'must be a string');
    const n = encodeKey(this.blobBytes, atWord * 4, value, host, limit);
    if (n < 0) throw new SharedStateError('FIELD_TOO_LONG', `${field} is longer than ${limit} bytes of UTF-8`);
    this.blob[i >>> 1] = (this.blob[i >>> 1]! | (n << ((i & 1) * 16))) | 0;
    return atWord + wordsOf(n);
  }

  private putTime(at: number, field: string, value: unknown): void {
    if (typeof value !== 'number' || !Number.isFinite(value)) invalid(field, 'must be a finite number (unix seconds)');
    f64[0] = value;
    this.record[at] = f64Words[0]!;
    this.record[at + 1] = f64Words[1]!;
  }

  private putSa(at: number, field: string, sa: SaSet | undefined): void {
    const r = this.record;
    if (sa === undefined) {
      r.fill(0, at, at + 18);
      r[uePortsOf(at)] = 0;
      return;
    }
    if (typeof sa !== 'object' || sa === null) invalid(field, 'must be an SA set object');
    r[at + SA_SPI_UC] = u32(`${field}.spiUc`, sa.spiUc);
    r[at + SA_SPI_US] = u32(`${field}.spiUs`, sa.spiUs);
    r[at + SA_SPI_PC] = u32(`${field}.spiPc`, sa.spiPc);
    r[at + SA_SPI_PS] = u32(`${field}.spiPs`, sa.spiPs);
    r[uePortsOf(at)] = port(`${field}.portUc`, sa.portUc) | (port(`${field}.portUs`, sa.portUs) << 16);
    r[at + SA_PORTS_P] = port(`${field}.portPc`, sa.portPc) | (port(`${field}.portPs`, sa.portPs) << 16);
    r[at + SA_ALGS] = enumIndex(`${field}.alg`, AUTH_ALGS, sa.alg) | (enumIndex(`${field}.ealg`, ENC_ALGS, sa.ealg) << 8);
    this.recordBytes.set(digest32(`${field}.clientDigest`, sa.clientDigest), (at + SA_DIGEST) * 4);
    this.putTime(at + SA_CREATED, `${field}.createdAt`, sa.createdAt);
    this.putTime(at + SA_CONFIRMED, `${field}.confirmedAt`, sa.confirmedAt);
  }

  /** The SA set at `at`, with a copy of its digest. */
  private sa(at: number): SaSet {
    const sa = { clientDigest: this.recordBytes.slice((at + SA_DIGEST) * 4, (at + SA_DIGEST) * 4 + 32) } as SaSet;
    fillSaNumbers(sa, this.record, at);
    return sa;
  }
}

/** The numeric part of a record, read without materialising strings or digests (ContactTable.peek). */
export class SaPeek {
  spiUc = 0;
  spiUs = 0;
  portUc = 0;
  portUs = 0;
  spiPc = 0;
  spiPs = 0;
  portPc = 0;
  portPs = 0;
  alg: AuthAlg = 'null';
  ealg: EncAlg = 'null';
  createdAt = 0;
  confirmedAt = 0;
}

export class BindingPeek {
  state: BindingState = 'pending';
  transport: 'udp' | 'tcp' = 'udp';
  receivedPort = 0;
  viaPort = 0;
  contactPort = 0;
  expiresAt = 0;
  createdAt = 0;
  updatedAt = 0;
  hasSa = false;
  hasPreviousSa = false;
  /** Meaningful only when hasSa / hasPreviousSa. */
  readonly sa = new SaPeek();
  readonly previousSa = new SaPeek();

  /** Fills this from record words (a consistent private copy). */
  fill(r: Int32Array): void {
    const flags = r[FLAGS]!;
    this.state = BINDING_STATES[(flags >>> STATE_SHIFT) & 3]!;
    this.transport = (flags & TCP) !== 0 ? 'tcp' : 'udp';
    this.receivedPort = r[PORTS]! & 0xffff;
    this.viaPort = r[PORTS]! >>> 16;
    this.contactPort = r[CONTACT_PORT]!;
    this.expiresAt = wordsToTime(r, EXPIRES);
    this.createdAt = wordsToTime(r, CREATED);
    this.updatedAt = wordsToTime(r, UPDATED);
    this.hasSa = (flags & HAS_SA) !== 0;
    this.hasPreviousSa = (flags & HAS_PREV) !== 0;
    fillSaNumbers(this.sa, r, SA);
    fillSaNumbers(this.previousSa, r, PREV);
  }
}

/** Fills the numbers of the SA set at `at` into a SaPeek or a SaSet. */
function fillSaNumbers(p: Omit<SaSet, 'clientDigest'>, r: Int32Array, at: number): void {
  p.spiUc = r[at + SA_SPI_UC]! >>> 0;
  p.spiUs = r[at + SA_SPI_US]! >>> 0;
  p.spiPc = r[at + SA_SPI_PC]! >>> 0;
  p.spiPs = r[at + SA_SPI_PS]! >>> 0;
  p.portUc = r[uePortsOf(at)]! & 0xffff;
  p.portUs = r[uePortsOf(at)]! >>> 16;
  p.portPc = r[at + SA_PORTS_P]! & 0xffff;
  p.portPs = r[at + SA_PORTS_P]! >>> 16;
  p.alg = AUTH_ALGS[r[at + SA_ALGS]! & 0xff] as AuthAlg;
  p.ealg = ENC_ALGS[(r[at + SA_ALGS]! >>> 8) & 0xff] as EncAlg;
  p.createdAt = wordsToTime(r, at + SA_CREATED);
  p.confirmedAt = wordsToTime(r, at + SA_CONFIRMED);
}

export function wordsToTime(r: Int32Array, at: number): number {
  f64Words[0] = r[at]!;
  f64Words[1] = r[at + 1]!;
  return f64[0]!;
}

/**
 * Writes `value` as UTF-8 at `target[offset..]`, zero-padded to a word boundary; host names are
 * normalised (lower case, IPv6 brackets removed). Returns the byte length, or -1 if it exceeds
 * `limit`. Used both to build blobs and to encode lookup keys, so both sides compare equal.
 */
export function encodeKey(target: Uint8Array, offset: number, value: string, host: boolean, limit: number): number {
  let n: number;
  if (host) {
    n = encodeHost(target, offset, value, limit);
  } else {
    // Room for one byte past the limit, so that a longer value shows as written > limit.
    const room = offset === 0 && target.length === limit + 1 ? target : target.subarray(offset, offset + limit + 1);
    const { read, written } = utf8.encodeInto(value, room);
    n = read < value.length || written > limit ? -1 : written;
  }
  if (n >= 0) for (let pad = n; (pad & 3) !== 0; pad++) target[offset + pad] = 0;
  return n;
}

/** Host names are short and ASCII (RFC 3261 §25.1 hostname / IPv4 / IPv6 reference): normalise
 * and copy them in one pass; anything else takes the general path. */
function encodeHost(target: Uint8Array, offset: number, value: string, limit: number): number {
  let from = 0;
  let to = value.length;
  if (to >= 2 && value.charCodeAt(0) === 0x5b && value.charCodeAt(to - 1) === 0x5d) {
    from = 1;
    to--;
  }
  if (to - from > limit) return -1;
  for (let i = from; i < to; i++) {
    let c = value.charCodeAt(i);
    if (c >= 0x80) {
      const text = value.slice(from, to).toLowerCase();
      const { read, written } = utf8.encodeInto(text, target.subarray(offset, offset + limit + 1));
      return read < text.length || written > limit ? -1 : written;
    }
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    target[offset + i - from] = c;
  }
  return to - from;
}

/** MurmurHash3 (x86, 32-bit) over whole words; keys are zero-padded so equal strings hash equal. */
export function hashWords(words: Int32Array, from: number, count: number): number {
  let h = 0x9747b28c;
  for (let i = from; i < from + count; i++) {
    let k = Math.imul(words[i]!, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  return mix32(h ^ count);
}

/** MurmurHash3's finaliser: spreads every input bit over the whole word (SPI keys, final hashes). */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

function invalid(field: string, why: string): never {
  throw new SharedStateError('FIELD_INVALID', `${field} ${why}`);
}

export function corrupt(why: string): never {
  throw new SharedStateError('SHARED_STATE_CORRUPT', `contact table: ${why}`);
}

function enumIndex<T extends string>(field: string, values: readonly T[], value: unknown): number {
  const i = values.indexOf(value as T);
  if (i < 0) invalid(field, `must be one of ${values.join(', ')}, got ${String(value)}`);
  return i;
}

function port(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) invalid(field, 'must be a port number 0-65535');
  return value;
}

function u32(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) invalid(field, 'must be a u32 integer');
  return value | 0;
}

function digest32(field: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== 32) invalid(field, 'must be a Uint8Array of 32 bytes');
  return value;
}

function stringList(field: string, value: unknown, max: number): readonly unknown[] {
  if (!Array.isArray(value)) invalid(field, 'must be an array of strings');
  if (value.length > max) throw new SharedStateError('FIELD_TOO_LONG', `${field} has ${value.length} entries, at most ${max} are kept`);
  return value;
}
