// SAs, policies and the operations on them in the terms a user thinks in: addresses as text,
// host-order ports and SPIs, algorithms by kernel name with their keys. Plain data, safe to
// structured-clone between threads (a Buffer key arrives as a Uint8Array on the other side).

import type { XfrmLifetimeCfg, XfrmLifetimeCur, XfrmStats } from './xfrm-structs.js';

export type { XfrmLifetimeCfg, XfrmLifetimeCur, XfrmStats } from './xfrm-structs.js';

export type IpFamily = 4 | 6;
export type XfrmMode = 'transport' | 'tunnel';
export type PolicyDir = 'in' | 'out' | 'fwd';
export type PolicyAction = 'allow' | 'block';

export const IPPROTO_ESP = 50;

/** Which packets an SA or policy applies to. */
export interface XfrmSelector {
  /** 0 only in dumps of entries someone created without a family (never ours). */
  family: IpFamily | 0;
  saddr: string;
  prefixS: number;
  daddr: string;
  prefixD: number;
  sport: number;
  sportMask: number;
  dport: number;
  dportMask: number;
  /** IP protocol, 0 = any (so UDP and TCP share one SA: TS 33.203 §7.1). */
  proto: number;
  ifindex: number;
  /** The ownership marker (selector `user`): what carries ours is ours to delete (DESIGN.md invariant 4). */
  user: number;
}

/** `hmac(sha1)` truncated to 96 bits, and the like (XFRMA_ALG_AUTH_TRUNC). */
export interface AuthAlgorithm {
  name: string;
  key: Uint8Array;
  truncBits: number;
}

/** `cbc(aes)`, `ecb(cipher_null)` ... (XFRMA_ALG_CRYPT). */
export interface CryptAlgorithm {
  name: string;
  key: Uint8Array;
}

/** `rfc4106(gcm(aes))`, `rfc4543(gcm(aes))`: key includes the 4-byte salt (XFRMA_ALG_AEAD). */
export interface AeadAlgorithm {
  name: string;
  key: Uint8Array;
  icvBits: number;
}

export interface XfrmSaId {
  family: IpFamily;
  daddr: string;
  spi: number;
  proto: number;
  /** Narrows the lookup to this source (XFRMA_SRCADDR). */
  saddr?: string;
}

export interface XfrmSa {
  family: IpFamily;
  saddr: string;
  daddr: string;
  spi: number;
  proto: number;
  reqid: number;
  mode: XfrmMode;
  replayWindow: number;
  flags: number;
  selector: XfrmSelector;
  auth?: AuthAlgorithm;
  crypt?: CryptAlgorithm;
  aead?: AeadAlgorithm;
  /** Absent = no limits (LIFETIME_INFINITE). */
  lifetime?: XfrmLifetimeCfg;
  /** Only in what the kernel reports: bytes and packets so far. */
  current?: XfrmLifetimeCur;
  stats?: XfrmStats;
}

export interface XfrmTemplate {
  family: IpFamily;
  saddr: string;
  daddr: string;
  /** 0 = any SA whose reqid matches. */
  spi: number;
  proto: number;
  reqid: number;
  mode: XfrmMode;
  /** A "use" (optional) template lets unprotected packets through: never for ours. */
  optional: boolean;
}

export interface XfrmPolicy {
  selector: XfrmSelector;
  dir: PolicyDir;
  action: PolicyAction;
  priority: number;
  /** Kernel-assigned; 0 when creating. */
  index: number;
  templates: XfrmTemplate[];
  lifetime?: XfrmLifetimeCfg;
  current?: XfrmLifetimeCur;
}

export interface XfrmPolicyId {
  selector: XfrmSelector;
  dir: PolicyDir;
  /** 0 = find by selector. */
  index?: number;
}

export type XfrmOp =
  | { op: 'newsa'; sa: XfrmSa }
  | { op: 'delsa'; id: XfrmSaId }
  | { op: 'newpolicy'; policy: XfrmPolicy }
  | { op: 'delpolicy'; id: XfrmPolicyId };

/**
 * Why an op failed: `KERNEL` = the kernel refused it (errno + its ext-ack text); `NETLINK_TIMEOUT`
 * = no answer in time (outcome unknown); `NOT_ATTEMPTED` = an earlier op of its group failed;
 * `INVALID_RECORD` = it could not be encoded; `SYSCALL_FAILED` = sendto/recv failed.
 */
export type OpFailureCode = 'KERNEL' | 'NETLINK_TIMEOUT' | 'NOT_ATTEMPTED' | 'INVALID_RECORD' | 'SYSCALL_FAILED';

export type OpResult =
  | { ok: true }
  | { ok: false; code: OpFailureCode; errno: number; errnoName: string; message: string };

export interface GroupResult {
  ok: boolean;
  /** One per op, in order. */
  results: OpResult[];
  firstError?: { index: number; result: OpResult };
  /** When the group failed: the deletes of what it had created, in order. */
  rolledBack?: OpResult[];
}

/** The result of an op that succeeded: one frozen object, shared. */
export const OP_OK: OpResult = Object.freeze({ ok: true });

const allOkResults: GroupResult[] = [];
/** Sizes of group whose all-ok result is kept once made (a UE's group has 8 ops at most). */
const ALL_OK_CACHED = 64;

/** The result of a group of `n` ops that all succeeded: frozen, and shared for the usual sizes. */
export function allOk(n: number): GroupResult {
  const cached = allOkResults[n];
  if (cached) return cached;
  const r: GroupResult = Object.freeze({ ok: true, results: Object.freeze(new Array<OpResult>(n).fill(OP_OK)) as OpResult[] });
  if (n <= ALL_OK_CACHED) allOkResults[n] = r;
  return r;
}

/** Human context for an op in error messages: which SA or selector. */
export function describeOp(op: XfrmOp): string {
  switch (op.op) {
    case 'newsa': return `NEWSA spi 0x${op.sa.spi.toString(16)} ${op.sa.saddr} -> ${op.sa.daddr}`;
    case 'delsa': return `DELSA spi 0x${op.id.spi.toString(16)} dst ${op.id.daddr}`;
    case 'newpolicy': return `NEWPOLICY ${op.policy.dir} ${describeSelector(op.policy.selector)}`;
    case 'delpolicy': return `DELPOLICY ${op.id.dir} ${describeSelector(op.id.selector)}`;
  }
}

export function describeSelector(s: XfrmSelector): string {
  const port = (p: number, m: number): string => (m === 0 ? '' : `:${p}`);
  return `${s.saddr}/${s.prefixS}${port(s.sport, s.sportMask)} -> ${s.daddr}/${s.prefixD}${port(s.dport, s.dportMask)} proto ${s.proto || 'any'}`;
}
