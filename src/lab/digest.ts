// The Digest `response` of RFC 2617 §3.2.2 with the MD5 algorithm, for qop "auth" or without qop
// (the RFC 2069 form), which is also the arithmetic of `algorithm=AKAv1-MD5`: RFC 3310 §3.4 makes
// the password the raw octets of RES (and an empty password when the UE answers with `auts`,
// RFC 3310 §3.2). The password is therefore a byte string, never text.

import { createHash } from 'node:crypto';
import { LabInputError, expectBytes } from './errors.js';

interface DigestCommon {
  readonly username: string;
  readonly realm: string;
  /** RES for AKAv1-MD5; the UTF-8 octets of the password for plain MD5. */
  readonly password: Uint8Array;
  /** The SIP method, e.g. `REGISTER`. */
  readonly method: string;
  /** The `uri` directive, exactly as sent. */
  readonly uri: string;
  /** The `nonce` directive, exactly as received. */
  readonly nonce: string;
}

export type DigestInput = DigestCommon &
  (
    | { readonly qop?: undefined; readonly nc?: undefined; readonly cnonce?: undefined }
    /** `nc` is the 8 hex digits of the nonce count, as sent. */
    | { readonly qop: 'auth'; readonly nc: string; readonly cnonce: string }
  );

const TEXT_DIRECTIVES = ['username', 'realm', 'method', 'uri', 'nonce'] as const;
const NONCE_COUNT = /^[0-9a-fA-F]{8}$/;

/** request-digest of RFC 2617 §3.2.2.1, as the 32 lowercase hex digits sent in `response`. */
export function digestResponse(input: DigestInput): string {
  for (const field of TEXT_DIRECTIVES) {
    if (typeof input[field] !== 'string') throw new LabInputError('ERR_LAB_DIGEST_PARAMS', field, 'must be a string');
  }
  expectBytes('password', input.password);
  // A1 = username ":" realm ":" password (§3.2.2.2); A2 = Method ":" digest-uri-value (§3.2.2.3)
  const ha1 = md5Hex(input.username, ':', input.realm, ':', input.password);
  const ha2 = md5Hex(input.method, ':', input.uri);
  if (input.qop === undefined) {
    if (input.nc !== undefined || input.cnonce !== undefined) {
      throw new LabInputError('ERR_LAB_DIGEST_PARAMS', 'qop', 'nc and cnonce are sent only with qop');
    }
    return md5Hex(ha1, ':', input.nonce, ':', ha2);
  }
  const qop: unknown = input.qop;
  if (qop !== 'auth') {
    throw new LabInputError('ERR_LAB_DIGEST_PARAMS', 'qop', `only "auth" is supported, got ${String(qop)}`);
  }
  if (typeof input.nc !== 'string' || !NONCE_COUNT.test(input.nc)) {
    throw new LabInputError('ERR_LAB_DIGEST_PARAMS', 'nc', 'qop=auth needs nc, 8 hex digits');
  }
  if (typeof input.cnonce !== 'string' || input.cnonce.length === 0) {
    throw new LabInputError('ERR_LAB_DIGEST_PARAMS', 'cnonce', 'qop=auth needs a cnonce');
  }
  return md5Hex(ha1, ':', input.nonce, ':', input.nc, ':', input.cnonce, ':', qop, ':', ha2);
}

function md5Hex(...parts: (string | Uint8Array)[]): string {
  const hash = createHash('md5');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}
