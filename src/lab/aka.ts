// UMTS AKA as IMS uses it (3GPP TS 33.203 §6.1): what the HSS / S-CSCF and the UE compute with
// MILENAGE (3GPP TS 33.102 §6.3), and how RFC 3310 carries RAND, AUTN and AUTS in SIP Digest.
//
// Sequence numbers are plain numbers in [0, 2^48). The UE's freshness check is the simple one of
// TS 33.102 Annex C.2.1 applied to the whole SQN (no IND array, no limit L): a challenge is fresh
// when its SQN is greater than the highest SQN the UE has accepted.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { LabInputError, expectBytes } from './errors.js';
import { AK_LENGTH, AMF_LENGTH, MAC_LENGTH, Milenage, RAND_LENGTH, SQN_LENGTH } from './milenage.js';

export const SQN_MAX = 2 ** 48 - 1;
/** AUTN = SQN xor AK || AMF || MAC-A (TS 33.102 §6.3.2). */
export const AUTN_LENGTH = SQN_LENGTH + AMF_LENGTH + MAC_LENGTH;
/** AUTS = SQN_MS xor AK* || MAC-S (TS 33.102 §6.3.3). */
export const AUTS_LENGTH = SQN_LENGTH + MAC_LENGTH;

// TS 33.102 §6.3.3: "The AMF used to calculate MAC-S assumes a dummy value of all zeros".
const RESYNC_AMF = Buffer.alloc(AMF_LENGTH);

/** A subscriber's long-term secrets, shared by the USIM and the HSS. */
export interface SubscriberKeys {
  readonly k: Uint8Array;
  readonly opc: Uint8Array;
}

export interface VectorRequest extends SubscriberKeys {
  /** The SQN to put in AUTN; the HSS uses each value once, in increasing order. */
  readonly sqn: number;
  readonly amf: Uint8Array;
  /** A fresh random challenge is drawn when absent. */
  readonly rand?: Uint8Array;
}

/** An authentication vector (TS 33.102 §6.3.2), what the S-CSCF receives from the HSS. */
export interface AuthVector {
  readonly rand: Buffer;
  readonly xres: Buffer;
  readonly ck: Buffer;
  readonly ik: Buffer;
  readonly ak: Buffer;
  readonly autn: Buffer;
}

export interface Challenge extends SubscriberKeys {
  readonly rand: Uint8Array;
  readonly autn: Uint8Array;
  /** The highest SQN this UE has accepted; without it every SQN is fresh. */
  readonly sqnMs?: number;
}

/** The UE's answer to a challenge (TS 33.102 §6.3.3). */
export type ChallengeResult =
  | { readonly ok: true; readonly res: Buffer; readonly ck: Buffer; readonly ik: Buffer; readonly sqn: number }
  /** MAC-A did not verify: the challenge did not come from the subscriber's home network. */
  | { readonly ok: false; readonly reason: 'mac-failure' }
  /** MAC-A verified but SQN is not fresh: the UE asks the HSS to resynchronise with AUTS. */
  | { readonly ok: false; readonly reason: 'sync-failure'; readonly auts: Buffer };

export interface ResyncRequest extends SubscriberKeys {
  /** The RAND of the challenge that the UE answered with AUTS. */
  readonly rand: Uint8Array;
  readonly auts: Uint8Array;
}

export type ResyncResult =
  | { readonly ok: true; readonly sqnMs: number }
  /** MAC-S did not verify: the AUTS is not from this subscriber or not for this RAND. */
  | { readonly ok: false; readonly reason: 'mac-failure' };

/** The network side: one authentication vector for `sqn` (TS 33.102 §6.3.2). */
export function generateVector(req: VectorRequest): AuthVector {
  const sqn = sqnBytes('SQN', req.sqn);
  const amf = expectBytes('AMF', req.amf, AMF_LENGTH);
  const rand = req.rand === undefined ? randomBytes(RAND_LENGTH) : Buffer.from(expectBytes('RAND', req.rand, RAND_LENGTH));
  const milenage = new Milenage(req.k, req.opc);
  const { res, ck, ik, ak } = milenage.f2345(rand);
  const autn = Buffer.concat([xor48(sqn, ak), amf, milenage.f1(rand, sqn, amf)]);
  return { rand, xres: res, ck, ik, ak, autn };
}

/** The UE side: verify AUTN, check SQN, and compute RES, CK and IK (TS 33.102 §6.3.3). */
export function respond(challenge: Challenge): ChallengeResult {
  const autn = expectBytes('AUTN', challenge.autn, AUTN_LENGTH);
  const sqnMs = challenge.sqnMs === undefined ? undefined : checkSqn('SQN_MS', challenge.sqnMs);
  const milenage = new Milenage(challenge.k, challenge.opc);
  const { res, ck, ik, ak } = milenage.f2345(challenge.rand);
  const sqn = xor48(autn.subarray(0, SQN_LENGTH), ak);
  const amf = autn.subarray(SQN_LENGTH, SQN_LENGTH + AMF_LENGTH);
  const xmac = milenage.f1(challenge.rand, sqn, amf);
  if (!timingSafeEqual(xmac, autn.subarray(SQN_LENGTH + AMF_LENGTH))) return { ok: false, reason: 'mac-failure' };

  const sqnValue = sqn.readUIntBE(0, SQN_LENGTH);
  if (sqnMs !== undefined && sqnValue <= sqnMs) {
    const sqnMsBytes = sqnBytes('SQN_MS', sqnMs);
    const auts = Buffer.concat([
      xor48(sqnMsBytes, milenage.f5star(challenge.rand)),
      milenage.f1star(challenge.rand, sqnMsBytes, RESYNC_AMF),
    ]);
    return { ok: false, reason: 'sync-failure', auts };
  }
  return { ok: true, res, ck, ik, sqn: sqnValue };
}

/**
 * The network side of a synchronisation failure: verify MAC-S and recover SQN_MS from AUTS
 * (TS 33.102 §6.3.5). The next vector for this subscriber must carry an SQN above SQN_MS.
 */
export function resync(req: ResyncRequest): ResyncResult {
  const auts = expectBytes('AUTS', req.auts, AUTS_LENGTH);
  const milenage = new Milenage(req.k, req.opc);
  const sqnMs = xor48(auts.subarray(0, SQN_LENGTH), milenage.f5star(req.rand));
  const xmacS = milenage.f1star(req.rand, sqnMs, RESYNC_AMF);
  if (!timingSafeEqual(xmacS, auts.subarray(SQN_LENGTH))) return { ok: false, reason: 'mac-failure' };
  return { ok: true, sqnMs: sqnMs.readUIntBE(0, SQN_LENGTH) };
}

export interface NonceParts {
  readonly rand: Buffer;
  readonly autn: Buffer;
  /** Whatever the server appended after AUTN (RFC 3310 §3.2); empty when it appended nothing. */
  readonly serverData: Buffer;
}

/** The Digest `nonce` of an AKA challenge: base64(RAND || AUTN || server data) (RFC 3310 §3.2). */
export function makeNonce(rand: Uint8Array, autn: Uint8Array, serverData?: Uint8Array): string {
  const parts = [expectBytes('RAND', rand, RAND_LENGTH), expectBytes('AUTN', autn, AUTN_LENGTH)];
  if (serverData !== undefined) parts.push(expectBytes('server data', serverData));
  return Buffer.concat(parts).toString('base64');
}

/** Splits an AKA `nonce` into RAND, AUTN and server data (RFC 3310 §3.2). */
export function parseNonce(nonce: string): NonceParts {
  const bytes = decodeBase64('nonce', nonce);
  if (bytes.length < RAND_LENGTH + AUTN_LENGTH) {
    throw new LabInputError('ERR_LAB_ENCODING', 'nonce',
      `decodes to ${bytes.length} bytes, fewer than RAND and AUTN (${RAND_LENGTH + AUTN_LENGTH})`);
  }
  return {
    rand: bytes.subarray(0, RAND_LENGTH),
    autn: bytes.subarray(RAND_LENGTH, RAND_LENGTH + AUTN_LENGTH),
    serverData: bytes.subarray(RAND_LENGTH + AUTN_LENGTH),
  };
}

/** The Digest `auts` parameter: base64(AUTS) (RFC 3310 §3.4). */
export function encodeAuts(auts: Uint8Array): string {
  return Buffer.from(expectBytes('AUTS', auts, AUTS_LENGTH)).toString('base64');
}

/** Decodes the Digest `auts` parameter into the 14 octets of AUTS (RFC 3310 §3.4). */
export function parseAuts(auts: string): Buffer {
  const bytes = decodeBase64('auts', auts);
  if (bytes.length !== AUTS_LENGTH) {
    throw new LabInputError('ERR_LAB_ENCODING', 'auts', `decodes to ${bytes.length} bytes, AUTS has ${AUTS_LENGTH}`);
  }
  return bytes;
}

// RFC 3310 uses the base64 of RFC 2045. Buffer.from(text, 'base64') silently skips characters
// outside the alphabet and tolerates bad padding, so only the canonical encoding of the decoded
// octets is accepted, with or without its padding.
function decodeBase64(field: string, text: string): Buffer {
  const bytes = Buffer.from(typeof text === 'string' ? text : '', 'base64');
  const canonical = bytes.toString('base64');
  if (text !== canonical && text !== canonical.replace(/=+$/, '')) {
    throw new LabInputError('ERR_LAB_ENCODING', field, 'not base64');
  }
  return bytes;
}

function checkSqn(field: string, sqn: number): number {
  if (!Number.isInteger(sqn) || sqn < 0 || sqn > SQN_MAX) {
    throw new LabInputError('ERR_LAB_SQN', field, `${String(sqn)} is not an integer in [0, 2^48)`);
  }
  return sqn;
}

function sqnBytes(field: string, sqn: number): Buffer {
  const bytes = Buffer.allocUnsafe(SQN_LENGTH);
  bytes.writeUIntBE(checkSqn(field, sqn), 0, SQN_LENGTH);
  return bytes;
}

// SQN xor AK and SQN_MS xor AK*: the concealment of TS 33.102 §6.3.2 and §6.3.3, and its inverse.
function xor48(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(AK_LENGTH);
  for (let j = 0; j < AK_LENGTH; j++) out[j] = a[j]! ^ b[j]!;
  return out;
}
