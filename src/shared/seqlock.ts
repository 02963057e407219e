// Sequence locks over one Int32 word, used for contact records and for index buckets.
//
// The word is even while the protected data is stable and odd while one writer changes it.
// Writers take the lock with Atomics.compareExchange(even -> even + 1) and release it by storing
// even + 2, so the word is also a version: a reader that sees the same even value before and after
// its reads saw no write in between. Readers never write, so they cannot block a writer.
//
// Why this is correct under the ECMAScript memory model (ECMA-262 §29), not only on x86:
// every access to protected data, by readers and by writers, is an Atomics operation, i.e. a
// SeqCst event, so all of them sit in one total memory order consistent with each agent's program
// order. Reader: L1 = load(seq) -> s (even); R = loads of data; L2 = load(seq) -> s.
// Writer of the next version: C = CAS(seq, s, s + 1); W = stores of data; S = store(seq, s + 2).
// If some R read a value stored by some W, then C < W < R < L2 in that total order, so L2 would
// read s + 1 or later, not s: contradiction. So when L2 == L1 the reader saw no store of a later
// version. L1 read s from the previous writer's releasing store (or from creation), which
// synchronizes-with it, so every store of that version happens-before R: the reader saw exactly
// that version. Plain (non-Atomics) data accesses would not give this guarantee: the model lets a
// plain load observe a store without any ordering against the sequence word (the classic seqlock
// fence problem of C++), so this code never mixes them.
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

/** True when no writer took the lock since readBegin returned `s`. */
export function readValid(words: Int32Array, at: number, s: number): boolean {
  return Atomics.load(words, at) === s;
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
