// XFRM operations over netlink: the request message for each op (records in, bytes out) and the
// SA / policy records out of the kernel's replies and dumps.

import { XfrmRecordError } from './errors.js';
import {
  decodeNlAttrs, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, NlWriter, SIZEOF_NLMSGHDR,
} from './nlmsg.js';
import { zeroBytes } from './wire.js';
import {
  attrSpace, decodeAttrAlgoAead, decodeAttrAlgoAuthTrunc, decodeAttrAlgoCrypt, decodeAttrTmpls, encodeAttrAlgoAead,
  encodeAttrAlgoAuthTrunc, encodeAttrAlgoCrypt, encodeAttrSrcAddr, encodeAttrTmpls, MAX_SA_ATTR_BYTES,
  XFRMA_ALG_AEAD, XFRMA_ALG_AUTH_TRUNC, XFRMA_ALG_CRYPT, XFRMA_SRCADDR, XFRMA_TMPL,
} from './xfrm-attrs.js';
import {
  AF_INET, AF_INET6, decodeXfrmUserpolicyId, decodeXfrmUserpolicyInfo, decodeXfrmUsersaId, decodeXfrmUsersaInfo, encodeXfrmUserpolicyId, encodeXfrmUserpolicyInfo,
  encodeXfrmUsersaId, encodeXfrmUsersaInfo, LIFETIME_CUR_ZERO, LIFETIME_INFINITE, SIZEOF_XFRM_ADDRESS,
  SIZEOF_XFRM_USER_TMPL, SIZEOF_XFRM_USERPOLICY_ID, SIZEOF_XFRM_USERPOLICY_INFO, SIZEOF_XFRM_USERSA_ID,
  SIZEOF_XFRM_USERSA_INFO, STATS_ZERO, type XfrmAlgoAead, type XfrmAlgoAuth, type XfrmAlgo, type XfrmSelectorStruct,
  type XfrmUserpolicyId, type XfrmUserpolicyInfo, type XfrmUsersaId, type XfrmUsersaInfo, type XfrmUserTmpl,
} from './xfrm-structs.js';
import {
  describeOp, type IpFamily, type PolicyDir, type XfrmMode, type XfrmOp, type XfrmPolicy, type XfrmPolicyId, type XfrmSa,
  type XfrmSaId, type XfrmSelector, type XfrmTemplate,
} from './xfrm-types.js';

export const XFRM_MSG_NEWSA = 16;
export const XFRM_MSG_DELSA = 17;
export const XFRM_MSG_GETSA = 18;
export const XFRM_MSG_NEWPOLICY = 19;
export const XFRM_MSG_DELPOLICY = 20;
export const XFRM_MSG_GETPOLICY = 21;

const XFRM_MODE_TRANSPORT = 0;
const XFRM_MODE_TUNNEL = 1;
const XFRM_SHARE_ANY = 0;
const XFRM_POLICY_ALLOW = 0;
const XFRM_POLICY_BLOCK = 1;
const DIRS: readonly PolicyDir[] = ['in', 'out', 'fwd'];

const NEW_FLAGS = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;

const toAf = (f: IpFamily | 0): number => (f === 4 ? AF_INET : f === 6 ? AF_INET6 : 0);
const fromAf = (af: number): IpFamily | 0 => (af === AF_INET ? 4 : af === AF_INET6 ? 6 : 0);
const modeCode = (m: XfrmMode): number => (m === 'tunnel' ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT);
const modeName = (m: number): XfrmMode => (m === XFRM_MODE_TUNNEL ? 'tunnel' : 'transport');

function dirCode(d: PolicyDir): number {
  const i = DIRS.indexOf(d);
  if (i < 0) throw new XfrmRecordError('dir', `not a policy direction: ${String(d)}`);
  return i;
}

function ipFamily(af: number, field: string): IpFamily {
  const f = fromAf(af);
  if (f === 0) throw new XfrmRecordError(field, `kernel reported address family ${af}`);
  return f;
}

/** Fills `into` with the selector `s` in kernel terms. */
function selectorToStruct(s: XfrmSelector, into: XfrmSelectorStruct): XfrmSelectorStruct {
  into.daddr = s.daddr;
  into.saddr = s.saddr;
  into.dport = s.dport;
  into.dportMask = s.dportMask;
  into.sport = s.sport;
  into.sportMask = s.sportMask;
  into.family = toAf(s.family);
  into.prefixlenD = s.prefixD;
  into.prefixlenS = s.prefixS;
  into.proto = s.proto;
  into.ifindex = s.ifindex;
  into.user = s.user;
  return into;
}

export function selectorFromStruct(s: XfrmSelectorStruct): XfrmSelector {
  return {
    family: fromAf(s.family), saddr: s.saddr, prefixS: s.prefixlenS, daddr: s.daddr, prefixD: s.prefixlenD,
    sport: s.sport, sportMask: s.sportMask, dport: s.dport, dportMask: s.dportMask, proto: s.proto,
    ifindex: s.ifindex, user: s.user,
  };
}

/** Fills `into` with the template `t` in kernel terms. */
function templateToStruct(t: XfrmTemplate, into: XfrmUserTmpl): void {
  into.id.daddr = t.daddr;
  into.id.spi = t.spi;
  into.id.proto = t.proto;
  into.family = toAf(t.family);
  into.saddr = t.saddr;
  into.reqid = t.reqid;
  into.mode = modeCode(t.mode);
  into.optional = t.optional ? 1 : 0;
}

function templateFromStruct(t: XfrmUserTmpl): XfrmTemplate {
  return {
    family: ipFamily(t.family, 'tmpl.family'), saddr: t.saddr, daddr: t.id.daddr, spi: t.id.spi, proto: t.id.proto,
    reqid: t.reqid, mode: modeName(t.mode), optional: t.optional !== 0,
  };
}

/** Largest message one op can produce (NEWSA with every algorithm attribute). */
export const MAX_OP_BYTES = SIZEOF_NLMSGHDR + SIZEOF_XFRM_USERSA_INFO + MAX_SA_ATTR_BYTES + 64;

function msgBytes(op: XfrmOp): number {
  switch (op.op) {
    case 'newsa': return MAX_OP_BYTES;
    case 'delsa': return SIZEOF_NLMSGHDR + SIZEOF_XFRM_USERSA_ID + attrSpace(SIZEOF_XFRM_ADDRESS);
    case 'newpolicy': return SIZEOF_NLMSGHDR + SIZEOF_XFRM_USERPOLICY_INFO + attrSpace(op.policy.templates.length * SIZEOF_XFRM_USER_TMPL);
    case 'delpolicy': return SIZEOF_NLMSGHDR + SIZEOF_XFRM_USERPOLICY_ID;
  }
}

/**
 * Appends the request for `op` to `w` with sequence number `seq` (NLM_F_ACK when `ack`).
 * Throws XfrmRecordError (and leaves `w` as it was) when the record cannot be encoded.
 */
export function writeOp(w: NlWriter, op: XfrmOp, seq: number, ack: boolean): void {
  const start = w.off;
  try {
    const ackFlag = ack ? NLM_F_ACK : 0;
    switch (op.op) {
      case 'newsa': w.end(writeNewSa(w, w.begin(XFRM_MSG_NEWSA, NEW_FLAGS | ackFlag, seq, 0, msgBytes(op)), op.sa)); break;
      case 'delsa': w.end(writeDelSa(w, w.begin(XFRM_MSG_DELSA, NLM_F_REQUEST | ackFlag, seq, 0, msgBytes(op)), op.id)); break;
      case 'newpolicy': w.end(writeNewPolicy(w, w.begin(XFRM_MSG_NEWPOLICY, NEW_FLAGS | ackFlag, seq, 0, msgBytes(op)), op.policy)); break;
      case 'delpolicy': w.end(writeDelPolicy(w, w.begin(XFRM_MSG_DELPOLICY, NLM_F_REQUEST | ackFlag, seq, 0, msgBytes(op)), op.id)); break;
      default: throw new XfrmRecordError('op', `unknown op ${JSON.stringify((op as { op?: unknown }).op)}`);
    }
  } catch (e) {
    w.off = start;
    if (e instanceof XfrmRecordError) throw e;
    // Buffer writers throw RangeError for out-of-range numbers (a port of 70000, a negative SPI);
    // a record missing a field throws TypeError.
    throw new XfrmRecordError(String((op as { op?: unknown } | undefined)?.op), e instanceof Error ? e.message : String(e));
  }
}

// The structs the writers below fill for each op and hand to xfrm-structs.ts. Encoding is
// synchronous and nothing keeps them, so one of each is reused: a fresh struct per op, selector,
// template and algorithm was most of what encoding allocated (~300 bytes of each policy op).
const blankSelector = (): XfrmSelectorStruct => ({
  daddr: '', saddr: '', dport: 0, dportMask: 0, sport: 0, sportMask: 0, family: 0, prefixlenD: 0, prefixlenS: 0, proto: 0, ifindex: 0, user: 0,
});
const blankTemplate = (): XfrmUserTmpl => ({
  id: { daddr: '', spi: 0, proto: 0 }, family: 0, saddr: '', reqid: 0, mode: 0, share: XFRM_SHARE_ANY, optional: 0,
  aalgos: 0xffffffff, ealgos: 0xffffffff, calgos: 0xffffffff,
});
const NO_KEY = new Uint8Array(0);
const saInfo: XfrmUsersaInfo = {
  sel: blankSelector(), id: { daddr: '', spi: 0, proto: 0 }, saddr: '', lft: LIFETIME_INFINITE, curlft: LIFETIME_CUR_ZERO,
  stats: STATS_ZERO, seq: 0, reqid: 0, family: 0, mode: 0, replayWindow: 0, flags: 0,
};
const saId: XfrmUsersaId = { daddr: '', spi: 0, family: 0, proto: 0 };
const authAlg: XfrmAlgoAuth = { name: '', keyBits: 0, truncBits: 0, key: NO_KEY };
const cryptAlg: XfrmAlgo = { name: '', keyBits: 0, key: NO_KEY };
const aeadAlg: XfrmAlgoAead = { name: '', keyBits: 0, icvBits: 0, key: NO_KEY };
const policyInfo: XfrmUserpolicyInfo = {
  sel: blankSelector(), lft: LIFETIME_INFINITE, curlft: LIFETIME_CUR_ZERO, priority: 0, index: 0, dir: 0, action: 0, flags: 0, share: XFRM_SHARE_ANY,
};
const policyId: XfrmUserpolicyId = { sel: blankSelector(), index: 0, dir: 0 };
/** templatesOf[n]: n template structs. */
const templatesOf: XfrmUserTmpl[][] = [];

function writeNewSa(w: NlWriter, off: number, sa: XfrmSa): number {
  const buf = w.buf;
  if (sa.aead && (sa.auth || sa.crypt)) throw new XfrmRecordError('aead', 'an AEAD SA carries no separate auth or crypt algorithm');
  const info = saInfo;
  selectorToStruct(sa.selector, info.sel);
  info.id.daddr = sa.daddr;
  info.id.spi = sa.spi;
  info.id.proto = sa.proto;
  info.saddr = sa.saddr;
  info.lft = sa.lifetime ?? LIFETIME_INFINITE;
  info.reqid = sa.reqid;
  info.family = toAf(sa.family);
  info.mode = modeCode(sa.mode);
  info.replayWindow = sa.replayWindow;
  info.flags = sa.flags;
  encodeXfrmUsersaInfo(buf, off, info);
  let p = off + SIZEOF_XFRM_USERSA_INFO;
  if (sa.auth) {
    authAlg.name = sa.auth.name;
    authAlg.keyBits = sa.auth.key.length * 8;
    authAlg.truncBits = sa.auth.truncBits;
    authAlg.key = sa.auth.key;
    p = encodeAttrAlgoAuthTrunc(buf, p, authAlg);
  }
  if (sa.crypt) {
    cryptAlg.name = sa.crypt.name;
    cryptAlg.keyBits = sa.crypt.key.length * 8;
    cryptAlg.key = sa.crypt.key;
    p = encodeAttrAlgoCrypt(buf, p, cryptAlg);
  }
  if (sa.aead) {
    aeadAlg.name = sa.aead.name;
    aeadAlg.keyBits = sa.aead.key.length * 8;
    aeadAlg.icvBits = sa.aead.icvBits;
    aeadAlg.key = sa.aead.key;
    p = encodeAttrAlgoAead(buf, p, aeadAlg);
  }
  return p;
}

function writeDelSa(w: NlWriter, off: number, id: XfrmSaId): number {
  const family = toAf(id.family);
  saId.daddr = id.daddr;
  saId.spi = id.spi;
  saId.family = family;
  saId.proto = id.proto;
  encodeXfrmUsersaId(w.buf, off, saId);
  const p = off + SIZEOF_XFRM_USERSA_ID;
  return id.saddr === undefined ? p : encodeAttrSrcAddr(w.buf, p, family, id.saddr);
}

function writeNewPolicy(w: NlWriter, off: number, pol: XfrmPolicy): number {
  const info = policyInfo;
  selectorToStruct(pol.selector, info.sel);
  info.lft = pol.lifetime ?? LIFETIME_INFINITE;
  info.priority = pol.priority;
  info.index = pol.index;
  info.dir = dirCode(pol.dir);
  info.action = pol.action === 'block' ? XFRM_POLICY_BLOCK : XFRM_POLICY_ALLOW;
  encodeXfrmUserpolicyInfo(w.buf, off, info);
  const p = off + SIZEOF_XFRM_USERPOLICY_INFO;
  const n = pol.templates.length;
  if (n === 0) return p;
  const tmpls = (templatesOf[n] ??= Array.from({ length: n }, blankTemplate));
  for (let i = 0; i < n; i++) templateToStruct(pol.templates[i]!, tmpls[i]!);
  return encodeAttrTmpls(w.buf, p, tmpls);
}

function writeDelPolicy(w: NlWriter, off: number, id: XfrmPolicyId): number {
  selectorToStruct(id.selector, policyId.sel);
  policyId.index = id.index ?? 0;
  policyId.dir = dirCode(id.dir);
  encodeXfrmUserpolicyId(w.buf, off, policyId);
  return off + SIZEOF_XFRM_USERPOLICY_ID;
}

/** Requests already encoded (sequence numbers to be given when sent): `count` messages one after another from offset 0. */
export interface EncodedOps {
  buf: Buffer;
  count: number;
}

/** Encodes a group of ops; throws XfrmRecordError (with the op's index in `field`) for the first that cannot be encoded. */
export function encodeOps(ops: readonly XfrmOp[]): EncodedOps {
  const w = new NlWriter(Math.max(256, ops.length * 320));
  for (let i = 0; i < ops.length; i++) {
    try {
      writeOp(w, ops[i]!, 0, false);
    } catch (e) {
      const err = e as XfrmRecordError;
      throw new XfrmRecordError(`ops[${i}].${err.field}`, err.reason);
    }
  }
  return { buf: w.buf, count: ops.length };
}

/** A dump request (GETSA or GETPOLICY with NLM_F_DUMP): the kernel answers with NEWSA / NEWPOLICY messages and NLMSG_DONE. */
export function writeDump(w: NlWriter, what: 'sa' | 'policy', seq: number): void {
  w.end(w.begin(what === 'sa' ? XFRM_MSG_GETSA : XFRM_MSG_GETPOLICY, NLM_F_REQUEST | NLM_F_DUMP, seq, 0, SIZEOF_NLMSGHDR));
}

/** GETSA for one SA: the kernel answers with one NEWSA message or an error. */
export function writeGetSa(w: NlWriter, id: XfrmSaId, seq: number): void {
  w.end(writeDelSa(w, w.begin(XFRM_MSG_GETSA, NLM_F_REQUEST, seq, 0, SIZEOF_NLMSGHDR + SIZEOF_XFRM_USERSA_ID + attrSpace(SIZEOF_XFRM_ADDRESS)), id));
}

/** The SA in a NEWSA message whose payload is `[off, end)`. */
export function decodeSa(buf: Buffer, off: number, end: number): XfrmSa {
  const info = decodeXfrmUsersaInfo(buf, off);
  const sa: XfrmSa = {
    family: ipFamily(info.family, 'sa.family'),
    saddr: info.saddr,
    daddr: info.id.daddr,
    spi: info.id.spi,
    proto: info.id.proto,
    reqid: info.reqid,
    mode: modeName(info.mode),
    replayWindow: info.replayWindow,
    flags: info.flags,
    selector: selectorFromStruct(info.sel),
    lifetime: info.lft,
    current: info.curlft,
    stats: info.stats,
  };
  for (const a of decodeNlAttrs(buf, off + SIZEOF_XFRM_USERSA_INFO, end)) {
    if (a.type === XFRMA_ALG_AUTH_TRUNC) {
      const x = decodeAttrAlgoAuthTrunc(buf, a);
      sa.auth = { name: x.name, key: x.key, truncBits: x.truncBits };
    } else if (a.type === XFRMA_ALG_CRYPT) {
      const x = decodeAttrAlgoCrypt(buf, a);
      sa.crypt = { name: x.name, key: x.key };
    } else if (a.type === XFRMA_ALG_AEAD) {
      const x = decodeAttrAlgoAead(buf, a);
      sa.aead = { name: x.name, key: x.key, icvBits: x.icvBits };
    }
  }
  return sa;
}

/** The policy in a NEWPOLICY message whose payload is `[off, end)`. */
export function decodePolicy(buf: Buffer, off: number, end: number): XfrmPolicy {
  const info = decodeXfrmUserpolicyInfo(buf, off);
  const pol: XfrmPolicy = {
    selector: selectorFromStruct(info.sel),
    dir: DIRS[info.dir] ?? 'fwd',
    action: info.action === XFRM_POLICY_BLOCK ? 'block' : 'allow',
    priority: info.priority,
    index: info.index,
    templates: [],
    lifetime: info.lft,
    current: info.curlft,
  };
  for (const a of decodeNlAttrs(buf, off + SIZEOF_XFRM_USERPOLICY_INFO, end)) {
    if (a.type === XFRMA_TMPL) pol.templates = decodeAttrTmpls(buf, a).map(templateFromStruct);
  }
  return pol;
}

/**
 * Appends the delete that undoes the create request at `src[off]` (DELSA for a NEWSA, DELPOLICY
 * for a NEWPOLICY), built from the request's own bytes, so a rollback deletes exactly what was
 * asked for. Returns false for any other message.
 */
export function writeUndo(w: NlWriter, src: Buffer, off: number, seq: number): boolean {
  const type = src.readUInt16LE(off + 4);
  const p = off + SIZEOF_NLMSGHDR;
  if (type === XFRM_MSG_NEWSA) {
    const q = w.begin(XFRM_MSG_DELSA, NLM_F_REQUEST, seq, 0, SIZEOF_NLMSGHDR + SIZEOF_XFRM_USERSA_ID + attrSpace(SIZEOF_XFRM_ADDRESS));
    const b = w.buf;
    src.copy(b, q, p + 56, p + 76); // xfrm_usersa_info.id.daddr + id.spi -> xfrm_usersa_id.daddr + spi
    b.writeUInt16LE(src.readUInt16LE(p + 212), q + 20); // family
    b[q + 22] = src[p + 76]!; // id.proto
    b[q + 23] = 0;
    const a = q + SIZEOF_XFRM_USERSA_ID;
    b.writeUInt16LE(4 + SIZEOF_XFRM_ADDRESS, a);
    b.writeUInt16LE(XFRMA_SRCADDR, a + 2);
    src.copy(b, a + 4, p + 80, p + 96); // saddr
    w.end(a + 4 + SIZEOF_XFRM_ADDRESS);
    return true;
  }
  if (type === XFRM_MSG_NEWPOLICY) {
    const q = w.begin(XFRM_MSG_DELPOLICY, NLM_F_REQUEST, seq, 0, SIZEOF_NLMSGHDR + SIZEOF_XFRM_USERPOLICY_ID);
    const b = w.buf;
    src.copy(b, q, p, p + 56); // selector, byte for byte (the kernel matches it with memcmp)
    b.writeUInt32LE(0, q + 56); // index: find by selector
    b[q + 60] = src[p + 160]!; // dir
    zeroBytes(b, q + 61, q + 64);
    w.end(q + SIZEOF_XFRM_USERPOLICY_ID);
    return true;
  }
  return false;
}

/** The op a request message stands for, in words (for error messages; only decoded on failure). */
export function describeRequest(buf: Buffer, off: number): string {
  const type = buf.readUInt16LE(off + 4);
  const p = off + SIZEOF_NLMSGHDR;
  const end = off + buf.readUInt32LE(off);
  try {
    switch (type) {
      case XFRM_MSG_NEWSA: return describeOp({ op: 'newsa', sa: decodeSa(buf, p, end) });
      case XFRM_MSG_NEWPOLICY: return describeOp({ op: 'newpolicy', policy: decodePolicy(buf, p, end) });
      case XFRM_MSG_DELSA: {
        const id = decodeXfrmUsersaId(buf, p);
        return describeOp({ op: 'delsa', id: { family: ipFamily(id.family, 'family'), daddr: id.daddr, spi: id.spi, proto: id.proto } });
      }
      case XFRM_MSG_DELPOLICY: {
        const id = decodeXfrmUserpolicyId(buf, p);
        return describeOp({ op: 'delpolicy', id: { selector: selectorFromStruct(id.sel), dir: DIRS[id.dir] ?? 'fwd' } });
      }
      default: return `message type ${type}`;
    }
  } catch {
    return `message type ${type}`;
  }
}

/** The id that deletes `sa` (DELSA). */
export const saIdOf = (sa: XfrmSa): XfrmSaId => ({ family: sa.family, daddr: sa.daddr, spi: sa.spi, proto: sa.proto, saddr: sa.saddr });

/** The id that deletes `policy` (DELPOLICY by selector and direction). */
export const policyIdOf = (p: XfrmPolicy): XfrmPolicyId => ({ selector: p.selector, dir: p.dir });
