export type SecAgreeErrorCode =
  | 'SECAGREE_BAD_SYNTAX'
  | 'SECAGREE_BAD_QVALUE'
  | 'SECAGREE_BAD_BUILD_INPUT';

/**
 * A Security-Client / -Server / -Verify value that does not follow RFC 3329 §2.2, or bad input to
 * the Security-Server builder. `status` is what a P-CSCF answers to the request that carried it:
 * RFC 3329 defines no status of its own for a malformed header, so it is RFC 3261 §21.4.1's 400.
 */
export class SecAgreeError extends Error {
  override readonly name = 'SecAgreeError';
  readonly code: SecAgreeErrorCode;
  readonly status: number;
  /** Which of the header values (0-based), and the character offset in it; -1 when not applicable. */
  readonly line: number;
  readonly offset: number;

  constructor(code: SecAgreeErrorCode, message: string, line = -1, offset = -1, status = 400) {
    super(message);
    this.code = code;
    this.status = status;
    this.line = line;
    this.offset = offset;
  }
}
