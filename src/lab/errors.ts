// The lab's typed failures. Protocol outcomes that are not failures (a MAC or synchronisation
// failure of AKA, a 403 the S-CSCF sends) travel as result values; these classes are for input a
// caller handed over that cannot be used, and for a UE procedure that could not complete.

export type LabInputErrorCode =
  /** A byte string has the wrong type or length (K, OP, OPc, RAND, SQN, AMF, AUTN, AUTS). */
  | 'ERR_LAB_LENGTH'
  /** A sequence number is not an integer in [0, 2^48). */
  | 'ERR_LAB_SQN'
  /** A nonce or auts parameter is not base64 or does not decode to what RFC 3310 puts there. */
  | 'ERR_LAB_ENCODING'
  /** Digest parameters that RFC 2617 §3.2.2 does not allow together. */
  | 'ERR_LAB_DIGEST_PARAMS'
  /** A lab option (subscriber file, command-line flag, UE or S-CSCF option) that cannot be used. */
  | 'ERR_LAB_CONFIG';

export class LabInputError extends Error {
  override readonly name = 'LabInputError';

  constructor(
    readonly code: LabInputErrorCode,
    /** The input at fault, named as the specification or the option names it (`K`, `nonce`, `ports.server`, ...). */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/**
 * Returns `value` if it is a byte string (of `length` octets, when given), else throws
 * `ERR_LAB_LENGTH`.
 */
export function expectBytes(field: string, value: unknown, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new LabInputError('ERR_LAB_LENGTH', field, `expected ${length ?? 'some'} bytes, got ${typeof value}`);
  }
  if (length !== undefined && value.length !== length) {
    throw new LabInputError('ERR_LAB_LENGTH', field, `expected ${length} bytes, got ${value.length}`);
  }
  return value;
}

export type UeErrorCode =
  /** Another registration procedure or message of this UE is still running, or the UE is closed. */
  | 'UE_BUSY'
  /** The procedure needs a registration (re-registration, de-registration, MESSAGE). */
  | 'UE_NOT_REGISTERED'
  /** The unprotected REGISTER got a final response other than the 401 challenge (a 503 from a P-CSCF that cannot create SAs...). */
  | 'UE_NO_CHALLENGE'
  /** The 401 carries no usable AKAv1-MD5 challenge (no WWW-Authenticate, bad nonce, other algorithm). */
  | 'UE_BAD_CHALLENGE'
  /** AUTN did not verify (TS 33.102 §6.3.3): the challenge is not from the home network. */
  | 'UE_AKA_MAC_FAILURE'
  /** The network kept sending stale SQNs after a resynchronisation. */
  | 'UE_SYNC_FAILURE'
  /** The 401 has no Security-Server (TS 33.203 §7.2 needs one). */
  | 'UE_NO_SECURITY_SERVER'
  /** No Security-Server mechanism is an ipsec-3gpp offer this UE made, or its values are unusable. */
  | 'UE_SECURITY_SERVER_UNUSABLE'
  /** The kernel refused an SA or policy of the UE's set (errno and errnoName tell why). */
  | 'UE_KERNEL'
  /** The protected REGISTER (or a re-/de-REGISTER) got a final non-2xx response (403 for a wrong RES...). */
  | 'UE_REJECTED'
  /** No final response before Timer F (RFC 3261 §17.1.2.2). */
  | 'UE_TIMEOUT'
  /** The transport could not send the request (connection refused, socket closed...). */
  | 'UE_TRANSPORT';

/** Why a UE procedure failed; `status` / `errno` are set when a SIP response or the kernel said so. */
export class UeError extends Error {
  override readonly name = 'UeError';

  constructor(
    readonly code: UeErrorCode,
    message: string,
    readonly details: {
      readonly status?: number;
      readonly errno?: number;
      readonly errnoName?: string;
    } = {},
  ) {
    super(message);
  }
}
