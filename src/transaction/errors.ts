// Typed failures of the transaction layer. None of them is caused by a message from the network:
// bad input is answered or dropped and counted; these report misuse of the API or a broken invariant.

export type TransactionErrorCode =
  | 'TX_BAD_CONFIG' // T1 / T2 / T4 / Timer C out of range (RFC 3261 §17.1.1.1, §16.6 item 11)
  | 'TX_BAD_TIMER' // a timer started with a delay that is not a finite number >= 0
  | 'TX_ILLEGAL_TRANSITION'; // a state machine was asked for a transition its figure does not have: a bug

export class TransactionError extends Error {
  override readonly name = 'TransactionError';
  constructor(readonly code: TransactionErrorCode, message: string) {
    super(message);
  }
}

/** A failure reported by the transports for one send (connection refused, no route, socket closed...). */
export interface TransportError {
  readonly code: string;
  readonly message: string;
}
