// One thread of the shared-memory stress test (stress.test.ts): random allocate / release / insert /
// update / lookup / delete for a fixed time against structures attached from the main thread's
// buffers, checking on the way what must hold and reporting its final state for the global checks.
//
// Ownership: each thread owns the SPI pairs it allocated (recorded in a shared owner array with a
// CAS, so a pair handed to two threads is caught at once) and the bindings it inserted (only it
// changes them, so every lookup of its own binding has one exact expected answer). Everything else
// it reads (other threads' bindings, found by AOR, SPI or a full iteration) must be internally
// consistent: see stress-bindings.ts.

import { isDeepStrictEqual } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import type { Binding, BindingId } from '../../src/shared/binding.js';
import { BindingPeek, ContactTable } from '../../src/shared/contact-table.js';
import { SharedCounters } from '../../src/shared/counters.js';
import type { MetricCell } from '../../src/shared/counters.js';
import { SharedStateError } from '../../src/shared/errors.js';
import { SpiAllocator } from '../../src/shared/spi-allocator.js';
import { hotBinding, hotConsistent, hotSpis, isConsistent, stressAddr, stressAor, stressBinding, stressSa, versionOf } from './stress-bindings.js';
import { BIG_ADD, STRESS_OPS } from './stress-protocol.js';
import type { OwnBinding, StressInput, StressOp, StressReport } from './stress-protocol.js';

const input = workerData as StressInput;
const spi = SpiAllocator.attach(input.spi);
const table = ContactTable.attach(input.table);
const counters = SharedCounters.attach(input.counters);
const owners = new Int32Array(input.owners);
const me = input.tid + 1; // owner mark: 0 = nobody

let rng = input.seed >>> 0;
function random(): number { // mulberry32
  rng = (rng + 0x6d2b79f5) | 0;
  let t = Math.imul(rng ^ (rng >>> 15), 1 | rng);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

const violations: string[] = [];
function violation(what: string): void {
  if (violations.length < 20) violations.push(`thread ${input.tid}: ${what}`);
}

const ops = Object.fromEntries(STRESS_OPS.map((op) => [op, 0])) as Record<StressOp, number>;
const cells = Object.fromEntries(STRESS_OPS.map((op) => [op, counters.cell('stress_ops_total', { op })])) as Record<StressOp, MetricCell>;
const bigCell = counters.cell('stress_big_total');
let bigAdds = 0;
function count(op: StressOp): void {
  ops[op]++;
  counters.inc(cells[op]);
}

const held: number[] = [];              // free-standing pairs (spiPc)
const mine = new Map<BindingId, OwnBinding>();
const liveSerials = new Set<number>();
let nextSerial = 0;
let nextVersion = 1;
const hotIncrements = input.hotIds.map(() => 0);
const peek = new BindingPeek();

function takePair(): number | undefined {
  const p = spi.allocate();
  if (p === undefined) {
    count('exhausted');
    return undefined;
  }
  count('allocate');
  const k = (p.spiPc - spi.spiStart) / 2;
  if (Atomics.compareExchange(owners, k, 0, me) !== 0) violation(`pair ${p.spiPc} handed out while owned by thread ${Atomics.load(owners, k) - 1}`);
  return p.spiPc;
}

function givePair(spiPc: number): void {
  const k = (spiPc - spi.spiStart) / 2;
  if (Atomics.compareExchange(owners, k, me, 0) !== me) violation(`releasing pair ${spiPc} that this thread does not own`);
  try {
    spi.release(spiPc);
    count('release');
  } catch (e) {
    violation(`release of owned pair ${spiPc} failed: ${(e as Error).message}`);
  }
}

function pairsOf(b: Binding): number[] {
  return [b.sa?.spiPc, b.previousSa?.spiPc].filter((x): x is number => x !== undefined);
}

function insertOne(): void {
  if (mine.size >= input.maxBindings) return;
  const spiPc = takePair();
  if (spiPc === undefined) return;
  let serial = nextSerial;
  while (liveSerials.has(serial & 0xffff)) serial++;
  serial &= 0xffff;
  nextSerial = serial + 1;
  const version = nextVersion++;
  const binding = stressBinding(input.tid, serial, version, stressSa(version, spiPc));
  try {
    const id = table.insert(binding);
    mine.set(id, { id, serial, binding });
    liveSerials.add(serial);
    count('insert');
  } catch (e) {
    const code = e instanceof SharedStateError ? e.code : 'untyped';
    if (code === 'CONTACT_TABLE_FULL') count('table_full');
    else if (code === 'ARENA_FULL') count('arena_full');
    else violation(`insert failed: ${(e as Error).message}`);
    givePair(spiPc);
  }
}

function updateOne(own: OwnBinding): void {
  const old = own.binding;
  const version = nextVersion++;
  const kind = random();
  let sa = old.sa === undefined ? undefined : stressSa(version, old.sa.spiPc);
  let previousSa = old.previousSa;
  let newPair: number | undefined;
  let dropped: number | undefined;
  if (kind < 0.4 && old.sa !== undefined) {
    // Re-registration: a new set, the current one becomes previous (the older previous is dropped).
    newPair = takePair();
    if (newPair !== undefined) {
      dropped = old.previousSa?.spiPc;
      previousSa = old.sa;
      sa = stressSa(version, newPair);
    }
  } else if (kind < 0.6 && old.previousSa !== undefined) {
    dropped = old.previousSa.spiPc;
    previousSa = undefined;
  }
  const next = stressBinding(input.tid, own.serial, version, sa, previousSa);
  let ok: boolean;
  try {
    ok = random() < 0.5
      ? table.update(own.id, (cur) => (isDeepStrictEqual(cur, old) ? next : (violation(`update saw ${JSON.stringify(cur.expiresAt)} not its own last write`), undefined)))
      : table.update(own.id, { ...next, ...(previousSa === undefined ? { previousSa: undefined } : {}) });
  } catch (e) {
    if (e instanceof SharedStateError && e.code === 'ARENA_FULL') {
      count('arena_full');
      if (newPair !== undefined) givePair(newPair);
      return;
    }
    throw e;
  }
  if (!ok) {
    violation(`update of own binding ${own.id} found it gone`);
    return;
  }
  own.binding = next;
  if (dropped !== undefined) givePair(dropped);
  count('update');
}

function deleteOne(own: OwnBinding): void {
  if (!table.delete(own.id)) violation(`delete of own binding ${own.id} found it gone`);
  mine.delete(own.id);
  liveSerials.delete(own.serial);
  for (const p of pairsOf(own.binding)) givePair(p);
  count('delete');
}

/** Every index must find the binding, and get/peek must return exactly what this thread wrote. */
function checkOwn(own: OwnBinding): void {
  const { id, binding: b } = own;
  const expect = (what: string, got: unknown): void => {
    if (got !== id) violation(`${what} of own binding ${id} gave ${String(got)}`);
  };
  expect('findByReceived', table.findByReceived(b.receivedAddr, b.receivedPort, b.transport));
  expect('findByContact', table.findByContact(b.contactHost, b.contactPort));
  const byAor = table.findByAor(b.aor);
  if (byAor.length !== 1 || byAor[0] !== id) violation(`findByAor(${b.aor}) gave [${byAor.join()}], expected [${id}]`);
  for (const set of [b.sa, b.previousSa]) {
    if (set === undefined) continue;
    expect(`findBySpi(${set.spiPc})`, table.findBySpi(set.spiPc));
    expect(`findBySpi(${set.spiPs})`, table.findBySpi(set.spiPs));
    expect(`findByReceived(port-c ${set.portUc})`, table.findByReceived(b.receivedAddr, set.portUc));
    expect(`findByReceived(port-s ${set.portUs})`, table.findByReceived(b.receivedAddr, set.portUs, b.transport === 'udp' ? 'tcp' : 'udp'));
  }
  const got = table.get(id);
  if (!isDeepStrictEqual(got, b)) violation(`get(${id}) gave version ${got === undefined ? 'none' : versionOf(got)}, expected ${versionOf(b)}`);
  if (!table.peek(id, peek) || peek.expiresAt !== b.expiresAt || peek.hasSa !== (b.sa !== undefined) ||
      (b.sa !== undefined && (peek.sa.spiPc !== b.sa.spiPc || peek.sa.portUc !== b.sa.portUc))) {
    violation(`peek(${id}) disagrees with version ${versionOf(b)}`);
  }
}

/** Other threads' bindings: whatever is found must be whole and match the query. */
function checkOthers(): void {
  const tid = Math.floor(random() * input.threads);
  const aor = stressAor(tid, Math.floor(random() * Math.max(1, nextSerial + 8)));
  for (const id of table.findByAor(aor)) {
    const b = table.get(id);
    if (b !== undefined && (b.aor !== aor || !isConsistent(b))) violation(`findByAor(${aor}) led to ${JSON.stringify(b.aor)} version ${versionOf(b)}: torn or wrong`);
  }
  const spiPc = spi.spiStart + 2 * Math.floor(random() * spi.capacity);
  const bySpi = table.findBySpi(spiPc);
  if (bySpi !== undefined) {
    const b = table.get(bySpi);
    if (b !== undefined && !isConsistent(b)) violation(`findBySpi(${spiPc}) led to a torn binding (version ${versionOf(b)})`);
  }
  const addr = stressAddr(tid, Math.floor(random() * Math.max(1, nextSerial + 8)));
  const byAddr = table.findByReceived(addr, 5060);
  if (byAddr !== undefined) {
    const b = table.get(byAddr);
    if (b !== undefined && (b.receivedAddr !== addr || !isConsistent(b))) violation(`findByReceived(${addr}) led to ${b.receivedAddr}: torn or wrong`);
  }
}

function hotUpdate(i: number): void {
  const ok = table.update(input.hotIds[i] as BindingId, (cur) => {
    if (!hotConsistent(cur, i)) violation(`hot binding ${i} read torn (version ${versionOf(cur)})`);
    return hotBinding(i, versionOf(cur) + 1);
  });
  if (!ok) violation(`hot binding ${i} gone`);
  hotIncrements[i]!++;
  count('hot_update');
}

/** Allocate and release pairs back to back for a short slice of time: the pool's hottest path, run
 * as fast as it goes so that threads race for the same bitmap words all the time. */
const SLICE_MS = 0.2;
function poolBurst(): void {
  const got: number[] = [];
  const until = performance.now() + SLICE_MS;
  while (performance.now() < until) {
    for (let i = 0; i < 8; i++) {
      const p = takePair();
      if (p !== undefined) got.push(p);
    }
    while (got.length > 0) givePair(got.pop()!);
  }
  count('pool_burst');
}

/** Inserts and deletes short-lived bindings for a slice of time: index links and unlinks, slot and
 * arena reuse, as fast as they go, racing the other threads' churn in the same few buckets. */
function churnSlice(): void {
  const until = performance.now() + SLICE_MS;
  do {
    insertOne();
    const own = mine.get([...mine.keys()].at(-1)!);
    if (own !== undefined) {
      checkOwn(own);
      deleteOne(own);
    }
  } while (performance.now() < until);
  count('churn');
}

/** A hot binding is rewritten by every thread all the time; its keys never change, so every
 * lookup must find it, and every read must be whole. */
function hotRead(i: number): void {
  const id = input.hotIds[i] as BindingId;
  const b = table.get(id);
  if (b === undefined || !hotConsistent(b, i)) violation(`hot binding ${i} read torn: ${b === undefined ? 'missing' : `version ${versionOf(b)}`}`);
  if (!table.peek(id, peek) || peek.updatedAt !== peek.expiresAt - 1_000_000_000 || peek.sa.spiUc !== peek.updatedAt ||
      peek.previousSa.spiUc !== peek.updatedAt + 1 || peek.sa.spiPc !== hotSpis(i)[peek.updatedAt % 2]) {
    violation(`hot binding ${i} peeked torn at version ${peek.updatedAt}`);
  }
  const [a, c] = hotSpis(i);
  if (table.findBySpi(a) !== id || table.findBySpi(c + 1) !== id) violation(`hot binding ${i} not found by SPI`);
  if (table.findByReceived(`192.0.2.${i}`, 5060, 'udp') !== id) violation(`hot binding ${i} not found by received address`);
  if (table.findByContact(`192.0.2.${i}`, 5060) !== id) violation(`hot binding ${i} not found by Contact`);
  const byAor = table.findByAor(`sip:hot${i}@stress.test`);
  if (byAor.length !== 1 || byAor[0] !== id) violation(`hot binding ${i} found by AOR as [${byAor.join()}]`);
  count('hot_read');
}

/** Runs one operation on random hot bindings again and again for a slice of time, so that readers
 * and writers of the same records overlap as much as the cores allow. */
function hotSlice(op: (i: number) => void): void {
  const until = performance.now() + SLICE_MS;
  do op(Math.floor(random() * input.hotIds.length));
  while (performance.now() < until);
}

function scan(): void {
  const seen = new Set<BindingId>();
  for (const [id, b] of table.entries()) {
    const own = mine.get(id);
    if (own !== undefined) {
      if (seen.has(id)) violation(`entries() listed ${id} twice`);
      seen.add(id);
      if (!isDeepStrictEqual(b, own.binding)) violation(`entries() gave own binding ${id} at version ${versionOf(b)}, expected ${versionOf(own.binding)}`);
    } else if (!isConsistent(b)) {
      violation(`entries() gave a torn binding ${id} (version ${versionOf(b)})`);
    }
  }
  if (seen.size !== mine.size) violation(`entries() listed ${seen.size} of this thread's ${mine.size} bindings`);
  const now = 1_000_000_000 + nextVersion / 2;
  const expired = new Set<BindingId>();
  table.forEachExpired(now, (id, expiresAt) => {
    const own = mine.get(id);
    if (own !== undefined) {
      if (expiresAt !== own.binding.expiresAt || expired.has(id)) violation(`forEachExpired gave own ${id} at ${expiresAt}`);
      expired.add(id);
    }
  });
  for (const own of mine.values()) {
    if (own.binding.expiresAt <= now && !expired.has(own.id)) violation(`forEachExpired missed own binding ${own.id}`);
  }
  count('scan');
}

const started = performance.now();
const ownList = (): OwnBinding[] => [...mine.values()];
while (performance.now() - started < input.durationMs) {
  for (let burst = 0; burst < 50; burst++) {
    const r = random();
    if (r < 0.5) {
      if (r < 0.12) hotSlice(hotUpdate);
      else if (r < 0.24) hotSlice(hotRead);
      else if (r < 0.36) churnSlice();
      else poolBurst();
    } else if (r < 0.54) {
      if (held.length < input.maxHeldPairs) {
        const p = takePair();
        if (p !== undefined) held.push(p);
      }
    } else if (r < 0.58) {
      if (held.length > 0) givePair(held.splice(Math.floor(random() * held.length), 1)[0]!);
    } else if (r < 0.66) {
      insertOne();
    } else if (r < 0.76) {
      if (mine.size > 0) updateOne(pick(ownList()));
    } else if (r < 0.82) {
      if (mine.size > 0) deleteOne(pick(ownList()));
    } else if (r < 0.94) {
      if (mine.size > 0) {
        checkOwn(pick(ownList()));
        count('own_lookup');
      }
    } else if (r < 0.998) {
      checkOthers();
      count('other_lookup');
    } else {
      scan();
    }
    if (random() < 0.01) {
      counters.add(bigCell, BIG_ADD);
      bigAdds++;
    }
  }
}

const report: StressReport = {
  tid: input.tid,
  elapsedMs: performance.now() - started,
  violations,
  ops,
  heldPairs: held,
  bindings: [...mine.values()],
  hotIncrements,
  bigAdds,
};
parentPort!.postMessage(report);
