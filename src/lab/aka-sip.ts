// IMS AKA carried in SIP Digest (RFC 3310; TS 24.229 §5.1.1.2, §5.4.1.2.1, §7.2A.1): the
// challenge the S-CSCF writes, the credentials the UE answers with, and how each side reads the
// other's. The S-CSCF adds the keys for the P-CSCF as TS 24.229 §7.2A.1 defines them:
//
//   integrity-key = "ik" EQUAL ik-value      ik-value = LDQUOT *(HEXDIG) RDQUOT
//   cipher-key    = "ck" EQUAL ck-value      ck-value = LDQUOT *(HEXDIG) RDQUOT

import { randomBytes } from 'node:crypto';
import { authParam, type AuthHeader, type SipMessage } from '../sip/index.js';

export const AKA_ALGORITHM = 'AKAv1-MD5';

export interface ChallengeParams {
  readonly realm: string;
  readonly nonce: string;
  readonly ck: Uint8Array;
  readonly ik: Uint8Array;
}

/** The WWW-Authenticate value of the S-CSCF's 401, ck and ik included (removed by the P-CSCF). */
export function challengeValue(p: ChallengeParams): string {
  const hex = (k: Uint8Array): string => Buffer.from(k).toString('hex');
  return `Digest realm="${p.realm}", nonce="${p.nonce}", algorithm=${AKA_ALGORITHM}, qop="auth", ck="${hex(p.ck)}", ik="${hex(p.ik)}"`;
}

/** What a UE reads from a 401: the AKAv1-MD5 challenge (undefined when there is none). */
export interface ReceivedChallenge {
  readonly realm: string;
  readonly nonce: string;
  /** Whether the server offers qop "auth" (then the UE must use it, RFC 2617 §3.2.2). */
  readonly qopAuth: boolean;
}

export function readChallenge(msg: SipMessage): ReceivedChallenge | undefined {
  let challenges: AuthHeader[];
  try {
    challenges = msg.challenges('www-authenticate');
  } catch {
    return undefined;
  }
  for (const c of challenges) {
    if (c.scheme.toLowerCase() !== 'digest') continue;
    if (authParam(c, 'algorithm')?.value.toLowerCase() !== AKA_ALGORITHM.toLowerCase()) continue;
    const nonce = authParam(c, 'nonce')?.value;
    const realm = authParam(c, 'realm')?.value;
    if (nonce === undefined || realm === undefined) continue;
    const qop = authParam(c, 'qop')?.value ?? '';
    return { realm, nonce, qopAuth: qop.split(',').some((q) => q.trim().toLowerCase() === 'auth') };
  }
  return undefined;
}

/** The directives of a UE's Authorization, as the UE writes them and the S-CSCF reads them. */
export interface Credentials {
  readonly username: string;
  readonly realm: string;
  readonly uri: string;
  /** '' in the first REGISTER (TS 24.229 §5.1.1.2.1: no challenge yet). */
  readonly nonce: string;
  readonly response: string;
  readonly algorithm?: string;
  /** The UE writes "auth"; what a received Authorization says is checked by its reader. */
  readonly qop?: string;
  readonly nc?: string;
  readonly cnonce?: string;
  /** base64(AUTS) of a synchronisation failure (RFC 3310 §3.4). */
  readonly auts?: string;
  /** What the P-CSCF says about how the REGISTER arrived (TS 24.229 §7.2A.2). */
  readonly integrityProtected?: string;
}

/** A fresh cnonce (RFC 2617 §3.2.2: an opaque quoted string chosen by the client). */
export function newCnonce(): string {
  return randomBytes(8).toString('hex');
}

export function credentialsValue(c: Credentials): string {
  let v = `Digest username="${c.username}", realm="${c.realm}", uri="${c.uri}", nonce="${c.nonce}"`;
  if (c.algorithm !== undefined) v += `, algorithm=${c.algorithm}`;
  if (c.qop !== undefined) v += `, qop=${c.qop}, nc=${c.nc ?? ''}, cnonce="${c.cnonce ?? ''}"`;
  if (c.auts !== undefined) v += `, auts="${c.auts}"`;
  return `${v}, response="${c.response}"`;
}

/** The Digest credentials of a request (undefined without an Authorization of scheme Digest with a username). */
export function readCredentials(msg: SipMessage): Credentials | undefined {
  let all: AuthHeader[];
  try {
    all = msg.credentials('authorization');
  } catch {
    return undefined;
  }
  const c = all.find((a) => a.scheme.toLowerCase() === 'digest');
  if (c === undefined) return undefined;
  const get = (name: string): string | undefined => authParam(c, name)?.value;
  const username = get('username');
  if (username === undefined) return undefined;
  const qop = get('qop');
  return {
    username,
    realm: get('realm') ?? '',
    uri: get('uri') ?? '',
    nonce: get('nonce') ?? '',
    response: get('response') ?? '',
    ...optional('algorithm', get('algorithm')),
    ...optional('qop', qop),
    ...optional('nc', get('nc')),
    ...optional('cnonce', get('cnonce')),
    ...optional('auts', get('auts')),
    ...optional('integrityProtected', get('integrity-protected')),
  };
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
