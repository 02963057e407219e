// Typed failures of the shared-memory structures. Callers match on `code`, never on the message.

export type SharedStateErrorCode =
  | 'BAD_OPTIONS'             // create() options out of range (each message names the option)
  | 'BAD_SHARED_BUFFER'       // attach() given a buffer that is not one of ours, or of another version
  | 'SPI_OUT_OF_RANGE'        // an SPI outside [ipsec_spi_id_start, start + range) or not a u32
  | 'SPI_NOT_PAIR_START'      // release() given spi_ps (odd offset) instead of spi_pc
  | 'SPI_NOT_ALLOCATED'       // release() of a pair that is free: a double release or a value never handed out
  | 'PORT_RANGES_OVERLAP'     // client and server protected port ranges share a port
  | 'CONTACT_TABLE_FULL'      // every record slot holds a binding
  | 'ARENA_FULL'              // no room for the binding's strings in the string arena
  | 'FIELD_TOO_LONG'          // a string or list of a binding is beyond BINDING_LIMITS
  | 'FIELD_INVALID'           // a field of a binding has the wrong type or range
  | 'METRIC_UNKNOWN'          // a metric or label value that was not declared at construction
  | 'METRIC_INVALID'          // a counter decremented, or a non-integer / unsafe value
  | 'SHARED_STATE_CORRUPT';   // an internal invariant does not hold: a bug, never bad input

export class SharedStateError extends Error {
  override readonly name = 'SharedStateError';
  constructor(readonly code: SharedStateErrorCode, message: string) {
    super(message);
  }
}
