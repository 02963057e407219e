// A pool worker: attaches the shared contact table and counters once, then decides batches.

import { workerData } from 'piscina';
import { batchContext, decideBatch, type WorkerInit } from '../engine/logic.js';
import type { Batch, BatchResult } from '../engine/plan.js';

const bc = batchContext(workerData as WorkerInit);

export default function run(batch: Batch): BatchResult {
  const started = performance.now();
  const result = decideBatch(batch, bc);
  return { plans: result.plans, events: result.events, busyMs: performance.now() - started };
}
