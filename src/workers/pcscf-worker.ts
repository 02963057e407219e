// A pool worker: attaches the shared contact table and counters once, then decides batches.

import { workerData } from 'piscina';
import { decodeBatch, encodeResult, type WireBatch, type WireResult } from '../engine/batch-codec.js';
import { batchContext, decideBatch, type WorkerInit } from '../engine/logic.js';
import { setBatchScheduling } from '../netlink/libc.js';

const init = workerData as WorkerInit;
if (init.config.workers.scheduling === 'batch') {
  try {
    setBatchScheduling();
  } catch (e) {
    throw new Error(`workers.scheduling: batch: ${(e as Error).message} (workers.scheduling: normal leaves the policy alone)`);
  }
}
const bc = batchContext(init);

export default function run(wire: WireBatch): WireResult {
  const started = performance.now();
  const result = decideBatch({ messages: decodeBatch(wire) }, bc);
  return encodeResult(result, performance.now() - started);
}
