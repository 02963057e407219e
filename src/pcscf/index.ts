// The P-CSCF decision logic: what the dispatcher, the pool worker and the main job import.

export { PcscfContext } from './context.js';
export type { PcscfContextOptions } from './context.js';
export { decide } from './decide.js';
export { PcscfError } from './errors.js';
export type { PcscfErrorCode } from './errors.js';
export { PCSCF_METRICS } from './metrics.js';
export type { DropReason, RejectReason } from './metrics.js';
export { PENDING_SECONDS, removeExpired } from './bindings.js';
