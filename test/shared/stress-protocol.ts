// What the stress test's main thread and its worker threads exchange.

import type { Binding, BindingId } from '../../src/shared/binding.js';

export const STRESS_OPS = ['allocate', 'release', 'exhausted', 'insert', 'table_full', 'arena_full', 'update', 'delete',
  'own_lookup', 'other_lookup', 'hot_update', 'hot_read', 'pool_burst', 'churn', 'scan'] as const;
export type StressOp = (typeof STRESS_OPS)[number];
/** Added to a counter now and then so the sums cross 2^32. */
export const BIG_ADD = 2 ** 33;

export interface StressInput {
  tid: number;
  seed: number;
  durationMs: number;
  threads: number;
  spi: SharedArrayBuffer;
  table: SharedArrayBuffer;
  counters: SharedArrayBuffer;
  owners: SharedArrayBuffer;
  hotIds: number[];
  maxBindings: number;
  maxHeldPairs: number;
}

export interface OwnBinding {
  id: BindingId;
  serial: number;
  binding: Binding;
}

export interface StressReport {
  tid: number;
  elapsedMs: number;
  violations: string[];
  ops: Record<StressOp, number>;
  heldPairs: number[];
  bindings: OwnBinding[];
  hotIncrements: number[];
  bigAdds: number;
}
