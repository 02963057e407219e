// The one error the lab's AKA code throws: a caller handed it an input it cannot use. Protocol
// outcomes (MAC failure, synchronisation failure) are not errors; they travel as result values.

export type LabInputErrorCode =
  /** A byte string has the wrong type or length (K, OP, OPc, RAND, SQN, AMF, AUTN, AUTS). */
  | 'ERR_LAB_LENGTH'
  /** A sequence number is not an integer in [0, 2^48). */
  | 'ERR_LAB_SQN'
  /** A nonce or auts parameter is not base64 or does not decode to what RFC 3310 puts there. */
  | 'ERR_LAB_ENCODING'
  /** Digest parameters that RFC 2617 §3.2.2 does not allow together. */
  | 'ERR_LAB_DIGEST_PARAMS';

export class LabInputError extends Error {
  override readonly name = 'LabInputError';

  constructor(
    readonly code: LabInputErrorCode,
    /** The input at fault, named as the specification names it (`K`, `RAND`, `nonce`, ...). */
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
