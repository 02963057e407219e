// Sequence locks over one Int32 word, used for contact records and for index buckets.
//
// The word is even while the protected data is stable and odd while one writer changes it.
// Writers take the lock with Atomics.compareExchange(even -> even + 1) and release it by storing
// even + 2, so the word is also a version: a reader that finds the same even value before and
// after its reads saw no write in between. Readers never wait for one another, and a writer waits
// only for another writer.
//
// Data inside is read and written with plain (non-Atomics) accesses, which are ~10x cheaper than
// Atomics in Node 20 and tear-free for integer arrays (ECMA-262 §29, IsNoTearConfiguration). What
// makes that correct under the ECMAScript memory model, not only on x86, is how the reader closes
// its read: not with a load of the word but with a read-modify-write, Atomics.add(word, 0) (the
// "read-don't-modify-write" fix of H.-J. Boehm, "Can Seqlocks Get Along With Programming Language
// Memory Models?", MSPC 2012). The argument, for one reader and the next writer:
//   reader: L1 = Atomics.load(word) -> s (even); R = plain loads of data; V = Atomics.add(word, 0) -> s
//   writer: C = CAS(word, s -> s + 1); W = plain stores of data; S = Atomics.store(word, s + 2)
// - No R reads a W. V and C are SeqCst read-modify-writes of one word, so they are ordered; V
//   returned s, so V comes first (after C the word is never s again until it wraps). C then reads
//   the value written by V or by a later read-modify-write that read from V in turn, so V
//   synchronizes-with C through that chain; with program order, R happens-before V happens-before
//   C happens-before W, and a read can never read from a write it happens-before.
// - Every R sees the version it validated. L1 read s from the previous writer's S (or from the
//   buffer's creation, before it was shared): that S synchronizes-with L1, so that writer's stores
//   happen-before R, and R reads them or a later store; later stores are excluded above.
// - A reader whose V returns anything else discards what it read and starts again. Until then it
//   may hold any mix of old and new values (each one a value once written, never torn), so it must
//   bounds-check anything it uses as an index before validating (the contact table does).
// Writers' own plain accesses under the lock see the previous writer's stores because their C
// read from that writer's S.
//
// The word wraps after 2^32 writes of one record; a reader would have to stall across all of them
// to be fooled, which is not a practical concern.

/** Spin for about 10-20 us (a write holds a record or bucket for a few), then sleep in short slices
 * so that a lock holder that was preempted can run: the process has more threads than cores.
 * Sleeping sooner was measured to cost far more than it saves (a futex sleep lasts 50 us or more).
 * `attempt` counts from 0 for each wait. A reader in the main thread may thus wait as long as a
 * preempted writer needs to finish: lookups are short, but they are not wait-free. */
const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const SPIN_ATTEMPTS = 2000;

export function backoff(attempt: number): void {
  if (attempt < SPIN_ATTEMPTS) return;
  Atomics.wait(sleepCell, 0, 0, attempt < SPIN_ATTEMPTS + 256 ? 0.01 : 0.5);
}

/** Waits until no writer holds the lock and returns the even version to validate against. */
export function readBegin(words: Int32Array, at: number): number {
  for (let attempt = 0; ; attempt++) {
    const s = Atomics.load(words, at);
    if ((s & 1) === 0) return s;
    backoff(attempt);
  }
}

/** True when no writer took the lock since readBegin returned `s`; a read-modify-write, so that
 * the plain reads before it are ordered before any later writer (see above). */
export function readValid(words: Int32Array, at: number, s: number): boolean {
  return Atomics.add(words, at, 0) === s;
}

/** Takes the write lock, waiting for another writer if needed; returns the odd locked value. */
export function writeLock(words: Int32Array, at: number): number {
  for (let attempt = 0; ; attempt++) {
    const s = Atomics.load(words, at);
    if ((s & 1) === 0 && Atomics.compareExchange(words, at, s, (s + 1) | 0) === s) return (s + 1) | 0;
    backoff(attempt);
  }
}

/** Takes the write lock only if the version is still `s` (nothing changed since a read at `s`). */
export function writeLockIfUnchanged(words: Int32Array, at: number, s: number): boolean {
  return Atomics.compareExchange(words, at, s, (s + 1) | 0) === s;
}

/** Releases the lock taken as `locked` (odd), publishing a new even version. */
export function writeUnlock(words: Int32Array, at: number, locked: number): void {
  Atomics.store(words, at, (locked + 1) | 0);
}
