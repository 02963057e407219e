// The transaction layer and the stateful proxy core: what the rest of the product imports.

export { TransactionError, type TransactionErrorCode, type TransportError } from './errors.js';
export type { GeneratedStatus, TxEvent, TxTimeout } from './events.js';
export { ProxyCore, type ProxyCoreDeps, type ProxyCoreStats } from './proxy-core.js';
export { type Clock, type Scheduler, Timer, type TimerName, type TimerOwner, TimerQueue } from './timer-queue.js';
export type { TxKind } from './transaction.js';
