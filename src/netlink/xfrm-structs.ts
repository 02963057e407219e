// The fixed structs of NETLINK_XFRM (include/uapi/linux/xfrm.h), x86-64 layout. Each has its C
// definition, a size constant and an encode/decode pair that are exact inverses. Values are in
// kernel terms (AF_* families, host-order ports and SPIs: the codec does the byte swapping);
// the records a user thinks in live in xfrm-types.ts.

import { XfrmRecordError } from './errors.js';
import { readIPv4, readIPv6, writeIPv4, writeIPv6 } from './inet.js';
import { writeI32LE, writeU16BE, writeU16LE, writeU32BE, writeU32LE, writeU8, zeroBytes } from './wire.js';

export const AF_INET = 2;
export const AF_INET6 = 10;

/** The "no limit" value of the u64 lifetime fields. */
export const XFRM_INF = 0xffffffffffffffffn;

// u64 fields as two u32 stores: writeBigUInt64LE costs ~10x more, and this runs for every op.
function writeU64(buf: Buffer, off: number, v: bigint): void {
  if (v === 0n) {
    writeU32LE(buf, off, 0);
    writeU32LE(buf, off + 4, 0);
  } else if (v === XFRM_INF) {
    writeU32LE(buf, off, 0xffffffff);
    writeU32LE(buf, off + 4, 0xffffffff);
  } else {
    buf.writeBigUInt64LE(v, off);
  }
}

/*
 * typedef union {
 *   __be32          a4;
 *   __be32          a6[4];
 *   struct in6_addr in6;
 * } xfrm_address_t;
 *
 * Text here: dotted IPv4 for AF_INET, RFC 5952 IPv6 for AF_INET6, '' for any other family
 * (all zero bytes).
 */
export const SIZEOF_XFRM_ADDRESS = 16;

export function encodeXfrmAddress(buf: Buffer, off: number, family: number, text: string, field: string): void {
  if (family === AF_INET6) {
    writeIPv6(buf, off, text, field);
    return;
  }
  if (family === AF_INET) writeIPv4(buf, off, text, field);
  else if (text === '') zeroBytes(buf, off, off + 4);
  else throw new XfrmRecordError(field, `an address needs family AF_INET or AF_INET6, got ${family}`);
  zeroBytes(buf, off + 4, off + 16);
}

export function decodeXfrmAddress(buf: Buffer, off: number, family: number): string {
  if (family === AF_INET) return readIPv4(buf, off);
  if (family === AF_INET6) return readIPv6(buf, off);
  return '';
}

/*
 * struct xfrm_selector {
 *   xfrm_address_t daddr;          0
 *   xfrm_address_t saddr;          16
 *   __be16  dport;                 32
 *   __be16  dport_mask;            34
 *   __be16  sport;                 36
 *   __be16  sport_mask;            38
 *   __u16   family;                40
 *   __u8    prefixlen_d;           42
 *   __u8    prefixlen_s;           43
 *   __u8    proto;                 44  (0 = any)
 *   int     ifindex;               48
 *   __kernel_uid32_t user;         52  (host order; `ip -s xfrm` prints it as "uid")
 * };                               56
 */
export const SIZEOF_XFRM_SELECTOR = 56;

export interface XfrmSelectorStruct {
  daddr: string;
  saddr: string;
  dport: number;
  dportMask: number;
  sport: number;
  sportMask: number;
  family: number;
  prefixlenD: number;
  prefixlenS: number;
  proto: number;
  ifindex: number;
  user: number;
}

export function encodeXfrmSelector(buf: Buffer, off: number, s: XfrmSelectorStruct): void {
  encodeXfrmAddress(buf, off, s.family, s.daddr, 'selector.daddr');
  encodeXfrmAddress(buf, off + 16, s.family, s.saddr, 'selector.saddr');
  writeU16BE(buf, off + 32, s.dport);
  writeU16BE(buf, off + 34, s.dportMask);
  writeU16BE(buf, off + 36, s.sport);
  writeU16BE(buf, off + 38, s.sportMask);
  writeU16LE(buf, off + 40, s.family);
  writeU8(buf, off + 42, s.prefixlenD);
  writeU8(buf, off + 43, s.prefixlenS);
  writeU8(buf, off + 44, s.proto);
  buf[off + 45] = 0;
  buf[off + 46] = 0;
  buf[off + 47] = 0;
  writeI32LE(buf, off + 48, s.ifindex);
  writeU32LE(buf, off + 52, s.user);
}

export function decodeXfrmSelector(buf: Buffer, off: number): XfrmSelectorStruct {
  const family = buf.readUInt16LE(off + 40);
  return {
    daddr: decodeXfrmAddress(buf, off, family),
    saddr: decodeXfrmAddress(buf, off + 16, family),
    dport: buf.readUInt16BE(off + 32),
    dportMask: buf.readUInt16BE(off + 34),
    sport: buf.readUInt16BE(off + 36),
    sportMask: buf.readUInt16BE(off + 38),
    family,
    prefixlenD: buf[off + 42]!,
    prefixlenS: buf[off + 43]!,
    proto: buf[off + 44]!,
    ifindex: buf.readInt32LE(off + 48),
    user: buf.readUInt32LE(off + 52),
  };
}

/*
 * struct xfrm_id {
 *   xfrm_address_t daddr;          0
 *   __be32         spi;            16
 *   __u8           proto;          20
 * };                               24
 * (daddr's family is that of the enclosing struct)
 */
export const SIZEOF_XFRM_ID = 24;

export interface XfrmIdStruct {
  daddr: string;
  spi: number;
  proto: number;
}

export function encodeXfrmId(buf: Buffer, off: number, family: number, id: XfrmIdStruct): void {
  encodeXfrmAddress(buf, off, family, id.daddr, 'id.daddr');
  writeU32BE(buf, off + 16, id.spi);
  writeU8(buf, off + 20, id.proto);
  zeroBytes(buf, off + 21, off + 24);
}

export function decodeXfrmId(buf: Buffer, off: number, family: number): XfrmIdStruct {
  return { daddr: decodeXfrmAddress(buf, off, family), spi: buf.readUInt32BE(off + 16), proto: buf[off + 20]! };
}

/*
 * struct xfrm_lifetime_cfg {
 *   __u64 soft_byte_limit, hard_byte_limit;                      0, 8
 *   __u64 soft_packet_limit, hard_packet_limit;                  16, 24
 *   __u64 soft_add_expires_seconds, hard_add_expires_seconds;    32, 40
 *   __u64 soft_use_expires_seconds, hard_use_expires_seconds;    48, 56
 * };                                                             64
 */
export const SIZEOF_XFRM_LIFETIME_CFG = 64;

export interface XfrmLifetimeCfg {
  softByteLimit: bigint;
  hardByteLimit: bigint;
  softPacketLimit: bigint;
  hardPacketLimit: bigint;
  softAddExpiresSeconds: bigint;
  hardAddExpiresSeconds: bigint;
  softUseExpiresSeconds: bigint;
  hardUseExpiresSeconds: bigint;
}

/** No byte or packet limit and no expiry: what the SAs and policies of a registration use (kamailio-behaviour.md §10.1). */
export const LIFETIME_INFINITE: Readonly<XfrmLifetimeCfg> = Object.freeze({
  softByteLimit: XFRM_INF,
  hardByteLimit: XFRM_INF,
  softPacketLimit: XFRM_INF,
  hardPacketLimit: XFRM_INF,
  softAddExpiresSeconds: 0n,
  hardAddExpiresSeconds: 0n,
  softUseExpiresSeconds: 0n,
  hardUseExpiresSeconds: 0n,
});

/** LIFETIME_INFINITE on the wire: the four limits all ones, the four expiries zero. */
const LIFETIME_INFINITE_BYTES = Buffer.alloc(SIZEOF_XFRM_LIFETIME_CFG).fill(0xff, 0, 32);

export function encodeXfrmLifetimeCfg(buf: Buffer, off: number, l: XfrmLifetimeCfg): void {
  if (l === LIFETIME_INFINITE) {
    buf.set(LIFETIME_INFINITE_BYTES, off);
    return;
  }
  writeU64(buf, off, l.softByteLimit);
  writeU64(buf, off + 8, l.hardByteLimit);
  writeU64(buf, off + 16, l.softPacketLimit);
  writeU64(buf, off + 24, l.hardPacketLimit);
  writeU64(buf, off + 32, l.softAddExpiresSeconds);
  writeU64(buf, off + 40, l.hardAddExpiresSeconds);
  writeU64(buf, off + 48, l.softUseExpiresSeconds);
  writeU64(buf, off + 56, l.hardUseExpiresSeconds);
}

export function decodeXfrmLifetimeCfg(buf: Buffer, off: number): XfrmLifetimeCfg {
  return {
    softByteLimit: buf.readBigUInt64LE(off),
    hardByteLimit: buf.readBigUInt64LE(off + 8),
    softPacketLimit: buf.readBigUInt64LE(off + 16),
    hardPacketLimit: buf.readBigUInt64LE(off + 24),
    softAddExpiresSeconds: buf.readBigUInt64LE(off + 32),
    hardAddExpiresSeconds: buf.readBigUInt64LE(off + 40),
    softUseExpiresSeconds: buf.readBigUInt64LE(off + 48),
    hardUseExpiresSeconds: buf.readBigUInt64LE(off + 56),
  };
}

/*
 * struct xfrm_lifetime_cur {
 *   __u64 bytes;       0
 *   __u64 packets;     8
 *   __u64 add_time;    16
 *   __u64 use_time;    24
 * };                   32
 */
export const SIZEOF_XFRM_LIFETIME_CUR = 32;

export interface XfrmLifetimeCur {
  bytes: bigint;
  packets: bigint;
  addTime: bigint;
  useTime: bigint;
}

export const LIFETIME_CUR_ZERO: Readonly<XfrmLifetimeCur> = Object.freeze({ bytes: 0n, packets: 0n, addTime: 0n, useTime: 0n });
const ZERO_32 = Buffer.alloc(32);

export function encodeXfrmLifetimeCur(buf: Buffer, off: number, c: XfrmLifetimeCur): void {
  if (c === LIFETIME_CUR_ZERO) {
    buf.set(ZERO_32, off);
    return;
  }
  writeU64(buf, off, c.bytes);
  writeU64(buf, off + 8, c.packets);
  writeU64(buf, off + 16, c.addTime);
  writeU64(buf, off + 24, c.useTime);
}

export function decodeXfrmLifetimeCur(buf: Buffer, off: number): XfrmLifetimeCur {
  return {
    bytes: buf.readBigUInt64LE(off),
    packets: buf.readBigUInt64LE(off + 8),
    addTime: buf.readBigUInt64LE(off + 16),
    useTime: buf.readBigUInt64LE(off + 24),
  };
}

/*
 * struct xfrm_stats {
 *   __u32 replay_window;       0
 *   __u32 replay;              4
 *   __u32 integrity_failed;    8
 * };                           12
 */
export const SIZEOF_XFRM_STATS = 12;

export interface XfrmStats {
  replayWindow: number;
  replay: number;
  integrityFailed: number;
}

export const STATS_ZERO: Readonly<XfrmStats> = Object.freeze({ replayWindow: 0, replay: 0, integrityFailed: 0 });

export function encodeXfrmStats(buf: Buffer, off: number, s: XfrmStats): void {
  writeU32LE(buf, off, s.replayWindow);
  writeU32LE(buf, off + 4, s.replay);
  writeU32LE(buf, off + 8, s.integrityFailed);
}

export function decodeXfrmStats(buf: Buffer, off: number): XfrmStats {
  return { replayWindow: buf.readUInt32LE(off), replay: buf.readUInt32LE(off + 4), integrityFailed: buf.readUInt32LE(off + 8) };
}

/*
 * struct xfrm_usersa_info {
 *   struct xfrm_selector      sel;             0
 *   struct xfrm_id            id;              56
 *   xfrm_address_t            saddr;           80
 *   struct xfrm_lifetime_cfg  lft;             96
 *   struct xfrm_lifetime_cur  curlft;          160
 *   struct xfrm_stats         stats;           192
 *   __u32                     seq;             204
 *   __u32                     reqid;           208
 *   __u16                     family;          212
 *   __u8                      mode;            214  (XFRM_MODE_TRANSPORT 0, TUNNEL 1)
 *   __u8                      replay_window;   215
 *   __u8                      flags;           216
 * };                                           224
 */
export const SIZEOF_XFRM_USERSA_INFO = 224;

export interface XfrmUsersaInfo {
  sel: XfrmSelectorStruct;
  id: XfrmIdStruct;
  saddr: string;
  lft: XfrmLifetimeCfg;
  curlft: XfrmLifetimeCur;
  stats: XfrmStats;
  seq: number;
  reqid: number;
  family: number;
  mode: number;
  replayWindow: number;
  flags: number;
}

export function encodeXfrmUsersaInfo(buf: Buffer, off: number, s: XfrmUsersaInfo): void {
  encodeXfrmSelector(buf, off, s.sel);
  encodeXfrmId(buf, off + 56, s.family, s.id);
  encodeXfrmAddress(buf, off + 80, s.family, s.saddr, 'saddr');
  encodeXfrmLifetimeCfg(buf, off + 96, s.lft);
  encodeXfrmLifetimeCur(buf, off + 160, s.curlft);
  encodeXfrmStats(buf, off + 192, s.stats);
  writeU32LE(buf, off + 204, s.seq);
  writeU32LE(buf, off + 208, s.reqid);
  writeU16LE(buf, off + 212, s.family);
  writeU8(buf, off + 214, s.mode);
  writeU8(buf, off + 215, s.replayWindow);
  writeU8(buf, off + 216, s.flags);
  zeroBytes(buf, off + 217, off + 224);
}

export function decodeXfrmUsersaInfo(buf: Buffer, off: number): XfrmUsersaInfo {
  const family = buf.readUInt16LE(off + 212);
  return {
    sel: decodeXfrmSelector(buf, off),
    id: decodeXfrmId(buf, off + 56, family),
    saddr: decodeXfrmAddress(buf, off + 80, family),
    lft: decodeXfrmLifetimeCfg(buf, off + 96),
    curlft: decodeXfrmLifetimeCur(buf, off + 160),
    stats: decodeXfrmStats(buf, off + 192),
    seq: buf.readUInt32LE(off + 204),
    reqid: buf.readUInt32LE(off + 208),
    family,
    mode: buf[off + 214]!,
    replayWindow: buf[off + 215]!,
    flags: buf[off + 216]!,
  };
}

/*
 * struct xfrm_usersa_id {
 *   xfrm_address_t daddr;      0
 *   __be32         spi;        16
 *   __u16          family;     20
 *   __u8           proto;      22
 * };                           24
 */
export const SIZEOF_XFRM_USERSA_ID = 24;

export interface XfrmUsersaId {
  daddr: string;
  spi: number;
  family: number;
  proto: number;
}

export function encodeXfrmUsersaId(buf: Buffer, off: number, s: XfrmUsersaId): void {
  encodeXfrmAddress(buf, off, s.family, s.daddr, 'daddr');
  writeU32BE(buf, off + 16, s.spi);
  writeU16LE(buf, off + 20, s.family);
  writeU8(buf, off + 22, s.proto);
  buf[off + 23] = 0;
}

export function decodeXfrmUsersaId(buf: Buffer, off: number): XfrmUsersaId {
  const family = buf.readUInt16LE(off + 20);
  return { daddr: decodeXfrmAddress(buf, off, family), spi: buf.readUInt32BE(off + 16), family, proto: buf[off + 22]! };
}

/*
 * struct xfrm_userpolicy_info {
 *   struct xfrm_selector      sel;         0
 *   struct xfrm_lifetime_cfg  lft;         56
 *   struct xfrm_lifetime_cur  curlft;      120
 *   __u32                     priority;    152
 *   __u32                     index;       156
 *   __u8                      dir;         160  (XFRM_POLICY_IN 0, OUT 1, FWD 2)
 *   __u8                      action;      161  (XFRM_POLICY_ALLOW 0, BLOCK 1)
 *   __u8                      flags;       162
 *   __u8                      share;       163
 * };                                       168
 */
export const SIZEOF_XFRM_USERPOLICY_INFO = 168;

export interface XfrmUserpolicyInfo {
  sel: XfrmSelectorStruct;
  lft: XfrmLifetimeCfg;
  curlft: XfrmLifetimeCur;
  priority: number;
  index: number;
  dir: number;
  action: number;
  flags: number;
  share: number;
}

export function encodeXfrmUserpolicyInfo(buf: Buffer, off: number, p: XfrmUserpolicyInfo): void {
  encodeXfrmSelector(buf, off, p.sel);
  encodeXfrmLifetimeCfg(buf, off + 56, p.lft);
  encodeXfrmLifetimeCur(buf, off + 120, p.curlft);
  writeU32LE(buf, off + 152, p.priority);
  writeU32LE(buf, off + 156, p.index);
  writeU8(buf, off + 160, p.dir);
  writeU8(buf, off + 161, p.action);
  writeU8(buf, off + 162, p.flags);
  writeU8(buf, off + 163, p.share);
  zeroBytes(buf, off + 164, off + 168);
}

export function decodeXfrmUserpolicyInfo(buf: Buffer, off: number): XfrmUserpolicyInfo {
  return {
    sel: decodeXfrmSelector(buf, off),
    lft: decodeXfrmLifetimeCfg(buf, off + 56),
    curlft: decodeXfrmLifetimeCur(buf, off + 120),
    priority: buf.readUInt32LE(off + 152),
    index: buf.readUInt32LE(off + 156),
    dir: buf[off + 160]!,
    action: buf[off + 161]!,
    flags: buf[off + 162]!,
    share: buf[off + 163]!,
  };
}

/*
 * struct xfrm_userpolicy_id {
 *   struct xfrm_selector sel;      0
 *   __u32                index;    56
 *   __u8                 dir;      60
 * };                               64
 */
export const SIZEOF_XFRM_USERPOLICY_ID = 64;

export interface XfrmUserpolicyId {
  sel: XfrmSelectorStruct;
  index: number;
  dir: number;
}

export function encodeXfrmUserpolicyId(buf: Buffer, off: number, p: XfrmUserpolicyId): void {
  encodeXfrmSelector(buf, off, p.sel);
  writeU32LE(buf, off + 56, p.index);
  writeU8(buf, off + 60, p.dir);
  zeroBytes(buf, off + 61, off + 64);
}

export function decodeXfrmUserpolicyId(buf: Buffer, off: number): XfrmUserpolicyId {
  return { sel: decodeXfrmSelector(buf, off), index: buf.readUInt32LE(off + 56), dir: buf[off + 60]! };
}

/*
 * struct xfrm_user_tmpl {
 *   struct xfrm_id  id;          0
 *   __u16           family;      24
 *   xfrm_address_t  saddr;       28
 *   __u32           reqid;       44
 *   __u8            mode;        48
 *   __u8            share;       49
 *   __u8            optional;    50
 *   __u32           aalgos;      52
 *   __u32           ealgos;      56
 *   __u32           calgos;      60
 * };                             64
 */
export const SIZEOF_XFRM_USER_TMPL = 64;

export interface XfrmUserTmpl {
  id: XfrmIdStruct;
  family: number;
  saddr: string;
  reqid: number;
  mode: number;
  share: number;
  optional: number;
  aalgos: number;
  ealgos: number;
  calgos: number;
}

export function encodeXfrmUserTmpl(buf: Buffer, off: number, t: XfrmUserTmpl): void {
  encodeXfrmId(buf, off, t.family, t.id);
  writeU16LE(buf, off + 24, t.family);
  zeroBytes(buf, off + 26, off + 28);
  encodeXfrmAddress(buf, off + 28, t.family, t.saddr, 'tmpl.saddr');
  writeU32LE(buf, off + 44, t.reqid);
  writeU8(buf, off + 48, t.mode);
  writeU8(buf, off + 49, t.share);
  writeU8(buf, off + 50, t.optional);
  buf[off + 51] = 0;
  writeU32LE(buf, off + 52, t.aalgos);
  writeU32LE(buf, off + 56, t.ealgos);
  writeU32LE(buf, off + 60, t.calgos);
}

export function decodeXfrmUserTmpl(buf: Buffer, off: number): XfrmUserTmpl {
  const family = buf.readUInt16LE(off + 24);
  return {
    id: decodeXfrmId(buf, off, family),
    family,
    saddr: decodeXfrmAddress(buf, off + 28, family),
    reqid: buf.readUInt32LE(off + 44),
    mode: buf[off + 48]!,
    share: buf[off + 49]!,
    optional: buf[off + 50]!,
    aalgos: buf.readUInt32LE(off + 52),
    ealgos: buf.readUInt32LE(off + 56),
    calgos: buf.readUInt32LE(off + 60),
  };
}

/*
 * struct xfrm_algo {
 *   char         alg_name[64];     0   NUL-terminated kernel crypto name
 *   unsigned int alg_key_len;      64  in bits
 *   char         alg_key[];        68
 * };
 * struct xfrm_algo_auth {
 *   char         alg_name[64];
 *   unsigned int alg_key_len;      64  in bits
 *   unsigned int alg_trunc_len;    68  in bits
 *   char         alg_key[];        72
 * };
 * struct xfrm_algo_aead {
 *   char         alg_name[64];
 *   unsigned int alg_key_len;      64  in bits
 *   unsigned int alg_icv_len;      68  in bits
 *   char         alg_key[];        72
 * };
 * The key takes ceil(alg_key_len / 8) bytes (Kamailio declares 8x that: §10.1; we do not).
 */
export const SIZEOF_XFRM_ALGO = 68;
export const SIZEOF_XFRM_ALGO_AUTH = 72;
export const SIZEOF_XFRM_ALGO_AEAD = 72;
export const XFRM_ALGO_NAME_MAX = 64;

export interface XfrmAlgo {
  name: string;
  keyBits: number;
  key: Uint8Array;
}

/** `truncBits` (xfrm_algo_auth) or `icvBits` (xfrm_algo_aead): the second u32 of both. */
export interface XfrmAlgoAuth extends XfrmAlgo {
  truncBits: number;
}

export interface XfrmAlgoAead extends XfrmAlgo {
  icvBits: number;
}

const keyBytes = (bits: number): number => (bits + 7) >>> 3;

export const sizeofXfrmAlgo = (a: XfrmAlgo): number => SIZEOF_XFRM_ALGO + keyBytes(a.keyBits);
export const sizeofXfrmAlgoAuth = (a: XfrmAlgo): number => SIZEOF_XFRM_ALGO_AUTH + keyBytes(a.keyBits);
export const sizeofXfrmAlgoAead = sizeofXfrmAlgoAuth;

function encodeAlgoName(buf: Buffer, off: number, name: string, field: string): void {
  buf.fill(0, off, off + XFRM_ALGO_NAME_MAX);
  if (Buffer.byteLength(name) >= XFRM_ALGO_NAME_MAX) throw new XfrmRecordError(field, `algorithm name longer than 63 bytes: ${name}`);
  buf.write(name, off, 'latin1');
}

function decodeAlgoName(buf: Buffer, off: number): string {
  const nul = buf.indexOf(0, off);
  return buf.toString('latin1', off, nul >= 0 && nul < off + XFRM_ALGO_NAME_MAX ? nul : off + XFRM_ALGO_NAME_MAX);
}

/** Longest key accepted (512 bits: more than any ESP algorithm here needs; bounds the message size). */
export const XFRM_ALGO_KEY_MAX = 64;

function encodeAlgoKey(buf: Buffer, off: number, a: XfrmAlgo, field: string): number {
  const n = keyBytes(a.keyBits);
  if (a.key.length !== n) throw new XfrmRecordError(field, `key is ${a.key.length} bytes, ${a.keyBits} bits need ${n}`);
  if (n > XFRM_ALGO_KEY_MAX) throw new XfrmRecordError(field, `key of ${n} bytes is longer than ${XFRM_ALGO_KEY_MAX}`);
  buf.set(a.key, off);
  return off + n;
}

/** Encodes an xfrm_algo; returns the offset after the key. */
export function encodeXfrmAlgo(buf: Buffer, off: number, a: XfrmAlgo, field = 'algo'): number {
  encodeAlgoName(buf, off, a.name, field);
  writeU32LE(buf, off + 64, a.keyBits);
  return encodeAlgoKey(buf, off + 68, a, field);
}

export function decodeXfrmAlgo(buf: Buffer, off: number): XfrmAlgo {
  const keyBits = buf.readUInt32LE(off + 64);
  return { name: decodeAlgoName(buf, off), keyBits, key: Buffer.from(buf.subarray(off + 68, off + 68 + keyBytes(keyBits))) };
}

export function encodeXfrmAlgoAuth(buf: Buffer, off: number, a: XfrmAlgoAuth, field = 'auth'): number {
  encodeAlgoName(buf, off, a.name, field);
  writeU32LE(buf, off + 64, a.keyBits);
  writeU32LE(buf, off + 68, a.truncBits);
  return encodeAlgoKey(buf, off + 72, a, field);
}

export function decodeXfrmAlgoAuth(buf: Buffer, off: number): XfrmAlgoAuth {
  const keyBits = buf.readUInt32LE(off + 64);
  return {
    name: decodeAlgoName(buf, off),
    keyBits,
    truncBits: buf.readUInt32LE(off + 68),
    key: Buffer.from(buf.subarray(off + 72, off + 72 + keyBytes(keyBits))),
  };
}

export function encodeXfrmAlgoAead(buf: Buffer, off: number, a: XfrmAlgoAead, field = 'aead'): number {
  return encodeXfrmAlgoAuth(buf, off, { name: a.name, keyBits: a.keyBits, truncBits: a.icvBits, key: a.key }, field);
}

export function decodeXfrmAlgoAead(buf: Buffer, off: number): XfrmAlgoAead {
  const { truncBits, ...rest } = decodeXfrmAlgoAuth(buf, off);
  return { ...rest, icvBits: truncBits };
}
