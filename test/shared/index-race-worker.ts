// A worker of index-race.test.ts: one role, run in a tight loop for a fixed time.
//   reader:  looks up the stable binding by every key; each miss is counted
//   rotator: swaps the stable binding's current and previous SA sets (its SPIs stay indexed)
//   churner: inserts and deletes other bindings, so the chains the readers walk keep changing

import { parentPort, workerData } from 'node:worker_threads';
import type { BindingId } from '../../src/shared/binding.js';
import { ContactTable } from '../../src/shared/contact-table.js';
import { typicalBinding, typicalSa } from './fixtures.js';

export interface RaceInput {
  role: 'reader' | 'rotator' | 'churner';
  table: SharedArrayBuffer;
  stable: number;
  durationMs: number;
  /** Keeps going past durationMs until this many operations are done: a loaded machine slows the test, never empties it. */
  minOps: number;
  seed: number;
}

export interface RaceReport {
  role: RaceInput['role'];
  ops: number;
  misses: string[];
}

/** The stable binding: two SA sets that trade places, so both SPI pairs are always present. */
export const STABLE_N = 7;
export const SET_A = typicalSa(0x7000, { portUc: 41000, portUs: 41001 });
export const SET_B = typicalSa(0x8000, { portUc: 42000, portUs: 42001 });

const input = workerData as RaceInput | null;
if (input !== null && parentPort !== null) {
  const table = ContactTable.attach(input.table);
  const stable = input.stable as BindingId;
  const s = typicalBinding(STABLE_N);
  const misses: string[] = [];
  let ops = 0;
  const miss = (what: string, got: unknown): void => {
    if (got !== stable && misses.length < 10) misses.push(`${what} gave ${String(got)}`);
  };
  const end = performance.now() + input.durationMs;
  let n = input.seed * 1000;
  while (performance.now() < end || ops < input.minOps) {
    for (let i = 0; i < 64; i++, ops++) {
      if (input.role === 'reader') {
        miss('findBySpi(A.spiPc)', table.findBySpi(SET_A.spiPc));
        miss('findBySpi(B.spiPs)', table.findBySpi(SET_B.spiPs));
        miss('findByReceived(A.portUc)', table.findByReceived(s.receivedAddr, SET_A.portUc));
        miss('findByReceived(B.portUs)', table.findByReceived(s.receivedAddr, SET_B.portUs));
        miss('findByContact', table.findByContact(s.contactHost, s.contactPort));
        const byAor = table.findByAor(s.aor);
        miss('findByAor', byAor.length === 1 ? byAor[0] : byAor.join());
      } else if (input.role === 'rotator') {
        const swap = ops % 2 === 0;
        if (!table.update(stable, { sa: swap ? SET_B : SET_A, previousSa: swap ? SET_A : SET_B, expiresAt: ops })) misses.push('stable binding gone');
      } else {
        // Other bindings come and go, their slots reused at once and relinked into either bucket.
        // Every other one has the stable binding's address and Contact host (another port): a
        // candidate that readers must verify, and wait for while it is written.
        const port = 6000 + (n++ % 1000);
        const sameUe = n % 2 === 0 ? { receivedAddr: s.receivedAddr, contactHost: s.contactHost } : {};
        const id = table.insert(typicalBinding(100 + (n % 1000), {
          ...sameUe, receivedPort: port, contactPort: port,
          sa: typicalSa(0x10000 + 2 * (n % 5000), { portUc: 50000 + (n % 1000), portUs: 51000 + (n % 1000) }),
        }));
        table.delete(id);
      }
    }
  }
  const report: RaceReport = { role: input.role, ops, misses };
  parentPort.postMessage(report);
}
