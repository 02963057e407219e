// A worker of chain-race.test.ts: links and unlinks its own entries in the one bucket every thread
// shares, as fast as it can, and checks after each change that a walk finds exactly what it owns.

import { parentPort, workerData } from 'node:worker_threads';
import { ChainIndex } from '../../src/shared/chain-index.js';
import { NEXT_ADDR } from '../../src/shared/contact-record.js';

export interface ChainRaceInput {
  buckets: SharedArrayBuffer;
  records: SharedArrayBuffer;
  capacity: number;
  first: number;
  count: number;
  durationMs: number;
  /** Keeps going past durationMs until this many operations are done: a loaded machine slows the test, never empties it. */
  minOps: number;
}

export interface ChainRaceReport {
  ops: number;
  linked: number[];
  errors: string[];
}

const input = workerData as ChainRaceInput | null;
if (input !== null && parentPort !== null) {
  const index = new ChainIndex(new Int32Array(input.buckets), 1, new Int32Array(input.records), 1, NEXT_ADDR, input.capacity);
  const linked = new Set<number>();
  const errors: string[] = [];
  let ops = 0;
  let seed = input.first + 1;
  const end = performance.now() + input.durationMs;
  try {
    while ((performance.now() < end || ops < input.minOps) && errors.length === 0) {
      for (let i = 0; i < 256; i++, ops++) {
        seed = (Math.imul(seed, 1103515245) + 12345) | 0;
        const slot = input.first + ((seed >>> 8) % input.count);
        if (linked.has(slot)) {
          index.unlink(0, index.ref(slot, 0));
          linked.delete(slot);
        } else {
          index.link(0, index.ref(slot, 0));
          linked.add(slot);
        }
      }
      // A validated walk must see every entry this thread holds linked.
      let seen = 0;
      for (;;) {
        const version = index.readBegin(0);
        seen = 0;
        for (let ref = index.head(0), steps = 0; ref !== 0 && steps <= index.maxSteps; ref = index.next(ref), steps++) {
          const slot = index.slotOf(ref);
          if (slot >= input.first && slot < input.first + input.count) seen++;
        }
        if (index.readValid(0, version)) break;
      }
      if (seen !== linked.size) errors.push(`walk saw ${seen} of this thread's ${linked.size} linked entries`);
    }
  } catch (e) {
    errors.push((e as Error).message);
  }
  const report: ChainRaceReport = { ops, linked: [...linked], errors };
  parentPort.postMessage(report);
}
