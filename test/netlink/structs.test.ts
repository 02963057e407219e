// Byte level: the UAPI struct sizes of x86-64, encode/decode exact inverses for every struct and
// message part, and encoders that write every byte they own. (That the layouts match the
// kernel's is checked against the kernel in policies.test.ts and test/esp/.)

import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readIPv4, readIPv6, writeIPv4, writeIPv6 } from '../../src/netlink/inet.js';
import {
  decodeNlAttrs, decodeNlMsgDone, decodeNlMsgErr, decodeNlMsgHdr, encodeNlAttr, encodeNlMsgDone, encodeNlMsgErr,
  encodeNlMsgHdr, NLM_F_ACK_TLVS, NLM_F_CAPPED, NlWriter, SIZEOF_NLMSGERR, SIZEOF_NLMSGHDR,
} from '../../src/netlink/nlmsg.js';
import * as S from '../../src/netlink/xfrm-structs.js';
import { decodePolicy, decodeSa, encodeOps, writeOp } from '../../src/netlink/xfrm.js';
import type { XfrmOp, XfrmPolicy, XfrmSa } from '../../src/netlink/xfrm-types.js';

// Plain objects (fast-check's default is null-prototype, which uvu's deep equality tells apart).
const rec = <T extends Record<string, fc.Arbitrary<unknown>>>(model: T): fc.Arbitrary<{ [K in keyof T]: T[K] extends fc.Arbitrary<infer U> ? U : never }> =>
  fc.record(model, { noNullPrototype: true }) as never;
const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u64 = fc.bigInt({ min: 0n, max: S.XFRM_INF });
const v4 = fc.ipV4();
const v6 = fc.ipV6().map((a) => {
  const b = Buffer.alloc(16);
  writeIPv6(b, 0, a, 'x');
  return readIPv6(b, 0); // canonical text, as decode produces it
});
const famAddr = fc.oneof(
  rec({ family: fc.constant(S.AF_INET), a: v4, b: v4 }),
  rec({ family: fc.constant(S.AF_INET6), a: v6, b: v6 }),
);
const selector = famAddr.chain(({ family, a, b }) => rec({
  daddr: fc.constant(a), saddr: fc.constant(b), dport: u16, dportMask: u16, sport: u16, sportMask: u16,
  family: fc.constant(family), prefixlenD: u8, prefixlenS: u8, proto: u8, ifindex: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), user: u32,
}));
const lifetimeCfg = rec({
  softByteLimit: u64, hardByteLimit: u64, softPacketLimit: u64, hardPacketLimit: u64,
  softAddExpiresSeconds: u64, hardAddExpiresSeconds: u64, softUseExpiresSeconds: u64, hardUseExpiresSeconds: u64,
});
const lifetimeCur = rec({ bytes: u64, packets: u64, addTime: u64, useTime: u64 });
const stats = rec({ replayWindow: u32, replay: u32, integrityFailed: u32 });
const algoName = fc.stringMatching(/^[a-z0-9()_]{1,63}$/);
const key = fc.uint8Array({ maxLength: 40 }).map((k) => Buffer.from(k));

/** Encodes into a buffer prefilled with `fill`, so an unwritten byte would show. */
function bytesOf(size: number, fill: number, enc: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(size + 8, fill);
  enc(b);
  return b.subarray(0, size);
}

function roundTrip<T>(name: string, arb: fc.Arbitrary<T>, size: (v: T) => number, enc: (b: Buffer, off: number, v: T) => void, dec: (b: Buffer, off: number) => T): void {
  test(`${name}: decode(encode(x)) = x and every byte is written`, () => {
    fc.assert(fc.property(arb, (v) => {
      const a = bytesOf(size(v) + 4, 0x00, (b) => enc(b, 4, v));
      const b = bytesOf(size(v) + 4, 0xff, (b) => enc(b, 4, v));
      assert.equal(a.subarray(4), b.subarray(4), 'an encoder left a byte unwritten');
      assert.equal(dec(a, 4), v);
    }), { numRuns: 200 });
  });
}

test('x86-64 UAPI sizes', () => {
  assert.is(SIZEOF_NLMSGHDR, 16);
  assert.is(SIZEOF_NLMSGERR, 20);
  assert.is(S.SIZEOF_XFRM_ADDRESS, 16);
  assert.is(S.SIZEOF_XFRM_SELECTOR, 56);
  assert.is(S.SIZEOF_XFRM_ID, 24);
  assert.is(S.SIZEOF_XFRM_LIFETIME_CFG, 64);
  assert.is(S.SIZEOF_XFRM_LIFETIME_CUR, 32);
  assert.is(S.SIZEOF_XFRM_STATS, 12);
  assert.is(S.SIZEOF_XFRM_USERSA_INFO, 224);
  assert.is(S.SIZEOF_XFRM_USERSA_ID, 24);
  assert.is(S.SIZEOF_XFRM_USERPOLICY_INFO, 168);
  assert.is(S.SIZEOF_XFRM_USERPOLICY_ID, 64);
  assert.is(S.SIZEOF_XFRM_USER_TMPL, 64);
  assert.is(S.SIZEOF_XFRM_ALGO, 68);
  assert.is(S.SIZEOF_XFRM_ALGO_AUTH, 72);
  assert.is(S.SIZEOF_XFRM_ALGO_AEAD, 72);
  assert.is(S.sizeofXfrmAlgo({ name: 'cbc(aes)', keyBits: 128, key: Buffer.alloc(16) }), 68 + 16);
  assert.is(S.sizeofXfrmAlgoAuth({ name: 'hmac(sha1)', keyBits: 160, key: Buffer.alloc(20) }), 72 + 20);
});

roundTrip('nlmsghdr', rec({ len: u32, type: u16, flags: u16, seq: u32, pid: u32 }), () => SIZEOF_NLMSGHDR, encodeNlMsgHdr, decodeNlMsgHdr);
roundTrip('xfrm_selector', selector, () => S.SIZEOF_XFRM_SELECTOR, S.encodeXfrmSelector, S.decodeXfrmSelector);
roundTrip('xfrm_lifetime_cfg', lifetimeCfg, () => S.SIZEOF_XFRM_LIFETIME_CFG, S.encodeXfrmLifetimeCfg, S.decodeXfrmLifetimeCfg);
roundTrip('xfrm_lifetime_cur', lifetimeCur, () => S.SIZEOF_XFRM_LIFETIME_CUR, S.encodeXfrmLifetimeCur, S.decodeXfrmLifetimeCur);
roundTrip('xfrm_stats', stats, () => S.SIZEOF_XFRM_STATS, S.encodeXfrmStats, S.decodeXfrmStats);

test('xfrm_id: exact inverse for a given family', () => {
  fc.assert(fc.property(famAddr, u32, u8, ({ family, a }, spi, proto) => {
    const b = Buffer.alloc(S.SIZEOF_XFRM_ID, 0xff);
    S.encodeXfrmId(b, 0, family, { daddr: a, spi, proto });
    assert.equal(S.decodeXfrmId(b, 0, family), { daddr: a, spi, proto });
  }));
});

roundTrip('xfrm_usersa_info',
  fc.tuple(selector, famAddr).chain(([sel, { family, a, b }]) => rec({
    sel: fc.constant(sel), id: rec({ daddr: fc.constant(a), spi: u32, proto: u8 }), saddr: fc.constant(b),
    lft: lifetimeCfg, curlft: lifetimeCur, stats, seq: u32, reqid: u32, family: fc.constant(family), mode: u8, replayWindow: u8, flags: u8,
  })),
  () => S.SIZEOF_XFRM_USERSA_INFO, S.encodeXfrmUsersaInfo, S.decodeXfrmUsersaInfo);

roundTrip('xfrm_usersa_id',
  famAddr.chain(({ family, a }) => rec({ daddr: fc.constant(a), spi: u32, family: fc.constant(family), proto: u8 })),
  () => S.SIZEOF_XFRM_USERSA_ID, S.encodeXfrmUsersaId, S.decodeXfrmUsersaId);

roundTrip('xfrm_userpolicy_info',
  rec({ sel: selector, lft: lifetimeCfg, curlft: lifetimeCur, priority: u32, index: u32, dir: u8, action: u8, flags: u8, share: u8 }),
  () => S.SIZEOF_XFRM_USERPOLICY_INFO, S.encodeXfrmUserpolicyInfo, S.decodeXfrmUserpolicyInfo);

roundTrip('xfrm_userpolicy_id', rec({ sel: selector, index: u32, dir: u8 }), () => S.SIZEOF_XFRM_USERPOLICY_ID, S.encodeXfrmUserpolicyId, S.decodeXfrmUserpolicyId);

roundTrip('xfrm_user_tmpl',
  famAddr.chain(({ family, a, b }) => rec({
    id: rec({ daddr: fc.constant(a), spi: u32, proto: u8 }), family: fc.constant(family), saddr: fc.constant(b),
    reqid: u32, mode: u8, share: u8, optional: u8, aalgos: u32, ealgos: u32, calgos: u32,
  })),
  () => S.SIZEOF_XFRM_USER_TMPL, S.encodeXfrmUserTmpl, S.decodeXfrmUserTmpl);

roundTrip('xfrm_algo', rec({ name: algoName, key }).map(({ name, key: k }) => ({ name, keyBits: k.length * 8, key: k })),
  S.sizeofXfrmAlgo, (b, off, v) => { S.encodeXfrmAlgo(b, off, v); }, S.decodeXfrmAlgo);
roundTrip('xfrm_algo_auth', rec({ name: algoName, key, truncBits: u32 }).map(({ name, key: k, truncBits }) => ({ name, keyBits: k.length * 8, truncBits, key: k })),
  S.sizeofXfrmAlgoAuth, (b, off, v) => { S.encodeXfrmAlgoAuth(b, off, v); }, S.decodeXfrmAlgoAuth);
roundTrip('xfrm_algo_aead', rec({ name: algoName, key, icvBits: u32 }).map(({ name, key: k, icvBits }) => ({ name, keyBits: k.length * 8, icvBits, key: k })),
  S.sizeofXfrmAlgoAead, (b, off, v) => { S.encodeXfrmAlgoAead(b, off, v); }, S.decodeXfrmAlgoAead);

test('the shared constants encode as their values (they take a faster path)', () => {
  const b = Buffer.alloc(64, 0x5a);
  S.encodeXfrmLifetimeCfg(b, 0, S.LIFETIME_INFINITE);
  assert.equal(S.decodeXfrmLifetimeCfg(b, 0), { ...S.LIFETIME_INFINITE });
  b.fill(0x5a);
  S.encodeXfrmLifetimeCur(b, 0, S.LIFETIME_CUR_ZERO);
  assert.equal(S.decodeXfrmLifetimeCur(b, 0), { ...S.LIFETIME_CUR_ZERO });
});

test('xfrm_algo: a key of the wrong length for alg_key_len is refused, not truncated', () => {
  assert.throws(() => S.encodeXfrmAlgo(Buffer.alloc(200), 0, { name: 'cbc(aes)', keyBits: 128, key: Buffer.alloc(15) }), (e: Error & { code?: string }) => e.code === 'XFRM_INVALID_RECORD');
  assert.throws(() => S.encodeXfrmAlgo(Buffer.alloc(200), 0, { name: 'x'.repeat(64), keyBits: 0, key: Buffer.alloc(0) }), (e: Error & { code?: string }) => e.code === 'XFRM_INVALID_RECORD');
});

test('nlattr TLVs: encode then decode finds every attribute with its payload', () => {
  fc.assert(fc.property(fc.array(rec({ type: fc.integer({ min: 0, max: 0x3fff }), payload: fc.uint8Array({ maxLength: 70 }) }), { maxLength: 8 }), (attrs) => {
    const b = Buffer.alloc(1024, 0xee);
    let off = 0;
    for (const a of attrs) off = encodeNlAttr(b, off, a.type, a.payload);
    assert.is(off % 4, 0);
    const found = decodeNlAttrs(b, 0, off);
    assert.equal(found.map((f) => ({ type: f.type, payload: new Uint8Array(b.subarray(f.offset, f.offset + f.length)) })), attrs.map((a) => ({ type: a.type, payload: new Uint8Array(a.payload) })));
  }));
});

test('nlattr decoding stops at a truncated attribute instead of reading past the end', () => {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(40, 0); // claims 40 bytes, 16 present
  assert.equal(decodeNlAttrs(b, 0, 16), []);
});

test('NLMSG_ERROR with extended ACK: message text and offset decode as encoded (capped and uncapped)', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 133 }), fc.option(fc.stringMatching(/^[ -~]{0,80}$/), { nil: undefined }), fc.option(u32, { nil: undefined }), fc.boolean(),
    (errno, extMessage, extOffset, capped) => {
      const request = { len: capped ? 32 : SIZEOF_NLMSGHDR + 8, type: 19, flags: 0x605, seq: 77, pid: 0 };
      const e = { errno, request, ...(capped ? {} : { echoed: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]) }), ...(extMessage !== undefined ? { extMessage } : {}), ...(extOffset !== undefined ? { extOffset } : {}) };
      const b = Buffer.alloc(512);
      const end = encodeNlMsgErr(b, 0, e);
      const flags = (capped ? NLM_F_CAPPED : 0) | (extMessage !== undefined || extOffset !== undefined ? NLM_F_ACK_TLVS : 0);
      assert.equal(decodeNlMsgErr(b, 0, end, flags), e);
    }));
});

test('NLMSG_DONE: error and ext-ack text', () => {
  for (const d of [{ errno: 0 }, { errno: 22, extMessage: 'bad filter' }]) {
    const b = Buffer.alloc(128);
    const end = encodeNlMsgDone(b, 0, d);
    assert.equal(decodeNlMsgDone(b, 0, end, d.extMessage ? NLM_F_ACK_TLVS : 0), d);
  }
});

test('IPv4 / IPv6 text: parse then print gives the canonical text back; junk is a typed error', () => {
  fc.assert(fc.property(v4, (a) => {
    const b = Buffer.alloc(4);
    writeIPv4(b, 0, a, 'x');
    assert.is(readIPv4(b, 0), a);
  }));
  fc.assert(fc.property(fc.ipV6(), (a) => {
    const b = Buffer.alloc(16);
    writeIPv6(b, 0, a, 'x');
    const again = Buffer.alloc(16);
    writeIPv6(again, 0, readIPv6(b, 0), 'x');
    assert.equal(again, b);
  }));
  const b = Buffer.alloc(16);
  writeIPv6(b, 0, '2001:db8:0:0:1:0:0:1', 'x');
  assert.is(readIPv6(b, 0), '2001:db8::1:0:0:1'); // RFC 5952 4.2.3: the first of two equal zero runs
  for (const bad of ['1.2.3', '1.2.3.256', '1.2.3.4 ', 'x']) assert.throws(() => writeIPv4(b, 0, bad, 'f'), (e: Error & { code?: string }) => e.code === 'XFRM_INVALID_RECORD');
  for (const bad of ['1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0']) assert.throws(() => writeIPv6(b, 0, bad, 'f'), (e: Error & { code?: string }) => e.code === 'XFRM_INVALID_RECORD');
});

const sampleSa: XfrmSa = {
  family: 6, saddr: 'fd00:e5b::1', daddr: 'fd00:e5b::2', spi: 0x1001, proto: 50, reqid: 0x1001, mode: 'transport', replayWindow: 32, flags: 0,
  selector: { family: 6, saddr: 'fd00:e5b::1', prefixS: 128, daddr: 'fd00:e5b::2', prefixD: 128, sport: 5062, sportMask: 0xffff, dport: 5064, dportMask: 0xffff, proto: 0, ifindex: 0, user: 143956232 },
  auth: { name: 'hmac(sha1)', key: Buffer.alloc(20, 0x11), truncBits: 96 },
  crypt: { name: 'cbc(aes)', key: Buffer.alloc(16, 0x22) },
};
const samplePolicy: XfrmPolicy = {
  selector: sampleSa.selector, dir: 'in', action: 'allow', priority: 2080, index: 0,
  templates: [{ family: 6, saddr: 'fd00:e5b::1', daddr: 'fd00:e5b::2', spi: 0, proto: 50, reqid: 0x1001, mode: 'transport', optional: false }],
};

test('NEWSA / NEWPOLICY messages decode back to the records they were built from', () => {
  const w = new NlWriter(64);
  writeOp(w, { op: 'newsa', sa: sampleSa }, 5, true);
  const h = decodeNlMsgHdr(w.buf, 0);
  assert.equal({ type: h.type, flags: h.flags, seq: h.seq, len: h.len }, { type: 16, flags: 0x605, seq: 5, len: w.off });
  const sa = decodeSa(w.buf, SIZEOF_NLMSGHDR, w.off);
  assert.equal({ ...sa, lifetime: undefined, current: undefined, stats: undefined }, { ...sampleSa, lifetime: undefined, current: undefined, stats: undefined });
  assert.is(sa.lifetime!.hardByteLimit, S.XFRM_INF);

  w.reset();
  writeOp(w, { op: 'newpolicy', policy: samplePolicy }, 6, false);
  const pol = decodePolicy(w.buf, SIZEOF_NLMSGHDR, w.off);
  assert.equal({ ...pol, lifetime: undefined, current: undefined }, { ...samplePolicy, lifetime: undefined, current: undefined });
});

test('every op message is fully written: a writer over stale bytes produces the same message as over zeros', () => {
  const ops: XfrmOp[] = [
    { op: 'newsa', sa: sampleSa },
    { op: 'newsa', sa: { ...sampleSa, auth: undefined, crypt: undefined, aead: { name: 'rfc4106(gcm(aes))', key: Buffer.alloc(20, 3), icvBits: 128 } } },
    { op: 'newpolicy', policy: samplePolicy },
    { op: 'delsa', id: { family: 6, daddr: 'fd00:e5b::2', spi: 0x1001, proto: 50, saddr: 'fd00:e5b::1' } },
    { op: 'delpolicy', id: { selector: samplePolicy.selector, dir: 'out' } },
  ];
  const encode = (fill: number): Buffer => {
    const w = new NlWriter(4096);
    w.buf.fill(fill);
    ops.forEach((op, i) => writeOp(w, op, i, false));
    return Buffer.from(w.buf.subarray(0, w.off));
  };
  assert.equal(encode(0xa5), encode(0x00));
});

test('records that cannot be encoded are typed errors naming the op, and leave the writer as it was', () => {
  const bad: XfrmOp[] = [
    { op: 'newsa', sa: { ...sampleSa, saddr: 'not-an-address' } },
    { op: 'newpolicy', policy: { ...samplePolicy, selector: { ...samplePolicy.selector, dport: 70000 } } },
    { op: 'delsa', id: { family: 4, daddr: '10.0.0.1', spi: -1, proto: 50 } },
    { op: 'delpolicy', id: { selector: samplePolicy.selector, dir: 'sideways' as never } },
    { op: 'newsa', sa: { ...sampleSa, aead: { name: 'rfc4106(gcm(aes))', key: Buffer.alloc(20), icvBits: 128 } } },
  ];
  for (const op of bad) {
    const w = new NlWriter(64);
    writeOp(w, { op: 'newsa', sa: sampleSa }, 1, false);
    const before = w.off;
    assert.throws(() => writeOp(w, op, 2, false), (e: Error & { code?: string }) => e.code === 'XFRM_INVALID_RECORD');
    assert.is(w.off, before);
  }
  assert.throws(() => encodeOps([{ op: 'newsa', sa: sampleSa }, bad[0]!]), (e: Error & { field?: string }) => e.field?.startsWith('ops[1]') === true);
});

test.run();
